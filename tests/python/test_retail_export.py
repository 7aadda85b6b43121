"""A second, independently shaped dataset builds green (examples/retail_export).

microseg.generate.retail_export writes a retailer's "online retail" export
(numeric invoice and customer ids, fractional quantities, C-invoices with
negative quantities, shop-local dates without zone, walk-in invoices without a
customer, 42 departments) and a CRM file with only an id and a signup date;
examples/retail_export/map_to_contract.py (under 100 lines) maps them into the
raw contract (orders, order_lines, crm_customers; no events, third party or
erasure). The preflight passes, and `dbt build` up to the segments and the
propensity scores, with their tests, is green; every raw row is staged, a
duplicate, rejected or erased, and the data is really used (cancellations are
returns, fractional quantities and GBP amounts survive, departments land on
canonical categories).
"""

from __future__ import annotations

import csv
import json
import runpy
from pathlib import Path

import duckdb
import pytest
import yaml

from conftest import SMALL_ML_VARS, duckdb_config, run_dbt
from microseg import preflight
from microseg.generate import retail_export

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "retail_export"
CUSTOMERS = 1500

#: what the ML stage and the quality marts need, with their tests (unit tests run in make dbt-test)
SELECT = ["+customer_segments", "+segment_profiles", "+propensity_scores", "+propensity_model_metrics",
          "+data_quality_summary", "+erasure_audit"]  # fmt: skip
#: a smaller k range and search than the defaults: the point is that it builds, not the best model (CI time);
#: the damaged build's string (its warn severity is moot here: the export has no erasure requests), so the
#: session parses the project once for both (conftest.run_dbt)
VARS = SMALL_ML_VARS


def test_mapping_script_is_short():
    assert len((EXAMPLE / "map_to_contract.py").read_text().splitlines()) < 100


def test_every_department_has_a_canonical_category():
    mapped = {row["department"]: row["category"] for row in csv.DictReader((EXAMPLE / "category_map.csv").open())}
    assert set(mapped) == set(retail_export.DEPARTMENTS)
    canonical = set(_project_categories())
    assert set(mapped.values()) <= canonical, set(mapped.values()) - canonical


def _project_categories() -> list[str]:
    """The canonical categories: var microseg__categories when set, else seed category_map's list plus 'other'."""
    listed = yaml.safe_load((ROOT / "dbt_project.yml").read_text())["vars"]["microseg__categories"]
    if listed:
        return listed
    seed = csv.DictReader((ROOT / "seeds" / "category_map.csv").open())
    return sorted({row["category"] for row in seed} | {"other"})


@pytest.fixture(scope="module")
def mapped(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("retail_export")
    retail_export.write(work / "export", customers=CUSTOMERS, seed=7)
    mapper = runpy.run_path(str(EXAMPLE / "map_to_contract.py"))
    mapper["map_export"](work / "export", work / "raw")
    return work


def test_preflight_passes_on_the_mapped_folder(mapped, capsys):
    assert preflight.main(["--raw", str(mapped / "raw"), "--format", "parquet"]) == 0, capsys.readouterr().out


@pytest.fixture(scope="module")
def built(mapped):
    """dbt build of SELECT on the mapped folder (seen as data/raw) into mapped/microseg.duckdb."""
    run = run_dbt(mapped, "build", "--select", *SELECT, "--indirect-selection", "cautious",
                  "--exclude", "resource_type:unit_test", "--vars", VARS, "--threads", "2",
                  raw=mapped / "raw", share_parse=True)  # fmt: skip
    return mapped, run


@pytest.mark.dbt
def test_retail_export_builds_green(built):
    work, run = built
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    results = json.loads((work / "target" / "run_results.json").read_text())["results"]
    bad = [(r["unique_id"], r["status"]) for r in results if r["status"] in ("error", "fail", "skipped")]
    assert not bad
    ran = {r["unique_id"].split(".")[-1] for r in results}
    assert {"customer_segments", "propensity_scores", "data_quality_summary"} <= ran


@pytest.fixture(scope="module")
def con(built):
    work, run = built
    assert run.returncode == 0, run.stdout[-6000:]
    connection = duckdb.connect(str(work / "microseg.duckdb"), read_only=True, config=duckdb_config(work))
    yield connection
    connection.close()


@pytest.mark.dbt
def test_every_raw_row_is_accounted_for(con, mapped):
    rows = con.execute(
        "select source_table, raw_rows, staged_rows, exact_duplicate_rows, rejected_rows, erased_rows "
        "from marts.data_quality_summary"
    ).fetchall()
    by_table = {r[0]: r[1:] for r in rows}
    for table, (raw, staged, duplicates, rejected, erased) in by_table.items():
        assert raw == staged + duplicates + rejected + erased, table
    transactions = sum(1 for _ in open(mapped / "export" / "transactions.csv")) - 1
    assert by_table["order_lines"][0] == transactions
    assert by_table["crm_customers"][0] == CUSTOMERS
    assert by_table["events"][0] == by_table["third_party"][0] == by_table["erasure_requests"][0] == 0
    # a clean export: nothing is rejected
    assert sum(r[3] for r in by_table.values()) == 0, by_table


@pytest.mark.dbt
def test_the_retailer_shape_survives_into_the_marts(con):
    returns, fractional, categories = con.execute(
        "select count(*) filter (where is_return), count(*) filter (where quantity <> round(quantity)), "
        "count(distinct category) from intermediate.int_behaviour__order_lines"
    ).fetchone()
    assert returns > 0 and fractional > 0 and categories >= 9
    walk_ins = con.execute("select orphan_rows from marts.data_quality_summary where source_table = 'orders'")
    assert walk_ins.fetchone()[0] > 0
    segmented, segments = con.execute(
        "select count(*), count(distinct segment_id) from ml.customer_segments"
    ).fetchone()
    assert segmented > 1000 and segments >= 4
    scored = con.execute("select count(*), min(propensity), max(propensity) from marts.propensity_scores").fetchone()
    assert scored[0] > 500 and 0 <= scored[1] < scored[2] <= 1
