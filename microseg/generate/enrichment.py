"""Third-party enrichment rows and GDPR erasure requests.

third_party: one row per household email for ~60% of them, keyed by the email
as the provider has it (random casing, stray whitespace), with persona-driven
interest scores, income band and household size, plus rows for emails that
belong to nobody. erasure_requests: ~0.5% of persons ask to be forgotten, by
email or by CRM id, a few by the phone number their CRM record holds.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..contract import columns as contract_columns
from . import names as nm
from .config import DAY
from .context import RunContext
from .crm import Crm
from .dirt import BAD_TIMESTAMPS, DIRT_RATES, DirtLog, draw_count, pick_rate, with_duplicates
from .people import People
from .personas import persona_arrays
from .textfmt import TS_UTC_Z, fixed_ids, format_cents, format_ts, int_strings, join, mask_replace, pool_take

THIRD_PARTY_COLUMNS = contract_columns("third_party")
ERASURE_COLUMNS = contract_columns("erasure_requests")
INCOME_BANDS = ("<25k", "25-50k", "50-75k", "75-100k", "100k+")
THIRD_PARTY_COVERAGE = 0.60
ERASURE_RATE = 0.005
SCORE_NOISE = 0.12


def _provider_casing(rng, email: pa.Array) -> pa.Array:
    """The email as a data provider has it: any casing, sometimes stray whitespace."""
    n = len(email)
    u = rng.random(n)
    out = pc.choose(
        pa.array(np.select([u < 0.55, u < 0.75], [0, 1], 2)), email, pc.utf8_upper(email), pc.utf8_capitalize(email)
    )
    ws = rng.random(n) < 0.15
    return pc.if_else(
        pa.array(ws),
        join(pool_take(["", " "], rng.integers(0, 2, n)), out, pool_take([" ", "  ", " "], rng.integers(0, 3, n))),
        out,
    )


def make_third_party(
    rng: np.random.Generator, ctx: RunContext, people: People, log: DirtLog
) -> tuple[pa.Table, pa.Table]:
    """third_party rows of a chunk (with dirt) and (person_id, email) pairs of matched rows."""
    P = persona_arrays()
    cal = ctx.cal
    heads = np.flatnonzero(
        (people.household_head == np.arange(people.n)) & (rng.random(people.n) < THIRD_PARTY_COVERAGE)
    )
    nh = len(heads)
    k_extra = draw_count(rng, nh, DIRT_RATES["third_party.unmatched_email"])
    log.add("third_party.unmatched_email", k_extra)
    T = nm.name_tables()
    num = ctx.take_ids("unmatched_email", k_extra)
    fn = T["first_f_ascii"] + T["first_m_ascii"]
    extra_email = join(
        pool_take(fn, rng.integers(0, len(fn), k_extra)),
        "_",
        pool_take(T["last_ascii"], rng.integers(0, len(T["last_ascii"]), k_extra)),
        int_strings(1000 + num),
        "@",
        pool_take(nm.UNMATCHED_DOMAINS, rng.integers(0, len(nm.UNMATCHED_DOMAINS), k_extra)),
    )
    email = pa.concat_arrays([people.email.take(pa.array(heads)), extra_email.cast(pa.string())])
    persona = np.concatenate([people.persona[heads], rng.integers(0, len(P["share"]), k_extra)])
    n = nh + k_extra
    scores = np.clip(P["interests"][persona] + rng.normal(0, SCORE_NOISE, (n, 6)), 0, 1)
    cents = np.round(scores * 100).astype(np.int64)
    income = np.minimum((np.cumsum(P["income_probs"][persona], axis=1) < rng.random(n)[:, None]).sum(axis=1), 4)
    hh = np.concatenate([people.household_size[heads], np.zeros(k_extra, dtype=np.int64)])
    hh = np.where(hh > 1, hh, rng.choice([1, 2, 3, 4, 5], size=n, p=[0.36, 0.33, 0.14, 0.12, 0.05]))
    provided = cal.end - rng.integers(20 * DAY, 400 * DAY, n)

    taken = np.zeros(n, dtype=bool)
    miss = pick_rate(rng, np.ones(n, dtype=bool), n, "third_party.missing_identifier", log, taken)
    badnum = pick_rate(rng, np.ones(n, dtype=bool), n, "third_party.invalid_number", log, taken)
    oor = pick_rate(rng, np.ones(n, dtype=bool), n, "third_party.score_out_of_range", log, taken)
    score_cols = [format_cents(cents[:, j]) for j in range(6)]
    for rows, kind in ((badnum, "num"), (oor, "range")):
        col = rng.integers(0, 6, len(rows))
        for j in range(6):
            r = rows[col == j]
            if not len(r):
                continue
            m = np.zeros(n, dtype=bool)
            m[r] = True
            if kind == "num":
                cur = score_cols[j].take(pa.array(r))
                vals = pc.if_else(
                    pa.array(rng.random(len(r)) < 0.6),
                    pc.replace_substring(cur, ".", ","),
                    pool_take(["n/a", "high", "-"], rng.integers(0, 3, len(r))),
                )
            else:
                bad = np.where(rng.random(len(r)) < 0.5, rng.integers(105, 160, len(r)), -rng.integers(1, 40, len(r)))
                bad = np.where(rng.random(len(r)) < 0.3, cents[r, j] * 100 + 10_000, bad)  # percent scale
                vals = format_cents(bad)
            score_cols[j] = mask_replace(score_cols[j], m, vals)
    raw_email = _provider_casing(rng, email)
    m = np.zeros(n, dtype=bool)
    m[miss] = True
    raw_email = mask_replace(raw_email, m, pool_take([None, ""], rng.integers(0, 2, len(miss))))
    cols = {"email": raw_email}
    cols.update({c: score_cols[j] for j, c in enumerate(c for c in THIRD_PARTY_COLUMNS if c.startswith("interest_"))})
    cols["income_band"] = pool_take(INCOME_BANDS, income)
    cols["household_size"] = int_strings(hh)
    cols["provided_at"] = format_ts(provided, TS_UTC_Z)
    table = pa.table(cols)
    final = with_duplicates(rng, n, ~taken, "third_party.exact_duplicate_rows", log)
    matched = np.flatnonzero(~m[:nh])
    pairs = pa.table(
        {"person_id": people.person_id[heads[matched]], "email": people.email.take(pa.array(heads[matched]))}
    )
    # household members share the head's email: the provider row is theirs too
    members = np.flatnonzero(people.household_head != np.arange(people.n))
    in_tp = np.zeros(people.n, dtype=bool)
    in_tp[heads[matched]] = True
    members = members[in_tp[people.household_head[members]]]
    pairs = pa.concat_tables(
        [pairs, pa.table({"person_id": people.person_id[members], "email": people.email.take(pa.array(members))})]
    )
    return table.take(pa.array(final)), pairs


def make_erasure(
    rng: np.random.Generator, ctx: RunContext, people: People, crm: Crm, log: DirtLog,
    emails_held: list[pa.Table] | None = None,
) -> tuple[pa.Table, pa.Table]:
    """erasure_requests rows of a chunk (with dirt) and (person_id, email) pairs used.

    ``emails_held``: further (person_id, email) pairs the raw data holds (guest orders, third
    party). A person whose own email no raw row holds (a CRM record with a placeholder email)
    asks by crm id; one without a CRM record as well has nothing to erase and sends no request:
    it would be an unmatched request, which fails the build (4 of 5,017 requests at 1,000,000
    persons before). The draws stay the same, the request is dropped."""
    cal = ctx.cal
    who = np.flatnonzero(rng.random(people.n) < ERASURE_RATE)
    n = len(who)
    prim = crm.primary[who]
    # a person asks by the email we hold; whose CRM record lost its email (dirt)
    # asks by crm id, as a privacy team would look them up: an email held
    # nowhere is an unmatched request, which fails the build (tested with
    # planted requests, not planted in the demo)
    # held: the person's own email is in a raw row (a CRM record may hold a placeholder instead)
    held = pa.concat_arrays([pc.utf8_lower(pc.utf8_trim_whitespace(t.column("email").combine_chunks().cast(pa.string())))
                             for t in [crm.email_pairs, *(emails_held or [])]])  # fmt: skip
    own = pc.utf8_lower(pc.utf8_trim_whitespace(people.email.take(pa.array(who))))
    email_known = pc.fill_null(pc.is_in(own, value_set=held), False).to_numpy(zero_copy_only=False)
    by_id = (prim >= 0) & ((rng.random(n) < 0.35) | ~email_known)
    value = pc.if_else(
        pa.array(by_id), crm.rec_id.take(pa.array(np.maximum(prim, 0))), people.email.take(pa.array(who))
    )
    itype = by_id.astype(np.int64)
    req = ctx.take_ids("request", n) + 1
    requested = cal.end - rng.integers(DAY, 300 * DAY, n)
    taken = np.zeros(n, dtype=bool)
    miss = pick_rate(rng, np.ones(n, dtype=bool), n, "erasure_requests.missing_key", log, taken)
    # a request by phone names the phone as the person's stageable primary CRM record holds it, so it
    # matches (stg_privacy__erasure_seeds); a phone held nowhere would fail the build like any unmatched request
    has_phone = (prim >= 0) & crm.rec_ok[np.maximum(prim, 0)]
    has_phone &= pc.is_valid(crm.rec_phone.take(pa.array(np.maximum(prim, 0)))).to_numpy(zero_copy_only=False)
    by_phone = pick_rate(rng, has_phone, n, "erasure_requests.by_phone", log, taken)
    badt = pick_rate(rng, np.ones(n, dtype=bool), n, "erasure_requests.invalid_timestamp", log, taken)

    def mask(rows):
        m = np.zeros(n, dtype=bool)
        m[rows] = True
        return m

    itype[by_phone] = 2
    value = mask_replace(value, mask(by_phone), crm.rec_phone.take(pa.array(prim[by_phone])))
    rid = mask_replace(fixed_ids("R", req, 6), mask(miss), pool_take([None, ""], rng.integers(0, 2, len(miss))))
    req_at = mask_replace(
        format_ts(requested, TS_UTC_Z),
        mask(badt),
        pool_take(BAD_TIMESTAMPS, rng.integers(0, len(BAD_TIMESTAMPS), len(badt))),
    )
    table = pa.table(
        {
            "request_id": rid,
            "identifier_type": pool_take(["email", "crm_id", "phone"], itype),
            "identifier_value": value,
            "requested_at": req_at,
        }
    )
    final = with_duplicates(rng, n, ~taken, "erasure_requests.exact_duplicate_rows", log)
    sent = (itype != 0) | email_known | taken  # a planted reject stays: it is rejected, not unmatched
    dropped = final[~sent[final]]
    log.add("erasure_requests.exact_duplicate_rows", len(np.unique(dropped)) - len(dropped))  # their copies go too
    final = final[sent[final]]
    em = (itype == 0) & sent
    pairs = pa.table({"person_id": people.person_id[who[em]], "email": people.email.take(pa.array(who[em]))})
    return table.take(pa.array(final)), pairs
