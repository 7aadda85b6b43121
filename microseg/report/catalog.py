"""Read-only access to a built DuckDB file: which tables exist, their columns, and queries as DataFrames.

Sections ask the catalog instead of assuming a table is there: a database built with part of the
project (the pytest shared build, a project without propensity) still gets a report, and a section
whose tables are missing says so instead of failing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

# raw.* are run-start views over the raw files: not report material, and they need the raw folder.
_SKIPPED_SCHEMAS = ("raw", "information_schema", "pg_catalog")


@dataclass
class Catalog:
    """The tables of one DuckDB file (``schema.table`` -> column names) and a read-only connection."""

    con: duckdb.DuckDBPyConnection
    columns_by_table: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def open(cls, path: str | Path) -> Catalog:
        """Open ``path`` read-only and list its tables and columns."""
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"report: no DuckDB file at {path} (run `make demo` or pass --duckdb)")
        con = duckdb.connect(str(path), read_only=True)
        return cls.from_connection(con)

    @classmethod
    def from_connection(cls, con: duckdb.DuckDBPyConnection) -> Catalog:
        """Catalog over an open connection (tests pass an in-memory database)."""
        skipped = ", ".join(f"'{s}'" for s in _SKIPPED_SCHEMAS)
        rows = con.execute(
            "select table_schema, table_name, column_name from information_schema.columns "
            f"where table_catalog = current_database() and table_schema not in ({skipped}) "
            "order by table_schema, table_name, ordinal_position"
        ).fetchall()
        columns: dict[str, list[str]] = {}
        for schema, table, column in rows:
            columns.setdefault(f"{schema}.{table}", []).append(column)
        return cls(con=con, columns_by_table=columns)

    def has(self, table: str, *columns: str) -> bool:
        """True when ``schema.table`` exists and has every one of ``columns``."""
        present = self.columns_by_table.get(table)
        return present is not None and all(c in present for c in columns)

    def columns(self, table: str) -> list[str]:
        return list(self.columns_by_table.get(table, []))

    def find(self, *patterns: str) -> list[str]:
        """Tables whose name (without schema) matches any regular expression in ``patterns``, sorted."""
        regexes = [re.compile(p) for p in patterns]
        return sorted(t for t in self.columns_by_table if any(r.search(t.split(".", 1)[1]) for r in regexes))

    def first(self, *tables: str) -> str | None:
        """The first of ``tables`` that exists (a mart before the ML table it copies)."""
        return next((t for t in tables if t in self.columns_by_table), None)

    def df(self, sql: str, params: list | None = None) -> pd.DataFrame:
        return self.con.execute(sql, params or []).df()

    def scalar(self, sql: str, params: list | None = None):
        row = self.con.execute(sql, params or []).fetchone()
        return None if row is None else row[0]
