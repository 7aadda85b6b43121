"""make check-raw (microseg.preflight) on small damaged raw folders: each damage is reported in one line."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from microseg import contract, preflight

# one valid text value per `parse` kind of sources.yml
VALID = {"timestamp": "2026-03-01T10:15:00+01:00", "date": "1990-04-17", "number": "0.5", "integer": "2"}
EMAIL = "anna.schmidt@example.com"


def row(table: str, i: int) -> dict[str, str]:
    out = {}
    for col in contract.load()[table].columns:
        out[col.name] = col.values[0] if col.parse == "enum" else VALID.get(col.parse or "", f"{col.name}_{i}")
    return out


def write_csv(path: Path, rows: list[dict[str, str]], delimiter: str = ",", encoding: str = "utf-8") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding=encoding) as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]), delimiter=delimiter, quoting=csv.QUOTE_ALL)
        writer.writeheader()
        writer.writerows(rows)


@pytest.fixture
def raw(tmp_path) -> Path:
    """A clean CSV raw folder: every table, three rows each."""
    for table in contract.load():
        write_csv(tmp_path / f"{table}.csv", [row(table, i) for i in range(3)])
    return tmp_path


def run(raw: Path, capsys) -> tuple[int, str, list[str]]:
    code = preflight.main(["--raw", str(raw), "--format", "csv"])
    out = capsys.readouterr()
    return code, out.out, [line for line in out.err.splitlines() if line.startswith("PROBLEM")]


def test_clean_folder_passes(raw, capsys):
    code, out, problems = run(raw, capsys)
    assert (code, problems) == (0, [])
    assert "orders: required, found 1 file(s)" in out and "3 rows in total" in out


def test_missing_required_and_optional_sources(raw, capsys):
    (raw / "orders.csv").unlink()
    (raw / "events.csv").unlink()
    code, out, problems = run(raw, capsys)
    assert code == 1
    assert problems == [f"PROBLEM orders: required source not found at {raw}/orders.csv or {raw}/orders/*.csv"]
    assert f"events: optional, MISSING at {raw}/events.csv or {raw}/events/*.csv: built empty" in out


def test_folder_of_files_is_one_source(raw, capsys):
    (raw / "orders.csv").unlink()
    write_csv(raw / "orders" / "2026-05.csv", [row("orders", i) for i in range(2)])
    write_csv(raw / "orders" / "2026-06.csv", [row("orders", i) for i in range(5)])
    code, out, problems = run(raw, capsys)
    assert (code, problems) == (0, [])
    assert "orders: required, found 2 file(s)" in out and "7 rows in total" in out


def test_zero_byte_csv_is_skipped_not_misread(raw, capsys):
    (raw / "third_party.csv").write_bytes(b"")
    code, out, problems = run(raw, capsys)
    assert (code, problems) == (0, [])
    assert f"{raw}/third_party.csv: zero bytes, skipped" in out and "only zero-byte files: built empty" in out


def test_zero_byte_required_file_is_a_problem(raw, capsys):
    (raw / "orders.csv").write_bytes(b"")
    code, out, problems = run(raw, capsys)
    assert code != 0 and any("orders.csv" in p and "only zero-byte files" in p for p in problems), problems


def test_semicolon_delimiter_and_decimal_commas(raw, capsys):
    rows = [{**row("order_lines", i), "unit_price": "19,99"} for i in range(4)]
    write_csv(raw / "order_lines.csv", rows, delimiter=";")
    code, out, problems = run(raw, capsys)
    assert code == 1
    assert problems == [f"PROBLEM order_lines: {raw}/order_lines.csv: delimiter is ';'; the build reads comma-delimited CSV"]
    assert "unit_price: 100.00% not parsed as number (4 rows, e.g. '19,99')" in out


def test_missing_and_extra_columns(raw, capsys):
    write_csv(raw / "crm_customers.csv", [{k: v for k, v in row("crm_customers", i).items() if k != "email"} for i in range(2)])
    write_csv(raw / "events.csv", [{"row_number": str(i), **row("events", i), "load_id": "L1"} for i in range(2)])
    code, out, problems = run(raw, capsys)
    assert problems == [f"PROBLEM crm_customers: {raw}/crm_customers.csv: missing column(s) email"]
    assert f"{raw}/events.csv: extra column(s) row_number, load_id (ignored)" in out


def test_malformed_line(raw, capsys):
    path = raw / "orders.csv"
    lines = path.read_text().splitlines()
    lines.insert(2, '"O1","A1","2026-03-01T10:00:00Z","EUR","web","card","surplus"')
    path.write_text("\n".join(lines) + "\n")
    code, out, problems = run(raw, capsys)
    assert code == 1
    assert problems == [f"PROBLEM orders: {path}: 1 malformed line(s) (field count differs from the header), first at line(s) 3"]


def test_latin1_encoding(raw, capsys):
    rows = [{**row("crm_customers", i), "city": "Köln"} for i in range(2)]
    write_csv(raw / "crm_customers.csv", rows, encoding="latin-1")
    code, out, problems = run(raw, capsys)
    assert code == 1
    assert len(problems) == 1 and "crm_customers.csv: not UTF-8 (byte 0xf6 at offset" in problems[0]


def test_unparseable_values_are_reported_masked(raw, capsys):
    rows = [{**row("crm_customers", i), "signup_at": EMAIL, "birth_date": "31.12.1990", "phone": "030 1234567"}
            for i in range(2)]  # fmt: skip
    rows[0]["updated_at"] = "call 01711234567"
    write_csv(raw / "crm_customers.csv", rows)
    code, out, problems = run(raw, capsys)
    assert (code, problems) == (0, [])
    assert "signup_at: 100.00% not parsed as timestamp (2 rows, e.g. 'a***.*******@*******.***')" in out
    assert "birth_date: 100.00% not parsed as date (2 rows, e.g. '3*.**.****')" in out
    assert "updated_at: 50.00% not parsed as timestamp (1 rows, e.g. 'call ***********')" in out
    assert EMAIL not in out and "1234567" not in out and "1990" not in out
