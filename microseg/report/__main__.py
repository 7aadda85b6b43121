"""CLI: python -m microseg.report [--duckdb PATH] [--out PATH] [--sample N]."""

from __future__ import annotations

import argparse
import os
import sys
import time

from microseg.report import write_report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m microseg.report", description=__doc__)
    parser.add_argument("--duckdb", default=os.environ.get("MICROSEG_DUCKDB_PATH", "data/microseg.duckdb"),
                        help="built DuckDB file (default: $MICROSEG_DUCKDB_PATH, else data/microseg.duckdb)")  # fmt: skip
    parser.add_argument("--out", default="target/report.html", help="HTML file to write (default: target/report.html)")
    parser.add_argument("--sample", type=int, default=3000, help="customers drawn on the segment map (default: 3000)")
    args = parser.parse_args(argv)
    if args.sample < 1:
        print("report: --sample must be at least 1", file=sys.stderr)
        return 2
    started = time.perf_counter()
    try:
        result = write_report(args.duckdb, args.out, sample=args.sample)
    except FileNotFoundError as error:
        print(error, file=sys.stderr)
        return 2
    print(result.summary())
    print(f"written in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
