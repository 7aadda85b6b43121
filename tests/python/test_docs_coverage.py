"""Every model, column, seed, var and metric is documented (the docs site, `make docs`).

Read off dbt's manifest (target/manifest.json when fresh, else `dbt parse`):
a model, seed, semantic model or metric without a description, a yml column
without one (or with one that only repeats its name), and, against the CI
build's DuckDB file when it is fresh (`make dbt-test`), a column the built
table has but the yml does not list.
Vars: every key under `vars:` in dbt_project.yml has a comment in the block
of lines it belongs to (the comment says what it means and its unit).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from conftest import CI_DIR, ci_build_is_fresh

ROOT = Path(__file__).resolve().parents[2]
PROJECT_FILES = ("models", "macros", "python_models", "tests", "seeds", "dbt_project.yml")


def _fresh_manifest() -> Path | None:
    built = ROOT / "target" / "manifest.json"
    if not built.exists():
        return None
    files = [p for name in PROJECT_FILES for p in ([ROOT / name] if name.endswith(".yml") else (ROOT / name).rglob("*"))]
    newest = max(p.stat().st_mtime for p in files if p.suffix in (".sql", ".yml", ".py", ".csv", ".md"))
    return built if built.stat().st_mtime > newest else None


@pytest.fixture(scope="module")
def manifest(tmp_path_factory) -> dict:
    fresh = _fresh_manifest()
    if fresh is not None:
        return json.loads(fresh.read_text())
    target = tmp_path_factory.mktemp("docs_target")
    env = {**os.environ, "MICROSEG_DUCKDB_PATH": ":memory:", "DBT_PROFILES_DIR": str(ROOT),
           "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}  # fmt: skip
    dbt = Path(sys.executable).with_name("dbt")
    run = subprocess.run([str(dbt), "parse", "--target-path", str(target), "--log-path", str(target / "logs")],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)  # fmt: skip
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    return json.loads((target / "manifest.json").read_text())


def _own(manifest: dict, kinds: tuple[str, ...]) -> list[dict]:
    project = manifest["metadata"].get("project_name", "microseg")
    return [n for n in manifest["nodes"].values() if n["resource_type"] in kinds and n["package_name"] == project]


def says_nothing(column: str, description: str) -> bool:
    """An empty description, or one that only repeats the column name ("Order id." for order_id)."""
    words = description.strip().rstrip(".").lower()
    return words in ("", column.lower(), column.replace("_", " ").lower())


def undocumented(manifest: dict, built_columns: dict[str, list[str]] | None = None) -> dict[str, list[str]]:
    """What lacks a description, by kind: models, seeds, columns (model.column), semantic (models and metrics)
    and, when ``built_columns`` (node name -> columns of its built table) is given, columns the yml omits."""
    gaps: dict[str, list[str]] = {"models": [], "seeds": [], "columns": [], "columns_not_in_yml": [], "semantic": []}
    for node in _own(manifest, ("model", "seed")):
        kind = "models" if node["resource_type"] == "model" else "seeds"
        if not node.get("description", "").strip():
            gaps[kind].append(node["name"])
        for column, spec in node.get("columns", {}).items():
            if says_nothing(column, spec.get("description", "")):
                gaps["columns"].append(f"{node['name']}.{column}")
        if built_columns is not None and node["name"] in built_columns:
            listed = {c.lower() for c in node.get("columns", {})}
            # data-driven columns (one per category, window, ...) are documented by the model's description
            # naming their pattern: category_share_<category> or category_affinity_*
            prefixes = tuple(re.findall(r"\b([a-z0-9_]+_)(?:<[a-z_]+>|\*)", node.get("description", "")))
            gaps["columns_not_in_yml"] += [f"{node['name']}.{c}" for c in built_columns[node["name"]]
                                           if c.lower() not in listed and not (prefixes and c.startswith(prefixes))]  # fmt: skip
    for kind in ("semantic_models", "metrics", "exposures"):
        for node in manifest.get(kind, {}).values():
            if not node.get("description", "").strip():
                gaps["semantic"].append(f"{kind}.{node['name']}")
    return {k: sorted(v) for k, v in gaps.items()}


def undocumented_vars(project_yml: str) -> list[str]:
    """Keys under `vars:` whose block (lines since the previous blank line or comment-free var) has no comment."""
    lines = project_yml.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("vars:"))
    missing, commented = [], False
    for line in lines[start + 1:]:
        if line and not line.startswith(" "):
            break  # next top-level key
        stripped = line.strip()
        if not stripped:
            commented = False
        elif stripped.startswith("#"):
            commented = True
        elif m := re.match(r"^  ([a-z0-9_]+):", line):
            if not commented:
                missing.append(m.group(1))
    return missing


def _built_columns(manifest: dict) -> dict[str, list[str]]:
    con = duckdb.connect(str(CI_DIR / "microseg.duckdb"), read_only=True)
    try:
        rows = con.execute("select table_schema, table_name, column_name from information_schema.columns "
                           "order by table_schema, table_name, ordinal_position").fetchall()  # fmt: skip
    finally:
        con.close()
    by_relation: dict[tuple[str, str], list[str]] = {}
    for schema, table, column in rows:
        by_relation.setdefault((schema, table), []).append(column)
    return {n["name"]: by_relation[(n["schema"], n["alias"] or n["name"])] for n in _own(manifest, ("model", "seed"))
            if (n["schema"], n["alias"] or n["name"]) in by_relation}  # fmt: skip


def test_every_model_seed_column_and_metric_is_documented(manifest):
    built = _built_columns(manifest) if ci_build_is_fresh() else None
    gaps = undocumented(manifest, built)
    not_in_yml = gaps.pop("columns_not_in_yml")
    gaps = {k: v for k, v in gaps.items() if v}
    assert gaps == {}, f"undocumented { {k: len(v) for k, v in gaps.items()} }: {gaps}"
    if built is None:
        pytest.skip("no fresh CI build (make dbt-test): built columns not compared with the yml")
    # every built column is listed with a description (staging base_ models included: their raw_<column> copies
    # are named by the model description's pattern); data-driven columns by a pattern in the model description
    assert not_in_yml == [], f"built columns missing from the yml (document them): {not_in_yml}"


def vars_missing_from_readme(project_yml: str, readme: str) -> list[str]:
    """Vars of dbt_project.yml the README's var tables do not name: in full (`microseg__x_min`) or as a
    shorthand beside a sibling on the same line (`microseg__x_min` / `_x_max`)."""
    names = re.findall(r"^  (microseg__[a-z0-9_]+):", project_yml, re.M)
    named: set[str] = set()
    for line in readme.splitlines():
        full, short = re.findall(r"`(microseg__[a-z0-9_]+)`", line), re.findall(r"`(_[a-z0-9_]+)`", line)
        named |= set(full) | {f[:i] + s for f in full for s in short for i, ch in enumerate(f) if ch == "_"}
    return [n for n in names if n not in named]


def test_every_var_is_documented():
    project = (ROOT / "dbt_project.yml").read_text()
    assert undocumented_vars(project) == []
    assert vars_missing_from_readme(project, (ROOT / "README.md").read_text()) == []


def test_checks_find_planted_gaps():
    manifest = {"metadata": {"project_name": "p"}, "nodes": {
        "model.p.a": {"resource_type": "model", "package_name": "p", "name": "a", "description": "",
                      "columns": {"x": {"description": "The x coordinate."}, "y": {"description": " "},
                                  "order_id": {"description": "Order id."}}},
        "seed.p.s": {"resource_type": "seed", "package_name": "p", "name": "s", "description": "s.", "columns": {}},
        "model.q.b": {"resource_type": "model", "package_name": "q", "name": "b", "description": ""},
    }, "metrics": {"metric.p.m": {"name": "m", "description": ""}}}  # fmt: skip
    gaps = undocumented(manifest, {"a": ["x", "y", "order_id", "z"], "s": ["k"]})
    assert gaps == {"models": ["a"], "seeds": [], "columns": ["a.order_id", "a.y"], "columns_not_in_yml": ["a.z", "s.k"],
                    "semantic": ["metrics.m"]}  # fmt: skip
    project = "name: p\nvars:\n  # documented\n  a: 1\n  b: 2\n\n  c: 3\nmodels:\n  d: 1\n"
    assert undocumented_vars(project) == ["c"]
    readme = "| `microseg__a_min` / `_a_max` | 1 |\n| `microseg__b` | 2 |\n"
    project = "vars:\n  microseg__a_min: 1\n  microseg__a_max: 2\n  microseg__b: 3\n  microseg__c: 4\n"
    assert vars_missing_from_readme(project, readme) == ["microseg__c"]
