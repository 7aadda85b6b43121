"""The latent purchase process (BG/NBD-like) of every person.

While alive a person buys as a Poisson process with a personal rate; after each
purchase they churn with a personal probability p, i.e. the number of purchases
until churn is Geometric(p). The process starts at the person's lifecycle start
``t0`` (CRM signup) and is simulated up to the end of the future-truth window,
so history orders, ``is_active_at_end`` and the future orders all come from one
path. Special personas: lapsed_high_value buy at a high rate over 1-2.5 years
and churn with a last purchase 200-700 days before the end; new_customer start
in the last 90 days, most buy right at signup, and keep at most 2 history orders.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .config import DAY, YEAR, Calendar
from .people import People, apply_clock
from .personas import LAPSED, LAPSED_CHURN_DAYS, NEW, NEW_CUSTOMER_MAX_ORDERS, persona_arrays

NEVER = np.iinfo(np.int64).max // 4
SIGNUP_PURCHASE_SHARE = 0.85  # new customers whose first order comes right at sign-up


@dataclass
class Purchases:
    t0: np.ndarray  # per person: lifecycle start (= CRM signup), UTC seconds
    alive_at_end: np.ndarray  # per person
    churn_at: np.ndarray  # per person: time of the purchase after which they churned (NEVER if not)
    owner: np.ndarray  # per purchase (history or future): local person index
    t: np.ndarray  # per purchase: UTC seconds, person-major and time-sorted
    future: np.ndarray  # per purchase: after the end (truth only)


def _segment_starts(counts: np.ndarray) -> np.ndarray:
    starts = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts, out=starts[1:])
    return starts


def simulate_purchases(rng: np.random.Generator, cal: Calendar, people: People) -> Purchases:
    """Simulate every person's purchase path from t0 to the end of the future window."""
    P = persona_arrays()
    n = people.n
    persona = people.persona
    lapsed = persona == LAPSED
    new = persona == NEW

    lo, hi = P["tenure_years"][persona, 0], P["tenure_years"][persona, 1]
    tenure = (lo + rng.random(n) * (hi - lo)) * YEAR
    t0 = cal.end - tenure.astype(np.int64)
    t0[new] = cal.end - rng.integers(6 * 3600, 90 * DAY, int(new.sum()))
    churn_day = rng.integers(LAPSED_CHURN_DAYS[0], LAPSED_CHURN_DAYS[1] + 1, n)
    lapsed_end = cal.end - churn_day * DAY
    t0 = np.where(lapsed, lapsed_end - tenure.astype(np.int64), t0)
    stop = np.where(lapsed, lapsed_end, cal.future_end)

    k_until_churn = rng.geometric(people.dropout)
    cnt = rng.poisson(people.rate * (stop - t0) / YEAR)
    cnt = np.where(lapsed, cnt + 1, cnt)  # + the final purchase before churning
    signup_buy = new & (rng.random(n) < SIGNUP_PURCHASE_SHARE)
    cnt = cnt + signup_buy  # + a first order right at sign-up
    k_until_churn = np.where(lapsed, cnt, k_until_churn)
    starts = _segment_starts(cnt)
    owner = np.repeat(np.arange(n), cnt)
    t = t0[owner] + (rng.random(len(owner)) * (stop - t0)[owner]).astype(np.int64)
    t = apply_clock(rng, t, persona[owner])
    first_slot = starts[:-1]
    has_any = cnt > 0
    lapsed_last = first_slot[lapsed & has_any]
    t[lapsed_last] = apply_clock(rng, lapsed_end[lapsed & has_any], persona[lapsed & has_any])
    t[first_slot[signup_buy]] = t0[signup_buy] + rng.integers(60, 1800, int(signup_buy.sum()))
    upper = np.where(lapsed, lapsed_end + 7 * DAY, cal.future_end - 1)
    t = np.clip(t, t0[owner] + 60, upper[owner])

    # sort within person (owner is already person-major)
    base = int(t.min()) if len(t) else 0
    key = owner.astype(np.int64) << 34 | (t - base)
    key.sort()
    t = (key & ((1 << 34) - 1)) + base

    rank = np.arange(len(owner)) - starts[owner]
    keep = rank < k_until_churn[owner]
    before_end = np.bincount(owner[keep & (t < cal.end)], minlength=n)
    alive = (before_end < k_until_churn) & ~lapsed
    churned = keep & (rank == k_until_churn[owner] - 1)
    churn_at = np.full(n, NEVER, dtype=np.int64)
    churn_at[owner[churned]] = t[churned]

    hist = keep & (t >= cal.history_start) & (t < cal.end)
    fut = keep & (t >= cal.end) & (t < cal.future_end)
    # new customers keep at most N history orders
    hist_rank = np.cumsum(hist) - hist
    hist_rank = hist_rank - np.concatenate([[0], np.cumsum(hist)])[starts[owner]]
    hist &= ~(new[owner] & (hist_rank >= NEW_CUSTOMER_MAX_ORDERS))
    sel = hist | fut
    return Purchases(t0=t0, alive_at_end=alive, churn_at=churn_at, owner=owner[sel], t=t[sel], future=fut[sel])
