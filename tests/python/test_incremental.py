"""Incremental chain == full refresh (docs/incremental.md).

1,500 persons as 3 drops of 7 days: drop 1 built from scratch, drops 2 and 3
built incrementally into the same DuckDB file (late events, new CRM versions
with flipped consent, new erasure requests), then one full refresh of all
three drops into a second file. The SQL layer is built, not the ML layer; the
last drop with its data tests (privacy, reconciliation). Every mart of the SQL
layer (fct_orders, dim_customers, mart_customer_rfm first) must be identical
row for row; the manifest must show that the last run read only the files of
drop 3 and rebuilt a small share of the units; an erasure request of a later
drop must have removed rows that an earlier run loaded.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from microseg.incremental import SQL_LAYER, run_chain

# several full builds each (minutes): `make test-slow`, not `make test`
pytestmark = [pytest.mark.dbt, pytest.mark.slow]


@pytest.fixture(scope="module")
def chain(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("incremental") / "data"
    # data tests on the incremental state only (the full build is what make dbt-test tests)
    return out, run_chain(out, persons=1500, drops=3, drop_days=7, seed=42, select_args=list(SQL_LAYER), tests="last")


def test_incremental_chain_equals_full_refresh(chain):
    _, result = chain
    for table, c in result["compare"].items():
        assert c["rows"][0] == c["rows"][1] > 0, table
        assert (c["only_in_a"], c["only_in_b"]) == (0, 0), table
        assert c["hash"][0] == c["hash"][1], table


def test_last_run_read_only_the_new_drop(chain):
    out, _ = chain
    con = duckdb.connect(str(out / "chain.duckdb"), read_only=True)
    last = con.execute("""
        select model_name, list(source_file order by source_file), max(units_rebuilt), bool_or(is_full_refresh)
        from staging.microseg_load_manifest
        where processed_at = (select max(processed_at) from staging.microseg_load_manifest)
        group by 1 order by 1
    """).fetchall()  # fmt: skip
    assert [r[0] for r in last] == ["base_shop__order_lines", "base_shop__orders", "base_tracking__events"]
    for model, files, units, full in last:
        assert files == [f"{files[0].split('/')[0]}/drop_0003.parquet"] and not full, model
        total = con.execute(f"select count(distinct _unit) from staging.{model}").fetchone()[0]
        assert 0 < units < 0.2 * total, (model, units, total)


def test_erasure_in_a_later_drop_removes_rows_loaded_earlier(chain):
    out, _ = chain
    con = duckdb.connect(str(out / "chain.duckdb"), read_only=True)
    # orders of drop 1 (built by the first run) erased by a request of drop 2 or 3
    late = con.execute("""
        with late_requests as (
            select trim(request_id) as request_id from raw.erasure_requests
            where _source_file <> 'erasure_requests/drop_0001.parquet'
        ),
        erased_orders as (
            select identifier_value as order_id, request_id from staging.stg_privacy__erased_identifiers
            where identifier_type = 'order_id' and request_id in (select request_id from late_requests)
        )
        select list(distinct erased_orders.order_id), list(distinct erased_orders.request_id)
        from raw.orders
        inner join erased_orders on trim(raw.orders.order_id) = erased_orders.order_id
        where raw.orders._source_file = 'orders/drop_0001.parquet'
    """).fetchone()  # fmt: skip
    orders, requests = late
    assert orders, "no order of drop 1 is erased by a later request: the scenario is not exercised"
    for table in ("staging.base_shop__orders", "staging.stg_shop__orders", "marts.fct_orders"):
        kept = con.execute(f"select count(*) from {table} where order_id in (select unnest(?))", [orders]).fetchone()[0]
        assert kept == 0, table
    tombstones = con.execute(
        "select count(*) from staging.base_shop__orders where erasure_request_id in (select unnest(?))", [requests]
    ).fetchone()[0]
    assert tombstones >= len(orders)
