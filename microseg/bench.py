"""Benchmark: generate N persons, run ``dbt build`` on them, print the cost of
every stage next to the single-pass floor query.

    python -m microseg.bench --persons 1000000 [--seed 42] [--workdir data/bench]

One real ``dbt build`` is measured (the build a user runs, not one stage at a
time). Its nodes are grouped into stages (staging, identity and erasure, marts,
segmentation, training, scoring, tests) from the manifest; a stage's wall time
is the span from its first node's start to its last node's end in
``run_results.json``, its thread time the sum of its nodes' execution times, and
its peak memory the highest resident memory of the dbt process (sampled every
0.2 s from /proc) inside that span. The generator, the whole build and the floor
query (``bench_floor.sql``: one scan of the raw files, exact duplicates removed,
casts, per-customer RFM and 30/90-day engagement) are each measured on their own
child process with ``os.wait4``. A benchmark prints figures; it asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from microseg import duckdb_memory_limit

STAGES = ("staging", "identity and erasure", "marts", "segmentation", "training", "scoring", "tests")
FLOOR_SQL = Path(__file__).with_name("bench_floor.sql")


@dataclass(frozen=True)
class Measured:
    """Wall time, peak RSS and exit code of one child process."""

    wall_seconds: float
    peak_rss_mib: float
    returncode: int


class RssSampler:
    """Samples a process's resident memory (MiB) with timestamps until stopped."""

    def __init__(self, pid: int, every: float = 0.2) -> None:
        self.pid, self.every = pid, every
        self.samples: list[tuple[float, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        status = Path(f"/proc/{self.pid}/status")
        while not self._stop.is_set():
            try:
                for line in status.read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        self.samples.append((time.time(), int(line.split()[1]) / 1024))
            except (FileNotFoundError, ProcessLookupError):
                return
            self._stop.wait(self.every)

    def __enter__(self) -> "RssSampler":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def peak_between(self, start: float, end: float) -> float:
        inside = [rss for at, rss in self.samples if start <= at <= end]
        return max(inside, default=float("nan"))


def run_measured(cmd: list[str], env: dict[str, str] | None = None,
                 sampler: list[RssSampler] | None = None) -> Measured:
    """Run cmd, wait for it with wait4 and report its own wall time and peak RSS.
    With ``sampler`` (a list to append to), its memory is also sampled over time."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env)
    rss = RssSampler(proc.pid)
    with rss:
        _, status, usage = os.wait4(proc.pid, 0)
    if sampler is not None:
        sampler.append(rss)
    proc.returncode = os.waitstatus_to_exitcode(status)
    # ru_maxrss is KiB on Linux.
    return Measured(time.perf_counter() - start, usage.ru_maxrss / 1024, proc.returncode)


def stage_of(node: dict) -> str:
    """The benchmark stage of a manifest node (by resource type, path and name)."""
    kind, name = node["resource_type"], node["name"]
    path = node.get("original_file_path", "")
    if kind in ("test", "unit_test"):
        return "tests"
    if kind == "seed" or "/staging/" in path or "/privacy/" in path:
        return "identity and erasure" if "erase" in name else "staging"
    if "identity" in name or name == "int_customer_identifiers":
        return "identity and erasure"
    if "segment" in name or "segmentation" in path:
        return "segmentation"
    if name.startswith("propensity_"):
        training = ("propensity_features", "propensity_labels", "propensity_model_registry")
        return "training" if name in training else "scoring"
    return "marts"


def _epoch(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def stage_table(run_results: dict, manifest: dict, rss: RssSampler | None) -> list[dict]:
    """One row per stage: nodes, wall span (s), thread time (s), peak RSS (MiB)."""
    nodes = {**manifest.get("nodes", {}), **manifest.get("unit_tests", {})}
    rows = {s: {"stage": s, "nodes": 0, "start": None, "end": None, "thread_seconds": 0.0} for s in STAGES}
    for result in run_results["results"]:
        node = nodes.get(result["unique_id"])
        execute = [t for t in result.get("timing", []) if t["name"] == "execute" and t.get("started_at")]
        if node is None or not execute:
            continue
        row = rows[stage_of(node)]
        start, end = _epoch(execute[0]["started_at"]), _epoch(execute[0]["completed_at"])
        row["nodes"] += 1
        row["thread_seconds"] += float(result.get("execution_time") or 0.0)
        row["start"] = start if row["start"] is None else min(row["start"], start)
        row["end"] = end if row["end"] is None else max(row["end"], end)
    table = []
    for row in rows.values():
        if not row["nodes"]:
            continue
        wall = row["end"] - row["start"]
        peak = rss.peak_between(row["start"], row["end"]) if rss else float("nan")
        table.append({"stage": row["stage"], "nodes": row["nodes"], "wall_seconds": wall,
                      "thread_seconds": row["thread_seconds"], "peak_rss_mib": peak})
    return table


def memory_peaks(run_results: dict, rss: RssSampler, top: int = 10) -> list[tuple[str, float, float]]:
    """(unique_id, peak RSS in MiB while it ran, seconds) of the nodes with the highest
    resident memory of the dbt process during their execution. Nodes run two at a
    time, so a peak belongs to the node and whatever ran beside it: the table says
    where to look, not whose memory it is."""
    rows = []
    for result in run_results["results"]:
        execute = [t for t in result.get("timing", []) if t["name"] == "execute" and t.get("started_at")]
        if not execute:
            continue
        start, end = _epoch(execute[0]["started_at"]), _epoch(execute[0]["completed_at"])
        peak = rss.peak_between(start, end)
        if peak == peak:  # not nan: sampled while it ran
            rows.append((result["unique_id"], peak, end - start))
    return sorted(rows, key=lambda row: row[1], reverse=True)[:top]


def slowest_nodes(run_results_path: Path, top: int = 10) -> list[tuple[str, str, float]]:
    """(unique_id, status, seconds) of the slowest nodes in a run_results.json."""
    results = json.loads(run_results_path.read_text())["results"]
    rows = [(r["unique_id"], str(r["status"]), float(r.get("execution_time") or 0.0)) for r in results]
    return sorted(rows, key=lambda row: row[2], reverse=True)[:top]


def raw_files(raw_dir: Path, table: str) -> list[Path]:
    """The Parquet files of one raw table: `<table>.parquet` or `<table>/*.parquet`."""
    single = raw_dir / f"{table}.parquet"
    return [single] if single.exists() else sorted((raw_dir / table).glob("*.parquet"))


def raw_row_counts(raw_dir: Path) -> dict[str, int]:
    """Rows per raw table, read from Parquet metadata (no data scan)."""
    import pyarrow.parquet as pq

    tables = sorted({p.stem for p in raw_dir.glob("*.parquet")} | {p.name for p in raw_dir.iterdir() if p.is_dir()})
    counts = {t: sum(pq.ParquetFile(f).metadata.num_rows for f in raw_files(raw_dir, t)) for t in tables}
    return {t: n for t, n in counts.items() if raw_files(raw_dir, t)}


def floor_query(raw_dir: Path) -> str:
    """bench_floor.sql with each table's read expression filled in."""
    reads = {t: "read_parquet([" + ", ".join(f"'{p}'" for p in raw_files(raw_dir, t)) + "])"
             for t in ("orders", "order_lines", "events")}
    sql = FLOOR_SQL.read_text()
    for table, read in reads.items():
        sql = sql.replace("{" + table + "}", read)
    return sql


def run_floor(raw_dir: Path, memory_limit: str) -> Measured:
    """The floor query in its own process (fresh in-memory DuckDB, same memory limit as dbt)."""
    code = ("import duckdb, sys; con = duckdb.connect(config={'memory_limit': sys.argv[2]}); "
            "print(con.sql(open(sys.argv[1]).read()).fetchall())")
    query_file = raw_dir.parent / "bench_floor.sql"
    query_file.write_text(floor_query(raw_dir))
    return run_measured([sys.executable, "-c", code, str(query_file), memory_limit])


def print_report(persons: int, seed: int, figures: dict[str, Measured], stages: list[dict],
                 counts: dict[str, int]) -> None:
    floor = figures.get("floor query")
    ratio = (lambda s: f"{s / floor.wall_seconds:.1f}x") if floor and floor.wall_seconds else (lambda s: "")
    print(f"\n## Benchmark: {persons:,} persons, seed {seed}\n")
    if counts:
        print("raw rows: " + ", ".join(f"{name} {rows:,}" for name, rows in counts.items()))
        print(f"raw rows total: {sum(counts.values()):,}\n")
    print("| step | wall time (s) | x floor | thread time (s) | peak RSS (MiB) | nodes | exit |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for step, m in figures.items():
        print(f"| {step} | {m.wall_seconds:.1f} | {ratio(m.wall_seconds)} |  | {m.peak_rss_mib:,.0f} |  | {m.returncode} |")
    for row in stages:
        print(f"| - {row['stage']} | {row['wall_seconds']:.1f} | {ratio(row['wall_seconds'])} | "
              f"{row['thread_seconds']:.1f} | {row['peak_rss_mib']:,.0f} | {row['nodes']} |  |")
    sql_layer = sum(r["thread_seconds"] for r in stages if r["stage"] in ("staging", "identity and erasure", "marts"))
    if floor:
        print(f"\nSQL layer (staging + identity and erasure + marts) thread time: {sql_layer:.1f} s = {ratio(sql_layer)} the floor")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--workdir", type=Path, default=Path("data/bench"))
    parser.add_argument("--top", type=int, default=10, help="how many slowest nodes to print")
    parser.add_argument("--skip-generate", action="store_true", help="reuse data already in --workdir")
    parser.add_argument("--no-floor", action="store_true", help="skip the single-pass floor query")
    parser.add_argument("--threads", type=int, default=None,
                        help="dbt threads for the build (default: the profile's, 2)")
    args = parser.parse_args(argv)

    out = args.workdir / f"persons_{args.persons}"
    bin_dir = Path(sys.executable).parent
    figures: dict[str, Measured] = {}

    if not args.skip_generate:
        shutil.rmtree(out, ignore_errors=True)
        figures["generate"] = run_measured(
            [sys.executable, "-m", "microseg.generate", "--persons", str(args.persons),
             "--seed", str(args.seed), "--out", str(out), "--no-progress"]
        )
        if figures["generate"].returncode != 0:
            print("error: the generator failed", file=sys.stderr)
            return 1

    memory_limit = duckdb_memory_limit()
    if not args.no_floor:
        figures["floor query"] = run_floor(out / "raw", memory_limit)

    db_path = out / "microseg.duckdb"
    db_path.unlink(missing_ok=True)
    target_path = Path("target") / "bench"
    env = {**os.environ, "MICROSEG_RAW_PATH": str(out / "raw"), "MICROSEG_DUCKDB_PATH": str(db_path)}
    samplers: list[RssSampler] = []
    threads = ["--threads", str(args.threads)] if args.threads else []
    figures["dbt build"] = run_measured(
        [str(bin_dir / "dbt"), "build", "--target-path", str(target_path), *threads], env=env, sampler=samplers
    )

    stages: list[dict] = []
    run_results, manifest = target_path / "run_results.json", target_path / "manifest.json"
    if run_results.exists() and manifest.exists():
        stages = stage_table(json.loads(run_results.read_text()), json.loads(manifest.read_text()), samplers[0])
    print_report(args.persons, args.seed, figures, stages, raw_row_counts(out / "raw"))
    if db_path.exists():
        print(f"\nDuckDB file: {db_path.stat().st_size / 2**20:,.0f} MiB")
    if run_results.exists():
        print("\n| slowest nodes | status | seconds |\n|---|---|---:|")
        for unique_id, status, seconds in slowest_nodes(run_results, args.top):
            print(f"| {unique_id} | {status} | {seconds:.1f} |")
        if samplers:
            print("\n| highest memory while running | peak RSS (MiB) | seconds |\n|---|---:|---:|")
            for unique_id, peak, seconds in memory_peaks(json.loads(run_results.read_text()), samplers[0], 10):
                print(f"| {unique_id} | {peak:,.0f} | {seconds:.1f} |")
    return figures["dbt build"].returncode


if __name__ == "__main__":
    raise SystemExit(main())
