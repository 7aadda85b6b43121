"""The daily run (docs/incremental.md#running-daily): ``python -m microseg.incremental_daily``.

One scheduled run on the files landed so far in ``MICROSEG_RAW_PATH`` into ``MICROSEG_DUCKDB_PATH``:
``dbt run``, ``dbt snapshot``, ``dbt test`` (data tests: the unit tests check the code, which a daily
run does not change), with :data:`DAILY_VARS`: the three model families
(segmentation, customer value, propensity) in mode ``auto`` (a day without drift reuses the stored
fits) and the data tests of the incremental models scoped to the rows the run rebuilt
(``microseg__test_scope: batch``, macros/incremental/microseg_test_scope.sql). Models and tests run
apart, not as ``dbt build``: a failing drift test would make ``dbt build`` skip the alerts that
explain it. dbt is parsed once; the three invocations start from copies of its manifest (no process start-up or
manifest load per invocation). Prints one JSON line (seconds per invocation, failing tests); exit 1
when a model, snapshot or test fails, with one line per failing node.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from .incremental import _keep_run_results, fresh_runner

ROOT = Path(__file__).resolve().parents[1]
#: the vars of a daily run: every model family reuses its stored fit unless a reason to refit
#: (docs/incremental.md), and the data tests read the last run's batch where that is sound
DAILY_VARS = {"microseg__segment_model_mode": "auto", "microseg__value_model_mode": "auto",
              "microseg__propensity_model_mode": "auto", "microseg__test_scope": "batch"}  # fmt: skip


def daily_run(target_path: Path, log_path: Path, threads: int = 2, tests: bool = True, snapshots: bool = True,
              extra_vars: dict | None = None, unit_tests: bool = False) -> dict:  # fmt: skip
    """``dbt run``, ``dbt snapshot``, ``dbt test`` (data tests; ``unit_tests``: the unit tests too) with
    :data:`DAILY_VARS` (``extra_vars`` on top) in this process; returns {"seconds": {invocation: seconds}, "failed_tests": [...], "failed": [...]}. Each
    invocation's run_results.json is kept as ``<target_path>/../run_results/NN_<command>.json``."""
    from dbt.cli.main import dbtRunner

    dbt_vars = json.dumps({**DAILY_VARS, **(extra_vars or {})})
    common = ["--project-dir", str(ROOT), "--target-path", str(target_path), "--log-path", str(log_path),
              "--vars", dbt_vars, "--quiet"]  # fmt: skip
    os.environ.setdefault("DBT_PROFILES_DIR", str(ROOT))
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    started = time.perf_counter()
    parsed = dbtRunner().invoke(["parse", *common])
    if not parsed.success:
        raise RuntimeError(f"dbt parse failed: {parsed.exception}")
    out = {"seconds": {"parse": time.perf_counter() - started}, "failed_tests": [], "failed": []}
    steps = ["run", *(["snapshot"] if snapshots else []), *(["test"] if tests else [])]
    for command in steps:
        started = time.perf_counter()
        # unit tests check the code on fixed inputs: a daily run brings data, not code (docs/incremental.md)
        skip = ("--exclude", "resource_type:unit_test") if command == "test" and not unit_tests else ()
        res = fresh_runner(parsed.result).invoke([command, *skip, "--threads", str(threads), *common])
        _keep_run_results(Path(target_path), command)
        bad = _failed(res)
        oom = [r.node.name for r in bad if "Out of Memory" in (r.message or "")]
        if command == "run" and threads > 1 and oom and len(oom) == len(bad):
            res, bad = _rerun_alone(parsed.result, common, oom, threads, Path(target_path))
            out["rerun_alone"] = oom
        out["seconds"][command] = time.perf_counter() - started
        if command == "test" and (bad or res.success):
            out["failed_tests"] = sorted(r.node.unique_id.split(".")[2] for r in bad)
        elif not res.success:  # a model or snapshot failed, or the invocation itself stopped
            out["failed"] = [f"{r.node.unique_id}: {r.message}" for r in bad] or [str(res.exception)]
            break
    return out


def _failed(res) -> list:
    """The nodes of a dbt invocation's result that neither succeeded nor were skipped."""
    return [r for r in getattr(res.result, "results", None) or []
            if str(r.status) not in ("success", "pass", "warn", "skipped")]  # fmt: skip


def _rerun_alone(manifest, common: list[str], models: list[str], threads: int, target_path: Path):
    """Models that ran out of DuckDB memory while another model ran beside them (the limit is shared by
    the dbt threads; which pair peaks together depends on timing) are built again one at a time, then
    the models their failure held up, at ``threads`` again. Returns the last invocation's result and
    its failed nodes; a model that fails alone fails the run as before."""
    print(f"microseg: {', '.join(models)} ran out of memory beside another model at --threads {threads}: "
          "building them one at a time, then the models they held up", file=sys.stderr)  # fmt: skip
    res = fresh_runner(manifest).invoke(["run", "--select", *models, "--threads", "1", *common])
    _keep_run_results(target_path, "run")
    if not res.success:
        return res, _failed(res)
    res = fresh_runner(manifest).invoke(["run", "--select", *(f"{m}+" for m in models), "--exclude", *models,
                         "--threads", str(threads), *common])  # fmt: skip
    _keep_run_results(target_path, "run")
    return res, _failed(res)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m microseg.incremental_daily", description=__doc__.split("\n\n")[0])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--target-path", default="target")
    p.add_argument("--log-path", default="logs")
    p.add_argument("--no-tests", dest="tests", action="store_false", help="models and snapshots only")
    p.add_argument("--no-snapshots", dest="snapshots", action="store_false")
    p.add_argument("--unit-tests", action="store_true",
                   help="run the unit tests too (they check the code, which a daily run does not change)")
    args = p.parse_args(argv)
    result = daily_run(Path(args.target_path).resolve(), Path(args.log_path).resolve(), args.threads,
                       args.tests, args.snapshots, unit_tests=args.unit_tests)  # fmt: skip
    print(json.dumps(result))
    for line in result["failed"]:
        print(line, file=sys.stderr)
    for name in result["failed_tests"]:
        print(f"failing data test: {name}", file=sys.stderr)
    return 1 if result["failed"] or result["failed_tests"] else 0


if __name__ == "__main__":
    sys.exit(main())
