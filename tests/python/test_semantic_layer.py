"""The semantic layer validates and every metric answers what its mart says.

`mf validate-configs` (semantics and every semantic model, dimension, entity,
measure and metric against the warehouse), then one `mf query` of all metrics
and grouped queries (through the customer entity, the time spine and the
segment entity), each figure compared with the same figure read straight from
the mart (microseg.semantic_check). On the shared 3,000-person build.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from microseg import semantic_check

ROOT = Path(__file__).resolve().parents[2]
PROJECT_FILES = ("models", "macros", "python_models", "seeds", "dbt_project.yml")
# Tables the semantic models read; the shared fixture builds a subset when it cannot reuse data/ci.
SEMANTIC_PARENTS = ("+metricflow_time_spine", "+mart_segment_sizes", "+fct_orders", "+propensity_scores",
                    "+mart_customer_features", "+mart_customer_rfm", "+dim_customers")  # fmt: skip


def _semantic_manifest_is_fresh() -> bool:
    built = ROOT / "target" / "semantic_manifest.json"
    if not built.exists():
        return False
    files = [p for name in PROJECT_FILES for p in ([ROOT / name] if name.endswith(".yml") else (ROOT / name).rglob("*"))]
    newest = max(p.stat().st_mtime for p in files if p.suffix in (".sql", ".yml", ".py", ".csv"))
    return built.stat().st_mtime > newest


def _manifest_database() -> str | None:
    import json

    manifest = json.loads((ROOT / "target" / "semantic_manifest.json").read_text())
    return next((m["node_relation"]["database"] for m in manifest["semantic_models"]), None)


@pytest.fixture(scope="module")
def semantic_db(dbt_build) -> Path:
    """The shared build's DuckDB file with every table a semantic model reads, and a fresh
    target/semantic_manifest.json (mf reads it from the project's target/ only)."""
    import duckdb

    con = duckdb.connect(str(dbt_build.db), read_only=True)
    have = {r[0] for r in con.execute("select table_name from information_schema.tables").fetchall()}
    con.close()
    if not {"metricflow_time_spine", "mart_segment_sizes", "fct_orders", "propensity_scores"} <= have:
        dbt_build.dbt("run", "--select", *SEMANTIC_PARENTS)
    # relations in the semantic manifest carry the database name (the file stem): parse on this file
    if not _semantic_manifest_is_fresh() or _manifest_database() != dbt_build.db.stem:
        env = {**os.environ, "MICROSEG_DUCKDB_PATH": str(dbt_build.db), "DBT_PROFILES_DIR": str(ROOT),
               "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}  # fmt: skip
        dbt = Path(sys.executable).with_name("dbt")
        run = subprocess.run([str(dbt), "parse"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
        assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    return dbt_build.db


@pytest.mark.dbt
def test_semantic_layer_validates(semantic_db):
    summary = semantic_check.validate(semantic_db)
    assert summary.count("(ERRORS: 0,") == 6, summary


@pytest.mark.dbt
def test_every_metric_answers_what_its_mart_says(semantic_db):
    metrics = semantic_check.metric_names()
    expected = {"customers", "active_customers", "revenue", "orders", "average_order_value", "segment_share",
                "expected_buyers", "retention_rate_365d"}  # fmt: skip
    assert expected <= set(metrics)
    assert set(metrics) <= set(semantic_check.MART_SQL), "every metric needs its mart figure"
    checks = semantic_check.run_checks(semantic_db, metrics)
    failed = [c for c in checks if not c.ok]
    assert failed == [], semantic_check.format_checks(failed)
    figures = {c.name: c.semantic for c in checks}
    assert 0 < figures["retention_rate_365d"] < 1
    assert 0 < figures["expected_buyers"] < figures["customers"]
    assert figures["active_customers"] <= figures["customers"]
