"""Injected data-quality problems: rates, reject-reason mapping, helpers.

``DIRT_RATES`` holds every injected dirt kind as ``"<raw file>.<kind>"`` ->
rate. The expected count of a kind is rate x the file's base row count (its
rows before extra dirt rows are added); the count is drawn per chunk as
Binomial(base rows, rate), so it varies a little around the rate. Every injected row is counted exactly and the totals
go to ``truth/dirt.json``. A row carries at most one problem, duplicated rows
are always otherwise clean, and problems that cascade (order lines of a
rejected order) are counted under their own key.

Kinds (``REJECT_REASON`` gives the staging reject code of rejected kinds):

crm_customers
  exact_duplicate_rows   whole row repeated (staging dedupes)
  duplicate_key          an older version of a record: same crm_id, earlier
                         updated_at, slightly different content -> duplicate_key
  invalid_timestamp      signup_at unparseable ('n/a', '31/31/2025', '' ...)
  missing_key            crm_id blank (null or '')
  missing_identifier     email, phone, first_name and last_name all blank
  placeholder_email      email is a placeholder shared by unrelated persons
                         (test@test.com, noemail@example.com ...); kept
orders
  exact_duplicate_rows, missing_key (order_id blank),
  invalid_timestamp      ordered_at unparseable
  unknown_customer       customer_ref is a CRM id / email that exists nowhere;
                         kept (extra orders, they have normal lines)
order_lines
  exact_duplicate_rows, missing_key (order_line_id blank),
  invalid_number         quantity 'two' / unit_price 'N/A', '12,50' / ... -> invalid_number
  amount_sign_mismatch   negative line_amount with positive quantity
  amount_outlier         unit_price 100-200 x the category's typical price, no discount
                         (natural prices stay below 12 x); amounts consistent; kept, flagged
  unmapped_category      product_category not in category_labels.csv; kept ('other')
  orphan_line            extra line whose order_id exists nowhere -> unknown_order
  (derived) unknown_order_cascade: lines of orders rejected for missing_key or
             invalid_timestamp -> unknown_order; unknown_order = orphan + cascade
events
  exact_duplicate_rows, missing_key (event_id blank),
  invalid_timestamp      event_at unparseable
  unknown_event_type     extra rows with event_type 'debug_ping', ... -> invalid_value
  late_arriving          received_at 3-30 days (> 72 h) after event_at; kept, flagged
  before_signup          a user_id event timed before that CRM record's signup_at; kept
  unmapped_category      page_category not in category_labels.csv; kept
third_party
  exact_duplicate_rows,
  missing_identifier     email blank
  invalid_number         a score like '0,45' or 'n/a'
  score_out_of_range     a score outside [0, 1] -> invalid_value
  unmatched_email        extra rows for emails that belong to nobody; kept
erasure_requests
  exact_duplicate_rows, missing_key (request_id blank),
  by_phone               identifier_type 'phone', the phone of the person's CRM record;
                         staged and applied like any request (not a reject)
  invalid_timestamp      requested_at unparseable

Besides these, ``dirt.json`` carries descriptive counts of natural mess that is
neither drawn at a rate above nor rejected:

  crm_customers.same_person_duplicate_records  second account of a person in the
                         same system (different crm_id)
  crm_customers.persons_in_both_systems        persons with a crm_a and a crm_b record
  crm_customers.name_typo  records whose first or last name has a typo
  crm_customers.missing_email / missing_phone  records with a blank email / phone
                         (missing_identifier rows not included)
  order_lines.unknown_order_cascade  lines of orders rejected for missing_key or
                         invalid_timestamp (-> unknown_order)
  people.shared_email_households / shared_email_persons  households of 2-4 persons
                         sharing one email, and the persons in them

``truth/meta.json`` -> ``reconciliation`` turns these counts into the expected
staging outcome per raw file (raw rows = staged + exact duplicates + rejected).
"""

from __future__ import annotations

from collections import Counter

import numpy as np

DIRT_RATES: dict[str, float] = {
    "crm_customers.exact_duplicate_rows": 0.010,
    "crm_customers.duplicate_key": 0.005,
    "crm_customers.invalid_timestamp": 0.003,
    "crm_customers.missing_key": 0.002,
    "crm_customers.missing_identifier": 0.002,
    "crm_customers.placeholder_email": 0.004,
    "orders.exact_duplicate_rows": 0.010,
    "orders.missing_key": 0.002,
    "orders.invalid_timestamp": 0.003,
    "orders.unknown_customer": 0.003,
    "order_lines.exact_duplicate_rows": 0.010,
    "order_lines.missing_key": 0.002,
    "order_lines.invalid_number": 0.003,
    "order_lines.amount_sign_mismatch": 0.002,
    "order_lines.amount_outlier": 0.0015,
    "order_lines.unmapped_category": 0.005,
    "order_lines.orphan_line": 0.002,
    "events.exact_duplicate_rows": 0.010,
    "events.missing_key": 0.002,
    "events.invalid_timestamp": 0.002,
    "events.unknown_event_type": 0.003,
    "events.late_arriving": 0.005,
    "events.before_signup": 0.002,
    "events.unmapped_category": 0.005,
    "third_party.exact_duplicate_rows": 0.010,
    "third_party.missing_identifier": 0.003,
    "third_party.invalid_number": 0.003,
    "third_party.score_out_of_range": 0.005,
    "third_party.unmatched_email": 0.020,
    "erasure_requests.exact_duplicate_rows": 0.010,
    "erasure_requests.missing_key": 0.010,
    "erasure_requests.by_phone": 0.010,
    "erasure_requests.invalid_timestamp": 0.010,
}

#: staging reject code of every kind that is rejected (others are kept)
REJECT_REASON: dict[str, str] = {
    "crm_customers.duplicate_key": "duplicate_key",
    "crm_customers.invalid_timestamp": "invalid_timestamp",
    "crm_customers.missing_key": "missing_key",
    "crm_customers.missing_identifier": "missing_identifier",
    "orders.missing_key": "missing_key",
    "orders.invalid_timestamp": "invalid_timestamp",
    "order_lines.missing_key": "missing_key",
    "order_lines.invalid_number": "invalid_number",
    "order_lines.amount_sign_mismatch": "amount_sign_mismatch",
    "order_lines.orphan_line": "unknown_order",
    "order_lines.unknown_order_cascade": "unknown_order",
    "events.missing_key": "missing_key",
    "events.invalid_timestamp": "invalid_timestamp",
    "events.unknown_event_type": "invalid_value",
    "third_party.missing_identifier": "missing_identifier",
    "third_party.invalid_number": "invalid_number",
    "third_party.score_out_of_range": "invalid_value",
    "erasure_requests.missing_key": "missing_key",
    "erasure_requests.invalid_timestamp": "invalid_timestamp",
}

#: unparseable timestamps (all fail duckdb ``try_cast(x AS timestamptz)``)
BAD_TIMESTAMPS = (
    "n/a",
    "31/31/2025",
    "",
    "2025-13-45T10:00:00Z",
    "0000-00-00 00:00:00",
    "yesterday",
    "2025-02-30 12:00:00",
    "N/A",
)
BAD_QUANTITIES = ("two", "zwei", "1 Stk", "x")
UNKNOWN_EVENT_TYPES = ("debug_ping", "heartbeat", "test_event", "app_crash")


class DirtLog:
    """Exact per-kind counters, summed over chunks."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()

    def add(self, key: str, n: int) -> None:
        self.counts[key] += int(n)

    def update(self, other: DirtLog) -> None:
        self.counts.update(other.counts)

    def as_dict(self) -> dict[str, int]:
        keys = set(self.counts) | set(DIRT_RATES)
        return {k: int(self.counts.get(k, 0)) for k in sorted(keys)}


def draw_count(rng: np.random.Generator, n_base: int, rate: float) -> int:
    """How many rows get a problem: Binomial(n_base, rate)."""
    return int(rng.binomial(n_base, rate)) if n_base > 0 else 0


def pick(rng: np.random.Generator, candidates: np.ndarray, k: int) -> np.ndarray:
    """k distinct row indices (sorted) among the rows where ``candidates`` is true."""
    pool = np.flatnonzero(candidates)
    k = min(k, len(pool))
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    return np.sort(rng.choice(pool, size=k, replace=False))


def pick_rate(
    rng, candidates: np.ndarray, n_base: int, key: str, log: DirtLog, taken: np.ndarray | None = None
) -> np.ndarray:
    """Pick rows for dirt kind ``key`` at its DIRT_RATES rate, log the count and
    mark the rows in ``taken`` (rows already taken are not eligible)."""
    cand = candidates if taken is None else candidates & ~taken
    rows = pick(rng, cand, draw_count(rng, n_base, DIRT_RATES[key]))
    log.add(key, len(rows))
    if taken is not None:
        taken[rows] = True
    return rows


def with_duplicates(rng, n: int, clean: np.ndarray, key: str, log: DirtLog) -> np.ndarray:
    """Row order for a table of n rows with exact duplicates of some clean rows
    placed right after their original. Returns the index array to take."""
    rows = pick(rng, clean, draw_count(rng, n, DIRT_RATES[key]))
    log.add(key, len(rows))
    return np.sort(np.concatenate([np.arange(n, dtype=np.int64), rows]), kind="stable")
