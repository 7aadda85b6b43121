"""Orders, order lines and the future-orders truth, from the purchase paths.

Every purchase becomes an order with 1-5 lines. Line numbers are kept in
integer cents so ``line_amount = quantity * unit_price - discount_amount``
holds exactly. Returns are extra lines on the same order with negative
quantity, discount and amount. Future purchases (after the end) only feed
``truth/future_orders.parquet``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..contract import columns as contract_columns
from . import names as nm
from .campaigns import plant_pairs
from .config import (
    CATEGORIES,
    CATEGORY_PRICE_EUR,
    CATEGORY_PRICE_LOGSD,
    CHANNELS,
    DAY,
    FX_RATES,
    PAYMENT_METHODS,
    UNMAPPED_LABELS,
    choose_labels,
    label_table,
)
from .context import ID_LINE, ID_ORDER, RunContext
from .crm import Crm, crm_ids
from .dirt import BAD_QUANTITIES, BAD_TIMESTAMPS, DIRT_RATES, DirtLog, draw_count, pick, pick_rate, with_duplicates
from .people import People, sample_categories
from .personas import BROWSER, persona_arrays
from .purchases import Purchases
from .textfmt import (
    TS_BERLIN_SPACE,
    TS_BERLIN_T,
    TS_NEWYORK_SPACE,
    TS_UTC_Z,
    fixed_ids,
    format_cents,
    format_ts,
    int_strings,
    join,
    mask_replace,
    pool_take,
    scramble,
)

ORDER_COLUMNS = contract_columns("orders")
LINE_COLUMNS = contract_columns("order_lines")
WEB, APP, STORE, MARKETPLACE = range(4)
CRM_REF_SHARE = 0.70  # orders of CRM persons that carry the CRM id (else the email)
DISCOUNT_PCTS = np.array([0.10, 0.15, 0.20, 0.25, 0.30, 0.40, 0.50])
MAX_PRICE_FACTOR = 12.0  # natural unit prices stay below 12 x the category's typical price
OUTLIER_FACTOR = (100.0, 200.0)  # amount outliers: 100-200 x the category's typical price
FX = np.array(list(FX_RATES.values()))


@dataclass
class Orders:
    orders: pa.Table
    lines: pa.Table
    future: pa.Table  # truth: person_id, ordered_at, amount_eur
    email_pairs: pa.Table  # person_id, normalised email used as customer_ref
    # web/app history orders of persons, for purchase events
    web_owner: np.ndarray
    web_t: np.ndarray
    web_app: np.ndarray
    web_order_id: pa.Array
    web_logged_in: np.ndarray
    web_lines: np.ndarray


CURRENCY_TEXT = tuple(t for c in FX_RATES for t in (c, c.lower(), c.title()))  # index: currency * 3 + casing
QTY_OFFSET = 10
QTY_TEXT = tuple(str(q) for q in range(-QTY_OFFSET, QTY_OFFSET + 1))  # index: quantity + QTY_OFFSET


def _order_num(key: np.ndarray) -> np.ndarray:
    """Scrambled order number (the digits of the order id) of an order key."""
    return scramble(key, 10 ** ID_ORDER[1], ID_ORDER[2], ID_ORDER[3])


def _blank_masks(rng, n: int, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Split blank-id rows into null and '' at random: (null mask, blank mask)."""
    null = np.zeros(n, dtype=bool)
    blank = np.zeros(n, dtype=bool)
    as_null = rng.random(len(rows)) < 0.5
    null[rows[as_null]] = True
    blank[rows[~as_null]] = True
    return null, blank


def _channels(rng, people: People, owner: np.ndarray) -> np.ndarray:
    """Channel per purchase from the person's mix; web/app need a matching device."""
    cdf = np.cumsum(people.channel_mix[owner], axis=1)
    ch = np.minimum((cdf < rng.random(len(owner))[:, None]).sum(axis=1), 3)
    n_app = np.add.reduceat(people.dev_app.astype(np.int64), people.dev_start[:-1])
    n_dev = np.diff(people.dev_start)
    has_app = n_app[owner] > 0
    has_web = (n_dev - n_app)[owner] > 0
    ch = np.where((ch == APP) & ~has_app, WEB, ch)
    ch = np.where((ch == WEB) & ~has_web, APP, ch)
    return ch


def _unknown_refs(rng, ctx: RunContext, k: int) -> pa.Array:
    """customer_ref values that match nobody: unused CRM ids or emails at unused domains."""
    T = nm.name_tables()
    num = ctx.take_ids("unknown_ref", k)
    key = 2 * ctx.persons_total + num
    as_id = crm_ids(rng.integers(0, 2, k), key)
    first = pool_take(
        T["first_f_ascii"] + T["first_m_ascii"], rng.integers(0, len(T["first_f_ascii"]) + len(T["first_m_ascii"]), k)
    )
    last = pool_take(T["last_ascii"], rng.integers(0, len(T["last_ascii"]), k))
    dom = pool_take(nm.UNMATCHED_DOMAINS, rng.integers(0, len(nm.UNMATCHED_DOMAINS), k))
    as_email = join(first, ".", last, int_strings(100 + num), "@", dom)
    return pc.if_else(pa.array(rng.random(k) < 0.5), as_id, as_email)


def _email_ref(rng, people: People, owner: np.ndarray) -> pa.Array:
    """The checkout email as typed: mostly lower case, some Title / UPPER, stray spaces."""
    idx = pa.array(owner)
    email = people.email.take(idx)
    title = join(pc.utf8_title(people.email_local.take(idx)), "@", people.email_domain.take(idx))
    u = rng.random(len(owner))
    out = pc.choose(pa.array(np.select([u < 0.75, u < 0.93], [0, 1], 2)), email, title, pc.utf8_upper(email))
    return pc.if_else(pa.array(rng.random(len(owner)) < 0.04), join(out, " "), out)


def make_orders(
    rng: np.random.Generator, ctx: RunContext, people: People, crm: Crm, purch: Purchases, log: DirtLog
) -> Orders:
    """Build orders, lines (with dirt) and the future-orders truth for a chunk."""
    P = persona_arrays()
    cal = ctx.cal
    n = people.n

    # ---- order headers ----------------------------------------------------------------
    fut = purch.future
    p_owner, p_t = purch.owner, purch.t
    n_hist_p = int((~fut).sum())
    k_unknown = draw_count(rng, n_hist_p, DIRT_RATES["orders.unknown_customer"])
    log.add("orders.unknown_customer", k_unknown)
    u_t = cal.history_start + (rng.random(k_unknown) * (cal.end - cal.history_start)).astype(np.int64)
    owner = np.concatenate([p_owner, np.full(k_unknown, -1)])
    t = np.concatenate([p_t, u_t])
    future = np.concatenate([fut, np.zeros(k_unknown, dtype=bool)])
    par = np.where(owner >= 0, owner, n)  # parameter row; row n = anonymous average shopper
    persona_o = np.append(people.persona, BROWSER)[par]  # baskets of unknown customers: small
    no = len(owner)
    channel = np.where(
        owner >= 0, _channels(rng, people, np.maximum(owner, 0)), np.where(rng.random(no) < 0.5, WEB, MARKETPLACE)
    )

    # ---- lines (all orders, also future ones for amounts) -------------------------------
    n_lines = np.clip(1 + rng.poisson(np.maximum(P["lines_mean"][persona_o] - 1, 0)), 1, 5)
    l_order = np.repeat(np.arange(no), n_lines)
    l_par = par[l_order]
    cat_cdf = np.vstack([people.cat_cdf, np.linspace(0.1, 1, len(CATEGORIES))[None, :]])
    cat = plant_pairs(rng, l_order, sample_categories(rng, cat_cdf, l_par))
    nl = len(l_order)
    qty = 1 + rng.binomial(3, np.where(cat == CATEGORIES.index("grocery"), 0.30, 0.07))
    price_mult = np.append(P["price_mult"][people.persona] * people.price_factor, 1.0)
    price_eur = np.exp(np.log(CATEGORY_PRICE_EUR[cat]) + rng.normal(0, CATEGORY_PRICE_LOGSD, nl)) * price_mult[l_par]
    price_eur = np.minimum(price_eur, MAX_PRICE_FACTOR * CATEGORY_PRICE_EUR[cat])  # catalogue prices are bounded
    currency = np.where(owner >= 0, np.append(people.currency, 0)[par], 0)
    currency = np.where(rng.random(no) < 0.05, 0, currency)
    price_cur = price_eur / FX[currency[l_order]]
    unit = np.where(rng.random(nl) < 0.7, np.round(price_cur) * 100 - 1, np.round(price_cur * 2) * 50)
    unit = np.maximum(unit, 99).astype(np.int64)
    disc_p = np.append(people.discount_prob, 0.15)[l_par]
    has_disc = rng.random(nl) < disc_p
    pct = DISCOUNT_PCTS[rng.integers(0, len(DISCOUNT_PCTS), nl)]
    disc = np.where(has_disc, np.round(qty * unit * pct), 0).astype(np.int64)

    # ---- future truth -------------------------------------------------------------------
    amount = qty * unit - disc
    order_cents = np.bincount(l_order, weights=amount, minlength=no)
    fut_idx = np.flatnonzero(future)
    future_tbl = pa.table(
        {
            "person_id": people.person_id[owner[fut_idx]],
            "ordered_at": pa.array(t[fut_idx] * 1_000_000, type=pa.timestamp("us", tz="UTC")),
            "amount_eur": np.round(order_cents[fut_idx] * FX[currency[fut_idx]]) / 100.0,
        }
    )

    # ---- history: sort by time, assign ids ---------------------------------------------
    hist = np.flatnonzero(~future)
    hist = hist[np.argsort(t[hist], kind="stable")]
    nh = len(hist)
    pos_of = np.full(no, -1, dtype=np.int64)
    pos_of[hist] = np.arange(nh)
    okey = ctx.take_ids("order", nh)
    assert okey[-1:].max(initial=0) < 10 ** ID_ORDER[1] - 10**7, "too many orders for the id space"
    order_id = fixed_ids("O", _order_num(okey), ID_ORDER[1])
    h_owner, h_t, h_ch = owner[hist], t[hist], channel[hist]
    person_o = h_owner >= 0
    po = np.maximum(h_owner, 0)

    # customer_ref: a CRM record of the person, their email, or an unknown reference
    prim = crm.primary[po]
    use_crm = person_o & (prim >= 0) & (rng.random(nh) < CRM_REF_SHARE)
    loy, dup = crm.loyalty[po], crm.duplicate[po]
    rec = prim.copy()
    use_loy = (
        (loy >= 0)
        & (crm.rec_signup[np.maximum(loy, 0)] <= h_t)
        & (((h_ch == STORE) & (rng.random(nh) < 0.8)) | (rng.random(nh) < 0.1))
    )
    rec = np.where(use_loy, loy, rec)
    use_dup = ~use_loy & (dup >= 0) & (crm.rec_signup[np.maximum(dup, 0)] <= h_t) & (rng.random(nh) < 0.2)
    rec = np.where(use_dup, dup, rec)
    ref = pc.if_else(pa.array(use_crm), crm.rec_id.take(pa.array(np.maximum(rec, 0))), _email_ref(rng, people, po))
    unknown_rows = np.flatnonzero(~person_o)
    if len(unknown_rows):
        m = np.zeros(nh, dtype=bool)
        m[unknown_rows] = True
        ref = mask_replace(ref, m, _unknown_refs(rng, ctx, len(unknown_rows)))
    email_used = person_o & ~use_crm
    email_pairs = pa.table(
        {"person_id": people.person_id[po[email_used]], "email": people.email.take(pa.array(po[email_used]))}
    )

    cur = currency[hist]
    u_cur = rng.random(nh)
    pay = np.where(
        h_ch == STORE, np.where(rng.random(nh) < 0.4, 4, 0), rng.choice(4, size=nh, p=[0.35, 0.30, 0.15, 0.20])
    )
    u = rng.random(nh)
    style = np.select(
        [h_ch == WEB, h_ch == APP, h_ch == STORE],
        [
            np.where(u < 0.6, TS_UTC_Z, TS_BERLIN_T),
            np.where(u < 0.7, TS_BERLIN_T, TS_UTC_Z),
            np.full(nh, TS_BERLIN_SPACE),
        ],
        np.where(u < 0.7, TS_NEWYORK_SPACE, TS_UTC_Z),
    )

    # order dirt (on person orders in store / marketplace: they have no purchase events)
    taken = np.zeros(nh, dtype=bool)
    offline = person_o & ((h_ch == STORE) | (h_ch == MARKETPLACE))
    o_key = pick_rate(rng, offline, nh, "orders.missing_key", log, taken)
    o_ts = pick_rate(rng, offline, nh, "orders.invalid_timestamp", log, taken)
    cur_code = cur * 3 + np.select([u_cur < 0.94, u_cur < 0.99], [0, 1], 2)
    od = with_duplicates(rng, nh, ~taken, "orders.exact_duplicate_rows", log)
    key_null, key_blank = _blank_masks(rng, len(od), np.searchsorted(od, o_key))
    orders_tbl = pa.table(
        {
            "order_id": fixed_ids("O", _order_num(okey[od]), ID_ORDER[1], null=key_null, blank=key_blank),
            "customer_ref": ref.take(pa.array(od)),
            "ordered_at": format_ts(
                h_t[od], style[od], bad_rows=np.searchsorted(od, o_ts), bad_values=BAD_TIMESTAMPS, rng=rng
            ),
            "currency": pool_take(CURRENCY_TEXT, cur_code[od]),
            "channel": pool_take(CHANNELS, h_ch[od]),
            "payment_method": pool_take(PAYMENT_METHODS, pay[od]),
        }
    )

    # ---- history lines ------------------------------------------------------------------
    lh = np.flatnonzero(pos_of[l_order] >= 0)
    lh = lh[np.argsort(pos_of[l_order[lh]], kind="stable")]
    s_pos = pos_of[l_order[lh]]
    s_qty, s_unit, s_disc, s_cat = qty[lh], unit[lh], disc[lh], cat[lh]
    ns = len(lh)
    cascade = taken[s_pos]  # lines of rejected orders -> unknown_order in staging
    ltaken = cascade.copy()
    log.add("order_lines.unknown_order_cascade", int(cascade.sum()))

    # outliers before returns so amounts stay consistent
    outl = pick_rate(rng, np.ones(ns, dtype=bool), ns, "order_lines.amount_outlier", log, ltaken)
    # outliers: unit price 100-200 x the category's typical price, no discount
    new_unit = (
        CATEGORY_PRICE_EUR[s_cat[outl]] * rng.uniform(*OUTLIER_FACTOR, len(outl)) / FX[currency[l_order[lh[outl]]]]
    )
    s_unit[outl] = (np.round(new_unit) * 100 - 1).astype(np.int64)
    s_disc[outl] = 0

    ret_rate = np.append(people.return_rate, 0.05)[par[hist]][s_pos]
    returned = (rng.random(ns) < ret_rate) & (h_t[s_pos] < cal.end - 3 * DAY) & ~ltaken
    r = np.flatnonzero(returned)
    r_qty = 1 + (rng.random(len(r)) * s_qty[r]).astype(np.int64)
    r_disc = np.round(s_disc[r] * r_qty / s_qty[r]).astype(np.int64)

    # sale lines then their returns, grouped by order
    pos_all = np.concatenate([s_pos, s_pos[r]])
    lorder = np.argsort(pos_all, kind="stable")
    pos_all = pos_all[lorder]
    qty_all = np.concatenate([s_qty, -r_qty])[lorder]
    unit_all = np.concatenate([s_unit, s_unit[r]])[lorder]
    disc_all = np.concatenate([s_disc, -r_disc])[lorder]
    cat_all = np.concatenate([s_cat, s_cat[r]])[lorder]
    is_ret = np.concatenate([np.zeros(ns, dtype=bool), np.ones(len(r), dtype=bool)])[lorder]
    lt = np.concatenate([ltaken, cascade[r]])[lorder]
    cascade_all = taken[pos_all]
    amt_all = qty_all * unit_all - disc_all
    nla = len(pos_all)
    label_all = choose_labels(rng, cat_all)

    sign = pick_rate(rng, ~is_ret, nla, "order_lines.amount_sign_mismatch", log, lt)
    amt_all[sign] = -amt_all[sign]
    badnum = pick_rate(rng, np.ones(nla, dtype=bool), nla, "order_lines.invalid_number", log, lt)
    lkey_rows = pick_rate(rng, np.ones(nla, dtype=bool), nla, "order_lines.missing_key", log, lt)
    unm = pick_rate(rng, np.ones(nla, dtype=bool), nla, "order_lines.unmapped_category", log, lt)
    labels, _, _ = label_table()
    label_all[unm] = len(labels) + rng.integers(0, len(UNMAPPED_LABELS), len(unm))

    # orphan lines: copies of clean sale lines whose order id exists nowhere
    src_rows = pick(rng, ~lt & ~is_ret, draw_count(rng, nla, DIRT_RATES["order_lines.orphan_line"]))
    k_orph = len(src_rows)
    log.add("order_lines.orphan_line", k_orph)
    line_onum = np.concatenate(
        [_order_num(okey[pos_all]), _order_num(10 ** ID_ORDER[1] - 1 - ctx.take_ids("orphan_order", k_orph))]
    )
    src = np.concatenate([np.arange(nla), src_rows])
    lkeys = ctx.take_ids("line", nla + k_orph)
    clean_lines = np.concatenate([~lt & ~cascade_all, np.zeros(k_orph, dtype=bool)])
    ld = with_duplicates(rng, nla + k_orph, clean_lines, "order_lines.exact_duplicate_rows", log)
    rows = src[ld]

    def fpos(rr):
        return np.searchsorted(ld, rr)

    col = rng.choice(4, size=len(badnum), p=[0.3, 0.4, 0.15, 0.15])
    style = rng.random(len(badnum))
    q_code = qty_all[rows] + QTY_OFFSET
    qb = fpos(badnum[col == 0])
    q_code[qb] = len(QTY_TEXT) + rng.integers(0, len(BAD_QUANTITIES), len(qb))
    money = {}
    for ci, name, cents in ((1, "unit_price", unit_all), (2, "discount_amount", disc_all), (3, "line_amount", amt_all)):
        sel = col == ci
        fr, st = fpos(badnum[sel]), style[sel]
        money[name] = format_cents(
            cents[rows],
            comma_rows=fr[st < 0.5],
            text_rows=fr[(st >= 0.5) & (st < 0.75)],
            text_values=("N/A", "n/a", "-"),
            rng=rng,
            prefix_rows=fr[st >= 0.75],
            prefix="€",
        )
    lid_null, lid_blank = _blank_masks(rng, len(ld), fpos(lkey_rows))
    lines_tbl = pa.table(
        {
            "order_line_id": fixed_ids(
                "L",
                scramble(lkeys[ld], 10 ** ID_LINE[1], ID_LINE[2], ID_LINE[3]),
                ID_LINE[1],
                null=lid_null,
                blank=lid_blank,
            ),
            "order_id": fixed_ids("O", line_onum[ld], ID_ORDER[1]),
            "product_category": pool_take(labels + list(UNMAPPED_LABELS), label_all[rows]),
            "quantity": pool_take(QTY_TEXT + BAD_QUANTITIES, q_code),
            **money,
        }
    )

    web = np.flatnonzero(person_o & ((h_ch == WEB) | (h_ch == APP)) & (h_t >= cal.events_start))
    lines_per_order = np.bincount(pos_all[~is_ret], minlength=nh)
    return Orders(
        orders=orders_tbl,
        lines=lines_tbl,
        future=future_tbl,
        email_pairs=email_pairs,
        web_owner=h_owner[web],
        web_t=h_t[web],
        web_app=h_ch[web] == APP,
        web_order_id=order_id.take(pa.array(web)),
        web_logged_in=use_crm[web],
        web_lines=np.maximum(lines_per_order[web], 1),
    )
