"""Benchmark: generate N persons, run ``dbt build`` on them, print the figures.

    python -m microseg.bench --persons 1000000 [--seed 42] [--workdir data/bench]

Prints wall time and peak resident memory of the generator and of dbt (each
measured on its own child process with ``os.wait4``), raw row counts, and the
slowest dbt nodes from ``run_results.json``. A benchmark prints figures; it
asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Measured:
    """Wall time, peak RSS and exit code of one child process."""

    wall_seconds: float
    peak_rss_mib: float
    returncode: int


def run_measured(cmd: list[str], env: dict[str, str] | None = None) -> Measured:
    """Run cmd, wait for it with wait4 and report its own wall time and peak RSS."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    # ru_maxrss is KiB on Linux.
    return Measured(time.perf_counter() - start, usage.ru_maxrss / 1024, proc.returncode)


def slowest_nodes(run_results_path: Path, top: int = 10) -> list[tuple[str, str, float]]:
    """(unique_id, status, seconds) of the slowest nodes in a run_results.json."""
    results = json.loads(run_results_path.read_text())["results"]
    rows = [(r["unique_id"], str(r["status"]), float(r.get("execution_time") or 0.0)) for r in results]
    return sorted(rows, key=lambda row: row[2], reverse=True)[:top]


def raw_row_counts(raw_dir: Path) -> dict[str, int]:
    """Rows per raw Parquet file, read from Parquet metadata (no data scan)."""
    import pyarrow.parquet as pq

    return {path.stem: pq.ParquetFile(path).metadata.num_rows for path in sorted(raw_dir.glob("*.parquet"))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--workdir", type=Path, default=Path("data/bench"))
    parser.add_argument("--top", type=int, default=10, help="how many slowest nodes to print")
    parser.add_argument("--skip-generate", action="store_true", help="reuse data already in --workdir")
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

    db_path = out / "microseg.duckdb"
    db_path.unlink(missing_ok=True)
    target_path = Path("target") / "bench"
    env = {**os.environ, "MICROSEG_RAW_PATH": str(out / "raw"), "MICROSEG_DUCKDB_PATH": str(db_path)}
    figures["dbt build"] = run_measured(
        [str(bin_dir / "dbt"), "build", "--target-path", str(target_path)], env=env
    )

    print(f"\n## Benchmark: {args.persons:,} persons, seed {args.seed}\n")
    counts = raw_row_counts(out / "raw")
    if counts:
        print("raw rows: " + ", ".join(f"{name} {rows:,}" for name, rows in counts.items()))
        print(f"raw rows total: {sum(counts.values()):,}\n")
    print("| step | wall time (s) | peak RSS (MiB) | exit |")
    print("|---|---:|---:|---:|")
    for step, m in figures.items():
        print(f"| {step} | {m.wall_seconds:.1f} | {m.peak_rss_mib:,.0f} | {m.returncode} |")
    if db_path.exists():
        print(f"\nDuckDB file: {db_path.stat().st_size / 2**20:,.0f} MiB")

    run_results = target_path / "run_results.json"
    if run_results.exists():
        print(f"\n| slowest nodes | status | seconds |\n|---|---|---:|")
        for unique_id, status, seconds in slowest_nodes(run_results, args.top):
            print(f"| {unique_id} | {status} | {seconds:.1f} |")
    return figures["dbt build"].returncode


if __name__ == "__main__":
    raise SystemExit(main())
