"""Web, app and email events.

Browse sessions arrive as a Poisson process over the person's part of the
365-day window (full rate while alive, a quarter after churning), follow the
persona clock, and cluster before web/app purchases. A session is
``session_start``, page / product views in the persona's category mix, maybe
``add_to_cart`` and ``checkout``; purchase sessions end with a ``purchase``
event at the order time carrying the order id. Logged-in sessions contain a
``login`` event; events before it have no user_id, events from it on carry the
person's primary CRM id. Email campaigns (every 14 days over the last 180
days) go to consenting persons: ``email_sent``, maybe ``email_open`` and
``email_click``, with user_id and no anonymous id / session / device.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from ..contract import columns as contract_columns
from .config import CAMPAIGN_EVERY_DAYS, DAY, DEVICES, UNMAPPED_LABELS, YEAR, choose_labels, label_table
from .context import ID_EVENT, ID_SESSION, RunContext
from .crm import Crm
from .dirt import BAD_TIMESTAMPS, DIRT_RATES, UNKNOWN_EVENT_TYPES, DirtLog, draw_count, pick, pick_rate, with_duplicates
from .orders import Orders
from .people import People, apply_clock, sample_categories
from .personas import persona_arrays
from .purchases import Purchases
from .textfmt import TS_UTC_Z, fixed_ids, format_ts, local_to_utc_berlin, pool_take, scramble

EVENT_COLUMNS = contract_columns("events")
EVENT_TYPES = (
    "session_start",
    "page_view",
    "product_view",
    "add_to_cart",
    "checkout",
    "purchase",
    "login",
    "email_sent",
    "email_open",
    "email_click",
) + UNKNOWN_EVENT_TYPES
(E_START, E_PV, E_PROD, E_CART, E_CHECKOUT, E_PURCHASE, E_LOGIN, E_SENT, E_OPEN, E_CLICK) = range(10)
E_UNKNOWN = 10
PLATFORMS = ("web", "app", "email")
DEAD_SESSION_FACTOR = 0.25
PRE_PURCHASE_SESSIONS = 0.2  # mean extra browse sessions in the days before a web/app order
PAGE_VIEW_WITH_CATEGORY = 0.6
FOCUS_CATEGORY = 0.6


#: compact dtypes of the per-event arrays (less memory traffic when gathering)
EVENT_DTYPES = {
    "type": np.int8,
    "t": np.int64,
    "recv": np.int64,
    "person": np.int32,
    "dev": np.int32,
    "user": np.bool_,
    "sess": np.int32,
    "platform": np.int8,
    "devtype": np.int8,
    "label": np.int16,
    "campaign": np.int16,
    "order": np.int32,
    "style": np.int8,
}


def _typed(ev: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {k: np.asarray(ev[k]).astype(EVENT_DTYPES[k], copy=False) for k in EVENT_DTYPES}


def _nullable(idx: np.ndarray) -> pa.Array:
    """Index array for ``take`` where negative values mean null."""
    return pa.array(np.maximum(idx, 0), mask=idx < 0)


def _first_device(people: People, want_app: bool) -> np.ndarray:
    """Per person: index of the first device on the app (or web) platform, -1 if none."""
    big = np.iinfo(np.int64).max
    idx = np.arange(len(people.dev_person), dtype=np.int64)
    cand = np.where(people.dev_app == want_app, idx, big)
    first = np.minimum.reduceat(cand, people.dev_start[:-1])
    return np.where(first == big, -1, first)


def _sessions(rng, ctx: RunContext, people: People, crm: Crm, purch: Purchases, orders: Orders):
    """Session table: person, device, start, purchase order (or -1), login flag, platform."""
    P = persona_arrays()
    cal = ctx.cal
    n = people.n
    persona = people.persona
    ws = np.maximum(cal.events_start, purch.t0)
    alive_end = np.clip(purch.churn_at, ws, cal.end)
    spy = P["sessions_per_year"][persona] * people.activity
    n_alive = rng.poisson(spy * np.maximum(alive_end - ws, 0) / YEAR)
    n_dead = rng.poisson(DEAD_SESSION_FACTOR * spy * np.maximum(cal.end - np.maximum(alive_end, ws), 0) / YEAR)
    a_own = np.repeat(np.arange(n), n_alive)
    a_t = ws[a_own] + (rng.random(len(a_own)) * (alive_end - ws)[a_own]).astype(np.int64)
    d_own = np.repeat(np.arange(n), n_dead)
    lo = np.maximum(alive_end, ws)
    d_t = lo[d_own] + (rng.random(len(d_own)) * (cal.end - lo)[d_own]).astype(np.int64)
    b_own = np.concatenate([a_own, d_own])
    b_t = apply_clock(rng, np.concatenate([a_t, d_t]), persona[b_own])
    # extra browsing in the days before web/app orders
    k_pre = rng.poisson(PRE_PURCHASE_SESSIONS, len(orders.web_owner))
    pre_own = np.repeat(orders.web_owner, k_pre)
    pre_t = np.repeat(orders.web_t, k_pre) - rng.integers(1800, 5 * DAY, len(pre_own))
    b_own = np.concatenate([b_own, pre_own])
    b_t = np.concatenate([b_t, pre_t])
    b_t = np.clip(b_t, ws[b_own], cal.end - 3600)
    ndev = np.diff(people.dev_start)
    pick_dev = np.where(rng.random(len(b_own)) < 0.5, 0, (rng.random(len(b_own)) * ndev[b_own]).astype(np.int64))
    b_dev = people.dev_start[b_own] + pick_dev

    # purchase sessions on a device of the order's platform
    w_own = orders.web_owner
    first_app, first_web = _first_device(people, True), _first_device(people, False)
    w_dev = np.where(orders.web_app, first_app[w_own], first_web[w_own])
    w_dev = np.where(w_dev < 0, people.dev_start[w_own], w_dev)

    nb, nw = len(b_own), len(w_own)
    s_person = np.concatenate([b_own, w_own])
    s_dev = np.concatenate([b_dev, w_dev])
    s_start = np.concatenate([b_t, np.zeros(nw, dtype=np.int64)])  # purchase sessions set later
    s_order = np.concatenate([np.full(nb, -1), np.arange(nw)])
    prim = crm.primary[s_person]
    prim_signup = np.where(prim >= 0, crm.rec_signup[np.maximum(prim, 0)], np.iinfo(np.int64).max // 4)
    login_p = P["login_prob"][persona[s_person]]
    s_login = np.concatenate(
        [
            (prim[:nb] >= 0)
            & people.dev_login_ok[b_dev]
            & (rng.random(nb) < login_p[:nb])
            & (b_t >= prim_signup[:nb] + 60),
            orders.web_logged_in & (prim[nb:] >= 0),
        ]
    )
    # a device that can log in does so at least once (its last browse session after
    # signup), so anonymous ids that never log in are the devices that cannot
    # (people.DEVICE_NEVER_LOGIN, persons without a CRM account) and those only
    # used before signup; identity resolution has evidence for the rest
    eligible = (prim[:nb] >= 0) & people.dev_login_ok[b_dev] & (b_t >= prim_signup[:nb] + 60)
    has_login = np.zeros(len(people.dev_person), dtype=bool)
    has_login[s_dev[s_login]] = True
    cand = np.flatnonzero(eligible & ~has_login[b_dev])
    if len(cand):
        cand = cand[np.lexsort((b_t[cand], b_dev[cand]))]
        last_of_device = np.r_[b_dev[cand][1:] != b_dev[cand][:-1], True]
        s_login[cand[last_of_device]] = True
    s_app = np.concatenate([people.dev_app[b_dev], orders.web_app])
    return s_person, s_dev, s_start, s_order, s_login, s_app, prim_signup


def _web_events(rng, ctx: RunContext, people: People, crm: Crm, purch: Purchases, orders: Orders):
    """Expand sessions into events; returns a dict of per-event arrays."""
    P = persona_arrays()
    s_person, s_dev, s_start, s_order, s_login, s_app, prim_signup = _sessions(rng, ctx, people, crm, purch, orders)
    ns = len(s_person)
    persona = people.persona[s_person]
    is_pur = s_order >= 0
    c_browse = 1 + rng.poisson(np.maximum(P["browse_events"][persona] - 1, 0))
    c_browse = np.where(is_pur, 1 + rng.poisson(1.0, ns), c_browse)
    cart = rng.random(ns) < P["cart_prob"][persona]
    c_cart = np.where(cart, 1 + rng.poisson(0.3, ns), 0)
    c_cart = np.where(is_pur, np.minimum(orders.web_lines[np.maximum(s_order, 0)], 1 + rng.poisson(0.4, ns)), c_cart)
    c_co = np.where(is_pur, 1, (c_cart > 0) & (rng.random(ns) < P["checkout_prob"][persona]))
    c_pur = is_pur.astype(np.int64)
    c_login = s_login.astype(np.int64)
    lpos = 1 + (rng.random(ns) * (c_browse + 1)).astype(np.int64)
    n_ev = 1 + c_browse + c_login + c_cart + c_co + c_pur
    starts = np.zeros(ns + 1, dtype=np.int64)
    np.cumsum(n_ev, out=starts[1:])
    sess = np.repeat(np.arange(ns), n_ev)
    k = np.arange(len(sess)) - starts[sess]
    ne = len(sess)

    r1 = (1 + c_browse + c_login)[sess]
    r2 = r1 + c_cart[sess]
    r3 = r2 + c_co[sess]
    browse_type = np.where(rng.random(ne) < P["product_view_share"][persona[sess]], E_PROD, E_PV)
    etype = np.select(
        [k == 0, (c_login[sess] == 1) & (k == lpos[sess]), k < r1, k < r2, k < r3],
        [E_START, E_LOGIN, browse_type, E_CART, E_CHECKOUT],
        E_PURCHASE,
    )
    user = (c_login[sess] == 1) & (k >= lpos[sess])

    gap = np.where(k == 0, 0, 5 + rng.exponential(40.0, ne).astype(np.int64))
    cum = np.cumsum(gap)
    offset = cum - cum[starts[:-1]][sess]
    last_offset = offset[starts[1:] - 1]
    order_t = orders.web_t[np.maximum(s_order, 0)]
    s_start = np.where(is_pur, order_t - last_offset, s_start)
    t = s_start[sess] + offset

    # a login timed before the account's signup (possible right at sign-up) becomes anonymous
    login_t = np.where(s_login, s_start + offset[np.minimum(starts[:-1] + lpos, ne - 1)], 0)
    bad_login = s_login & (login_t < prim_signup[np.arange(ns)])
    if bad_login.any():
        drop = bad_login[sess]
        etype = np.where(drop & (etype == E_LOGIN), E_PV, etype)
        user &= ~drop

    # categories: a focus category per session, page views only sometimes
    focus = sample_categories(rng, people.cat_cdf, s_person)
    fresh = sample_categories(rng, people.cat_cdf, s_person[sess])
    cat = np.where(rng.random(ne) < FOCUS_CATEGORY, focus[sess], fresh)
    has_cat = (etype == E_PROD) | (etype == E_CART) | ((etype == E_PV) & (rng.random(ne) < PAGE_VIEW_WITH_CATEGORY))
    label = np.where(has_cat, choose_labels(rng, cat), -1)

    # collector delays: seconds; some app events are batched for up to 36 h (< 72 h: not late)
    delay = rng.integers(1, 11, ne)
    app_ev = s_app[sess]
    batch = app_ev & (rng.random(ne) < 0.03) & (t < ctx.cal.end - 2 * DAY)
    delay = np.where(batch, rng.integers(300, 36 * 3600, ne), delay)

    skeys = ctx.take_ids("session", ns)
    dev = s_dev[sess]
    return _typed(
        {
            "type": etype,
            "t": t,
            "recv": t + delay,
            "person": s_person[sess],
            "dev": dev,
            "user": user,
            "sess": sess,
            "platform": app_ev,
            "devtype": people.dev_type[dev],
            "label": label,
            "campaign": np.full(ne, -1),
            "order": np.where(etype == E_PURCHASE, s_order[sess], -1),
            "style": people.dev_style[dev],
        }
    ), skeys


def _email_events(rng, ctx: RunContext, people: People, crm: Crm, purch: Purchases):
    """Campaign sends, opens and clicks for consenting persons with a CRM account."""
    cal = ctx.cal
    days = cal.campaign_days()
    send_base = local_to_utc_berlin(days * DAY + 9 * 3600)
    who = np.flatnonzero(crm.campaign_ok)
    prim = crm.primary[who]
    since = np.maximum(crm.consent_since[who], crm.rec_signup[prim])
    ok = send_base[None, :] > since[:, None]
    pi, ci = np.nonzero(ok)
    person = who[pi]
    ns = len(person)
    t_sent = send_base[ci] + rng.integers(0, 1800, ns)
    dead = purch.churn_at[person] < t_sent
    open_p = people.open_rate[person] * np.where(dead, 0.3, 1.0)
    opened = rng.random(ns) < open_p
    t_open = t_sent + 60 + rng.exponential(6 * 3600, ns).astype(np.int64)
    opened &= t_open < cal.end
    clicked = opened & (rng.random(ns) < people.click_rate[person])
    t_click = t_open + 10 + rng.exponential(120, ns).astype(np.int64)
    clicked &= t_click < cal.end
    o, c = np.flatnonzero(opened), np.flatnonzero(clicked)
    rows = np.concatenate([np.arange(ns), o, c])
    etype = np.concatenate([np.full(ns, E_SENT), np.full(len(o), E_OPEN), np.full(len(c), E_CLICK)])
    t = np.concatenate([t_sent, t_open[o], t_click[c]])
    ne = len(rows)
    campaign = (days // CAMPAIGN_EVERY_DAYS) % 10_000
    return _typed(
        {
            "type": etype,
            "t": t,
            "recv": t + rng.integers(1, 6, ne),
            "person": person[rows],
            "dev": np.full(ne, -1),
            "user": np.ones(ne, dtype=bool),
            "sess": np.full(ne, -1),
            "platform": np.full(ne, 2),
            "devtype": np.full(ne, -1),
            "label": np.full(ne, -1),
            "campaign": campaign[ci[rows]],
            "order": np.full(ne, -1),
            "style": np.full(ne, TS_UTC_Z),
        }
    )


def make_events(
    rng: np.random.Generator, ctx: RunContext, people: People, crm: Crm, purch: Purchases, orders: Orders, log: DirtLog
) -> tuple[pa.Table, pa.Table]:
    """Events table of a chunk (with dirt) and the identity rows of its anonymous ids.

    All row selection (time order, exact duplicates) happens on numeric arrays;
    text columns are built once, on the final row layout.
    """
    cal = ctx.cal
    web, skeys = _web_events(rng, ctx, people, crm, purch, orders)
    mail = _email_events(rng, ctx, people, crm, purch)
    n_real = len(web["t"]) + len(mail["t"])
    # unknown event types: extra tracker noise copied from web/app events
    k_unk = draw_count(rng, n_real, DIRT_RATES["events.unknown_event_type"])
    src = pick(rng, np.ones(len(web["t"]), dtype=bool), k_unk)
    log.add("events.unknown_event_type", len(src))
    extra = {k: v[src] for k, v in web.items()}
    extra["type"] = (E_UNKNOWN + rng.integers(0, len(UNKNOWN_EVENT_TYPES), len(src))).astype(np.int8)
    extra["order"] = np.full(len(src), -1, dtype=np.int32)
    extra["label"] = np.full(len(src), -1, dtype=np.int16)
    ev = {k: np.concatenate([web[k], mail[k], extra[k]]) for k in web}
    del web, mail, extra
    ne = len(ev["t"])
    ev["recv"] = np.minimum(ev["recv"], np.maximum(ev["t"], cal.end - 1))  # nothing arrives after the export
    taken = np.zeros(ne, dtype=bool)
    taken[n_real:] = True

    # dirt on existing rows (disjoint)
    prim = crm.primary[ev["person"]]
    signup = np.where(prim >= 0, crm.rec_signup[np.maximum(prim, 0)], 0)
    userish = ev["user"] & np.isin(ev["type"], [E_PV, E_PROD, E_CART]) & (signup >= cal.events_start + 2 * DAY)
    bsu = pick_rate(rng, userish, n_real, "events.before_signup", log, taken)
    room = np.minimum(20 * DAY, signup[bsu] - cal.events_start - 3600)
    ev["t"][bsu] = signup[bsu] - rng.integers(3600, np.maximum(room, 3601))
    ev["recv"][bsu] = ev["t"][bsu] + rng.integers(1, 11, len(bsu))
    late = pick_rate(rng, ev["t"] < cal.end - 31 * DAY, n_real, "events.late_arriving", log, taken)
    ev["recv"][late] = ev["t"][late] + rng.integers(3 * DAY + 3600, 30 * DAY, len(late))
    plain = np.isin(ev["type"], [E_START, E_PV, E_PROD])
    bad_ts = pick_rate(rng, plain, n_real, "events.invalid_timestamp", log, taken)
    no_key = pick_rate(rng, plain, n_real, "events.missing_key", log, taken)
    unm = pick_rate(rng, ev["label"] >= 0, n_real, "events.unmapped_category", log, taken)
    labels, _, _ = label_table()
    ev["label"][unm] = len(labels) + rng.integers(0, len(UNMAPPED_LABELS), len(unm))
    ekey = ctx.take_ids("event", ne)

    # final layout: time order, exact duplicates next to their original
    order = np.argsort(ev["t"], kind="stable")
    dup = with_duplicates(rng, ne, ~taken[order], "events.exact_duplicate_rows", log)
    rows = order[dup]
    inv = np.empty(ne, dtype=np.int64)
    inv[order] = np.arange(ne)

    def final_pos(r):  # dirty rows are never duplicated: their single final position
        return np.searchsorted(dup, inv[r])

    nf = len(rows)
    f = {k: v[rows] for k, v in ev.items()}
    blank_key = np.zeros(nf, dtype=bool)
    null_key = np.zeros(nf, dtype=bool)
    kp = final_pos(no_key)
    as_null = rng.random(len(kp)) < 0.5
    null_key[kp[as_null]] = True
    blank_key[kp[~as_null]] = True

    user_pool = crm.rec_id.take(_nullable(crm.primary))  # primary CRM id per person
    table = pa.table(
        {
            "event_id": fixed_ids(
                "E",
                scramble(ekey[rows], 10 ** ID_EVENT[1], ID_EVENT[2], ID_EVENT[3]),
                ID_EVENT[1],
                null=null_key,
                blank=blank_key,
            ),
            "event_type": pool_take(EVENT_TYPES, f["type"]),
            "event_at": format_ts(
                f["t"], f["style"], bad_rows=np.sort(final_pos(bad_ts)), bad_values=BAD_TIMESTAMPS, rng=rng
            ),
            "received_at": format_ts(f["recv"], TS_UTC_Z),
            "anonymous_id": people.dev_anon.take(_nullable(f["dev"])),
            "user_id": user_pool.take(_nullable(np.where(f["user"], f["person"], -1))),
            "session_id": fixed_ids(
                "S",
                scramble(skeys[np.maximum(f["sess"], 0)], 10 ** ID_SESSION[1], ID_SESSION[2], ID_SESSION[3]),
                ID_SESSION[1],
                null=f["sess"] < 0,
            ),
            "platform": pool_take(PLATFORMS, f["platform"]),
            "device": pa.array(list(DEVICES)).take(_nullable(f["devtype"])),
            "page_category": pa.array(labels + list(UNMAPPED_LABELS)).take(_nullable(f["label"])),
            "campaign_id": fixed_ids("C", np.maximum(f["campaign"], 0), 4, null=f["campaign"] < 0),
            "order_id": orders.web_order_id.take(_nullable(f["order"])),
        }
    )

    used_dev = np.unique(ev["dev"][ev["dev"] >= 0])
    ident = pa.table(
        {
            "source": pa.array(["anonymous_id"] * len(used_dev), type=pa.string()),
            "source_id": people.dev_anon.take(pa.array(used_dev)),
            "person_id": people.person_id[people.dev_person[used_dev]],
        }
    )
    return table, ident
