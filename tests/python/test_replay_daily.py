"""The daily run's test scope (macros/incremental/microseg_test_scope.sql, docs/incremental.md).

On a copy of the shared CI build, base_shop__orders is turned into the state of an incremental run: every
row moved to an earlier batch (``_processed_at`` a day back) but two, the last run's batch. Two orders get a
free-text PII flag (the warn test ``base_shop__orders_no_pii_in_free_text``): one in the batch, one older.
With ``microseg__test_scope: batch`` the test reads the batch and counts one; with the default ``all`` it
reads every row and counts both. A full build writes every row with one ``_processed_at``, so there the
batch is the whole table (the first assertion).
"""

from __future__ import annotations

import json
import shutil

import duckdb
import pytest
from conftest import run_dbt

from microseg.incremental import REUSED_FITS, ml_dependent_tables

TEST = "base_shop__orders_no_pii_in_free_text"


def _failures(workdir, raw, *args: str) -> int:
    run = run_dbt(workdir, "test", "--select", TEST, *args, raw=raw)
    assert run.returncode == 0, run.stdout[-3000:]  # a warn test: the run passes, the count is the point
    results = json.loads((workdir / "target" / "run_results.json").read_text())["results"]
    return next(r["failures"] for r in results if r["unique_id"].split(".")[2] == TEST)


@pytest.mark.dbt
def test_batch_scope_reads_the_last_runs_rows_and_all_reads_every_row(dbt_build, tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    shutil.copy(dbt_build.db, work / "microseg.duckdb")
    with duckdb.connect(str(work / "microseg.duckdb")) as con:
        # a full build is one batch: the whole table
        assert con.execute("select count(distinct _processed_at) from staging.base_shop__orders").fetchone()[0] == 1
        keys = [r[0] for r in con.execute(
            "select _unit from staging.base_shop__orders where erasure_request_id is null "
            "and len(pii_nulled_columns) = 0 order by _unit limit 4").fetchall()]  # fmt: skip
        con.execute("update staging.base_shop__orders set _processed_at = _processed_at - interval 1 day "
                    "where _unit not in (?, ?)", keys[:2])  # fmt: skip
        con.execute("update staging.base_shop__orders set pii_nulled_columns = ['channel'] where _unit in (?, ?)",
                    [keys[0], keys[2]])  # keys[0] in the batch, keys[2] older
        before = con.execute("select count(*) from staging.base_shop__orders where len(pii_nulled_columns) > 0"
                             ).fetchone()[0] - 2  # fmt: skip
    raw = dbt_build.workdir / "data" / "raw"
    assert _failures(work, raw, "--vars", "{microseg__test_scope: batch}") == 1
    shutil.rmtree(work / "target")
    assert _failures(work, raw) == before + 2


PII_SCAN = "assert_no_pii_outside_staging__marts"
ERASED_SCAN = "assert_no_erased_identifier_in_models__marts"


def _fct_events_in_batches(dbt_build, tmp_path, column: str):
    """A copy of the shared build whose fct_events looks like an incremental run's: every row a day back but two
    (the last batch). Returns (work dir, database, three event ids with ``column`` set: two in the batch, one
    older)."""
    work = tmp_path / "work"
    work.mkdir()
    db = work / "microseg.duckdb"
    shutil.copy(dbt_build.db, db)
    with duckdb.connect(str(db)) as con:
        ids = [r[0] for r in con.execute(
            f"select event_id from marts.fct_events where {column} is not null order by event_id limit 3").fetchall()]  # fmt: skip
        con.execute("update marts.fct_events set _processed_at = _processed_at - interval 1 day "
                    "where event_id not in (?, ?)", ids[:2])  # fmt: skip
    return work, db, ids


def _fct_events_findings(dbt_build, work, db, scan: str, *args: str) -> dict:
    """The privacy scan ``scan`` compiled (dbt ``args``) and run on ``db``: {(model, column): values} of fct_events."""
    shutil.rmtree(work / "target", ignore_errors=True)
    run = run_dbt(work, "compile", "--select", scan, *args, raw=dbt_build.workdir / "data" / "raw")
    assert run.returncode == 0, run.stdout[-3000:]
    sql = next((work / "target" / "compiled").rglob(f"{scan}.sql")).read_text()
    with duckdb.connect(str(db), read_only=True) as con:
        return {(m, c): n for m, c, _, n in con.execute(sql).fetchall() if m == "fct_events"}


@pytest.mark.dbt
def test_batch_scope_pii_scan_reads_an_incremental_models_last_batch(dbt_build, tmp_path):
    """The privacy PII scan in batch scope (macro microseg_batch_rows): fct_events turned into the state of an
    incremental run (every row a day back but two, the last batch), an email planted in the session id of one
    batch row and one older row. Batch scope finds the one in the batch, the default scope both."""
    work, db, ids = _fct_events_in_batches(dbt_build, tmp_path, "session_id")
    with duckdb.connect(str(db)) as con:
        con.execute("update marts.fct_events set session_id = 'someone@example.com' where event_id in (?, ?)",
                    [ids[0], ids[2]])  # ids[0] in the batch, ids[2] older
    batch = _fct_events_findings(dbt_build, work, db, PII_SCAN, "--vars", "{microseg__test_scope: batch}")
    assert batch == {("fct_events", "session_id"): 1}
    assert _fct_events_findings(dbt_build, work, db, PII_SCAN) == {("fct_events", "session_id"): 2}


@pytest.mark.dbt
def test_batch_scope_erased_scan_still_reads_every_row(dbt_build, tmp_path):
    """The erased-identifier scan reads every row whatever the scope: fct_events as in the test above (all rows a
    day back but two), then the anonymous id of an older row put on the suppression list. In batch scope the scan
    of the marts must still find it (a row scanned when written can hold an identifier erased since)."""
    work, db, ids = _fct_events_in_batches(dbt_build, tmp_path, "anonymous_id")
    with duckdb.connect(str(db)) as con:
        anonymous_id = con.execute("select anonymous_id from marts.fct_events where event_id = ?", [ids[2]]).fetchone()[0]
        con.execute("insert into staging.stg_privacy__erased_identifiers by name select 'PLANTED' as request_id, "
                    "'anonymous_id' as identifier_type, ? as identifier_value", [anonymous_id])  # fmt: skip
    found = _fct_events_findings(dbt_build, work, db, ERASED_SCAN, "--vars", "{microseg__test_scope: batch}")
    assert found.get(("fct_events", "anonymous_id"), 0) >= 1, found


def test_replay_daily_leaves_out_the_tables_of_reused_fits_only(tmp_path):
    # a manifest's child map: segment_model -> customer_segments -> segment_profiles; dim_customers apart
    nodes = {f"model.microseg.{n}": {"schema": s, "alias": n} for n, s in [
        ("segment_model", "ml"), ("customer_segments", "ml"), ("segment_profiles", "marts"),
        ("dim_customers", "marts"), ("customer_value_model", "ml"), ("propensity_model_registry", "ml")]}  # fmt: skip
    child_map = {"model.microseg.segment_model": ["model.microseg.customer_segments", "test.microseg.x"],
                 "model.microseg.customer_segments": ["model.microseg.segment_profiles"],
                 "model.microseg.dim_customers": ["model.microseg.segment_profiles"]}  # fmt: skip
    (tmp_path / "target").mkdir()
    (tmp_path / "target" / "manifest.json").write_text(json.dumps({"nodes": nodes, "child_map": child_map}))
    assert ml_dependent_tables(tmp_path) == {"ml.segment_model", "ml.customer_segments", "marts.segment_profiles",
                                             "ml.customer_value_model", "ml.propensity_model_registry"}
    assert len(REUSED_FITS) == 3
