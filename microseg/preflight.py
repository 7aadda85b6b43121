"""Preflight of a raw folder against the raw contract (models/sources.yml), before any dbt run.

``python -m microseg.preflight --raw <dir> [--format parquet|csv]`` (``make check-raw RAW=<dir>``) reports
per raw table: found or missing (required / optional), its files, missing and extra columns, for CSV the
encoding, delimiter and malformed lines, the row count, and per typed column (``parse`` in sources.yml) the
share of non-blank values staging will not parse, with a few masked samples: PII columns and anything
that looks like an email or a phone number are never printed in clear.

Exit status 1, with one ``PROBLEM`` line each, when something would fail the build or make it misread the
data: a required table missing, a file unreadable, a contract column missing, CSV not UTF-8, not
comma-delimited or with malformed lines. Unparseable values are only reported: staging rejects those rows
with a reason code.
"""

from __future__ import annotations

import argparse
import codecs
import csv
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from .contract import RawColumn, RawTable, load

FORMATS = ("parquet", "csv")
SNIFF_BYTES = 64 * 1024
SAMPLES = 3
# a value that does not parse, per `parse` kind of sources.yml, as staging's macros read it
# (try_cast_integer, try_cast_number, parse_birth_date, to_utc_timestamp; enums compared trimmed, lower-case)
PARSED_SQL = {
    "integer": "regexp_full_match({c}, '\\s*[+-]?[0-9]+(\\.0*)?\\s*') "
    "and try_cast(try_cast({c} as double) as integer) is not null",
    "number": "coalesce(isfinite(try_cast({c} as double)), false)",
    "date": "coalesce(try_cast(trim({c}) as date), try_strptime(trim({c}), '%d/%m/%Y')::date) is not null",
    "timestamp": "coalesce(try_cast({c} as timestamptz), try_cast({c} as timestamp)) is not null",
}
EMAIL = re.compile(r"[^\s@]+@[^\s@]+")
LONG_DIGITS = re.compile(r"\d{7,}")


def mask(value: str, pii: bool) -> str:
    """A sample value safe to print: PII keeps its first character and shape only; in any other value an
    email-like or phone-like part is masked the same way."""
    if pii:
        return value[:1] + re.sub(r"[^\W_]", "*", value[1:])
    value = EMAIL.sub(lambda m: mask(m.group(0), True), value)
    return LONG_DIGITS.sub(lambda m: re.sub(r"\d", "*", m.group(0)), value)


@dataclass
class TableReport:
    """What the preflight found for one raw table."""

    table: RawTable
    files: list[Path] = field(default_factory=list)
    empty_files: list[Path] = field(default_factory=list)
    rows: int = 0
    lines: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def problem(self, text: str) -> None:
        self.problems.append(f"{self.table.name}: {text}")


def find_files(raw: Path, table: str, fmt: str) -> list[Path]:
    """<raw>/<table>.<fmt> and <raw>/<table>/*.<fmt>, as the build reads them."""
    single = raw / f"{table}.{fmt}"
    folder = sorted((raw / table).glob(f"*.{fmt}")) if (raw / table).is_dir() else []
    return ([single] if single.is_file() else []) + folder


def bad_at_offset(path: Path, chunk: int = 1 << 20) -> int | None:
    """Offset of the first byte that is not valid UTF-8, or None; reads the file in chunks."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    done = 0
    with path.open("rb") as fh:
        while True:
            data = fh.read(chunk)
            pending = len(decoder.getstate()[0])  # bytes of a character split across chunks
            try:
                decoder.decode(data, final=not data)
            except UnicodeDecodeError as err:
                return done - pending + err.start
            if not data:
                return None
            done += len(data)


def check_csv_text(path: Path, report: TableReport) -> tuple[str, str]:
    """Encoding and delimiter of a CSV file, and its malformed lines; returns (encoding, delimiter)."""
    head = path.open("rb").read(SNIFF_BYTES)
    encoding = "utf-8"
    offset = bad_at_offset(path)
    if offset is not None:
        encoding = "latin-1"
        byte = path.open("rb").read(offset + 1)[-1]
        report.problem(f"{path}: not UTF-8 (byte 0x{byte:02x} at offset {offset}); re-export as UTF-8")
    sample = head.decode(encoding, errors="replace")
    try:
        delimiter = csv.Sniffer().sniff(sample.split("\n", 1)[0] + "\n", delimiters=",;\t|").delimiter
    except csv.Error:
        delimiter = ","
    report.lines.append(f"  {path}: encoding {encoding}, delimiter {delimiter!r}")
    if delimiter != ",":
        report.problem(f"{path}: delimiter is {delimiter!r}; the build reads comma-delimited CSV")
    bad: list[int] = []
    with path.open(newline="", encoding=encoding, errors="replace") as fh:
        reader = csv.reader(fh, delimiter=delimiter, strict=True)
        width = None
        try:
            for row in reader:
                if width is None:
                    width = len(row)
                elif len(row) != width and row:
                    bad.append(reader.line_num)
        except csv.Error as err:
            bad.append(reader.line_num)
            report.lines.append(f"  {path}: stops parsing at line {reader.line_num}: {err}")
    if bad:
        report.problem(f"{path}: {len(bad)} malformed line(s) (field count differs from the header), "
                       f"first at line(s) {', '.join(map(str, bad[:3]))}")  # fmt: skip
    return encoding, delimiter


def reader_sql(path: Path, fmt: str, encoding: str = "utf-8", delimiter: str = ",") -> str:
    quoted = str(path).replace("'", "''")
    if fmt == "parquet":
        return f"read_parquet('{quoted}')"
    return (f"read_csv('{quoted}', header = true, all_varchar = true, delim = '{delimiter}', "
            f"encoding = '{encoding}', null_padding = true, ignore_errors = true)")  # fmt: skip


def check_values(con: duckdb.DuckDBPyConnection, rel: str, col: RawColumn, rows: int) -> str | None:
    """'<column>: <share> not parsed as <kind> (e.g. ...)' for a typed column with bad values, else None."""
    c = f'"{col.name}"'
    if col.parse == "enum":
        values = ", ".join("'" + v.lower().replace("'", "''") + "'" for v in col.values)
        parsed = f"lower(trim({c})) in ({values})"
    else:
        parsed = PARSED_SQL[col.parse].format(c=c)
    bad = f"trim(cast({c} as varchar)) <> '' and not ({parsed.replace(c, f'cast({c} as varchar)')})"
    n_bad = con.execute(f"select count(*) from {rel} where {bad}").fetchone()[0]
    if not n_bad:
        return None
    samples = [r[0] for r in con.execute(f"select distinct cast({c} as varchar) from {rel} where {bad} limit {SAMPLES}").fetchall()]
    shown = ", ".join(repr(mask(s, col.pii)) for s in samples)
    kind = "one of " + "/".join(col.values) if col.parse == "enum" else col.parse
    return f"{col.name}: {n_bad / rows:.2%} not parsed as {kind} ({n_bad:,} rows, e.g. {shown})"


def check_table(con: duckdb.DuckDBPyConnection, raw: Path, table: RawTable, fmt: str) -> TableReport:
    report = TableReport(table)
    kind = "required" if table.required else "optional"
    found = find_files(raw, table.name, fmt)
    where = f"{raw / table.name}.{fmt} or {raw / table.name}/*.{fmt}"
    if not found:
        other = [f for f in FORMATS if f != fmt and find_files(raw, table.name, f)]
        hint = f" (found .{other[0]} files: set microseg__raw_format / --format {other[0]})" if other else ""
        if table.required:
            report.problem(f"required source not found at {where}{hint}")
        report.lines.append(f"{table.name}: {kind}, MISSING at {where}{hint}" +
                            ("" if table.required else ": built empty"))  # fmt: skip
        return report
    report.files = [f for f in found if f.stat().st_size > 0]
    report.empty_files = [f for f in found if f.stat().st_size == 0]
    report.lines.append(f"{table.name}: {kind}, found {len(found)} file(s)")
    report.lines += [f"  {f}: zero bytes, skipped (no rows)" for f in report.empty_files]
    contract = {c.name.lower(): c for c in table.columns}
    for path in report.files:
        encoding, delimiter = check_csv_text(path, report) if fmt == "csv" else ("utf-8", ",")
        rel = reader_sql(path, fmt, encoding, delimiter)
        try:
            names = [d[0] for d in con.execute(f"describe select * from {rel}").fetchall()]
            rows = con.execute(f"select count(*) from {rel}").fetchone()[0]
        except duckdb.Error as err:
            report.problem(f"{path}: unreadable: {str(err).splitlines()[0]}")
            continue
        report.rows += rows
        lower = [n.lower() for n in names]
        missing = [c for c in contract if c not in lower]
        extra = [n for n in names if n.lower() not in contract]
        report.lines.append(f"  {path}: {rows:,} rows, {len(names)} columns")
        if missing:
            report.problem(f"{path}: missing column(s) {', '.join(missing)}")
        if extra:
            report.lines.append(f"  {path}: extra column(s) {', '.join(extra)} (ignored)")
        for name in names:
            col = contract.get(name.lower())
            if col is not None and col.parse and rows:
                finding = check_values(con, rel, RawColumn(name, col.description, col.parse, col.values, col.pii), rows)
                if finding:
                    report.lines.append(f"  {path}: {finding}")
    if not report.files and table.required:
        report.problem(f"required source has only zero-byte files: {', '.join(map(str, report.empty_files))}")
    elif not report.files:
        report.lines.append(f"  only zero-byte files: built empty")
    else:
        report.lines.append(f"  {report.rows:,} rows in total")
    return report


def preflight(raw: Path, fmt: str = "parquet") -> list[TableReport]:
    """One report per raw table of the contract, in the order of sources.yml."""
    con = duckdb.connect()
    return [check_table(con, raw, table, fmt) for table in load().values()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m microseg.preflight", description=__doc__.split("\n")[0])
    parser.add_argument("--raw", type=Path, required=True, help="the raw folder (var microseg__raw_path)")
    parser.add_argument("--format", choices=FORMATS, default=os.environ.get("MICROSEG_RAW_FORMAT", "parquet"),
                        help="raw file format (var microseg__raw_format; default: env MICROSEG_RAW_FORMAT or parquet)")
    args = parser.parse_args(argv)
    if not args.raw.is_dir():
        print(f"PROBLEM raw folder {args.raw} does not exist", file=sys.stderr)
        return 1
    reports = preflight(args.raw, args.format)
    print(f"raw folder {args.raw} (format {args.format}), contract models/sources.yml")
    for report in reports:
        print("\n".join(report.lines))
    problems = [p for r in reports for p in r.problems]
    for problem in problems:
        print(f"PROBLEM {problem}", file=sys.stderr)
    print(f"{len(problems)} problem(s)" if problems else "no problems: the build can read this folder")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
