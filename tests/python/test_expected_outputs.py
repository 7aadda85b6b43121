"""Expected-output tests (the Snowplow / Fivetran integration-test convention).

dbt builds the marts from a tiny hand-made raw dataset (tests/fixtures/expected/raw,
every row explained in its README.md), and every row of each mart that does not
depend on ML is compared with a file written down by hand from the rules
(tests/fixtures/expected/<model>.csv): order-insensitive, typed by the model's
column types, floats to a tolerance. A failure prints one line per difference.

Hand-written files cannot know opaque values, so they name them by what they stand for:
- `customer`: a person label (anna, ben, ...) in place of customer_key. The labels are
  bound to keys through customer_identity_map, whose file lists which identifiers end
  in the same customer: one label per key and one key per label, or the diff shows
  `anna+ben` (two persons merged) or `anna#1` / `anna#2` (one person split).
- emails and phones as their normalized text (`email`, `phone` in place of
  email_hash, phone_hash; source_id of email / phone rows of the identity map);
  the test hashes them with the demo salt as staging does: sha256(salt || value).
"""

from __future__ import annotations

import csv
import hashlib
import math
import os
import sys
from collections import defaultdict
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from conftest import invoke_dbt

ROOT = Path(__file__).resolve().parents[2]
EXPECTED = ROOT / "tests" / "fixtures" / "expected"
RAW = EXPECTED / "raw"
SALT = "microseg-demo-salt"
AS_OF_DATE = "2025-06-30"

#: model -> the expected file's key columns (one row per key)
KEYS: dict[str, tuple[str, ...]] = {
    "customer_identity_map": ("source", "source_id"),
    "fct_orders": ("order_id",),
    "mart_customer_rfm": ("customer",),
    "dim_customers": ("customer",),
    "data_quality_summary": ("source_table",),
    "erasure_audit": ("request_id",),
    "fct_events": ("event_id",),
}
#: model column holding a salted hash -> the expected file's plain-text column
HASH_COLUMNS = {"email_hash": "email", "phone_hash": "phone"}

pytestmark = pytest.mark.dbt


def pii_hash(value: str) -> str:
    """Staging's hash_pii: sha256 of salt || normalized value, hex."""
    return hashlib.sha256((SALT + value).encode()).hexdigest()


def read_expected(model: str) -> tuple[list[str], list[dict[str, str]]]:
    with (EXPECTED / f"{model}.csv").open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


@pytest.fixture(scope="module")
def fixture_db(tmp_path_factory) -> Path:
    """The fixture's raw CSVs built with dbt into a DuckDB file of its own: the
    non-ML marts and their parents (the identity components are a Python model,
    but no ML), as of AS_OF_DATE. dbt's data tests are not run here: `make
    dbt-test` runs them on generated data."""
    tmp = tmp_path_factory.mktemp("expected_outputs")
    db = tmp / "fixture.duckdb"
    env = {
        **os.environ,
        "MICROSEG_RAW_PATH": str(RAW),
        "MICROSEG_RAW_FORMAT": "csv",
        "MICROSEG_DUCKDB_PATH": str(db),
        "MICROSEG_PII_SALT": SALT,
        "DBT_PROFILES_DIR": str(ROOT),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    dbt = Path(sys.executable).with_name("dbt")
    select = [f"+{model}" for model in KEYS]
    command = [str(dbt), "build", "--select", *select, "--exclude", "resource_type:test", "resource_type:unit_test",
               "--vars", f"{{microseg__as_of_date: '{AS_OF_DATE}'}}", "--threads", "1",
               "--target-path", str(tmp / "target"), "--log-path", str(tmp / "logs"), "--project-dir", str(ROOT)]  # fmt: skip
    run = invoke_dbt(command[1:], cwd=ROOT, env=env)  # in the worker's process (conftest.invoke_dbt)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    return db


def actual_table(db: Path, model: str) -> tuple[dict[str, str], list[dict]]:
    """The model's column types and rows (Python values)."""
    with duckdb.connect(str(db), read_only=True) as con:
        relation = con.sql(f"select * from marts.{model}")
        types = {name: str(dtype) for name, dtype in zip(relation.columns, relation.dtypes)}
        rows = [dict(zip(relation.columns, row)) for row in relation.fetchall()]
    return types, rows


@pytest.fixture(scope="module")
def plain_by_hash() -> dict[str, str]:
    """Every email and phone the expected files name, by its salted hash."""
    values = set()
    for model in KEYS:
        columns, rows = read_expected(model)
        for row in rows:
            values.update(row[column] for column in HASH_COLUMNS.values() if column in columns and row[column])
            if model == "customer_identity_map" and row["source"] in ("email", "phone"):
                values.add(row["source_id"])
    return {pii_hash(value): value for value in values}


@pytest.fixture(scope="module")
def label_by_key(fixture_db: Path, plain_by_hash: dict[str, str]) -> dict[str, str]:
    """customer_key -> person label, from customer_identity_map and its expected
    file. A key whose identifiers carry several labels is `a+b`; a label spread
    over several keys is `a#1`, `a#2` (keys in sorted order), so that both
    mistakes show up as differences."""
    _, expected = read_expected("customer_identity_map")
    label_of = {(row["source"], row["source_id"]): row["customer"] for row in expected}
    _, rows = actual_table(fixture_db, "customer_identity_map")
    labels_of_key: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        source_id = plain_by_hash.get(row["source_id"], row["source_id"])
        label = label_of.get((row["source"], source_id))
        if label:
            labels_of_key[row["customer_key"]].add(label)
    names = {key: "+".join(sorted(labels)) for key, labels in labels_of_key.items()}
    keys_of_name: dict[str, list[str]] = defaultdict(list)
    for key in sorted(names):
        keys_of_name[names[key]].append(key)
    for name, keys in keys_of_name.items():
        if len(keys) > 1:
            names.update({key: f"{name}#{index}" for index, key in enumerate(keys, start=1)})
    return names


def readable(model: str, row: dict, label_by_key: dict[str, str], plain_by_hash: dict[str, str]) -> dict:
    """A model row in the vocabulary of the expected files: customer labels and
    plain emails / phones in place of keys and hashes (unknown ones shown short)."""
    out = {}
    for column, value in row.items():
        if column == "customer_key":
            column = "customer"
            value = None if value is None else label_by_key.get(value, f"<unknown key {value[:8]}>")
        elif column in HASH_COLUMNS or (model == "customer_identity_map" and column == "source_id"):
            column = HASH_COLUMNS.get(column, column)
            if value is not None and row.get("source", "email") in ("email", "phone"):
                value = plain_by_hash.get(value, f"<unknown hash {value[:8]}>")
        out[column] = value
    return out


def parse(text: str, sql_type: str):
    """Expected CSV text as the model's column type; empty text is null."""
    if text == "":
        return None
    sql_type = sql_type.upper()
    if sql_type in ("BIGINT", "INTEGER", "HUGEINT", "SMALLINT", "TINYINT", "UBIGINT", "UINTEGER"):
        return int(text)
    if sql_type.startswith("DECIMAL"):
        return Decimal(text)
    if sql_type in ("DOUBLE", "FLOAT", "REAL"):
        return float(text)
    if sql_type == "BOOLEAN":
        return {"true": True, "false": False}[text.lower()]
    if sql_type == "DATE":
        return date.fromisoformat(text)
    if sql_type == "TIMESTAMP":
        return datetime.fromisoformat(text)
    return text


def show(value) -> str:
    """A value as the expected files write it: null, 'text', 2025-01-15 09:00:00, 80.00."""
    if value is None:
        return "null"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def same(expected, actual) -> bool:
    if isinstance(expected, float) and isinstance(actual, float):
        return math.isclose(expected, actual, rel_tol=1e-9, abs_tol=1e-6)
    return expected == actual


def differences(model: str, columns: list[str], expected: list[dict], actual: list[dict]) -> list[str]:
    """One readable line per difference between the expected and actual rows."""
    keys = KEYS[model]

    def key_text(key: tuple) -> str:
        return ", ".join(f"{name}={value}" for name, value in zip(keys, key))

    lines = []
    by_key: dict[str, dict[tuple, dict]] = {"expected": {}, "actual": {}}
    for side, rows in (("expected", expected), ("actual", actual)):
        for row in rows:
            key = tuple(row[name] for name in keys)
            if key in by_key[side]:
                lines.append(f"{side} has two rows for {key_text(key)}")
            by_key[side][key] = row
    for key in sorted(by_key["expected"].keys() - by_key["actual"].keys(), key=str):
        lines.append(f"missing row {key_text(key)}")
    for key in sorted(by_key["actual"].keys() - by_key["expected"].keys(), key=str):
        row = by_key["actual"][key]
        lines.append(f"unexpected row {key_text(key)}: " + ", ".join(f"{c}={show(row[c])}" for c in columns))
    for key in sorted(by_key["expected"].keys() & by_key["actual"].keys(), key=str):
        want, got = by_key["expected"][key], by_key["actual"][key]
        for column in columns:
            if not same(want[column], got[column]):
                lines.append(f"{key_text(key)}: {column} expected {show(want[column])}, actual {show(got[column])}")
    return lines


@pytest.mark.parametrize("model", list(KEYS))
def test_model_rows_equal_expected_file(model, fixture_db, label_by_key, plain_by_hash):
    columns, expected_text = read_expected(model)
    types, rows = actual_table(fixture_db, model)
    actual = [readable(model, row, label_by_key, plain_by_hash) for row in rows]
    readable_types = {
        {"customer_key": "customer", **HASH_COLUMNS}.get(name, name): sql_type for name, sql_type in types.items()
    }
    unknown = [column for column in columns if column not in readable_types]
    assert not unknown, f"{model}.csv names columns the model does not have: {unknown}"
    expected = [{column: parse(row[column], readable_types[column]) for column in columns} for row in expected_text]
    lines = differences(model, columns, expected, actual)
    assert not lines, f"marts.{model} differs from tests/fixtures/expected/{model}.csv:\n  " + "\n  ".join(lines)
