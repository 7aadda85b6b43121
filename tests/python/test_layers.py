"""The layer rule, read off dbt's manifest (docs/design.md, "Layers").

Data flows one way: sources -> privacy (the erasure closure) -> staging ->
intermediate -> marts -> Python ML models -> ML marts. For every model and
every node it reads (its manifest ``depends_on``, plus hidden reads: a Python
model naming another model's table outside ``dbt.ref``):

- privacy (models/staging/privacy) reads only sources, seeds and itself;
- staging reads only its own source, seeds, its own folder and the suppression
  list (stg_privacy__erased_identifiers);
- intermediate reads staging, seeds and intermediate, never a mart, and the
  suppression list (the identity diff, int_customer_identifier_changes, must
  forget an erased identifier it remembers from an earlier run);
- marts read intermediate, seeds and marts, never staging (only through
  intermediate) and never sources;
- Python ML models read marts, intermediate, seeds and ML models;
- activation (models/activation, python_models/activation: audiences,
  suppression, exports, experiments) reads seeds, intermediate, marts, ML
  models and marts, itself, and the suppression list (it re-checks erasure
  before anything leaves);
- nothing reads a layer downstream of its own.

The manifest is target/manifest.json when it is newer than every project
file (``make dbt-test`` just wrote it), else compiled afresh with ``dbt
parse`` (no database needed), so the test never judges a stale manifest.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SUPPRESSION_LIST = "stg_privacy__erased_identifiers"
RANK = {"source": 0, "seed": 0, "privacy": 1, "staging": 2, "intermediate": 3, "mart": 4, "ml": 5, "ml_mart": 6,
        "activation": 7}

# Quality marts audit the flow itself (raw = staged + duplicates + rejected +
# erased, per source and per erasure request), so they read sources, staging
# and the privacy layer by design; no BI metric is built on them.
QUALITY_MARTS = {"data_quality_summary", "erasure_audit"}

# Violations tolerated for now, each with its reason (none today). A new
# violation, or an entry that no longer occurs, fails the test (so the list
# cannot go stale).
KNOWN_VIOLATIONS: set[tuple[str, str]] = set()


def layer(node: dict) -> str:
    """The layer of a manifest node (model, seed or source)."""
    kind = node["resource_type"]
    if kind in ("seed", "source"):
        return kind
    path = node["original_file_path"]
    if path.startswith("models/staging/privacy/"):
        return "privacy"
    if path.startswith(("models/activation/", "python_models/activation/")):
        return "activation"
    if path.startswith("models/staging/"):
        return "staging"
    if path.startswith("models/intermediate/") or (node["language"] == "python" and node["name"].startswith("int_")):
        return "intermediate"
    if node["language"] == "python" or path.startswith("python_models/"):  # and the ML layer's SQL glue
        return "ml"
    if path.startswith("models/marts/"):
        return "mart"
    return "unknown"


def hidden_reads(node: dict, model_names: set[str]) -> set[str]:
    """Models a Python model names as a quoted string outside dbt.ref(...): a
    read dbt cannot see (it builds the model in the wrong order, and the layer
    rule cannot check it)."""
    if node["language"] != "python":
        return set()
    code = re.sub(r"dbt\.(ref|source)\([^)]*\)", "", node["raw_code"])
    return {m for m in model_names - {node["name"]} if re.search(rf"[\"']{re.escape(m)}[\"']", code)}


def violations(manifest: dict) -> set[tuple[str, str]]:
    """(model, node it reads) for every read the layer rule forbids."""
    nodes = {**manifest["nodes"], **manifest["sources"]}
    models = {uid: n for uid, n in manifest["nodes"].items() if n["resource_type"] == "model"}
    by_name = {n["name"]: uid for uid, n in models.items()}
    layers = {uid: layer(n) for uid, n in nodes.items() if n["resource_type"] in ("model", "seed", "source")}
    for uid, n in models.items():  # an SQL mart that reads a Python ML model is an ML mart
        if layers[uid] == "mart" and any(layers.get(p) == "ml" for p in n["depends_on"]["nodes"]):
            layers[uid] = "ml_mart"
    found = set()
    for uid, n in models.items():
        own = layers[uid]
        parents = set(n["depends_on"]["nodes"]) | {by_name[m] for m in hidden_reads(n, set(by_name))}
        for parent in parents:
            if parent not in layers:
                continue
            theirs, p = layers[parent], nodes[parent]
            pname = p["name"] if p["resource_type"] != "source" else f"{p['source_name']}.{p['name']}"
            hidden = parent not in n["depends_on"]["nodes"]
            ok = RANK.get(theirs, 99) <= RANK.get(own, -1) and not hidden
            if own == "privacy":
                ok = ok and theirs in ("source", "seed", "privacy")
            elif own == "staging":
                folder = n["original_file_path"].split("/")[2]
                ok = ok and (
                    theirs == "seed"
                    or (theirs == "source" and p["source_name"] == folder)
                    or (theirs == "staging" and p["original_file_path"].split("/")[2] == folder)
                    or p["name"] == SUPPRESSION_LIST
                )
            elif own == "intermediate":
                ok = ok and (theirs in ("seed", "staging", "intermediate") or p["name"] == SUPPRESSION_LIST)
            elif own == "mart" and n["name"] in QUALITY_MARTS:
                ok = ok and theirs in ("source", "seed", "privacy", "staging", "intermediate", "mart")
            elif own == "mart":
                ok = ok and theirs in ("seed", "intermediate", "mart")
            elif own == "ml":
                ok = ok and theirs in ("seed", "intermediate", "mart", "ml")
            elif own == "ml_mart":
                ok = ok and theirs in ("seed", "intermediate", "mart", "ml", "ml_mart")
            elif own == "activation":
                ok = ok and (theirs in ("seed", "intermediate", "mart", "ml", "ml_mart", "activation")
                             or p["name"] == SUPPRESSION_LIST)
            else:
                ok = False
            if not ok:
                found.add((n["name"], pname))
    return found


PROJECT_FILES = ("models", "macros", "python_models", "tests", "seeds", "dbt_project.yml")


def _fresh_manifest() -> Path | None:
    built = ROOT / "target" / "manifest.json"
    if not built.exists():
        return None
    files = [p for name in PROJECT_FILES for p in ([ROOT / name] if name.endswith(".yml") else (ROOT / name).rglob("*"))]
    dbt_files = [p for p in files if p.suffix in (".sql", ".yml", ".py", ".csv") and "python" not in p.parts[-3:-1]]
    newest = max(p.stat().st_mtime for p in dbt_files)
    return built if built.stat().st_mtime > newest else None


@pytest.fixture(scope="module")
def manifest(tmp_path_factory) -> dict:
    """The project's manifest: target/'s when fresh, else from `dbt parse` (no database is opened)."""
    fresh = _fresh_manifest()
    if fresh is not None:
        return json.loads(fresh.read_text())
    target = tmp_path_factory.mktemp("layers_target")
    env = {**os.environ, "MICROSEG_DUCKDB_PATH": ":memory:", "DBT_PROFILES_DIR": str(ROOT),
           "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}  # fmt: skip
    dbt = Path(sys.executable).with_name("dbt")
    run = subprocess.run(
        [str(dbt), "parse", "--target-path", str(target), "--log-path", str(target / "logs")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    return json.loads((target / "manifest.json").read_text())


def test_every_model_has_a_layer(manifest):
    unknown = [n["original_file_path"] for n in manifest["nodes"].values()
               if n["resource_type"] == "model" and layer(n) == "unknown"]  # fmt: skip
    assert unknown == []


def test_layer_rule_holds_except_known_violations(manifest):
    found = violations(manifest)
    new = sorted(found - KNOWN_VIOLATIONS)
    fixed = sorted(KNOWN_VIOLATIONS - found)
    assert new == [], f"models reading across the layer rule (model, what it reads): {new}"
    assert fixed == [], f"fixed: remove from KNOWN_VIOLATIONS in tests/python/test_layers.py: {fixed}"


def _node(name, path, deps, language="sql", code=""):
    return {"resource_type": "model", "name": name, "original_file_path": path, "language": language,
            "raw_code": code, "depends_on": {"nodes": deps}}  # fmt: skip


def _synthetic(extra: dict) -> dict:
    src = {"resource_type": "source", "name": "orders", "source_name": "shop", "original_file_path": "models/sources.yml"}
    nodes = {
        "model.p.stg_privacy__erased_identifiers": _node(
            "stg_privacy__erased_identifiers", "models/staging/privacy/stg_privacy__erased_identifiers.sql",
            ["source.p.shop.orders"]),
        "model.p.stg_shop__orders": _node(
            "stg_shop__orders", "models/staging/shop/stg_shop__orders.sql",
            ["source.p.shop.orders", "model.p.stg_privacy__erased_identifiers"]),
        "model.p.int_orders": _node("int_orders", "models/intermediate/int_orders.sql", ["model.p.stg_shop__orders"]),
        "model.p.fct_orders": _node("fct_orders", "models/marts/fct_orders.sql", ["model.p.int_orders"]),
        "model.p.segments": _node("segments", "python_models/segments.py", ["model.p.fct_orders"], "python",
                                  'dbt.ref("fct_orders")'),
        **extra,
    }  # fmt: skip
    return {"nodes": nodes, "sources": {"source.p.shop.orders": src}}


def test_a_clean_synthetic_project_passes():
    assert violations(_synthetic({})) == set()


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        # an intermediate model reading a mart
        ({"model.p.int_bad": _node("int_bad", "models/intermediate/int_bad.sql", ["model.p.fct_orders"])},
         ("int_bad", "fct_orders")),
        # a mart reading staging directly
        ({"model.p.mart_bad": _node("mart_bad", "models/marts/mart_bad.sql", ["model.p.stg_shop__orders"])},
         ("mart_bad", "stg_shop__orders")),
        # staging reading another staging folder
        ({"model.p.stg_crm__bad": _node("stg_crm__bad", "models/staging/crm/stg_crm__bad.sql",
                                        ["model.p.stg_shop__orders"])},
         ("stg_crm__bad", "stg_shop__orders")),
        # the privacy layer reading staging
        ({"model.p.stg_privacy__bad": _node("stg_privacy__bad", "models/staging/privacy/stg_privacy__bad.sql",
                                            ["model.p.stg_shop__orders"])},
         ("stg_privacy__bad", "stg_shop__orders")),
        # a Python ML model reading staging
        ({"model.p.ml_bad": _node("ml_bad", "python_models/ml_bad.py", ["model.p.stg_shop__orders"], "python")},
         ("ml_bad", "stg_shop__orders")),
        # a Python ML model reading a table outside dbt.ref
        ({"model.p.ml_hidden": _node("ml_hidden", "python_models/ml_hidden.py", ["model.p.fct_orders"], "python",
                                     'session.sql("select * from int_orders")\nX = "int_orders"')},
         ("ml_hidden", "int_orders")),
    ],
)  # fmt: skip
def test_a_planted_bad_edge_fails(extra, expected):
    assert violations(_synthetic(extra)) == {expected}


PRIVACY_SCANS = ("assert_no_pii_outside_staging", "assert_no_erased_identifier_in_models")


def unlisted_leaves(manifest: dict) -> dict[str, list[str]]:
    """Per privacy scan, the leaf models (no model or snapshot reads them) that no part of the scan (the tests
    named <scan> or <scan>__<part>) lists in its depends_on lines."""
    nodes = manifest["nodes"]
    models = {k: v for k, v in nodes.items() if v["resource_type"] == "model" and v["package_name"] == "microseg"}
    leaves = {
        v["name"]
        for k, v in models.items()
        if "staging" not in v["fqn"][1:-1]
        and not any(nodes.get(c, {}).get("resource_type") in ("model", "snapshot") for c in manifest["child_map"][k])
    }
    found = {}
    for scan in PRIVACY_SCANS:
        parts = [v for v in nodes.values() if v["resource_type"] == "test"
                 and (v["name"] == scan or v["name"].startswith(scan + "__"))]  # fmt: skip
        assert any(v["name"] == scan for v in parts), f"{scan}: the last part of the scan is missing"
        listed = {nodes[d]["name"] for v in parts for d in v["depends_on"]["nodes"] if d in nodes}
        found[scan] = sorted(leaves - listed)
    return found


def test_privacy_scans_run_after_every_leaf_model(manifest):
    """The privacy scans read the models from the database when they run and fail on a missing relation; dbt
    orders a part of a scan only after its depends_on (macros/hygiene/privacy_scan_parts.sql). Every leaf model
    must be listed in one part of each scan, or a new leaf makes the scans' order a matter of luck."""
    for scan, missing in unlisted_leaves(manifest).items():
        assert not missing, f"{scan}: add -- depends_on lines for {missing} to one of its parts"


def test_an_unlisted_leaf_fails_the_privacy_rule(manifest):
    """The rule above fails when a new leaf model is listed in no part (planted: a copy of a leaf under a new name
    and a new unique_id, read by nothing)."""
    planted = json.loads(json.dumps(manifest))
    leaf = next(k for k, v in planted["nodes"].items() if v["name"] == "erasure_audit" and k.startswith("model."))
    planted["nodes"]["model.microseg.planted_leaf"] = {**planted["nodes"][leaf], "name": "planted_leaf"}
    planted["child_map"]["model.microseg.planted_leaf"] = []
    assert all(missing == ["planted_leaf"] for missing in unlisted_leaves(planted).values())
