"""Command line: ``python -m microseg.generate`` / ``microseg-generate``."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time

from .drops import SHIFTS, plant_shift, split_into_drops
from .run import MAX_PERSONS, generate

#: timestamps are formatted for 2000-2039; histories reach ~5 years back, futures 90 days ahead
MIN_END_DATE, MAX_END_DATE = dt.date(2008, 1, 1), dt.date(2039, 9, 30)


def _date(value: str) -> dt.date:
    try:
        date = dt.date.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a YYYY-MM-DD date: {value!r}") from exc
    if not MIN_END_DATE <= date <= MAX_END_DATE:
        raise argparse.ArgumentTypeError(f"--end-date must be between {MIN_END_DATE} and {MAX_END_DATE}")
    return date


def _persons(value: str) -> int:
    n = int(value)
    if not 1 <= n <= MAX_PERSONS:
        raise argparse.ArgumentTypeError(f"--persons must be between 1 and {MAX_PERSONS}")
    return n


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="microseg-generate",
        description="Generate deterministic dirty demo exports (raw/) plus ground truth (truth/).",
    )
    p.add_argument("--persons", type=_persons, default=20_000, help="number of simulated persons (default 20000)")
    p.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    p.add_argument("--out", default="data", help="output folder (default data)")
    p.add_argument("--format", choices=("parquet", "csv"), default="parquet", help="raw file format")
    p.add_argument(
        "--end-date",
        type=_date,
        default=dt.date(2026, 6, 30),
        help="last day of the data, YYYY-MM-DD (default 2026-06-30)",
    )
    p.add_argument(
        "--drops",
        type=int,
        default=1,
        help="write the raw data as this many drops (<out>/drops/<table>/drop_<k>.<fmt>, see microseg.generate.drops)",
    )
    p.add_argument("--drop-days", type=int, default=7, help="days of arrivals per drop after the first (default 7)")
    p.add_argument(
        "--shift",
        choices=sorted(SHIFTS),
        help="plant a change of behaviour in the late drops (needs --drops; see microseg.generate.drops)",
    )
    p.add_argument("--shift-drop", type=int, help="first drop of the planted shift (default: the last drop)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.drops < 1 or args.drop_days < 1:
        parser.error("--drops and --drop-days must be at least 1")
    if (args.shift or args.shift_drop) and (args.drops < 2 or not args.shift):
        parser.error("--shift needs --drops 2 or more (--shift-drop needs --shift)")
    if args.shift_drop is not None and not 2 <= args.shift_drop <= args.drops:
        parser.error(f"--shift-drop must be between 2 and --drops ({args.drops})")
    started = time.perf_counter()
    meta = generate(
        persons=args.persons,
        seed=args.seed,
        out=args.out,
        fmt=args.format,
        end_date=args.end_date,
        progress=not args.no_progress,
    )
    if args.drops > 1:
        drops = split_into_drops(args.out, args.format, args.drops, args.drop_days, args.end_date, args.seed)
        print(f"wrote {args.drops} drops into {args.out}/drops: {drops['rows_per_drop']['events']} events", file=sys.stderr)
        if args.shift:
            try:
                shift = plant_shift(args.out, args.shift, args.shift_drop)
            except ValueError as exc:
                parser.error(str(exc))
            print(f"planted {shift['kind']} in drops {shift['from_drop']}..{shift['to_drop']}: "
                  f"{shift['rows_changed']} rows changed (truth/shift.json)", file=sys.stderr)
    rows = ", ".join(f"{k} {v:,}" for k, v in meta["row_counts"].items())
    print(
        f"wrote {args.out}/raw ({args.format}) and {args.out}/truth in {time.perf_counter() - started:.1f}s: {rows}",
        file=sys.stderr,
    )
    return 0
