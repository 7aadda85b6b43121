"""CRM exports (crm_a web-shop CRM, crm_b store/loyalty CRM).

Every person with a CRM account has a primary record (crm_a if they have one,
else crm_b). Some also have a crm_b loyalty record, and some a second account
in the same system. Secondary records carry the classic identity mess: name
typos, other email casing / whitespace, an alternative email, different phone
formatting, crm_b's own date, gender and consent vocabularies. Row-level dirt
that gets a row rejected is put on secondary records only, so the records that
orders and events reference are always stageable.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..contract import columns as contract_columns
from . import names as nm
from .config import Calendar
from .context import ID_CRM_A, ID_CRM_B, RunContext
from .dirt import BAD_TIMESTAMPS, DirtLog, pick_rate, with_duplicates
from .people import People, build_emails
from .textfmt import (
    DATE_DMY,
    DATE_ISO,
    TS_BERLIN_SPACE,
    TS_UTC_Z,
    fixed_ids,
    format_date,
    format_ts,
    int_strings,
    join,
    mask_replace,
    pool_take,
    scramble,
)

CRM_COLUMNS = contract_columns("crm_customers")

KIND_PRIMARY, KIND_B, KIND_DUP = 0, 1, 2
TYPO_RATE = 0.35
ALT_EMAIL_RATE = 0.20
# phone formats: prefix, separator between area code and subscriber
PHONE_PREFIX = ("+49 ", "0", "0049", "0", "+49", "(0")
PHONE_SEP = (" ", "-", "", " ", "", ") ")
PHONE_P = {0: (0.45, 0.15, 0, 0.25, 0.15, 0), 1: (0, 0.35, 0.25, 0.20, 0, 0.20)}


@dataclass
class Crm:
    table: pa.Table
    rec_person: np.ndarray
    rec_system: np.ndarray  # 0 crm_a, 1 crm_b
    rec_kind: np.ndarray
    rec_id: pa.Array
    rec_signup: np.ndarray
    rec_ok: np.ndarray  # stageable: usable as a reference in orders / events
    rec_phone: pa.Array  # the phone as the record holds it (null when blank)
    primary: np.ndarray  # per person: record index or -1
    loyalty: np.ndarray  # per person: stageable crm_b record that is not primary, or -1
    duplicate: np.ndarray  # per person: stageable second record in the same system, or -1
    campaign_ok: np.ndarray  # per person: receives marketing email
    consent_since: np.ndarray  # per person: consent_updated_at of the primary record
    identity: list[pa.Table]
    email_pairs: pa.Table  # person_id, email (normalised) from CRM rows


def _records(people: People) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Record list: person, system, kind and id slot."""
    pr = np.flatnonzero(people.has_crm)
    b2 = np.flatnonzero(people.has_a & people.has_b)
    dp = np.flatnonzero(people.has_dup & people.has_crm)
    person = np.concatenate([pr, b2, dp])
    prim_sys = np.where(people.has_a, 0, 1)
    system = np.concatenate([prim_sys[pr], np.ones(len(b2), dtype=np.int64), prim_sys[dp]])
    kind = np.concatenate([np.full(len(pr), KIND_PRIMARY), np.full(len(b2), KIND_B), np.full(len(dp), KIND_DUP)])
    slot = (kind == KIND_DUP).astype(np.int64)
    return person, system, kind, slot


def crm_ids(system: np.ndarray, key: np.ndarray) -> pa.Array:
    """'A'/'B' + 8 digits from a record key (2 * person index + slot)."""
    a = fixed_ids("A", scramble(key, 10 ** ID_CRM_A[1], ID_CRM_A[2], ID_CRM_A[3]), ID_CRM_A[1])
    b = fixed_ids("B", scramble(key, 10 ** ID_CRM_B[1], ID_CRM_B[2], ID_CRM_B[3]), ID_CRM_B[1])
    return pc.if_else(pa.array(system == 0), a, b)


def _email_variants(rng, email: pa.Array, local: pa.Array, domain: pa.Array, sloppy: np.ndarray) -> pa.Array:
    """Casing variants (lower / Title.Local / UPPER) and, where ``sloppy``, stray spaces."""
    n = len(email)
    u = rng.random(n)
    title = join(pc.utf8_title(local), "@", domain)
    out = pc.choose(pa.array(np.select([u < 0.72, u < 0.93], [0, 1], 2)), email, title, pc.utf8_upper(email))
    ws = sloppy & (rng.random(n) < 0.25)
    if ws.any():
        pad_l = pool_take(["", " ", "  "], np.where(ws, rng.integers(0, 3, n), 0))
        pad_r = pool_take(["", " "], np.where(ws, rng.integers(0, 2, n), 0))
        out = join(pad_l, out, pad_r)
    return out


def _phones(rng, area: pa.Array, sub: np.ndarray, system: np.ndarray) -> pa.Array:
    n = len(sub)
    fmt = np.where(system == 0, rng.choice(6, size=n, p=PHONE_P[0]), rng.choice(6, size=n, p=PHONE_P[1]))
    return join(pool_take(PHONE_PREFIX, fmt), area, pool_take(PHONE_SEP, fmt), int_strings(sub))


def make_crm(rng: np.random.Generator, ctx: RunContext, people: People, t0: np.ndarray, log: DirtLog) -> Crm:
    """Build the CRM records of a chunk (with dirt) and the lookups other tables need."""
    cal: Calendar = ctx.cal
    T = nm.name_tables()
    person, system, kind, slot = _records(people)
    n = len(person)
    secondary = kind != KIND_PRIMARY
    rec_id = crm_ids(system, people.gidx[person] * 2 + slot)

    # times: primary signs up at t0, other accounts later
    span = np.maximum(cal.end - t0[person] - 3600, 1)
    signup = np.where(secondary, t0[person] + (rng.uniform(0.05, 0.9, n) * span).astype(np.int64), t0[person])
    consent_upd = signup + np.where(
        rng.random(n) < 0.3, (rng.random(n) * (cal.end - 60 - signup)).astype(np.int64), rng.integers(0, 600, n)
    )
    updated = np.maximum(consent_upd, signup + (rng.random(n) * (cal.end - 60 - signup)).astype(np.int64))
    updated = np.minimum(updated, cal.end - 1)
    consent_upd = np.minimum(consent_upd, updated)

    # names
    first = pool_take(T["first_f"] + T["first_m"], people.first[person])
    last = pool_take(T["last"], people.last[person])
    typo = secondary & (rng.random(n) < TYPO_RATE)
    typo_last = typo & (rng.random(n) < 0.6)
    variant = rng.integers(0, 3, n)
    first_t = pool_take(T["first_f_typos"] + T["first_m_typos"], people.first[person] * 3 + variant)
    last_t = pool_take(T["last_typos"], people.last[person] * 3 + variant)
    first = pc.if_else(pa.array(typo & ~typo_last), first_t, first)
    last = pc.if_else(pa.array(typo_last), last_t, last)
    is_b = system == 1
    low_f = is_b & (rng.random(n) < 0.3)
    first = pc.if_else(pa.array(low_f), pc.utf8_lower(first), first)
    first = pc.if_else(pa.array(is_b & (rng.random(n) < 0.15)), join(first, " "), first)
    last = pc.if_else(pa.array(is_b & (rng.random(n) < 0.2)), pc.utf8_lower(last), last)

    # emails: secondary accounts sometimes use another address
    email_n = people.email.take(pa.array(person))
    local = people.email_local.take(pa.array(person))
    domain = people.email_domain.take(pa.array(person))
    alt = np.flatnonzero(secondary & (rng.random(n) < ALT_EMAIL_RATE))
    if len(alt):
        first_ascii = pool_take(T["first_f_ascii"] + T["first_m_ascii"], people.first[person[alt]])
        last_ascii = pool_take(T["last_ascii"], people.last[person[alt]])
        byear = (people.birth_day[person[alt]] / 365.2425 + 1970).astype(np.int64)
        ae, al, ad = build_emails(
            rng,
            first_ascii,
            last_ascii,
            byear,
            people.gidx[person[alt]] * 2 + kind[alt],
            ctx,
            fallback_digits=8,
            domain_p_shift=3,
        )
        m = np.zeros(n, dtype=bool)
        m[alt] = True
        email_n = mask_replace(email_n, m, ae)
        local = mask_replace(local, m, al)
        domain = mask_replace(domain, m, ad)
    email_raw = _email_variants(rng, email_n, local, domain, sloppy=secondary | is_b)
    email_blank = rng.random(n) < np.where(secondary, 0.08, 0.03)

    phone = _phones(rng, people.phone_area.take(pa.array(person)), people.phone_sub[person], system)
    phone_blank = ~people.has_phone[person] | (rng.random(n) < np.where(secondary, 0.15, 0.08))

    birth = pc.if_else(
        pa.array(is_b), format_date(people.birth_day[person], DATE_DMY), format_date(people.birth_day[person], DATE_ISO)
    )
    g = people.gender[person]
    gender = pc.if_else(pa.array(is_b), pool_take(["female", "male", "diverse"], g), pool_take(["F", "M", "X"], g))
    city = pool_take([c[0] for c in nm.CITIES], people.city[person])
    city = pc.if_else(pa.array(is_b & (rng.random(n) < 0.4)), pc.utf8_lower(city), city)
    region = pool_take([c[1] for c in nm.CITIES], people.city[person])
    postcode = fixed_ids("", people.postcode[person], 5)
    style = np.where(is_b, TS_BERLIN_SPACE, TS_UTC_Z)
    consent = np.where(secondary & (rng.random(n) < 0.2), ~people.consent[person], people.consent[person])
    consent_s = pc.if_else(
        pa.array(is_b), pool_take(["N", "Y"], consent.astype(int)), pool_take(["false", "true"], consent.astype(int))
    )
    consent_blank = rng.random(n) < 0.03

    # ---- dirt -------------------------------------------------------------
    taken = np.zeros(n, dtype=bool)
    has_email = ~email_blank
    placeholder = pick_rate(rng, has_email, n, "crm_customers.placeholder_email", log, taken)
    miss_ident = pick_rate(rng, secondary, n, "crm_customers.missing_identifier", log, taken)
    bad_ts = pick_rate(rng, secondary, n, "crm_customers.invalid_timestamp", log, taken)
    miss_key = pick_rate(rng, secondary, n, "crm_customers.missing_key", log, taken)
    dupkey_ok = updated - signup > 2 * 86400
    dupkey = pick_rate(rng, dupkey_ok, n, "crm_customers.duplicate_key", log, taken)

    ph = rng.integers(0, len(nm.PLACEHOLDER_EMAILS), len(placeholder))
    ph_raw = pool_take(
        list(nm.PLACEHOLDER_EMAILS) + [e.upper() for e in nm.PLACEHOLDER_EMAILS],
        ph + len(nm.PLACEHOLDER_EMAILS) * (rng.random(len(placeholder)) < 0.2),
    )
    m_ph = np.zeros(n, dtype=bool)
    m_ph[placeholder] = True
    email_raw = mask_replace(email_raw, m_ph, ph_raw)
    email_n = mask_replace(email_n, m_ph, pool_take(nm.PLACEHOLDER_EMAILS, ph))
    m_mi = np.zeros(n, dtype=bool)
    m_mi[miss_ident] = True
    email_blank |= m_mi
    phone_blank |= m_mi
    first = mask_replace(first, m_mi, None)
    last = mask_replace(last, m_mi, None)
    log.add("crm_customers.name_typo", int((typo & ~m_mi).sum()))
    log.add("crm_customers.missing_email", int((email_blank & ~m_mi).sum()))
    log.add("crm_customers.missing_phone", int((phone_blank & ~m_mi).sum()))
    email_raw = mask_replace(email_raw, email_blank, None)
    email_n = mask_replace(email_n, email_blank, None)
    phone = mask_replace(phone, phone_blank, None)

    signup_s = format_ts(signup, style)
    m_ts = np.zeros(n, dtype=bool)
    m_ts[bad_ts] = True
    signup_s = mask_replace(
        signup_s, m_ts, pool_take(BAD_TIMESTAMPS, rng.integers(0, len(BAD_TIMESTAMPS), len(bad_ts)))
    )
    m_key = np.zeros(n, dtype=bool)
    m_key[miss_key] = True
    id_raw = mask_replace(rec_id, m_key, pool_take([None, ""], rng.integers(0, 2, len(miss_key))))

    cols = {
        "source_system": pool_take(["crm_a", "crm_b"], system),
        "crm_id": id_raw,
        "first_name": first,
        "last_name": last,
        "email": email_raw,
        "phone": phone,
        "birth_date": mask_replace(birth, rng.random(n) < 0.05, None),
        "gender": mask_replace(gender, rng.random(n) < 0.04, None),
        "city": city,
        "region": region,
        "postcode": postcode,
        "signup_at": signup_s,
        "marketing_consent": mask_replace(consent_s, consent_blank, None),
        "consent_updated_at": format_ts(consent_upd, style),
        "updated_at": format_ts(updated, style),
    }
    base = pa.table(cols)
    # older versions of some records: same id, earlier updated_at, other email casing
    old_upd = signup[dupkey] + (rng.uniform(0.1, 0.9, len(dupkey)) * (updated[dupkey] - signup[dupkey] - 86400)).astype(
        np.int64
    )
    old = base.take(pa.array(dupkey))
    old_email = _email_variants(
        rng,
        email_n.take(pa.array(dupkey)),
        local.take(pa.array(dupkey)),
        domain.take(pa.array(dupkey)),
        np.ones(len(dupkey), dtype=bool),
    )
    old_email = pc.if_else(pc.is_null(old.column("email")), pa.nulls(len(dupkey), pa.string()), old_email)
    old = old.set_column(CRM_COLUMNS.index("email"), "email", old_email)
    old = old.set_column(CRM_COLUMNS.index("updated_at"), "updated_at", format_ts(old_upd, style[dupkey]))
    old = old.set_column(
        CRM_COLUMNS.index("consent_updated_at"),
        "consent_updated_at",
        format_ts(np.minimum(consent_upd[dupkey], old_upd), style[dupkey]),
    )
    allrows = pa.concat_tables([base, old])
    n_all = allrows.num_rows
    clean = np.zeros(n_all, dtype=bool)
    clean[:n] = ~taken
    perm = rng.permutation(n_all)
    order = with_duplicates(rng, n_all, clean[perm], "crm_customers.exact_duplicate_rows", log)
    table = allrows.take(pa.array(perm[order]))

    rec_ok = ~(m_mi | m_ts | m_key)
    log.add("crm_customers.same_person_duplicate_records", int((kind == KIND_DUP).sum()))
    log.add("crm_customers.persons_in_both_systems", int((people.has_a & people.has_b).sum()))

    # lookups
    primary = np.full(people.n, -1, dtype=np.int64)
    loyalty = np.full(people.n, -1, dtype=np.int64)
    duplicate = np.full(people.n, -1, dtype=np.int64)
    idx = np.arange(n)
    primary[person[kind == KIND_PRIMARY]] = idx[kind == KIND_PRIMARY]
    sel = (kind == KIND_B) & rec_ok
    loyalty[person[sel]] = idx[sel]
    sel = (kind == KIND_DUP) & rec_ok
    duplicate[person[sel]] = idx[sel]
    prim_ok = primary >= 0
    pidx = np.where(prim_ok, primary, 0)
    real_email = ~email_blank & ~m_ph
    campaign_ok = prim_ok & consent[pidx] & ~consent_blank[pidx] & real_email[pidx]
    consent_since = np.where(prim_ok, consent_upd[pidx], np.iinfo(np.int64).max // 4)

    pid = people.person_id[person]
    ident = pa.table(
        {
            "source": pool_take(["crm_a", "crm_b"], system[~m_key]),
            "source_id": rec_id.filter(pa.array(~m_key)),
            "person_id": pid[~m_key],
        }
    )
    has_e = ~email_blank
    pairs = pa.table({"person_id": pid[has_e], "email": email_n.filter(pa.array(has_e))})
    return Crm(
        table=table,
        rec_person=person,
        rec_system=system,
        rec_kind=kind,
        rec_id=rec_id,
        rec_signup=signup,
        rec_ok=rec_ok,
        rec_phone=phone,
        primary=primary,
        loyalty=loyalty,
        duplicate=duplicate,
        campaign_ok=campaign_ok,
        consent_since=consent_since,
        identity=[ident],
        email_pairs=pairs,
    )
