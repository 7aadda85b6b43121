"""The raw contract is written once (models/sources.yml); every copy is derived from it or checked here."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from microseg import contract
from microseg.generate.enrichment import INCOME_BANDS
from microseg.generate.writer import RAW_COLUMNS

ROOT = Path(__file__).resolve().parents[2]


def test_data_contract_doc_is_generated_from_sources_yml():
    text = contract.DOCS.read_text(encoding="utf-8")
    assert contract.updated_docs(text) == text, "docs/data_contract.md is stale: python -m microseg.contract --write-docs"


def test_stale_doc_is_detected(tmp_path, monkeypatch):
    stale = contract.DOCS.read_text(encoding="utf-8").replace("| crm_id |", "| customer_id |", 1)
    doc = tmp_path / "data_contract.md"
    doc.write_text(stale, encoding="utf-8")
    monkeypatch.setattr(contract, "DOCS", doc)
    assert contract.main(["--check-docs"]) == 1
    assert contract.main(["--write-docs"]) == 0
    assert "| crm_id |" in doc.read_text(encoding="utf-8") and contract.main(["--check-docs"]) == 0


def test_required_and_optional_sources():
    tables = contract.load()
    assert [t for t in tables if tables[t].required] == ["crm_customers", "orders", "order_lines"]
    assert [t for t in tables if not tables[t].required] == ["events", "third_party", "erasure_requests"]
    assert all(t.enables and t.columns for t in tables.values())


def test_generator_writes_the_contract_columns():
    assert RAW_COLUMNS == contract.raw_columns()
    assert contract.columns("erasure_requests") == ("request_id", "identifier_type", "identifier_value", "requested_at")


def test_enums_match_the_other_copies():
    """The event types and income bands of sources.yml are the ones staging, the propensity target and the
    generator use (copies that cannot read sources.yml yet, checked here)."""
    events = {c.name: c for c in contract.load()["events"].columns}
    for path in ("models/staging/tracking/base_tracking__events.sql", "macros/propensity/propensity_target.sql"):
        block = re.search(r"set event_types = \[(.*?)\]", (ROOT / path).read_text(), re.S).group(1)
        assert set(re.findall(r"'(\w+)'", block)) == set(events["event_type"].values), path
    third_party = {c.name: c for c in contract.load()["third_party"].columns}
    assert INCOME_BANDS == third_party["income_band"].values


def test_every_var_has_a_config_check_rule():
    """Each microseg__* var of dbt_project.yml is validated at run start (macros/config/microseg_config_check.sql)."""
    project_vars = set(yaml.safe_load((ROOT / "dbt_project.yml").read_text())["vars"])
    macro = (ROOT / "macros/config/microseg_config_check.sql").read_text()
    rules = set(re.findall(r"\('(microseg__\w+)', '\w+'", macro))
    assert project_vars - rules == set(), "vars without a rule"
    assert rules - project_vars == set(), "rules for vars that do not exist"


def test_readme_lists_each_source_as_sources_yml_does():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    listed = dict(re.findall(r"^\| (\w+) \| (required|optional) \|", readme, re.M))
    listed.pop("table", None)  # the header row
    assert listed == {name: "required" if t.required else "optional" for name, t in contract.load().items()}
