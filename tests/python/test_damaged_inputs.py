"""Damaged raw exports (microseg.damage) through dbt: a bad row is a row, not a build.

One small generated data set (300 persons) gets every row-level damage class
appended and is built once with `dbt build` (models and data tests, unit tests
excluded). The build must pass, and then for every class: the planted row is in
its rejected model with the documented reason code, or staged (with the
documented column emptied); raw = staged + duplicates + rejected + erased holds
for every source; no planted email or phone number is printed in dbt's log or
run_results.json. File-level damage (a missing column, a zero-byte file, a bad
CSV line) must stop the build with one clear line naming the file. A German
spreadsheet export (`;`, decimal commas) stops after staging on the reject
share, with the source, its share and top reasons in one line.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import duckdb
import pytest

from microseg.damage import (
    DAMAGES,
    FILE_DAMAGES,
    PII_EMAIL,
    PII_PHONE,
    marker,
    plant_file_damage,
    plant_german_export,
    plant_row_damage,
)
from conftest import duckdb_config
from conftest import run_dbt as shared_run_dbt
from microseg.generate import generate

PERSONS = 300

pytestmark = pytest.mark.dbt

REJECTED_MODEL = {
    "crm_customers": "stg_crm__customers_rejected",
    "orders": "stg_shop__orders_rejected",
    "order_lines": "stg_shop__order_lines_rejected",
    "events": "stg_tracking__events_rejected",
    "third_party": "stg_enrichment__third_party_rejected",
}
BASE_MODEL = {
    "crm_customers": "base_crm__customers",
    "orders": "base_shop__orders",
    "order_lines": "base_shop__order_lines",
    "events": "base_tracking__events",
    "third_party": "base_enrichment__third_party",
}


def run_dbt(workdir: Path, raw: Path, db: Path, *args: str, raw_format: str = "parquet") -> subprocess.CompletedProcess:
    """dbt on the raw folder ``raw`` into ``db`` (conftest.run_dbt: dbt sees them as data/raw and
    microseg.duckdb under ``workdir``), returning the finished process whatever its exit code."""
    assert db == workdir / "microseg.duckdb", "conftest.run_dbt builds workdir/microseg.duckdb"
    env = {"MICROSEG_RAW_FORMAT": raw_format} if raw_format != "parquet" else None
    return shared_run_dbt(workdir, *args, "--threads", "2", raw=raw, env=env)


@pytest.fixture(scope="module")
def clean_raw(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("damage_clean")
    generate(persons=PERSONS, seed=11, out=out / "data", progress=False)
    return out / "data" / "raw"


@pytest.fixture(scope="module")
def damaged_build(clean_raw, tmp_path_factory):
    """The row-damaged folder built with dbt: (workdir, db, finished process)."""
    workdir = tmp_path_factory.mktemp("damage_rows")
    raw = plant_row_damage(clean_raw, workdir / "raw")
    db = workdir / "microseg.duckdb"
    run = run_dbt(workdir, raw, db, "build", "--exclude", "resource_type:unit_test")
    return workdir, db, run


@pytest.fixture(scope="module")
def con(damaged_build):
    workdir, db, run = damaged_build
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    connection = duckdb.connect(str(db), read_only=True, config=duckdb_config(workdir))
    yield connection
    connection.close()


def test_damaged_rows_build_green(damaged_build):
    workdir, db, run = damaged_build
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    results = json.loads((workdir / "target" / "run_results.json").read_text())["results"]
    failed = [r["unique_id"] for r in results if r["status"] in ("error", "fail")]
    assert not failed
    # the build really ran the staging checks and the privacy scan
    ran = {r["unique_id"].split(".")[2] for r in results}
    assert {"base_crm__customers", "assert_no_pii_outside_staging", "data_quality_summary"} <= ran


@pytest.mark.parametrize("damage", DAMAGES, ids=[d.name for d in DAMAGES])
def test_planted_row_has_its_documented_outcome(con, damage):
    column, value = marker(damage)
    kind, detail = damage.outcome
    rejected = con.execute(
        f"select reject_reason from staging.{REJECTED_MODEL[damage.table]} where {column} = $v", {"v": value}
    ).fetchall()
    nulled = "[]::varchar[]" if damage.table == "third_party" else "pii_nulled_columns"
    base = con.execute(
        f"select reject_reason, {nulled} from staging.{BASE_MODEL[damage.table]} where raw_{column} = $v",
        {"v": value},
    ).fetchall()
    assert len(base) == 1, (damage.name, base)
    if kind == "rejected":
        assert rejected == [(detail,)], (damage.name, rejected)
    else:
        assert rejected == [] and base[0][0] is None, (damage.name, rejected, base)
        expected_nulled = [detail] if kind == "nulled" else []
        assert (base[0][1] or []) == expected_nulled, (damage.name, base)


def test_crm_record_with_only_id_and_signup_is_a_customer(con):
    """Staged, resolved to a customer of its own and in dim_customers, with no contact data."""
    damage = next(d for d in DAMAGES if d.name == "crm_id_and_signup_only")
    crm_id = marker(damage)[1]
    rows = con.execute(
        "select dim.customer_key, dim.email_hash, dim.phone_hash from marts.customer_identity_map as map "
        "inner join marts.dim_customers as dim on map.customer_key = dim.customer_key where map.source_id = $id",
        {"id": crm_id},
    ).fetchall()
    assert len(rows) == 1 and rows[0][0] and rows[0][1:] == (None, None), rows


def test_raw_rows_are_accounted_for_in_every_source(con):
    rows = con.execute(
        "select source_table, raw_rows, staged_rows + exact_duplicate_rows + rejected_rows + erased_rows, "
        "unaccounted_rows from marts.data_quality_summary"
    ).fetchall()
    assert len(rows) == 6
    for source_table, raw_rows, accounted, unaccounted in rows:
        assert raw_rows == accounted and unaccounted == 0, source_table


def test_reject_counts_cover_the_planted_rows(con):
    planted: dict[tuple[str, str], int] = {}
    for damage in DAMAGES:
        if damage.outcome[0] == "rejected":
            key = (damage.table, damage.outcome[1])
            planted[key] = planted.get(key, 0) + 1
    for (table, reason), n in planted.items():
        counted = con.execute(
            f"select rejected_{reason} from marts.data_quality_summary where source_table = $t", {"t": table}
        ).fetchone()[0]
        assert counted >= n, (table, reason, counted, n)


def test_no_planted_pii_outside_staging(con):
    """Every text column of every table outside the staging schema is free of
    the planted email and phone numbers (the dbt privacy test checks patterns;
    this checks the planted values themselves). Schema raw holds the run-start
    views over the raw files themselves: the input, stored nowhere."""
    planted = {p for d in DAMAGES for p in d.pii} | {PII_EMAIL, PII_PHONE}
    digits = {"".join(ch for ch in p if ch.isdigit()) for p in planted if "@" not in p}
    columns = con.execute(
        "select table_schema, table_name, column_name from information_schema.columns "
        "where table_schema not in ('raw', 'staging', 'reference') and data_type = 'VARCHAR'"
    ).fetchall()
    assert columns
    hits = []
    for schema, table, column in columns:
        for value in planted | digits:
            n = con.execute(
                f'select count(*) from "{schema}"."{table}" where contains(lower("{column}"), lower($v))', {"v": value}
            ).fetchone()[0]
            if n:
                hits.append((schema, table, column, value, n))
    assert not hits


def test_no_planted_pii_in_dbt_logs(damaged_build):
    workdir, db, run = damaged_build
    planted = {p for d in DAMAGES for p in d.pii} | {PII_EMAIL, PII_PHONE}
    texts = {
        "stdout": run.stdout,
        "dbt.log": (workdir / "logs" / "dbt.log").read_text(errors="replace"),
        "run_results.json": (workdir / "target" / "run_results.json").read_text(),
    }
    for name, text in texts.items():
        for value in planted:
            assert value not in text, (name, value)


@pytest.fixture(scope="module")
def file_damage_runs(clean_raw, tmp_path_factory) -> dict[str, tuple[str, str]]:
    """One dbt build of the raw readers per file-damage folder: folder name ->
    (dbt's stdout + stderr, dbt.log)."""
    runs = {}
    for name, raw in plant_file_damage(clean_raw, tmp_path_factory.mktemp("damage_files")).items():
        workdir = tmp_path_factory.mktemp(f"damage_{name}")
        raw_format = "csv" if any(raw.glob("*.csv")) else "parquet"
        run = run_dbt(workdir, raw, workdir / "microseg.duckdb", "build", "--select", "+base_crm__customers",
                      "+base_shop__orders", "--indirect-selection", "cautious", "--exclude", "resource_type:unit_test",
                      raw_format=raw_format)  # fmt: skip
        assert run.returncode != 0, name
        runs[name] = (run.stdout + run.stderr, (workdir / "logs" / "dbt.log").read_text(errors="replace"))
    return runs


@pytest.mark.parametrize("name", list(FILE_DAMAGES))
def test_file_damage_stops_with_one_clear_line(file_damage_runs, name):
    what, folder, file_name, column = FILE_DAMAGES[name]
    output, log = file_damage_runs[folder]
    assert "Traceback" not in output, what
    # the file itself (name and extension) and the column are named on one line
    lines = [line for line in output.splitlines() if f"{file_name}." in line and (not column or column in line)]
    assert lines, (what, output[-3000:])
    assert PII_EMAIL not in output and PII_EMAIL not in log, what


@pytest.fixture(scope="module")
def german_export_run(clean_raw, tmp_path_factory):
    """Staging of the whole folder written as a German spreadsheet export."""
    workdir = tmp_path_factory.mktemp("damage_german")
    raw = plant_german_export(clean_raw, workdir / "raw")
    return run_dbt(workdir, raw, workdir / "microseg.duckdb", "build", "--select", "+stg_shop__order_lines",
                   "+stg_shop__order_lines_rejected", "--indirect-selection", "cautious", "--exclude",
                   "resource_type:unit_test", raw_format="csv")  # fmt: skip


def test_german_export_stops_on_its_reject_share_in_one_line(german_export_run):
    """`;`-delimited with decimal commas: the file is read (DuckDB sniffs the
    delimiter), nearly every order line is rejected as invalid_number, and the
    build stops with one line naming the source, its share and top reasons."""
    run = german_export_run
    output = run.stdout + run.stderr
    assert run.returncode != 0 and "Traceback" not in output
    lines = [line for line in output.splitlines() if "source order_lines:" in line]
    assert len(lines) == 1, output[-3000:]
    found = re.search(r"(\d+\.\d)% of (\d+) raw rows rejected .*top reasons: invalid_number (\d+)", lines[0])
    assert found, lines[0]
    share, raw_rows, invalid = float(found[1]), int(found[2]), int(found[3])
    assert share > 90 and invalid > 0.9 * raw_rows, lines[0]
    assert "microseg__max_reject_share 0.5" in lines[0]
    # the other sources are below the share: only order_lines is named
    assert "source orders:" not in output and "source crm_customers:" not in output
