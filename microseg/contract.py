"""The raw contract, read from models/sources.yml (the one place it is written).

Every raw table microseg reads: its columns in order, their descriptions, how
staging parses each one (``parse``: timestamp, date, number, integer or enum
with ``values``), which columns hold PII, whether a business must deliver the
table (``required``) and what it enables. The generator, the CDNOW mapping, the
preflight (``python -m microseg.preflight``) and the tests take their column
lists from here; dbt reads the same file (macros/staging/raw_columns.sql).

``python -m microseg.contract --write-docs`` regenerates the raw-table part of
docs/data_contract.md; ``--check-docs`` exits 1 when it is stale.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
SOURCES_YML = ROOT / "models" / "sources.yml"
DOCS = ROOT / "docs" / "data_contract.md"
BEGIN = "<!-- BEGIN raw contract: generated from models/sources.yml by `python -m microseg.contract --write-docs` -->"
END = "<!-- END raw contract -->"
PARSE_KINDS = ("timestamp", "date", "number", "integer", "enum")


@dataclass(frozen=True)
class RawColumn:
    """One raw column: always text in the file; ``parse`` says how staging reads it."""

    name: str
    description: str
    parse: str | None = None
    values: tuple[str, ...] = ()
    pii: bool = False


@dataclass(frozen=True)
class RawTable:
    """One raw table (a dbt source table) and its contract columns in file order."""

    name: str
    source: str
    description: str
    required: bool
    enables: str
    columns: tuple[RawColumn, ...]

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


def _meta(node: dict) -> dict:
    """meta under config (dbt >= 1.10) or at the top level."""
    return {**(node.get("meta") or {}), **((node.get("config") or {}).get("meta") or {})}


@lru_cache(maxsize=None)
def load(path: Path = SOURCES_YML) -> dict[str, RawTable]:
    """Raw tables by name, in the order of sources.yml. Raises ValueError on a malformed entry."""
    doc = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    tables: dict[str, RawTable] = {}
    for source in doc["sources"]:
        for table in source["tables"]:
            meta = _meta(table)
            cols = []
            for col in table["columns"]:
                cmeta = _meta(col)
                parse = cmeta.get("parse")
                if parse is not None and parse not in PARSE_KINDS:
                    raise ValueError(f"{path}: {table['name']}.{col['name']}: parse {parse!r} not in {PARSE_KINDS}")
                values = tuple(str(v) for v in cmeta.get("values", ()))
                if (parse == "enum") != bool(values):
                    raise ValueError(f"{path}: {table['name']}.{col['name']}: enum needs values and values need enum")
                cols.append(RawColumn(col["name"], col.get("description", ""), parse, values, bool(cmeta.get("pii"))))
            if "required" not in meta or "enables" not in meta:
                raise ValueError(f"{path}: {table['name']}: meta needs required and enables")
            tables[table["name"]] = RawTable(
                table["name"], source["name"], table.get("description", ""), bool(meta["required"]),
                str(meta["enables"]), tuple(cols),
            )  # fmt: skip
    return tables


def columns(table: str) -> tuple[str, ...]:
    """Contract column names of one raw table, in file order."""
    return load()[table].column_names


def raw_columns() -> dict[str, tuple[str, ...]]:
    """Contract column names of every raw table, in the order of sources.yml."""
    return {name: t.column_names for name, t in load().items()}


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _parsed_as(col: RawColumn) -> str:
    if col.parse == "enum":
        return "one of " + ", ".join(f"`{v}`" for v in col.values) + " (any casing)"
    return {"timestamp": "timestamp (ISO-8601)", "date": "date", "number": "number", "integer": "integer"}.get(
        col.parse or "", "text"
    ) + (", PII" if col.pii else "")


def render_docs(tables: dict[str, RawTable] | None = None) -> str:
    """The generated raw-table section of docs/data_contract.md (between BEGIN and END)."""
    tables = load() if tables is None else tables
    out = [BEGIN, "", "| table | required | enables |", "|---|---|---|"]
    out += [f"| {t.name} | {'required' if t.required else 'optional'} | {_cell(t.enables)} |" for t in tables.values()]
    out += [
        "",
        "A required table must exist (it may hold no rows); an optional table may be absent: its staging models are",
        "then built empty and the build logs `source <table> not found at <path>: built empty`.",
    ]
    for t in tables.values():
        out += ["", f"### {t.name} ({'required' if t.required else 'optional'})", "", _cell(t.description), ""]
        out += [f"Enables: {_cell(t.enables)}.", "", "| column | meaning | parsed as |", "|---|---|---|"]
        out += [f"| {c.name} | {_cell(c.description)} | {_cell(_parsed_as(c))} |" for c in t.columns]
    out += ["", END]
    return "\n".join(out)


def updated_docs(text: str, tables: dict[str, RawTable] | None = None) -> str:
    """``text`` (docs/data_contract.md) with the generated section replaced."""
    if BEGIN not in text or END not in text:
        raise ValueError(f"{DOCS}: markers {BEGIN!r} / {END!r} not found")
    head, rest = text.split(BEGIN, 1)
    tail = rest.split(END, 1)[1]
    return head + render_docs(tables) + tail


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m microseg.contract", description=__doc__.split("\n")[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--write-docs", action="store_true", help=f"regenerate the raw contract in {DOCS.name}")
    group.add_argument("--check-docs", action="store_true", help=f"exit 1 when {DOCS.name} is stale")
    args = parser.parse_args(argv)
    text = DOCS.read_text(encoding="utf-8")
    new = updated_docs(text)
    if args.write_docs:
        if new != text:
            DOCS.write_text(new, encoding="utf-8")
        print(f"{DOCS}: {'updated' if new != text else 'up to date'}")
        return 0
    if new != text:
        print(f"{DOCS} is stale: run python -m microseg.contract --write-docs", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
