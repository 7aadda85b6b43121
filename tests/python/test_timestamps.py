"""macros/staging/to_utc_timestamp.sql, rendered with jinja and run in DuckDB: mixed-zone ISO-8601 text to UTC,
null for everything else, whatever the session TimeZone. The bench check that the cheaper form returns the
same values as the earlier one on every raw timestamp is in docs/decisions.md ("Timestamp parsing cost")."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb
import jinja2
import pytest

MACRO = Path(__file__).resolve().parents[2] / "macros" / "staging" / "to_utc_timestamp.sql"

CASES = {
    # offsets: converted to UTC; 14:00 is the widest, minutes stay below 60
    "2025-01-01T10:00:00+02:00": datetime(2025, 1, 1, 8, 0),
    "2025-01-01T10:00:00.5-05:00": datetime(2025, 1, 1, 15, 0, 0, 500000),
    "2025-01-01 10:00+0530": datetime(2025, 1, 1, 4, 30),
    "2025-01-01 10:00+05": datetime(2025, 1, 1, 5, 0),
    "2025-01-01 10:00-13:59": datetime(2025, 1, 1, 23, 59),
    "2025-01-01 10:00+14:00": datetime(2024, 12, 31, 20, 0),
    "2025-01-01 10:00+1400": datetime(2024, 12, 31, 20, 0),
    "2025-01-01 10:00+14": datetime(2024, 12, 31, 20, 0),
    "2025-01-01T10:00:00+02:00\n": datetime(2025, 1, 1, 8, 0),
    "2025-01-01 10:00+14:01": None,
    "2025-01-01 10:00+15:00": None,
    "2025-01-01 10:00+05:75": None,
    "2025-01-01 10:00+99": None,
    "2025-01-01 10:00 +02:00": None,
    # Z right after the time, or no zone: read as UTC
    "2025-01-01T10:00Z": datetime(2025, 1, 1, 10, 0),
    " 2025-01-01T10:00:00.123456789Z ": datetime(2025, 1, 1, 10, 0, 0, 123456),
    "2025-01-01 1:02Z": datetime(2025, 1, 1, 1, 2),
    "2025-01-01 24:00:00Z": datetime(2025, 1, 2, 0, 0),
    "2025-01-01 10:00": datetime(2025, 1, 1, 10, 0),
    "2025-01-01": datetime(2025, 1, 1),
    "2025-01-01 10:00 Z": None,
    "2025-01-01 10:00z": None,
    "2025-01-01Z": None,
    # not a date-time, or a zone name a plain cast would misread
    "2025-02-30T10:00:00Z": None,
    "2025-01-01T25:00:00Z": None,
    "2025-01-01T10:60Z": None,
    "infinity": None,
    "epoch": None,
    "2025-01-01 10:00 CET": None,
    "2025-01-01 10:00 Europe/Berlin": None,
    "": None,
    "  ": None,
    None: None,
}


@pytest.fixture(scope="module")
def to_utc():
    source = MACRO.read_text() + "{{ to_utc_timestamp('raw') }}"
    sql = jinja2.Environment().from_string(source).render().strip()
    con = duckdb.connect()
    con.execute("set TimeZone = 'America/New_York'")  # the result must not depend on it

    def run(values: list) -> list:
        return [r[0] for r in con.execute(f"select {sql} from unnest(?) with ordinality as t(raw, n) order by n",
                                          [values]).fetchall()]  # fmt: skip

    return run


def test_mixed_zone_text_becomes_utc_or_null(to_utc):
    """Every case at once (a wrong offset bound, e.g. 15:00 let through, or a `Z` read in the session zone
    fails it: planted)."""
    got = dict(zip(CASES, to_utc(list(CASES))))
    assert {k: v for k, v in got.items() if v != CASES[k]} == {}
