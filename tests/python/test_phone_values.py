"""looks_like_phone / looks_like_formatted_phone (macros/hygiene/privacy_scan.sql), rendered with jinja and
run in DuckDB: what the staging checks and the PII scans take for a phone number, and that the cheap
first-character test in front of the regexp changes no answer."""

from __future__ import annotations

from pathlib import Path

import duckdb
import jinja2
import pytest

MACRO = Path(__file__).resolve().parents[2] / "macros" / "hygiene" / "privacy_scan.sql"

# value -> (looks_like_phone, looks_like_formatted_phone)
CASES = {
    "+49 30 1234567": (True, True),
    "(030) 123-4567 ": (True, True),
    "\t+49 30 1234567": (True, True),
    " 0301234567 ": (True, False),
    "\n+1 (555) 010-9999": (True, True),
    "030.123.4567": (True, True),
    "0301234567": (True, False),  # all digits: an order id in an identifier column
    "2026-01-01": (False, False),  # an ISO date
    "12345-6789": (False, False),  # a US ZIP+4 code
    "12345": (False, False),  # too few digits
    "1234567890123456": (False, False),  # more than E.164's 15
    "O000001234": (False, False),
    "a3f09c1e2b": (False, False),
    "page_view": (False, False),
    "\v0301234567": (False, False),  # not RE2's \s
    "\f0301234567": (True, True),  # a form feed and a return are \s (formatted: trim() strips spaces only)
    "\r+49 30 1234567": (True, True),
    "": (False, False),
    None: (None, None),
}


@pytest.fixture(scope="module")
def phone():
    source = MACRO.read_text() + "{{ looks_like_phone('raw') }} as phone, {{ looks_like_formatted_phone('raw') }}"
    sql = jinja2.Environment(extensions=["jinja2.ext.do"]).from_string(source).render(var=lambda *a: []).strip()
    con = duckdb.connect()

    def run(values: list) -> list:
        return [tuple(r) for r in con.execute(
            f"select {sql} from unnest(?) with ordinality as t(raw, n) order by n", [values]).fetchall()]

    return run


def test_phone_numbers_as_people_write_them(phone):
    got = dict(zip(CASES, phone(list(CASES))))
    assert {k: v for k, v in got.items() if v != CASES[k]} == {}


def test_the_first_character_test_changes_no_answer(phone):
    """Every first character from U+0001 to U+04AF in front of phone-like and other text: the same answer
    as the regexp rules alone (a first-character test that forgets `+`, `(` or whitespace fails it:
    planted)."""
    tails = ["4930123456", " +49 30 1234567", "(030) 123-4567 ", "0) 123 4567", "12345", "abc", "", "2026-01-01"]
    values = [chr(code) + tail for code in range(1, 1200) for tail in tails]
    regexp_only = """case
        when regexp_full_match(raw, '\\s*\\+?[0-9()./ -]{7,30}\\s*')
            then length(regexp_replace(raw, '[^0-9]', '', 'g')) between 7 and 15
                and not regexp_full_match(trim(raw), '[0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{5}-[0-9]{4}')
        when raw is not null then false
    end"""
    expected = [r[0] for r in duckdb.sql(
        f"select {regexp_only} from unnest(?) with ordinality as t(raw, n) order by n", params=[values]).fetchall()]
    got = [r[0] for r in phone(values)]
    assert sum(expected) > 50
    assert [v for v, g, e in zip(values, got, expected) if g != e] == []
