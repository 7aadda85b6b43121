"""Shared fixtures: one generated data set and one dbt build for the tests that
run dbt against the generator's truth (marker ``dbt``), instead of one
generate-and-build per test module."""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import subprocess
import sys
import tempfile
import traceback
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from microseg.generate import generate

ROOT = Path(__file__).resolve().parents[2]
PERSONS = 3000
# `make dbt-test` (scripts/dbt_test.sh) builds the same data set (3,000 persons, seed 42) in full into data/ci
# and writes this marker after a green build; the shared fixture then copies that database instead of
# generating and building again. MICROSEG_TEST_FRESH_BUILD=1 forces the fixture's own build.
CI_DIR = ROOT / "data" / "ci"
CI_MARKER = CI_DIR / "build_ok.json"
SOURCES = ("models", "macros", "microseg", "python_models", "seeds", "tests", "dbt_project.yml", "profiles.yml")


def _newest_source_mtime() -> float:
    newest = 0.0
    for name in SOURCES:
        path = ROOT / name
        files = [path] if path.is_file() else path.rglob("*")
        for f in files:
            if f.is_file() and "__pycache__" not in f.parts:
                newest = max(newest, f.stat().st_mtime)
    return newest


def ci_build_is_fresh() -> bool:
    """True when data/ci holds a green `make dbt-test` build of PERSONS persons, seed 42, newer than every
    project source (models, macros, the microseg package, seeds, tests, vars)."""
    import json

    if os.environ.get("MICROSEG_TEST_FRESH_BUILD") == "1" or not CI_MARKER.is_file():
        return False
    try:
        marker = json.loads(CI_MARKER.read_text())
    except ValueError:
        return False
    if marker.get("persons") != PERSONS or marker.get("seed") != 42:
        return False
    if not (CI_DIR / "microseg.duckdb").is_file() or not (CI_DIR / "truth").is_dir():
        return False
    return CI_MARKER.stat().st_mtime > _newest_source_mtime()


@dataclass(frozen=True)
class DbtBuild:
    """A generated data set (truth/, raw/) and the DuckDB file dbt built from it."""

    workdir: Path
    truth: Path
    db: Path

    def dbt(self, *args: str) -> None:
        """Run a dbt command on this build; fail the test with dbt's output if it fails."""
        run = run_dbt(self.workdir, *args)
        assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]


# Every dbt run of the tests uses the same relative paths from its own working directory: the raw folder
# at data/raw and the DuckDB file microseg.duckdb. dbt's partial parsing compares the profile (the DuckDB
# path), the vars and the env vars they read with those of the saved parse, so with equal strings one
# `dbt parse` serves every run that sets no other vars, instead of a full parse of the project (about 25 s
# of CPU) per run. dbt itself checks that the saved parse still matches and parses again when it does not
# (other --vars, another MICROSEG_RAW_FORMAT, a changed file).
# The parses are shared by the whole session, the pytest-xdist workers included: the first run that needs
# one makes it with `dbt parse` under a file lock in PARSE_CACHE (a folder the controller makes), the others
# wait for it and copy it. That holds for the default parse and for runs with other --vars or env overrides
# that pass ``share_parse=True`` (the damaged build and the retail export: SMALL_ML_VARS); any other such run
# keeps the parse of its first run for the runs after it in the same process (keyed by both), so e.g. the
# two CSV runs of test_damaged_files.py parse the project once between them, not once each.
DBT = Path(sys.executable).with_name("dbt")
RAW_DIR = Path("data") / "raw"
DB_FILE = Path("microseg.duckdb")
EXPORT_DIR = Path("exports")  # the export models' files (var microseg__export_path)
PARSE_CACHE_ENV = "MICROSEG_TEST_PARSE_CACHE"
#: a smaller k range and ML search than the defaults, for builds whose point is that the ML stage builds on
#: their data (the damaged rows, the retail export), not the best model; one string, so they share one parse
SMALL_ML_VARS = ("{microseg__erasure_unmatched_severity: warn, microseg__segment_k_max: 6, "
                 "microseg__segment_bootstrap_rounds: 2, microseg__propensity_search_candidates: 2, "
                 "microseg__propensity_cv_folds: 3}")  # fmt: skip
_saved_parse_by_key: dict[tuple, Path] = {}



# dbt runs in the test process (dbt.cli.main.dbtRunner), not as a `dbt` subprocess: each pytest-xdist worker
# imports dbt, the adapter and the Python models' libraries once instead of once per run (about 3 s of CPU
# per run). What a subprocess gave for free is restored around each run: its environment and working
# directory (env_var() and the relative DuckDB and raw paths are read from them), its stdout (dbt's console
# log, captured as text) and its exit code (0 success, 1 a failing node, 2 an error, as the CLI's). The one
# piece of state dbt keeps between runs is dbt-duckdb's class-level DuckDB environment, keyed by the profile
# (the same relative path in every test folder): it is closed after each run, so the next run opens its own
# file and the test can open the file it just built. MICROSEG_TEST_DBT_SUBPROCESS=1 runs dbt as a subprocess.
def invoke_dbt(args: list[str], cwd: Path, env: dict[str, str], timeout: int = 1800) -> subprocess.CompletedProcess:
    """dbt ``args`` from ``cwd`` with exactly the environment ``env``: a finished process, whatever its exit code."""
    if os.environ.get("MICROSEG_TEST_DBT_TRACE"):  # one line per dbt run: `make test` counts them
        with open(os.environ["MICROSEG_TEST_DBT_TRACE"], "a") as trace:
            trace.write(" ".join(args[:3]) + "\n")
    if os.environ.get("MICROSEG_TEST_DBT_SUBPROCESS") == "1":
        return subprocess.run([str(DBT), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    from dbt.cli.main import dbtRunner

    saved_env, saved_cwd = dict(os.environ), os.getcwd()
    out, err = io.StringIO(), io.StringIO()
    try:
        os.environ.clear()
        os.environ.update(env)
        os.chdir(cwd)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            result = dbtRunner().invoke(list(args))
    finally:
        with DuckDBConnectionManager._LOCK:
            if DuckDBConnectionManager._ENV is not None:
                DuckDBConnectionManager._ENV.close()
                DuckDBConnectionManager._ENV = None
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)
    stdout, stderr = out.getvalue(), err.getvalue()
    if result.exception is not None and "Encountered an error" not in stdout:
        # an error outside dbt's own handler: the CLI would have printed the traceback
        stderr += "".join(traceback.format_exception(result.exception))
    code = 0 if result.success else 2 if result.exception is not None else 1
    return subprocess.CompletedProcess([str(DBT), *args], code, stdout, stderr)


def _parse_cache() -> Path:
    """The session's folder of saved parses (made by the controller in pytest_configure; own one otherwise)."""
    folder = os.environ.get(PARSE_CACHE_ENV)
    if not folder:
        folder = os.environ[PARSE_CACHE_ENV] = tempfile.mkdtemp(prefix="microseg_parses_")
    return Path(folder)


def _shared_parse(key: tuple) -> Path | None:
    """partial_parse.msgpack of one `dbt parse` with the shared relative paths and ``key``'s vars and env
    (made once per session, under a lock: a worker that needs it while another makes it waits)."""
    import fcntl
    import hashlib

    cache = _parse_cache()
    name = hashlib.sha1(repr(key).encode()).hexdigest()[:16]
    saved, failed = cache / f"{name}.msgpack", cache / f"{name}.failed"
    with open(cache / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not saved.is_file() and not failed.exists():
            work = Path(tempfile.mkdtemp(prefix="microseg_parse_"))
            args = ["--project-dir", str(ROOT), "--target-path", str(work / "target"), "--log-path", str(work / "logs")]
            vars_ = ["--vars", key[0]] if key[0] else []
            run = invoke_dbt(["parse", *vars_, *args], cwd=work, env=_dbt_env(dict(key[1])))
            made = work / "target" / "partial_parse.msgpack"
            if run.returncode == 0 and made.is_file():
                shutil.copy(made, saved)
            else:
                failed.touch()  # the runs parse for themselves and report dbt's error
    return saved if saved.is_file() else None


def _parsed_project() -> Path | None:
    """partial_parse.msgpack of one `dbt parse` with the shared relative paths (made once per session)."""
    return _shared_parse(("", ()))


def _dbt_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    return {**os.environ, "MICROSEG_RAW_PATH": str(RAW_DIR), "MICROSEG_DUCKDB_PATH": str(DB_FILE),
            "MICROSEG_EXPORT_PATH": str(EXPORT_DIR),
            "DBT_PROFILES_DIR": str(ROOT), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", **(extra or {})}  # fmt: skip


def _place(link: Path, target: Path | None) -> None:
    """Make ``link`` (under a test's working directory) point at ``target``."""
    if target is None or link.resolve() == Path(target).resolve():
        return
    if link.is_symlink() or link.exists():
        raise FileExistsError(f"{link} exists and is not {target}")
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(Path(target).resolve(), target_is_directory=Path(target).is_dir())


def run_dbt(workdir: Path, *args: str, raw: Path | None = None, env: dict[str, str] | None = None,
            target: Path | None = None, timeout: int = 1800, share_parse: bool = False) -> subprocess.CompletedProcess:
    """dbt ``args`` from ``workdir`` on the raw folder workdir/data/raw (a symlink to ``raw`` when given)
    into workdir/microseg.duckdb, logs/ and ``target`` (default workdir/target) there; returns the
    finished process whatever its exit code. The saved parse is copied in first (see above; with
    ``share_parse`` one parse of these --vars and ``env`` serves the whole session).
    The DuckDB file is not symlinked: DuckDB names the database after the file it resolves to, and dbt's
    relations after the path it is given. Raw and export views hold paths relative to ``workdir``: open
    the file with duckdb_config(workdir) to read them from elsewhere."""
    workdir.mkdir(parents=True, exist_ok=True)
    _place(workdir / RAW_DIR, raw)
    target = target or workdir / "target"
    key = (args[args.index("--vars") + 1] if "--vars" in args else "", tuple(sorted((env or {}).items())))
    shared = key == ("", ()) or share_parse
    saved = _shared_parse(key) if shared else _saved_parse_by_key.get(key)
    own = target / "partial_parse.msgpack"
    if saved is not None and not own.exists():
        own.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(saved, own)
    args = [*args, "--project-dir", str(ROOT), "--target-path", str(target), "--log-path", str(workdir / "logs")]
    run = invoke_dbt(args, cwd=workdir, env=_dbt_env(env), timeout=timeout)
    if saved is None and not shared and own.is_file():
        keep = Path(tempfile.mkdtemp(prefix="microseg_parse_")) / "partial_parse.msgpack"
        _saved_parse_by_key[key] = Path(shutil.copy(own, keep))
    return run


def duckdb_config(workdir: Path) -> dict[str, str]:
    """duckdb.connect config that resolves the raw and export views of a build made by run_dbt(workdir)."""
    return {"file_search_path": str(workdir)}


def run_dbt_on_raw(workdir: Path, raw: Path, db: Path, *args: str, raw_format: str = "parquet",
                   share_parse: bool = False) -> subprocess.CompletedProcess:
    """dbt on the raw folder ``raw`` into ``db`` (run_dbt: dbt sees them as data/raw and microseg.duckdb
    under ``workdir``) on two threads, returning the finished process whatever its exit code."""
    assert db == workdir / DB_FILE, "run_dbt builds workdir/microseg.duckdb"
    env = {"MICROSEG_RAW_FORMAT": raw_format} if raw_format != "parquet" else None
    return run_dbt(workdir, *args, "--threads", "2", raw=raw, env=env, share_parse=share_parse)


@pytest.fixture(scope="module")
def clean_raw(tmp_path_factory) -> Path:
    """The damage tests' clean raw folder: 300 generated persons (seed 11), one per test module."""
    out = tmp_path_factory.mktemp("damage_clean")
    generate(persons=300, seed=11, out=out / "data", progress=False)
    return out / "data" / "raw"


@pytest.fixture(scope="session")
def dbt_build(tmp_path_factory) -> DbtBuild:
    """PERSONS generated persons (seed 42) built up to the identity map, the
    segment profiles and the quality marts (erasure_audit, data_quality_summary). Cautious indirect selection: only tests whose parents are
    all built run (a relationship from fct_orders is not)."""
    tmp = tmp_path_factory.mktemp("dbt_build")
    if ci_build_is_fresh():
        # read-only inputs are shared (raw, truth); the database is copied: some tests run dbt on it
        (tmp / "data").symlink_to(CI_DIR.resolve(), target_is_directory=True)
        shutil.copy(CI_DIR / "microseg.duckdb", tmp / "microseg.duckdb")
        if (CI_DIR / "microseg.duckdb.wal").is_file():
            shutil.copy(CI_DIR / "microseg.duckdb.wal", tmp / "microseg.duckdb.wal")
        return DbtBuild(workdir=tmp, truth=tmp / "data" / "truth", db=tmp / "microseg.duckdb")
    generate(persons=PERSONS, seed=42, out=tmp / "data", progress=False)
    build = DbtBuild(workdir=tmp, truth=tmp / "data" / "truth", db=tmp / "microseg.duckdb")
    build.dbt("build", "--select", "+customer_identity_map", "+dim_customers", "+segment_profiles", "segment_quality",
              "+erasure_audit", "+data_quality_summary",
              "--indirect-selection", "cautious", "--exclude", "resource_type:unit_test")  # fmt: skip
    return build


@pytest.fixture(scope="session")
def cdnow_summary(tmp_path_factory) -> pd.DataFrame:
    """lifetimes' cdnow_customers_summary_with_transactions.csv (2,357 customers of the FHL 2005 paper:
    x, t_x, T in weeks, zbar the mean repeat transaction value), from the wheel `make cdnow` downloads."""
    wheels = sorted((ROOT / "data" / "cdnow" / "wheel").glob("[Ll]ifetimes-0.11.3-*.whl"))
    if not wheels:
        target = tmp_path_factory.mktemp("wheel")
        run = subprocess.run([sys.executable, "-m", "pip", "download", "lifetimes==0.11.3", "--no-deps", "--quiet",
                              "-d", str(target)], capture_output=True)  # fmt: skip
        wheels = sorted(target.glob("*.whl"))
        if run.returncode != 0 or not wheels:
            pytest.skip("lifetimes 0.11.3 wheel not available (no PyPI)")
    with zipfile.ZipFile(wheels[0]) as zf:
        data = zf.read("lifetimes/datasets/cdnow_customers_summary_with_transactions.csv")
    return pd.read_csv(io.BytesIO(data))


# Files that take a minute or more (their own dbt builds) go first: pytest-xdist hands out whole files in
# collection order, so a long file collected last would leave one worker running alone at the end. The order is
# each file's summed durations in a `make test` (load 11-13, subprocess dbt): damaged inputs 1,140 s, run-start
# checks 488, damaged files 397, expected outputs 373, retail export 305, replay CI 214, activation 202,
# value 164, privacy 153, segment personas 125, propensity 103, semantic layer 93.
HEAVY_FIRST = ("test_damaged_inputs.py", "test_run_start_checks.py", "test_damaged_files.py",
               "test_expected_outputs.py", "test_retail_export.py", "test_replay_ci.py", "test_activation.py",
               "test_value.py", "test_privacy.py", "test_segment_personas.py", "test_propensity.py",
               "test_semantic_layer.py", "test_categories.py")  # fmt: skip


def pytest_collection_modifyitems(config, items) -> None:
    rank = {name: i for i, name in enumerate(HEAVY_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(HEAVY_FIRST)))


def pytest_configure(config) -> None:
    """The session's parse cache (run_dbt), made before pytest-xdist starts its workers, which inherit it.
    Under pytest-xdist, pin each worker (and the dbt, LightGBM and scikit-learn
    threads it starts) to its own share of the cores: LightGBM sizes its threads
    from the affinity mask (microseg.propensity.train.lightgbm_threads), so two
    workers never run twice as many threads as there are cores."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not worker:
        os.environ[PARSE_CACHE_ENV] = tempfile.mkdtemp(prefix="microseg_parses_")
    count = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if not worker.startswith("gw") or count < 2 or not hasattr(os, "sched_setaffinity"):
        return
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) < count:
        return
    share = cores[int(worker[2:]) % count :: count]
    os.sched_setaffinity(0, share)
    os.environ["OMP_NUM_THREADS"] = str(len(share))


def pytest_unconfigure(config) -> None:
    if not os.environ.get("PYTEST_XDIST_WORKER") and os.environ.get(PARSE_CACHE_ENV):
        shutil.rmtree(os.environ.pop(PARSE_CACHE_ENV), ignore_errors=True)
