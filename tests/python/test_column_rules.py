"""The row rules of each model live in its one `column_rules` test (macros/tests/column_rules.sql).

dbt runs every data test as its own node, about 0.1 s of thread time however cheap
the query, so a model's not-null columns, accepted values, ranges, row expressions,
imputed not-null and canonical-category rules are declared once per model
(docs/decisions.md, "One column_rules test per model"). Read off the schema yml
of models, python models and seeds (no dbt run): each rule names a column the model documents, no rule is declared
twice, and no error-level rule of those kinds sits in a test of its own, where it
would cost a node again. Warn-level tests and tests with a config `where` stay
separate on purpose (a warning must not hide inside an error test).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_FILES = sorted(
    [*ROOT.glob("models/**/_*.yml"), *ROOT.glob("python_models/_*.yml"), *ROOT.glob("python_models/activation/_*.yml"),
     *ROOT.glob("seeds/_*.yml")]
)  # fmt: skip
# the test kinds column_rules covers; one declared alone with the default config costs a node for nothing
FOLDED = {"not_null_columns", "accepted_ranges", "accepted_range", "accepted_values", "expression_is_true",
          "imputed_not_null", "canonical_category"}  # fmt: skip
RULE_KINDS = ("accepted_values", "expression", "imputed_flag", "canonical_category")


@cache
def _models() -> list[tuple[str, dict]]:
    out = []
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    for path in SCHEMA_FILES:
        schema = yaml.load(path.read_text(), Loader=loader)
        for model in (schema.get("models") or []) + (schema.get("seeds") or []):
            out.append((str(path.relative_to(ROOT)), model))
    return out


def _tests(model: dict) -> list[tuple[str | None, str, dict]]:
    """(column or None, kind, spec) of each data test declared on the model or its columns."""
    found = [(None, t) for t in model.get("data_tests") or []]
    found += [(c["name"], t) for c in model.get("columns") or [] for t in c.get("data_tests") or []]
    out = []
    for column, test in found:
        if isinstance(test, str):
            out.append((column, test, {}))
        else:
            ((kind, spec),) = test.items()
            out.append((column, kind, spec or {}))
    return out


def rule_problems(model: dict) -> list[str]:
    """What is wrong with a model's column_rules declarations (empty when nothing)."""
    name = model["name"]
    documented = {c["name"] for c in model.get("columns") or []}
    problems = []
    rules_tests = [spec for _, kind, spec in _tests(model) if kind == "column_rules"]
    if len(rules_tests) > 1 and len({repr(s.get("config")) for s in rules_tests}) < len(rules_tests):
        problems.append(f"{name}: several column_rules tests with the same config (merge them)")
    for spec in rules_tests:
        args = spec.get("arguments") or {}
        seen = set()
        for column in args.get("not_null") or []:
            if column not in documented:
                problems.append(f"{name}: not_null names {column}, not a documented column")
            if ("not_null", column) in seen:
                problems.append(f"{name}: {column} not_null declared twice")
            seen.add(("not_null", column))
        for rule in args.get("rules") or []:
            kinds = [k for k in RULE_KINDS if k in rule] + (["range"] if {"min_value", "max_value"} & set(rule) else [])
            if len(kinds) != 1:
                problems.append(f"{name}: rule {rule} is not exactly one of {RULE_KINDS} or a range")
            if "column" in rule and rule["column"] not in documented:
                problems.append(f"{name}: rule {rule} names {rule['column']}, not a documented column")
            if "column" not in rule and "expression" not in rule:
                problems.append(f"{name}: rule {rule} names no column")
            key = repr(sorted(rule.items()))
            if key in seen:
                problems.append(f"{name}: rule {rule} declared twice")
            seen.add(key)
    for column, kind, spec in _tests(model):
        if kind in FOLDED and not spec.get("config"):
            where = f"{name}.{column}" if column else name
            problems.append(f"{where}: {kind} declared as its own error-level test; add it to column_rules__{name}")
    return problems


@pytest.mark.parametrize("path", [str(p.relative_to(ROOT)) for p in SCHEMA_FILES])
def test_rules_are_declared_once_per_model_on_documented_columns(path):
    problems = [p for file, model in _models() if file == path for p in rule_problems(model)]
    assert problems == []


def test_the_check_finds_a_stray_test_a_typo_and_a_duplicate():
    model = {
        "name": "m",
        "data_tests": [{"column_rules": {"arguments": {"not_null": ["a", "a"], "rules": [
            {"column": "b", "accepted_values": ["x"]}, {"column": "typo", "min_value": 0}, {"expression": "a > 0"}]}}}],
        "columns": [{"name": "a"}, {"name": "b", "data_tests": [{"accepted_values": {"arguments": {"values": ["y"]}}},
                                                                  {"accepted_values": {"config": {"severity": "warn"}}}]}],
    }  # fmt: skip
    problems = rule_problems(model)
    assert any("a not_null declared twice" in p for p in problems)
    assert any("names typo, not a documented column" in p for p in problems)
    assert any(p.startswith("m.b: accepted_values declared as its own") for p in problems)
    assert len(problems) == 3, problems  # the warn-level test stays apart without complaint
