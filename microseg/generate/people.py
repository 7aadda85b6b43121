"""Simulated persons: persona, demographics, contact data, households, devices
and latent behavioural traits (one numpy array per attribute, one row per person)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import names as nm
from .config import CATEGORIES, DAY
from .context import ANON_ADD, ANON_MULT, RunContext
from .personas import MIX_CONCENTRATION, persona_arrays
from .textfmt import (
    TS_BERLIN_SPACE,
    TS_BERLIN_T,
    TS_NEWYORK_SPACE,
    TS_UTC_Z,
    hex_ids,
    int_strings,
    join,
    local_to_utc_berlin,
    pool_take,
    scramble,
)

#: persons living in a multi-person household that shares one email (per block of 4)
HOUSEHOLD_BLOCK_PROB = 0.03
CRM_NONE, CRM_A_GIVEN_CRM, CRM_B_GIVEN_A, CRM_DUP = 0.05, 0.92 / 0.95, 0.30, 0.03
PHONE_KIND_P = (0.12, 0.55, 0.33)  # none, mobile, landline
CURRENCY_P = (0.90, 0.05, 0.05)  # EUR, GBP, USD (home currency)
DEVICES_P = (0.45, 0.40, 0.15)  # persons with 1, 2, 3 devices
DEVICE_NEVER_LOGIN = 0.05  # extra devices that never log in (was 0.30: see docs/decisions.md)


@dataclass
class People:
    n: int
    gidx: np.ndarray
    person_id: np.ndarray
    persona: np.ndarray
    gender: np.ndarray  # 0 female, 1 male, 2 diverse
    first: np.ndarray  # index into FIRST_NAMES_F + FIRST_NAMES_M
    last: np.ndarray
    birth_day: np.ndarray  # epoch days
    city: np.ndarray
    postcode: np.ndarray
    household_head: np.ndarray  # local index of the household head (self if none)
    household_size: np.ndarray
    email: pa.Array  # normalised (lower-case) real email, shared within a household
    email_local: pa.Array
    email_domain: pa.Array
    phone_area: pa.Array  # national area code / mobile prefix without the leading 0
    phone_sub: np.ndarray
    has_phone: np.ndarray
    # latent traits
    rate: np.ndarray
    dropout: np.ndarray
    cat_cdf: np.ndarray  # (n, 10) cumulative category mix
    channel_mix: np.ndarray  # (n, 4)
    price_factor: np.ndarray
    discount_prob: np.ndarray
    return_rate: np.ndarray
    open_rate: np.ndarray
    click_rate: np.ndarray
    consent: np.ndarray
    currency: np.ndarray  # home currency index
    activity: np.ndarray  # browsing intensity multiplier
    # CRM membership
    has_a: np.ndarray
    has_b: np.ndarray
    has_dup: np.ndarray
    # devices (flat, person-major)
    dev_start: np.ndarray  # (n + 1) offsets
    dev_person: np.ndarray
    dev_type: np.ndarray  # index into DEVICES
    dev_app: np.ndarray  # bool: platform app (else web)
    dev_login_ok: np.ndarray
    dev_style: np.ndarray  # timestamp style of the client clock
    dev_anon: pa.Array

    @property
    def has_crm(self) -> np.ndarray:
        return self.has_a | self.has_b


def _choice_rows(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """One categorical draw per row of a (n, k) probability matrix."""
    cdf = np.cumsum(probs, axis=1)
    u = rng.random(len(probs))[:, None] * cdf[:, -1:]
    return np.minimum((cdf < u).sum(axis=1), probs.shape[1] - 1)


def _gamma_mix(rng, alpha: np.ndarray) -> np.ndarray:
    """Per-row Dirichlet draws from a (n, k) alpha matrix."""
    g = rng.gamma(np.maximum(alpha, 1e-3))
    g = np.maximum(g, 1e-12)
    return g / g.sum(axis=1, keepdims=True)


def _beta(rng, mean: np.ndarray, conc: float) -> np.ndarray:
    return rng.beta(mean * conc, (1 - mean) * conc)


def build_emails(
    rng,
    first_ascii: pa.Array,
    last_ascii: pa.Array,
    birth_year: np.ndarray,
    gidx: np.ndarray,
    ctx: RunContext,
    fallback_digits: int,
    domain_p_shift: int = 0,
) -> tuple[pa.Array, pa.Array, pa.Array]:
    """Realistic unique lower-case emails from names, a number and a domain.

    Candidates that were used before (earlier chunk, earlier row) get a unique
    fallback number derived from the person index with ``fallback_digits``
    digits (7 for primary, 8 for alternative emails), which cannot collide with
    the 2-4 digit numbers of normal candidates. Returns (email, local, domain).
    """
    n = len(gidx)
    finit = pc.utf8_slice_codeunits(first_ascii, 0, 1)
    linit = pc.utf8_slice_codeunits(last_ascii, 0, 1)
    empty = pa.array([""] * n, type=pa.string()) if n else pa.array([], type=pa.string())
    pattern = rng.choice(8, size=n, p=[0.34, 0.12, 0.12, 0.08, 0.05, 0.07, 0.10, 0.12])
    p1 = pc.choose(pa.array(np.array([0, 0, 1, 0, 0, 2, 0, 1])[pattern]), first_ascii, finit, last_ascii)
    sep = pool_take([".", "", ".", "_", ".", ".", "", ""], pattern)
    p2 = pc.choose(pa.array(np.array([0, 0, 0, 0, 1, 2, 3, 0])[pattern]), last_ascii, linit, first_ascii, empty)
    kind = rng.choice(5, size=n, p=[0.50, 0.20, 0.15, 0.10, 0.05])
    kind[(pattern == 6) & (kind == 0)] = 1  # first name only always carries a number
    num = np.select(
        [kind == 1, kind == 2, kind == 3, kind == 4],
        [rng.integers(10, 100, n), birth_year, birth_year % 100 + 100, rng.integers(100, 1000, n)],
        0,
    )
    num_s = int_strings(num)
    num_s = pc.if_else(pa.array(kind == 3), pc.utf8_slice_codeunits(num_s, 1, 3), num_s)
    num_s = pc.if_else(pa.array(kind == 0), pa.scalar(""), num_s)
    dom_names = [d for d, _ in nm.EMAIL_DOMAINS]
    dom_p = np.array([w for _, w in nm.EMAIL_DOMAINS])
    dom_p = np.roll(dom_p, domain_p_shift)
    domain = pool_take(dom_names, rng.choice(len(dom_names), size=n, p=dom_p / dom_p.sum()))
    base = join(p1, sep, p2)
    local = join(base, num_s)
    email = join(local, "@", domain)
    # uniqueness: first occurrence within the chunk wins unless taken earlier
    enc = pc.dictionary_encode(email).indices.to_numpy()
    _, first_pos = np.unique(enc, return_index=True)
    clash = np.ones(n, dtype=bool)
    clash[first_pos] = False
    clash |= ctx.email_taken(email)
    if clash.any():
        lo = 10 ** (fallback_digits - 1)
        fb = lo + scramble(gidx, 9 * lo, 7_654_321 if fallback_digits == 7 else 76_543_211, 1_234_567)
        new_local = join(base, int_strings(fb))
        local = pc.if_else(pa.array(clash), new_local, local)
        email = join(local, "@", domain)
    ctx.register_emails(email)
    return email, local, domain


def _households(rng, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Blocks of 4 consecutive persons become a 2-4 person household with some
    probability. Returns (head index per person, household size per person)."""
    head = np.arange(n)
    size = np.ones(n, dtype=np.int64)
    nblocks = n // 4
    is_house = rng.random(nblocks) < HOUSEHOLD_BLOCK_PROB
    hsize = rng.choice([2, 3, 4], size=nblocks, p=[0.5, 0.3, 0.2])
    for k in (1, 2, 3):
        blocks = np.flatnonzero(is_house & (hsize > k))
        head[blocks * 4 + k] = blocks * 4
    blocks = np.flatnonzero(is_house)
    for k in range(4):
        members = blocks * 4 + k
        ok = k < hsize[blocks]
        size[members[ok]] = hsize[blocks][ok]
    return head, size


def _devices(rng, persona: np.ndarray, gidx: np.ndarray):
    """1-3 devices per person with type, platform, login ability, clock style, anon id."""
    P = persona_arrays()
    n = len(persona)
    ndev = rng.choice([1, 2, 3], size=n, p=DEVICES_P)
    start = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(ndev, out=start[1:])
    dperson = np.repeat(np.arange(n), ndev)
    k = np.arange(len(dperson)) - start[dperson]
    dtype = _choice_rows(rng, P["device_mix"][persona[dperson]])
    app = (dtype != 1) & (rng.random(len(dperson)) < P["app_share"][persona[dperson]])
    login_ok = (k == 0) | (rng.random(len(dperson)) >= DEVICE_NEVER_LOGIN)
    u = rng.random(len(dperson))
    web_style = np.select([u < 0.45, u < 0.85], [TS_UTC_Z, TS_BERLIN_T], TS_NEWYORK_SPACE)
    app_style = np.select([u < 0.55, u < 0.85], [TS_BERLIN_T, TS_BERLIN_SPACE], TS_UTC_Z)
    style = np.where(app, app_style, web_style).astype(np.int8)
    anon_num = scramble(gidx[dperson] * 4 + k, 2**40, ANON_MULT, ANON_ADD)
    anon = hex_ids("anon_", anon_num, 10)
    return start, dperson, dtype, app, login_ok, style, anon


def make_people(rng: np.random.Generator, ctx: RunContext, first_index: int, n: int) -> People:
    """Draw n persons with global indices first_index .. first_index + n - 1."""
    P = persona_arrays()
    T = nm.name_tables()
    cal = ctx.cal
    gidx = np.arange(first_index, first_index + n, dtype=np.int64)
    persona = rng.choice(len(P["share"]), size=n, p=P["share"])
    gender = rng.choice(3, size=n, p=[0.49, 0.49, 0.02])
    nf, nmale = len(T["first_f"]), len(T["first_m"])
    female_name = (gender == 0) | ((gender == 2) & (rng.random(n) < 0.5))
    first = np.where(
        female_name,
        rng.choice(nf, size=n, p=T["first_f_weights"]),
        nf + rng.choice(nmale, size=n, p=T["first_m_weights"]),
    )
    last = rng.choice(len(T["last"]), size=n, p=T["last_weights"])
    lo, hi = P["age_range"][persona, 0], P["age_range"][persona, 1]
    age_years = lo + rng.random(n) * (hi - lo + 1)
    birth_day = (cal.end // DAY - (age_years * 365.25)).astype(np.int64)

    # cities: population x kind weight x persona urbanity preference
    pop = np.array([c[5] for c in nm.CITIES], dtype=float)
    kind = np.array([c[6] for c in nm.CITIES])
    base_w = pop * np.array(nm.KIND_WEIGHT)[kind]
    city_p = base_w[None, :] * P["city_kind_weight"][persona][:, kind]
    city = _choice_rows(rng, city_p)
    plz_lo = np.array([c[2] for c in nm.CITIES])
    plz_hi = np.array([c[3] for c in nm.CITIES])
    postcode = plz_lo[city] + (rng.random(n) * (plz_hi[city] - plz_lo[city] + 1)).astype(np.int64)

    head, hh_size = _households(rng, n)
    member = head != np.arange(n)
    same_last = member & (rng.random(n) < 0.8)
    last = np.where(same_last, last[head], last)
    city = np.where(member, city[head], city)
    postcode = np.where(member, postcode[head], postcode)

    # emails (households share the head's)
    first_ascii = pool_take(T["first_f_ascii"] + T["first_m_ascii"], first)
    last_ascii = pool_take(T["last_ascii"], last)
    birth_year = (birth_day / 365.2425 + 1970).astype(np.int64)
    own = np.flatnonzero(~member)
    e, loc, dom = build_emails(
        rng,
        first_ascii.take(pa.array(own)),
        last_ascii.take(pa.array(own)),
        birth_year[own],
        gidx[own],
        ctx,
        fallback_digits=7,
    )
    pos = np.zeros(n, dtype=np.int64)
    pos[own] = np.arange(len(own))
    pos = pos[head]
    email, email_local, email_domain = (x.take(pa.array(pos)) for x in (e, loc, dom))

    # phones: unique subscriber numbers from the person index; households may share a landline
    pk = rng.choice(3, size=n, p=PHONE_KIND_P)
    mobile_prefix = rng.choice(len(nm.MOBILE_PREFIXES), size=n)
    area_codes = [c[4] for c in nm.CITIES]
    landline_area = pool_take(area_codes, city)
    mob_area = pool_take(list(nm.MOBILE_PREFIXES), mobile_prefix)
    sub = np.where(
        pk == 1,
        1_000_000 + scramble(gidx, 9_000_000, 2_718_281, 314_159),
        1_000_000 + scramble(gidx, 9_000_000, 1_414_213, 271_828),
    )
    share_line = member & (pk[head] == 2) & (rng.random(n) < 0.6)
    pk = np.where(share_line, 2, pk)
    sub = np.where(share_line, sub[head], sub)
    phone_area = pc.if_else(pa.array(pk == 1), mob_area, landline_area)

    # latent behaviour
    rate = rng.gamma(P["rate_shape"][persona], P["rate_mean"][persona] / P["rate_shape"][persona])
    dropout = np.clip(_beta(rng, P["dropout_mean"][persona], 40.0), 0.002, 0.9)
    cat_mix = _gamma_mix(rng, MIX_CONCENTRATION * P["category_mix"][persona])
    channel_mix = _gamma_mix(rng, 20.0 * P["channel_mix"][persona])
    assert cat_mix.shape[1] == len(CATEGORIES)

    dev = _devices(rng, persona, gidx)

    has_crm = rng.random(n) >= CRM_NONE
    has_a = has_crm & (rng.random(n) < CRM_A_GIVEN_CRM)
    has_b = has_crm & (~has_a | (rng.random(n) < CRM_B_GIVEN_A))
    has_dup = has_crm & (rng.random(n) < CRM_DUP / (1 - CRM_NONE))

    return People(
        n=n,
        gidx=gidx,
        person_id=gidx + 1,
        persona=persona,
        gender=gender,
        first=first,
        last=last,
        birth_day=birth_day,
        city=city,
        postcode=postcode,
        household_head=head,
        household_size=hh_size,
        email=email,
        email_local=email_local,
        email_domain=email_domain,
        phone_area=phone_area,
        phone_sub=sub,
        has_phone=pk > 0,
        rate=rate,
        dropout=dropout,
        cat_cdf=np.cumsum(cat_mix, axis=1),
        channel_mix=channel_mix,
        price_factor=rng.lognormal(0.0, 0.15, n),
        discount_prob=np.clip(_beta(rng, P["discount_prob"][persona], 20.0), 0, 1),
        return_rate=np.clip(_beta(rng, P["return_rate"][persona], 50.0), 0, 1),
        open_rate=_beta(rng, P["open_rate"][persona], 8.0),
        click_rate=_beta(rng, P["click_rate"][persona], 8.0),
        consent=rng.random(n) < P["consent_prob"][persona],
        currency=rng.choice(3, size=n, p=CURRENCY_P),
        activity=rng.lognormal(0.0, 0.35, n),
        has_a=has_a,
        has_b=has_b,
        has_dup=has_dup,
        dev_start=dev[0],
        dev_person=dev[1],
        dev_type=dev[2],
        dev_app=dev[3],
        dev_login_ok=dev[4],
        dev_style=dev[5],
        dev_anon=dev[6],
    )


def sample_categories(rng, cat_cdf: np.ndarray, owner: np.ndarray) -> np.ndarray:
    """One category index per row, drawn from the owner's cumulative category mix.

    Inverse-CDF sampling for all rows at once: every person's CDF row is shifted
    by its row number so the stacked rows form one sorted array for searchsorted.
    """
    n, k = cat_cdf.shape
    stacked = (cat_cdf / cat_cdf[:, -1:] + np.arange(n)[:, None]).ravel()
    u = rng.random(len(owner)) * 0.999999
    pos = np.searchsorted(stacked, owner + u, side="right")
    return np.minimum(pos - owner * k, k - 1)


def apply_clock(rng, t: np.ndarray, persona: np.ndarray) -> np.ndarray:
    """Move UTC instants to the persona's rhythm: weekday/weekend preference and
    hour of day (Berlin local). The calendar week is kept; 15% of rows keep a
    uniform hour so the pattern is noisy."""
    P = persona_arrays()
    n = len(t)
    day = (t + 3600) // DAY
    dow = (day + 3) % 7  # 0 = Monday
    ws = P["weekend_shift"][persona]
    u = rng.random(n)
    to_weekend = (ws > 0) & (dow < 5) & (u < ws)
    day = np.where(to_weekend, day - dow + 5 + (rng.random(n) < 0.5), day)
    to_weekday = (ws < 0) & (dow >= 5) & (u < -ws)
    day = np.where(to_weekday, day - dow + rng.integers(0, 5, n), day)
    hour = rng.normal(P["hour_mu"][persona], P["hour_sd"][persona])
    hour = np.where(rng.random(n) < 0.15, rng.random(n) * 24, hour) % 24
    sod = (hour * 3600).astype(np.int64)
    return local_to_utc_berlin(day * DAY + sod)
