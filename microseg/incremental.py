"""Incremental chain vs full refresh (docs/incremental.md).

``python -m microseg.incremental --persons 1500 --drops 3 --out data/incr`` generates
the population as drops, builds drops 1..k into one DuckDB file with one
``dbt build`` per drop (incremental from the second on), builds a full refresh
of all drops into a second file and compares the marts row for row. Prints
the build time per drop, the manifest of the last run and, per mart, rows and
a content hash of both builds; exits 1 when a mart differs.

``python -m microseg.incremental replay`` (``make replay``) does the same for
the whole project, as a daily schedule would: every drop is a full run
(``dbt run``, ``dbt snapshot``, ``dbt test``: ML layer, history and drift
included) on the drops landed so far, then a full refresh of the same data into another file; every table of
the marts, ml and activation schemas is compared row for row (:data:`REPLAY_EXCEPTIONS`), and the
per-drop build times, the failing data tests per drop, the migration matrix of
the last step and every re-segmentation alert are printed; exit 1 when a mart
differs. ``--shift channel_to_app`` plants a shift in the last drop
(:func:`microseg.generate.drops.plant_shift`).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb

from .generate import generate
from .generate.drops import SHIFTS, plant_shift, split_into_drops, stage_drops

ROOT = Path(__file__).resolve().parents[1]
#: the incremental models (docs/incremental.md)
BASE_MODELS = ("base_tracking__events", "base_shop__orders", "base_shop__order_lines")
#: marts compared by default: every mart of the SQL layer, the customer, order and RFM facts first
DEFAULT_MARTS = ("marts.fct_orders", "marts.dim_customers", "marts.mart_customer_rfm", "marts.fct_order_lines",
                 "marts.fct_events", "marts.mart_customer_engagement", "marts.customer_identity_map",
                 "marts.data_quality_summary", "marts.erasure_audit")  # fmt: skip
#: the SQL layer: the core marts and everything upstream (the identity components Python model
#: included), with their tests; not the ML layer (segments, propensity) and not the unit tests
SQL_LAYER = ("--select", "+dim_customers", "+customer_identity_map", "+fct_orders", "+fct_order_lines", "+fct_events",
             "+mart_customer_rfm", "+mart_customer_engagement", "+data_quality_summary", "+erasure_audit",
             "--exclude", "resource_type:unit_test", "--indirect-selection", "cautious")  # fmt: skip


def mart_fingerprint(con: duckdb.DuckDBPyConnection, table: str) -> tuple[int, int]:
    """(rows, order-independent content hash) of a table: the sum of the row hashes."""
    rows, digest = con.execute(f"select count(*), coalesce(sum(hash(t)::hugeint), 0) from {table} as t").fetchone()
    return int(rows), int(digest)


def _without_run_columns(con: duckdb.DuckDBPyConnection, table: str) -> str:
    """SQL of ``table`` (``db.schema.name``) without the columns of :data:`RUN_COLUMNS` (:func:`_columns`)."""
    db, relation = table.split(".", 1)
    columns = ", ".join(f'"{c}"' for c, _ in _columns(con, db, relation))
    return f"(select {columns} from {table})"


def compare_marts(db_a: Path | str, db_b: Path | str, tables=DEFAULT_MARTS) -> dict[str, dict]:
    """Per table: rows and hash in both databases and rows of each missing in the other (except all), without
    the columns that say which run wrote a row (:data:`RUN_COLUMNS`: fct_events' _processed_at)."""
    con = duckdb.connect()
    con.execute(f"attach '{db_a}' as a (read_only)")
    con.execute(f"attach '{db_b}' as b (read_only)")
    out = {}
    for table in tables:
        a, b = _without_run_columns(con, f"a.{table}"), _without_run_columns(con, f"b.{table}")
        rows_a, hash_a = mart_fingerprint(con, a)
        rows_b, hash_b = mart_fingerprint(con, b)
        only_a = con.execute(f"select count(*) from (from {a} except all from {b})").fetchone()[0]
        only_b = con.execute(f"select count(*) from (from {b} except all from {a})").fetchone()[0]
        out[table] = {"rows": (rows_a, rows_b), "hash": (hash_a, hash_b), "only_in_a": only_a, "only_in_b": only_b}
    con.close()
    return out


def dbt_build(raw: Path, db: Path, workdir: Path, *args: str, threads: int = 2, command: str = "build") -> float:
    """One ``dbt build`` (or run) of the raw folder into db; returns its wall time. Raises with dbt's output on failure."""
    env = {
        **os.environ,
        "MICROSEG_RAW_PATH": str(raw),
        "MICROSEG_DUCKDB_PATH": str(db),
        "DBT_PROFILES_DIR": str(ROOT),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    dbt = Path(sys.executable).with_name("dbt")
    cmd = [str(dbt), command, *args, "--threads", str(threads), "--project-dir", str(ROOT),
           "--target-path", str(workdir / "target"), "--log-path", str(workdir / "logs")]  # fmt: skip
    started = time.perf_counter()
    run = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    _keep_run_results(workdir / "target", command)
    if run.returncode != 0:
        raise RuntimeError(f"dbt build failed ({raw} -> {db}):\n{run.stdout[-4000:]}{run.stderr[-2000:]}")
    return time.perf_counter() - started


def _keep_run_results(target: Path, command: str) -> None:
    """Copy the invocation's target/run_results.json to <target>/../run_results/NN_<command>.json: the
    per-node times of every invocation of a replay (``python -m microseg.incremental_breakdown``)."""
    src = target / "run_results.json"
    if not src.is_file():
        return
    keep = target.parent / "run_results"
    keep.mkdir(exist_ok=True)
    shutil.copy(src, keep / f"{len(list(keep.glob('*.json'))) + 1:02d}_{command}.json")


def generate_drops(out: Path, persons: int, drops: int, drop_days: int, seed: int) -> Path:
    """A fresh ``out``: ``persons`` generated into out/raw and split into ``drops`` drops of ``drop_days``
    days ending on the data's last day (out/drops)."""
    out = Path(out)
    if out.exists():
        shutil.rmtree(out)
    meta = generate(persons=persons, seed=seed, out=out, progress=False)
    split_into_drops(out, "parquet", drops, drop_days, dt.date.fromisoformat(meta["data_end_date"]), seed)
    return out


def run_chain(out: Path, persons: int, drops: int, drop_days: int, seed: int, select_args: list[str],
              threads: int = 2, tests: str = "ends") -> dict:  # fmt: skip
    """Generate drops, build them one by one and as a full refresh; returns timings and the comparison.

    ``tests`` says which builds are ``dbt build`` (models and their data tests: privacy, reconciliation),
    the others being ``dbt run`` (after ``dbt seed`` on a new database): "last" the last drop only,
    "ends" the last drop and the full refresh (comparable times), "all" every build.
    """
    if tests not in ("last", "ends", "all"):
        raise ValueError(f"tests must be last, ends or all, not {tests!r}")
    out = generate_drops(out, persons, drops, drop_days, seed)
    chain_raw, chain_db, full_db = out / "raw_chain", out / "chain.duckdb", out / "full.duckdb"

    def build(raw: Path, db: Path, work: Path, tested: bool, *extra: str) -> float:
        if tested:
            return dbt_build(raw, db, work, *select_args, *extra, threads=threads)
        seconds = 0.0 if db.exists() else dbt_build(raw, db, work, threads=threads, command="seed")
        return seconds + dbt_build(raw, db, work, *select_args, *extra, threads=threads, command="run")

    timings = []
    for k in range(1, drops + 1):
        stage_drops(out / "drops", chain_raw, k)
        timings.append(build(chain_raw, chain_db, out / "work_chain", tests == "all" or k == drops))
    full = build(out / "raw", full_db, out / "work_full", tests != "last", "--full-refresh")
    model_times = {
        name: (_model_seconds(out / "work_chain", name), _model_seconds(out / "work_full", name)) for name in BASE_MODELS
    }
    con = duckdb.connect(str(chain_db), read_only=True)
    manifest = con.execute(
        "select model_name, count(*) as files, sum(rows_read) as rows_read, max(units_rebuilt) as units_rebuilt "
        "from staging.microseg_load_manifest where processed_at = (select max(processed_at) "
        "from staging.microseg_load_manifest) group by 1 order by 1"
    ).fetchall()
    con.close()
    return {"timings": timings, "full": full, "manifest": manifest, "model_times": model_times,
            "compare": compare_marts(chain_db, full_db)}  # fmt: skip


#: the CI replay's models (tests/python/test_replay_ci.py): the incremental base models, the facts they feed and the
#: customer dimension
QUICK_MODELS = ("--select", "+fct_orders", "+fct_order_lines", "+fct_events", "+dim_customers", "+int_behaviour__sessions",
                "+int_behaviour__email_campaigns")  # fmt: skip
#: the environment of the parse pytest saves (tests/python/conftest.py): a parse with these strings is reused
PARSE_ENV = {"MICROSEG_RAW_PATH": "data/raw", "MICROSEG_DUCKDB_PATH": "microseg.duckdb",
             "MICROSEG_EXPORT_PATH": "exports"}  # fmt: skip


def fresh_runner(manifest):
    """A dbtRunner on a copy of a parsed ``manifest``: an invocation compiles into the manifest it is given
    (an ephemeral model is marked as injected into its readers), so a second invocation on the same object
    ran readers without the ephemeral CTE ("__dbt__cte__... does not exist"). Copying costs far less than
    parsing again."""
    from dbt.cli.main import dbtRunner

    if hasattr(manifest, "deepcopy"):  # dbt's own copy (a plain deepcopy breaks its lookups)
        manifest = manifest.deepcopy()
        manifest.build_parent_and_child_maps()
        manifest.build_group_map()
    return dbtRunner(manifest=manifest)


def run_chain_in_process(out: Path, drops: int, select_args=QUICK_MODELS, saved_parse: Path | None = None,
                         threads: int = 1) -> dict:  # fmt: skip
    """The incremental chain of ``out/drops`` and its full refresh, every dbt invocation in this process.

    Drops 1..k are staged into out/raw_chain and built with one ``dbt run`` each (the first a ``dbt build``
    without tests, for the seeds) into out/chain/microseg.duckdb; then out/raw is built with
    ``--full-refresh`` into out/full/microseg.duckdb (the manifest names the database after the parse's
    file, so both files carry that name). dbt is parsed once (from ``saved_parse``, a partial_parse.msgpack
    made with :data:`PARSE_ENV`, when given) and every invocation reuses the manifest, which saves the
    start-up and parse of a process per invocation. Returns the seconds of every invocation. The DuckDB
    files stay open until the process ends: compare them from another one."""
    from dbt.cli.main import dbtRunner

    out = Path(out).resolve()
    work = out / "work_quick"
    (work / "target").mkdir(parents=True, exist_ok=True)
    if saved_parse is not None and Path(saved_parse).is_file():
        shutil.copy(saved_parse, work / "target" / "partial_parse.msgpack")
    common = ["--project-dir", str(ROOT), "--target-path", str(work / "target"), "--log-path", str(work / "logs"),
              "--quiet"]  # fmt: skip
    os.environ.update({**PARSE_ENV, "DBT_PROFILES_DIR": str(ROOT), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"})
    parsed = dbtRunner().invoke(["parse", *common])
    if not parsed.success:
        raise RuntimeError(f"dbt parse failed: {parsed.exception}")
    no_tests = ("--exclude", "resource_type:test", "resource_type:unit_test")

    def invoke(raw: Path, db: Path, *args: str) -> float:
        # absolute paths per database: dbt-duckdb keeps one open environment per set of credentials
        os.environ.update({"MICROSEG_RAW_PATH": str(raw), "MICROSEG_DUCKDB_PATH": str(db)})
        started = time.perf_counter()
        res = fresh_runner(parsed.result).invoke([*args, *select_args, "--threads", str(threads), *common])
        if not res.success:
            failed = [f"{r.node.unique_id}: {r.message}" for r in getattr(res.result, "results", [])
                      if str(r.status) not in ("success", "pass")]  # fmt: skip
            raise RuntimeError(f"dbt {args[0]} failed ({raw} -> {db}): {res.exception or failed}")
        return time.perf_counter() - started

    chain_raw, seconds = out / "raw_chain", []
    (out / "chain").mkdir(exist_ok=True)
    (out / "full").mkdir(exist_ok=True)
    for k in range(1, drops + 1):
        stage_drops(out / "drops", chain_raw, k)
        seconds.append(invoke(chain_raw, out / "chain" / PARSE_ENV["MICROSEG_DUCKDB_PATH"],
                              *(("build", *no_tests) if k == 1 else ("run",))))  # fmt: skip
    full = invoke(out / "raw", out / "full" / PARSE_ENV["MICROSEG_DUCKDB_PATH"], "build", *no_tests, "--full-refresh")
    return {"chain": seconds, "full": full}


#: columns that say when or in which run a row was computed, not what: left out of the replay comparison.
#: segment_id too: a chain matches each fit's segments to the previous run's ids (ids persist across
#: runs), a fresh full refresh numbers them afresh; names, sizes and members must still be equal;
#: _processed_at: the run that wrote an incremental fact's row (fct_events)
RUN_COLUMNS = ("fit_id", "fitted_at", "run_number", "segment_id", "trained_at", "_processed_at")
#: run-dependent parts of values, normalised before the comparison (column -> SQL of the normalised value)
RUN_VALUES = {"model_id": r"regexp_replace(model_id, '^prop-[0-9T]+-', 'prop-')"}  # trained_at in the id
#: relative tolerance of a floating-point value in the comparison: a sum over the same rows in another
#: order (the chain stores them in another order than a full refresh) differs in its last bits, and a
#: variance from sums of squares (the experiment readout) amplifies that to about 1e-12 of the value
FLOAT_TOLERANCE = 1e-9
#: tables compared differently in the replay (table -> filter on the rows compared, or None: not compared)
REPLAY_EXCEPTIONS = {
    # one run per drop in the chain, one run in the full refresh: compare the latest run's sizes
    "marts.segment_run_sizes": "fitted_at = (select max(fitted_at) from {table})",
    # the step from the previous run to the latest (moves; drift alerts against the previous run):
    # a full refresh of a fresh file has no previous run
    **dict.fromkeys(["marts.segment_migration", "ml.resegmentation_alerts"]),
    # histories of runs (a row or a set of rows per run): the chain has one per drop, a full refresh one;
    # the current state they lead to (segments, profiles, predictions, evaluations) is compared
    **dict.fromkeys(["ml.propensity_model_registry", "ml.propensity_retraining_decisions", "ml.segment_model",
                     "ml.customer_value_model",
                     "ml.segment_centroid_history", "ml.segment_drift", "ml.segment_feature_distributions",
                     "ml.segment_membership_history", "activation.export_changes"]),  # fmt: skip
    # the build's own export folder (a path per DuckDB file)
    **dict.fromkeys(["activation.export_folder", "activation.export_settings"]),
    # what the propensity registry decides with: in modes auto and reuse_latest the run's fit with segment_drift's
    # rows (a history of runs, as above), empty in retrain
    **dict.fromkeys(["ml.propensity_retraining_inputs"]),
}
#: schemas the replay compares
REPLAY_SCHEMAS = ("marts", "ml", "activation")


def _columns(con: duckdb.DuckDBPyConnection, db: str, table: str) -> list[tuple[str, bool]]:
    """(column, is floating point) of ``db.table``, without its run columns."""
    schema, name = table.split(".")
    return [(c, t in ("DOUBLE", "FLOAT", "REAL")) for c, t in con.execute(
        "select column_name, data_type from information_schema.columns where table_catalog = ? "
        "and table_schema = ? and table_name = ? order by ordinal_position", [db, schema, name]).fetchall()
        if c not in RUN_COLUMNS]  # fmt: skip


def _comparable(con: duckdb.DuckDBPyConnection, db: str, table: str) -> str:
    """SQL of ``db.table`` without its run columns, run values normalised, exception filter applied."""
    select = ", ".join(f'{RUN_VALUES[c]} as "{c}"' if c in RUN_VALUES else f'"{c}"'
                       for c, _ in _columns(con, db, table))  # fmt: skip
    where = REPLAY_EXCEPTIONS.get(table)
    return f"(select {select} from {db}.{table}" + (f" where {where.format(table=f'{db}.{table}')})" if where else ")")


def _rows_apart_beyond_tolerance(con: duckdb.DuckDBPyConnection, a: str, b: str, columns) -> int:
    """Rows of ``a`` and ``b`` (both sorted by every column, paired by position) that differ: in a column
    that is not floating point, or by more than :data:`FLOAT_TOLERANCE` relative in one that is."""
    exact, floats = [c for c, f in columns if not f], [c for c, f in columns if f]
    order = ", ".join(f'"{c}" nulls first' for c in exact + floats)
    differ = [f'x."{c}" is distinct from y."{c}"' for c in exact] + [
        f'(x."{c}" is distinct from y."{c}" and not coalesce(abs(x."{c}" - y."{c}") <= {FLOAT_TOLERANCE} '
        f'* greatest(abs(x."{c}"), abs(y."{c}")), false))' for c in floats]  # fmt: skip
    return con.execute(f"""
        with x as (select *, row_number() over (order by {order}) as _rn from {a}),
        y as (select *, row_number() over (order by {order}) as _rn from {b})
        select count(*) from x full join y on x._rn = y._rn
        where x._rn is null or y._rn is null or {' or '.join(differ)}
    """).fetchone()[0]  # fmt: skip


def compare_all_marts(db_a: Path | str, db_b: Path | str, schema: str = "marts", like: str = "%") -> dict[str, dict]:
    """Every table of ``schema`` in ``db_b`` whose name is ``like`` the pattern, compared row for row with
    ``db_a`` (rows, rows only in either), without run columns (:data:`RUN_COLUMNS`, :data:`RUN_VALUES`),
    floating-point values within :data:`FLOAT_TOLERANCE`; the tables of :data:`REPLAY_EXCEPTIONS` mapped to None are reported as skipped."""
    con = duckdb.connect()
    con.execute("set enable_progress_bar = false")
    con.execute(f"attach '{db_a}' as a (read_only)")
    con.execute(f"attach '{db_b}' as b (read_only)")
    tables = [f"{schema}.{r[0]}" for r in con.execute(
        "select table_name from information_schema.tables where table_catalog = 'b' and table_schema = ? "
        "and table_name like ? order by 1", [schema, like]).fetchall()]  # fmt: skip
    out = {}
    for table in tables:
        if table in REPLAY_EXCEPTIONS and REPLAY_EXCEPTIONS[table] is None:
            out[table] = {"skipped": True}
            continue
        a, b = _comparable(con, "a", table), _comparable(con, "b", table)
        rows = [con.execute(f"select count(*) from {x}").fetchone()[0] for x in (a, b)]
        only_a = con.execute(f"select count(*) from ({a} except all {b})").fetchone()[0]
        only_b = con.execute(f"select count(*) from ({b} except all {a})").fetchone()[0]
        columns = _columns(con, "b", table)
        if (only_a or only_b) and any(f for _, f in columns) and rows[0] == rows[1]:
            # equal but for floating-point noise: the same rows within FLOAT_TOLERANCE
            only_a = only_b = _rows_apart_beyond_tolerance(con, a, b, columns)
        out[table] = {"skipped": False, "rows": tuple(rows), "only_in_a": only_a, "only_in_b": only_b}
    con.close()
    return out


#: models whose execution time the replay reports per drop (the ML fits that a daily run may reuse)
TIMED_MODELS = ("segment_model", "customer_segments", "customer_value_model", "customer_value_predictions",
                "propensity_model_registry")


def scheduled_run(raw: Path, db: Path, workdir: Path, *args: str, threads: int = 2, tests: bool = True,
                  snapshots: bool = True, timings: dict | None = None, daily: bool = False) -> tuple[float, list[str]]:  # fmt: skip
    """One scheduled run: ``dbt seed`` (new file only), ``dbt run``, ``dbt snapshot``, then ``dbt test``;
    returns (seconds, names of failing data tests). Models and tests run apart, unlike ``dbt build``:
    a failing test (the drift error test after a planted shift) would make ``dbt build`` skip the
    models after it, re-segmentation alerts included, so the run that should report the shift
    would record nothing. Raises when a model, seed or snapshot fails. ``timings``: filled with the
    execution time of each of :data:`TIMED_MODELS` in the run. ``daily``: the daily command instead
    (:func:`daily_step`, ``args`` ignored)."""
    seconds = 0.0 if db.exists() else dbt_build(raw, db, workdir, threads=threads, command="seed")
    if daily:
        return daily_step(raw, db, workdir, seconds, threads=threads, tests=tests, snapshots=snapshots,
                          timings=timings)  # fmt: skip
    seconds += dbt_build(raw, db, workdir, *args, threads=threads, command="run")
    if timings is not None:
        timings.update({m: t for m in TIMED_MODELS if (t := _model_seconds(workdir, m)) is not None})
    if snapshots:
        seconds += dbt_build(raw, db, workdir, threads=threads, command="snapshot")
    if not tests:
        return seconds, []
    try:
        return seconds + dbt_build(raw, db, workdir, *args, threads=threads, command="test"), []
    except RuntimeError:
        results = json.loads((workdir / "target" / "run_results.json").read_text())
        bad = [r for r in results["results"] if r["status"] not in ("success", "pass", "warn", "skipped")]
        # a test that stops with an error (assert_erasure_requests_applied raises on an unmatched request,
        # e.g. one that arrived a drop before the CRM record it names) is a failing check of this run too
        if not bad or any(r["status"] not in ("fail", "error") or r["unique_id"].split(".")[0] != "test"
                          for r in bad):  # fmt: skip
            raise
        return seconds + results["elapsed_time"], sorted(r["unique_id"].split(".")[2] for r in bad)


def daily_step(raw: Path, db: Path, workdir: Path, seconds: float = 0.0, threads: int = 2, tests: bool = True,
               snapshots: bool = True, timings: dict | None = None) -> tuple[float, list[str]]:  # fmt: skip
    """One run of the daily command (``python -m microseg.incremental_daily``, its own process) of raw
    into db; returns (``seconds`` + its seconds, failing data tests) like :func:`scheduled_run`."""
    env = {**os.environ, "MICROSEG_RAW_PATH": str(raw), "MICROSEG_DUCKDB_PATH": str(db),
           "DBT_PROFILES_DIR": str(ROOT), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}  # fmt: skip
    cmd = [sys.executable, "-m", "microseg.incremental_daily", "--threads", str(threads),
           "--target-path", str(workdir / "target"), "--log-path", str(workdir / "logs"),
           *([] if tests else ["--no-tests"]), *([] if snapshots else ["--no-snapshots"])]  # fmt: skip
    earlier = set((workdir / "run_results").glob("*_run.json"))
    started = time.perf_counter()
    run = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    seconds += time.perf_counter() - started
    lines = [line for line in run.stdout.splitlines() if line.startswith("{")]
    if not lines:
        raise RuntimeError(f"daily run failed ({raw} -> {db}):\n{run.stdout[-4000:]}{run.stderr[-2000:]}")
    result = json.loads(lines[-1])
    if result["failed"]:
        raise RuntimeError(f"daily run failed ({raw} -> {db}):\n" + "\n".join(result["failed"]))
    if timings is not None:
        # a model rerun alone after running out of memory adds invocations (microseg.incremental_daily)
        kept = sorted(set((workdir / "run_results").glob("*_run.json")) - earlier)
        nodes = {r["unique_id"]: r["execution_time"] for k in kept for r in json.loads(k.read_text())["results"]
                 if r["status"] == "success"}  # fmt: skip
        timings.update({m: nodes[f"model.microseg.{m}"] for m in TIMED_MODELS if f"model.microseg.{m}" in nodes})
    return seconds, result["failed_tests"]


def ml_dependent_tables(workdir: Path) -> set[str]:
    """schema.table of every model downstream of a model family with a reuse mode (:data:`REUSED_FITS`),
    the families included, from the manifest of ``workdir``'s last dbt invocation: with a reused fit these
    are the fit of an earlier day, not what a full refresh fits (docs/incremental.md)."""
    manifest = json.loads((workdir / "target" / "manifest.json").read_text())
    children, nodes = manifest["child_map"], manifest["nodes"]
    todo = [f"model.microseg.{name}" for name in REUSED_FITS]
    seen: set[str] = set()
    while todo:
        uid = todo.pop()
        if uid in seen or not uid.startswith("model."):
            continue
        seen.add(uid)
        todo.extend(children.get(uid, []))
    return {f"{nodes[u]['schema']}.{nodes[u]['alias']}" for u in seen if u in nodes}


#: the model families a daily run may reuse (microseg__*_model_mode: auto)
REUSED_FITS = ("segment_model", "customer_value_model", "propensity_model_registry")


def run_replay(out: Path, persons: int, drops: int, drop_days: int, seed: int, shift: str | None = None,
               threads: int = 2, select_args: tuple[str, ...] = (), full_refresh: bool = True,
               tests: bool = True, progress: bool = False, dbt_vars: str | None = None,
               daily: bool = False) -> dict:  # fmt: skip
    """Generate ``persons`` as ``drops`` drops (a planted ``shift`` in the last), build every drop in turn
    into one file, then all of them as a full refresh into another; returns times, failing tests per drop,
    the comparison of every mart, the last step's migration matrix and the alerts of every step
    (``full_refresh`` False: no full refresh, an empty comparison). Each step is a
    :func:`scheduled_run` (``tests`` False: models only); snapshots are taken when the whole
    project is built (no ``select_args``); ``dbt_vars`` (YAML) is passed to every dbt run and test.
    ``daily``: every drop is the daily command (:func:`daily_step`: models in mode auto, tests of the
    batch); the full refresh stays a plain one, and the tables downstream of a reused fit
    (:func:`ml_dependent_tables`) are reported as not compared."""
    out = generate_drops(out, persons, drops, drop_days, seed)
    planted = plant_shift(out, shift) if shift else None
    chain_raw, chain_db, full_db = out / "raw_chain", out / "chain.duckdb", out / "full.duckdb"
    steps = []
    extra = ("--vars", dbt_vars) if dbt_vars else ()
    for k in range(1, drops + 1):
        stage_drops(out / "drops", chain_raw, k)
        timings = {}
        seconds, failed = scheduled_run(chain_raw, chain_db, out / "work_chain", *select_args, *extra,
                                        threads=threads, tests=tests, snapshots=not select_args,
                                        timings=timings, daily=daily)  # fmt: skip
        steps.append({"drop": k, "seconds": seconds, "failed_tests": failed, "model_seconds": timings})
        if progress:  # a long replay shows its per-drop times as it goes
            print(f"drop {k} built in {seconds:.1f} s", flush=True)
    full, full_failed, compare = 0.0, [], {}
    if full_refresh:
        full, full_failed = scheduled_run(out / "raw", full_db, out / "work_full", *select_args, *extra,
                                          "--full-refresh", threads=threads, tests=False, snapshots=not select_args)  # fmt: skip
        if progress:
            print(f"full refresh built in {full:.1f} s", flush=True)
        compare = {t: c for schema in REPLAY_SCHEMAS for t, c in compare_all_marts(chain_db, full_db, schema).items()}
        if daily:  # a reused fit is an earlier day's: its tables are not a full refresh's
            reused = ml_dependent_tables(out / "work_chain")  # the chain's graph: the modes that reused the fits
            compare = {t: ({"skipped": True, "reused_fit": True} if t in reused else c) for t, c in compare.items()}
    result = {"steps": steps, "full_refresh": full_refresh, "full": full, "full_failed_tests": full_failed,
              "shift": planted, "compare": compare, "migration": [], "alerts": []}  # fmt: skip
    with duckdb.connect(str(chain_db), read_only=True) as con:
        tables = {r[0] for r in con.execute("select table_schema || '.' || table_name from information_schema.tables")
                  .fetchall()}  # fmt: skip
        if "marts.segment_migration" in tables:
            result["migration"] = con.execute(
                "select from_segment_id, to_segment_id, movement, customer_count from marts.segment_migration "
                "where to_fit_id = (select fit_id from marts.segment_run_sizes order by run_number desc limit 1) "
                "order by from_segment_id nulls first, to_segment_id nulls first").fetchall()  # fmt: skip
        # refit or reuse per run (microseg__segment_model_mode / microseg__value_model_mode)
        for table, order in (("ml.segment_model", "fitted_at"), ("ml.customer_value_model", "decided_at")):
            if table in tables:
                result["decisions"] = result.get("decisions", []) + [(table, *r) for r in con.execute(
                    f"select as_of_date, decision, reasons from {table} order by {order}").fetchall()]
        if "ml.resegmentation_alerts" in tables:
            result["alerts"] = con.execute(
                "select as_of_date, severity, reason, subject, message from ml.resegmentation_alerts "
                "order by as_of_date, severity, reason, subject").fetchall()  # fmt: skip
    return result


def print_replay(result: dict) -> bool:
    """Print a replay's report; True when every compared mart is equal."""
    for step in result["steps"]:
        failed = f"; failing tests: {', '.join(step['failed_tests'])}" if step["failed_tests"] else ""
        print(f"drop {step['drop']}: dbt run + snapshot + test {'(first)' if step['drop'] == 1 else '(incremental)'} "
              f"{step['seconds']:.1f} s{failed}")  # fmt: skip
        if step.get("model_seconds"):
            print("   ", ", ".join(f"{m} {t:.1f} s" for m, t in step["model_seconds"].items()))
    if result["full_refresh"]:
        print(f"full refresh of all drops: dbt run --full-refresh + snapshot {result['full']:.1f} s"
              + (f"; failing tests: {', '.join(result['full_failed_tests'])}" if result["full_failed_tests"] else ""))
    else:
        print("full refresh of all drops: not built (--no-full-refresh)")
    if result["shift"]:
        print(f"planted shift: {result['shift']}")
    print("migration matrix of the last step (from segment, to segment, movement, customers):")
    for row in result["migration"]:
        print("  ", *row)
    print("model decisions per run (table, as_of_date, refit or reuse, reasons):")
    for row in result.get("decisions", []):
        print("  ", *row)
    print(f"re-segmentation alerts ({len(result['alerts'])}):")
    for row in result["alerts"]:
        print("  ", *row)
    ok = True
    for table, c in result["compare"].items():
        if c["skipped"]:
            print(f"{table}: not compared (" + ("downstream of a reused fit: --daily" if c.get("reused_fit")
                  else "history of runs: see REPLAY_EXCEPTIONS") + ")")  # fmt: skip
            continue
        same = c["only_in_a"] == 0 and c["only_in_b"] == 0
        ok &= same
        print(f"{table}: rows {c['rows'][0]} chain / {c['rows'][1]} full, {'equal' if same else 'DIFFERENT'}"
              f" ({c['only_in_a']} rows only in chain, {c['only_in_b']} only in full)")  # fmt: skip
    if not result["full_refresh"]:  # nothing was compared: say so rather than report an equality never checked
        print("replay: the chain only, not compared with a full refresh (--no-full-refresh)")
        return True
    print("replay: chain == full refresh" if ok else "replay: chain and full refresh DIFFER")
    return ok


def replay_main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="python -m microseg.incremental replay",
                                description="Build generated drops one by one like a daily schedule, then compare "
                                            "every mart with a full refresh of the same data.")  # fmt: skip
    p.add_argument("--persons", type=int, default=20000)
    p.add_argument("--drops", type=int, default=8)
    p.add_argument("--drop-days", type=int, default=7)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--out", default="data/replay")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--shift", choices=sorted(SHIFTS), help="plant this shift in the last drop")
    p.add_argument("--sql-layer", action="store_true", help="build and compare the SQL layer only (CI size)")
    p.add_argument("--no-full-refresh", dest="full_refresh", action="store_false",
                   help="only the chain (times per drop), no full refresh to compare with")
    p.add_argument("--vars", dest="dbt_vars", help="dbt --vars for every run, e.g. "
                   "'{microseg__segment_model_mode: auto, microseg__value_model_mode: auto}'")
    p.add_argument("--daily", action="store_true",
                   help="every drop is the daily command (python -m microseg.incremental_daily: models in "
                        "mode auto, data tests of the batch); tables downstream of a reused fit not compared")
    args = p.parse_args(argv)
    if args.drops < 2 or args.persons < 1:
        p.error("--drops must be at least 2 and --persons at least 1")
    result = run_replay(Path(args.out), args.persons, args.drops, args.drop_days, args.seed, args.shift,
                        args.threads, tuple(SQL_LAYER) if args.sql_layer else (), progress=True,
                        full_refresh=args.full_refresh, dbt_vars=args.dbt_vars, daily=args.daily)  # fmt: skip
    return 0 if print_replay(result) else 1


def _model_seconds(workdir: Path, name: str) -> float | None:
    """Execution time of one model in the last dbt invocation of workdir (run_results.json)."""
    results = json.loads((workdir / "target" / "run_results.json").read_text())["results"]
    return next((r["execution_time"] for r in results if r["unique_id"] == f"model.microseg.{name}"), None)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["replay"]:
        return replay_main(argv[1:])
    if argv[:1] == ["quick-chain"]:
        # python -m microseg.incremental quick-chain OUT DROPS [SAVED_PARSE]: run_chain_in_process, times as JSON
        out, drops, parse = argv[1], int(argv[2]), (Path(argv[3]) if len(argv) > 3 else None)
        print(json.dumps(run_chain_in_process(Path(out), drops, saved_parse=parse)))
        return 0
    p = argparse.ArgumentParser(prog="python -m microseg.incremental", description=__doc__.split("\n\n")[0])
    p.add_argument("--persons", type=int, default=1500)
    p.add_argument("--drops", type=int, default=3)
    p.add_argument("--drop-days", type=int, default=7)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--out", default="data/incr")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--all-models", action="store_true", help="build the ML layer too (default: SQL layer only)")
    p.add_argument("--tests", choices=("last", "ends", "all"), default="ends",
                   help="builds run with their data tests: last drop, last drop and full refresh (default), all")
    args = p.parse_args(argv)
    select = [] if args.all_models else list(SQL_LAYER)
    result = run_chain(Path(args.out), args.persons, args.drops, args.drop_days, args.seed, select, args.threads,
                       args.tests)  # fmt: skip
    for k, seconds in enumerate(result["timings"], start=1):
        command = "build" if args.tests == "all" or k == args.drops else ("seed + run" if k == 1 else "run")
        print(f"drop {k}: dbt {command} {'(first, full)' if k == 1 else '(incremental)'} {seconds:.1f} s")
    print(f"full refresh of drops 1..{args.drops}: dbt {'run' if args.tests == 'last' else 'build'} {result['full']:.1f} s")
    for name, (chain_s, full_s) in result["model_times"].items():
        print(f"  {name}: {chain_s:.1f} s in the last incremental run, {full_s:.1f} s in the full refresh")
    print("manifest of the last incremental run (model, files, rows read, units rebuilt):")
    for row in result["manifest"]:
        print("  ", *row)
    ok = True
    for table, c in result["compare"].items():
        same = c["only_in_a"] == 0 and c["only_in_b"] == 0
        ok &= same
        print(f"{table}: rows {c['rows'][0]} chain / {c['rows'][1]} full, hash {'equal' if same else 'DIFFERENT'}"
              f" ({c['only_in_a']} rows only in chain, {c['only_in_b']} only in full)")  # fmt: skip
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
