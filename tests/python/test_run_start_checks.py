"""on-run-start (macros/config): bad vars and bad raw folders stop dbt with one line before any model runs;
optional sources may be absent, a source may be a folder of files, extra raw columns are ignored."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import RAW_DIR, run_dbt
from microseg.generate import generate

pytestmark = pytest.mark.dbt
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("run_start") / "data"
    generate(persons=200, seed=3, out=out, progress=False)
    return out / "raw"


def dbt(tmp: Path, raw: Path, *args: str) -> subprocess.CompletedProcess:
    """dbt from ``tmp`` on ``raw`` (seen by dbt as data/raw: conftest.run_dbt)."""
    return run_dbt(tmp, *args, "--threads", "2", raw=raw)


def models_run(tmp: Path) -> list[str]:
    """Models dbt executed, from run_results.json (none when a run-start hook failed)."""
    path = tmp / "target" / "run_results.json"
    results = json.loads(path.read_text())["results"] if path.exists() else []
    return [r["unique_id"] for r in results if r["unique_id"].startswith("model.")]


BAD_VARS = {  # each bad var and the one line that names it
    "microseg__raw_format": ("xlsx", 'var microseg__raw_format = "xlsx": must be one of parquet, csv'),
    "microseg__segment_k_min": (9, "var microseg__segment_k_min = 9: must be <= microseg__segment_k_max (5)"),
    "microseg__segment_k_max": (5, None),
    "microseg__business_timezone": (
        "Mars/Olympus", 'var microseg__business_timezone = "Mars/Olympus": must be a time zone DuckDB knows'),
    "microseg__value_horizon_months": (0, "var microseg__value_horizon_months = 0: must be an integer >= 1 and <= 120"),
    "microseg__segment_model_mode": (
        "sometimes", 'var microseg__segment_model_mode = "sometimes": must be one of retrain, reuse_latest, auto'),
    "microseg__value_model_mode": ("reuse_latest", 'var microseg__value_model_mode = "reuse_latest": needs a stored '
                                                   "fit, but ml.customer_value_model holds none: build once with "
                                                   "retrain or auto"),
}


def test_bad_vars_stop_the_run_before_any_model_one_line_each(generated, tmp_path):
    """Every bad var is reported at once (one dbt invocation: a full parse is the cost of each)."""
    bad_vars = {name: value for name, (value, _) in BAD_VARS.items()}
    run = dbt(tmp_path, generated, "run", "--select", "base_privacy__erasure_requests", "--vars", json.dumps(bad_vars))
    assert run.returncode != 0
    for line in [line for _, line in BAD_VARS.values() if line]:
        assert [x.strip() for x in run.stdout.splitlines() if line in x], (line, run.stdout[-3000:])
    assert models_run(tmp_path) == [] and "base_privacy__erasure_requests" not in run.stdout


def test_missing_required_source_stops_the_run(generated, tmp_path):
    raw = tmp_path / "raw"
    shutil.copytree(generated, raw)
    (raw / "crm_customers.parquet").unlink()
    run = dbt(tmp_path, raw, "run", "--select", "base_privacy__erasure_requests")
    assert run.returncode != 0
    rel = RAW_DIR.as_posix()
    line = f"required raw source crm_customers not found at {rel}/crm_customers.parquet or {rel}/crm_customers/*.parquet"
    assert line in run.stdout, run.stdout[-3000:]
    assert models_run(tmp_path) == []


def test_missing_column_names_file_and_column(generated, tmp_path):
    raw = tmp_path / "raw"
    shutil.copytree(generated, raw)
    path = raw / "erasure_requests.parquet"
    pq.write_table(pq.read_table(path).drop_columns(["identifier_type"]), path)
    run = dbt(tmp_path, raw, "run", "--select", "base_privacy__erasure_requests")
    assert run.returncode != 0
    assert f"raw file {RAW_DIR / path.name} has no column identifier_type (found: request_id, identifier_value, requested_at)" in run.stdout
    assert models_run(tmp_path) == []


def test_optional_sources_absent_folder_source_and_extra_columns(generated, tmp_path, monkeypatch):
    """events and third_party absent: built empty with one log line each; orders delivered as a folder of two
    files with extra per-row columns: every raw order is staged, counted as a duplicate or rejected (the row
    reconciliation test passes) and no column but the contract's reaches staging. Then one of the two files
    is rewritten: the next incremental run stops at run start, naming it."""
    raw = tmp_path / "raw"
    shutil.copytree(generated, raw)
    for name in ("events", "third_party"):
        (raw / f"{name}.parquet").unlink()
    orders = pq.read_table(raw / "orders.parquet")
    (raw / "orders.parquet").unlink()
    (raw / "orders").mkdir()
    half = orders.num_rows // 2
    for i, part in enumerate((orders.slice(0, half), orders.slice(half))):
        part = part.append_column("row_number", pa.array([str(n) for n in range(part.num_rows)]))
        pq.write_table(part.append_column("load_id", pa.array([f"load{i}"] * part.num_rows)), raw / "orders" / f"{i}.parquet")
    run = dbt(tmp_path, raw, "build", "--select", "+stg_shop__orders", "+stg_shop__orders_rejected", "+stg_tracking__events",
              "+stg_enrichment__third_party", "--exclude", "resource_type:unit_test",
              "--indirect-selection", "cautious")  # fmt: skip
    assert run.returncode == 0, run.stdout[-4000:]
    for name in ("events", "third_party"):
        rel = (RAW_DIR / name).as_posix()
        assert f"source {name} not found at {rel}.parquet or {rel}/*.parquet: built empty" in run.stdout
    results = json.loads((tmp_path / "target" / "run_results.json").read_text())["results"]
    reconciled = [r["status"] for r in results if r["unique_id"].startswith("test.microseg.row_reconciliation_stg_shop__orders_")]
    assert reconciled == ["pass"]
    monkeypatch.chdir(tmp_path)  # the raw views read data/raw and name files relative to it, as in the dbt run
    con = duckdb.connect("microseg.duckdb", read_only=True)
    count = lambda rel: con.execute(f"select count(*) from {rel}").fetchall()[0][0]  # noqa: E731
    assert count("staging.stg_tracking__events") == 0 and count("staging.stg_enrichment__third_party") == 0
    assert count("raw.orders") == orders.num_rows and count("staging.stg_shop__orders") > 0.9 * orders.num_rows
    # the contract columns, then the load metadata the incremental models read (docs/incremental.md)
    assert [c[0] for c in con.execute("describe raw.orders").fetchall()] == [*orders.column_names, "_source_file", "_loaded_at"]
    assert con.execute("select distinct _source_file from raw.orders order by 1").fetchall() == [
        ("orders/0.parquet",), ("orders/1.parquet",)]  # fmt: skip
    con.close()

    # an incremental model has loaded orders/1.parquet: rewritten since, the next incremental run stops with one
    # line naming the file and the model (its old rows would stay: docs/incremental.md), before any model runs
    rewritten = raw / "orders" / "1.parquet"
    pq.write_table(pq.read_table(rewritten), rewritten)
    os.utime(rewritten, (rewritten.stat().st_atime, rewritten.stat().st_mtime + 60))
    (tmp_path / "target" / "run_results.json").unlink()
    run = dbt(tmp_path, raw, "run", "--select", "base_shop__orders")
    assert run.returncode != 0
    line = [x.strip() for x in run.stdout.splitlines() if "raw file orders/1.parquet was rewritten" in x]
    assert line and line[0].endswith("since base_shop__orders loaded it: an incremental build would keep the rows "
                                     "of the old file; run dbt build --full-refresh (docs/incremental.md)"), run.stdout[-3000:]
    assert models_run(tmp_path) == []


def test_incremental_run_over_a_text_unit_stops_with_one_line(generated, tmp_path):
    """A base table built before the incremental unit became a number (_unit text): the next incremental run of
    that model stops with one line asking for a full refresh (delete+insert would compare text with numbers),
    and the full refresh rewrites the column."""
    raw = tmp_path / "raw"
    shutil.copytree(generated, raw)
    built = dbt(tmp_path, raw, "build", "--select", "+base_shop__orders", "--exclude", "resource_type:test",
                "resource_type:unit_test")
    assert built.returncode == 0, built.stdout[-3000:]
    db = tmp_path / "microseg.duckdb"
    unit_type = "select data_type from information_schema.columns where table_name = 'base_shop__orders' and column_name = '_unit'"
    with duckdb.connect(str(db)) as con:
        assert con.execute(unit_type).fetchall() == [("UHUGEINT",)]
        con.execute("alter table staging.base_shop__orders alter _unit type varchar")
    run = dbt(tmp_path, raw, "run", "--select", "base_shop__orders")
    assert run.returncode != 0
    line = [x.strip() for x in run.stdout.splitlines() if "has a _unit column of type VARCHAR" in x]
    assert line and line[0].endswith("run dbt build --full-refresh once (docs/incremental.md)"), run.stdout[-3000:]
    assert dbt(tmp_path, raw, "run", "--select", "base_shop__orders", "--full-refresh").returncode == 0
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute(unit_type).fetchall() == [("UHUGEINT",)]
