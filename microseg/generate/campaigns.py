"""Planted campaign uplift and planted category pairs (truth for activation).

Campaigns. A few of the fortnightly email campaigns (events.py sends them to
every consenting person) are A/B tests: both arms get the email, the
treatment arm's version carries an offer that changes the chance to buy
within the conversion window by a known amount per persona. The arm is the
one experiment_assignments computes for a sent campaign:
``md5(experiment salt | campaign_id | recipient CRM id)``, first 8 hex digits
over 2^32, control under the control share (dbt vars
microseg__experiment_salt / microseg__experiment_control_share; the defaults
are repeated here). The recipient id is the CRM id the email went to (the
send event's user_id), which the generator and the readout both see; the
customer_key is not used because the generator cannot know it.

The effect goes through the purchase paths before orders are made, so it
reaches the project only as ordinary raw orders (lines, channels, dirt):
a treated recipient with planted uplift e > 0 who would not have bought in
the window buys once with probability e (an extra purchase); with e < 0, one
who would have bought does not with probability |e| (their purchases in the
window are dropped). The truth per recipient is the expected change of their
conversion, e * (1 - converted without the offer) or e * converted, for both
arms, so its mean over a cell's recipients is the average effect the
randomised readout estimates (truth/campaign_recipients.parquet, aggregated
into truth/campaign_uplift.parquet). Revenue is not planted: extra orders
have the person's ordinary baskets.

Category pairs. In orders with two or more lines, a line of the first
category of a planted pair is followed by a line of the second with
probability PAIR_PROB (truth/category_pairs.parquet), so the pair's lift
rises above the pairs the persona mixes create.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from .config import CATEGORIES, DAY
from .crm import Crm
from .people import People
from .personas import PERSONA_NAMES
from .purchases import Purchases
from .textfmt import local_to_utc_berlin

#: dbt var defaults (dbt_project.yml): the generator's arms match the readout's only with these
EXPERIMENT_SALT = "microseg-experiment-v1"
CONTROL_SHARE = 0.2
WINDOW_DAYS = 7
#: planted campaigns, counted back from the last campaign whose window is over by the end:
#: absolute uplift in the 7-day conversion probability per persona (missing persona: 0). Never on
#: lapsed_high_value (they stopped buying: no order in the last 180 days) or new_customer (at most 2 orders)
PLANTED_CAMPAIGNS: tuple[dict[str, float], ...] = (
    {  # broad offer: everyone a little, the deal-seekers more
        "high_value_frequent": 0.04,
        "eco_urban_millennial": 0.06,
        "weekend_outdoor": 0.06,
        "bargain_hunter": 0.15,
        "cart_abandoner": 0.10,
        "occasional_browser": 0.05,
    },
    {  # reminder offer: works on hesitant buyers, annoys the frequent ones
        "high_value_frequent": -0.30,
        "cart_abandoner": 0.08,
        "occasional_browser": 0.04,
    },
    {},  # an offer that does nothing
    {  # outdoor launch
        "weekend_outdoor": 0.12,
        "eco_urban_millennial": 0.05,
        "bargain_hunter": -0.25,
    },
)
#: planted pairs (first -> second category) and the chance a line of the first is followed by the second
PLANTED_PAIRS: tuple[tuple[str, str], ...] = (
    ("electronics", "books_media"),
    ("beauty", "sustainable_goods"),
    ("home", "toys"),
)
PAIR_PROB = 0.5


def campaign_number_ids(days: np.ndarray) -> list[str]:
    """Campaign ids as events.py writes them: 'C' + 4 digits of (day // 14) % 10000."""
    return [f"C{int(d) // 14 % 10_000:04d}" for d in days]


def assignment_bucket(campaign_id: str, recipient_id: str, salt: str = EXPERIMENT_SALT) -> float:
    """The readout's bucket in [0, 1): md5(salt | campaign | recipient), first 8 hex digits / 2^32."""
    digest = hashlib.md5(f"{salt}|{campaign_id}|{recipient_id}".encode()).hexdigest()
    return int(digest[:8], 16) / 2**32


def planted_campaigns(cal) -> list[tuple[int, str, dict[str, float]]]:
    """(send day, campaign id, uplift per persona) of the planted campaigns."""
    days = cal.campaign_days()
    complete = days[(days + WINDOW_DAYS + 1) * DAY <= cal.end]
    chosen = complete[::-1][: len(PLANTED_CAMPAIGNS)]
    ids = campaign_number_ids(chosen)
    return [(int(d), c, u) for d, c, u in zip(chosen, ids, PLANTED_CAMPAIGNS)]


RECIPIENT_SCHEMA = pa.schema(
    [
        ("campaign_id", pa.string()),
        ("person_id", pa.int64()),
        ("recipient_id", pa.string()),
        ("persona", pa.string()),
        ("arm", pa.string()),
        ("planted_uplift", pa.float64()),
        ("is_converted_without_offer", pa.bool_()),
        ("expected_uplift", pa.float64()),
    ]
)


def plant_campaigns(rng: np.random.Generator, cal, people: People, crm: Crm, purch: Purchases):
    """Apply the planted offers to the purchase paths; returns (purchases, recipients truth table).

    Recipients are the persons events.py sends the campaign to (consenting,
    with a CRM account, consent and signup before the send).
    """
    persona_uplift = {c: np.array([u.get(p, 0.0) for p in PERSONA_NAMES]) for _, c, u in planted_campaigns(cal)}
    who = np.flatnonzero(crm.campaign_ok)
    prim = crm.primary[who]
    since = np.maximum(crm.consent_since[who], crm.rec_signup[prim])
    rec_ids = crm.rec_id.take(pa.array(prim)).to_pylist()
    hist = ~purch.future
    owner, t = purch.owner, purch.t
    drop = np.zeros(len(t), dtype=bool)
    extra_owner, extra_t, parts = [], [], []
    for day, campaign_id, _ in planted_campaigns(cal):
        send = int(local_to_utc_berlin(np.array([day * DAY + 9 * 3600]))[0])
        lo, hi = send, send + WINDOW_DAYS * DAY + 1800
        sent = since < send
        person = who[sent]
        ids = [r for r, s in zip(rec_ids, sent) if s]
        control = np.array([assignment_bucket(campaign_id, r) < CONTROL_SHARE for r in ids], dtype=bool)
        in_window = hist & (t >= lo) & (t < hi)
        base = np.zeros(people.n, dtype=bool)
        base[owner[in_window]] = True
        base_p = base[person]
        uplift = persona_uplift[campaign_id][people.persona[person]]
        expected = np.where(uplift > 0, uplift * ~base_p, uplift * base_p)
        hit = rng.random(len(person)) < np.abs(uplift)
        treated = ~control
        gain = person[treated & hit & (uplift > 0) & ~base_p]
        lose = person[treated & hit & (uplift < 0) & base_p]
        drop |= in_window & np.isin(owner, lose)
        extra_owner.append(gain)
        # an hour after the send at the earliest, at least half an hour before the window closes
        extra_t.append(send + 1800 + 3600 + rng.integers(0, WINDOW_DAYS * DAY - 3 * 3600, len(gain)))
        parts.append(
            pa.table(
                {
                    "campaign_id": [campaign_id] * len(person),
                    "person_id": people.person_id[person],
                    "recipient_id": ids,
                    "persona": pa.array(PERSONA_NAMES).take(pa.array(people.persona[person])),
                    "arm": np.where(control, "control", "treatment"),
                    "planted_uplift": uplift,
                    "is_converted_without_offer": base_p,
                    "expected_uplift": expected,
                },
                schema=RECIPIENT_SCHEMA,
            )
        )
    keep = ~drop
    new_owner = np.concatenate([owner[keep]] + extra_owner).astype(owner.dtype)
    new_t = np.concatenate([t[keep]] + extra_t).astype(t.dtype)
    new_future = np.concatenate([purch.future[keep], np.zeros(len(new_t) - int(keep.sum()), dtype=bool)])
    order = np.lexsort((new_t, new_owner))  # person-major, time-sorted, as simulate_purchases leaves them
    planted = Purchases(
        t0=purch.t0,
        alive_at_end=purch.alive_at_end,
        churn_at=purch.churn_at,
        owner=new_owner[order],
        t=new_t[order],
        future=new_future[order],
    )
    table = pa.concat_tables(parts) if parts else RECIPIENT_SCHEMA.empty_table()
    return planted, table


def plant_pairs(rng: np.random.Generator, l_order: np.ndarray, cat: np.ndarray) -> np.ndarray:
    """Line categories with the planted pairs: the line after one of a pair's first category,
    in the same order, becomes the second with probability PAIR_PROB."""
    cat = cat.copy()
    if len(cat) < 2:
        return cat
    same_order = l_order[1:] == l_order[:-1]
    u = rng.random(len(cat) - 1)
    for first, second in PLANTED_PAIRS:
        a, b = CATEGORIES.index(first), CATEGORIES.index(second)
        switch = same_order & (cat[:-1] == a) & (u < PAIR_PROB)
        cat[1:][switch] = b
    return cat


def write_campaign_truth(truth_dir: Path) -> None:
    """truth/campaign_uplift.parquet (campaign x persona: recipients, planted uplift, the mean expected
    change of conversion over the cell's recipients) and truth/category_pairs.parquet."""
    rec = pq.read_table(truth_dir / "campaign_recipients.parquet").to_pandas()
    cells = (
        rec.groupby(["campaign_id", "persona"])
        .agg(
            recipients=("person_id", "size"),
            planted_uplift=("planted_uplift", "first"),
            true_average_uplift=("expected_uplift", "mean"),
            base_conversion_rate=("is_converted_without_offer", "mean"),
        )
        .reset_index()
    )
    pq.write_table(pa.Table.from_pandas(cells, preserve_index=False), truth_dir / "campaign_uplift.parquet")
    pq.write_table(
        pa.table(
            {
                "antecedent": [a for a, _ in PLANTED_PAIRS],
                "consequent": [b for _, b in PLANTED_PAIRS],
                "pair_prob": [PAIR_PROB] * len(PLANTED_PAIRS),
            }
        ),
        truth_dir / "category_pairs.parquet",
    )
