"""Project SQL rules that sqlfluff cannot see.

An import CTE (``name as (select * from {{ ref(...) }})``) read more than once
in a query is declared ``as not materialized`` (or ``as materialized`` where the
copy is wanted: it spills, where inlined windows and aggregations may not): DuckDB materializes a CTE read
twice, so a plain import CTE copied the whole table, every column, before the
query read a few of them (propensity_features at 1,000,000 persons: 98 s and
4.8 GiB spilled with the copies, 48 s without; int_identity__identifier_links
61 s against 6 s, its events view copied whole). Reads are counted as
``from name`` / ``join name`` and as a macro argument ``'name'`` (the feature
macros take CTE names).
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
IMPORT_CTE = re.compile(r"(?m)^\s*(\w+) as \(\s*select \* from \{\{ (?:ref|source)\([^)]*\) \}\}\s*\)")


def materialized_import_ctes(text: str) -> list[tuple[str, int]]:
    """(name, reads) of each plain import CTE in `text` that is read more than once."""
    found = []
    for match in IMPORT_CTE.finditer(text):
        name = match.group(1)
        reads = len(re.findall(rf"\b(?:from|join)\s+{name}\b(?!\.)|'{name}'", text))
        if reads > 1:
            found.append((name, reads))
    return found


def test_import_ctes_read_twice_are_not_materialized():
    offenders = [
        f"{path.relative_to(ROOT)}: {name} ({reads} reads)"
        for folder in ("models", "tests", "analyses")
        for path in sorted((ROOT / folder).rglob("*.sql"))
        for name, reads in materialized_import_ctes(path.read_text())
    ]
    assert not offenders, "declare these import CTEs `as not materialized`:\n" + "\n".join(offenders)


def test_the_rule_finds_a_plain_import_cte_read_twice():
    query = """with
orders as (
    select * from {{ ref('int_behaviour__orders') }}
),
lines as not materialized (
    select * from {{ ref('int_behaviour__order_lines') }}
),
a as (select * from orders), b as (select count(*) from orders join lines using (order_id))
select * from a, b, lines
"""
    assert materialized_import_ctes(query) == [("orders", 2)]
    assert materialized_import_ctes(query.replace("orders as (", "orders as not materialized (")) == []
