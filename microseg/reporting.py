"""Markdown summary of a dbt invocation for a pull-request review.

Reads ``run_results.json`` and ``manifest.json`` from dbt's target directory and
writes a short report: pass / warn / fail / error / skip counts per resource
type, then every failing or warning test with the model it tests and its
failing-row count. A failing `column_rules` test (one per model, several rules)
is followed by the rules that broke and their row counts, read from the built
DuckDB file (``--head-db``).

    python -m microseg.reporting --target-dir target --out target/dbt_results_summary.md

With a base build's DuckDB file (``--base-db``, or env ``MICROSEG_BASE_DUCKDB``) the
summary gains the section "What this change did to the data" (microseg.datadiff):
the head build is ``--head-db`` (default env ``MICROSEG_DUCKDB_PATH``), identity
quality is added when ``--truth`` (default env ``MICROSEG_DIFF_TRUTH``) names the
generator's truth folder.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

# dbt reports models and seeds as "success" and tests as "pass"; both are a pass here.
_STATUS_BUCKET = {
    "success": "pass",
    "pass": "pass",
    "warn": "warn",
    "fail": "fail",
    "error": "error",
    "runtime error": "error",
    "skipped": "skip",
    "no-op": "skip",
}
BUCKETS = ("pass", "warn", "fail", "error", "skip")


@dataclass(frozen=True)
class NodeResult:
    """One node of a dbt run, reduced to what the summary shows."""

    unique_id: str
    resource_type: str
    name: str
    status: str
    tested_model: str | None
    failures: int | None
    message: str
    execution_time: float


def _tested_model(node: dict, nodes: dict) -> str | None:
    """Name of the model, seed or source a test is attached to, if any."""
    attached = node.get("attached_node")
    if attached and attached in nodes:
        return nodes[attached]["name"]
    if node.get("resource_type") == "unit_test":
        return node.get("model")
    for parent in node.get("depends_on", {}).get("nodes", []):
        if parent.split(".")[0] in {"model", "seed", "snapshot", "source"}:
            return parent.split(".")[-1]
    return None


def load_results(target_dir: Path) -> list[NodeResult]:
    """Join run_results.json with manifest.json into NodeResults.

    Raises FileNotFoundError with a readable message when dbt has not run.
    """
    run_results_path = target_dir / "run_results.json"
    manifest_path = target_dir / "manifest.json"
    if not run_results_path.exists():
        raise FileNotFoundError(f"{run_results_path} not found: run dbt first")
    run_results = json.loads(run_results_path.read_text())
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    nodes = {**manifest.get("nodes", {}), **manifest.get("unit_tests", {}), **manifest.get("sources", {})}

    results = []
    for result in run_results.get("results", []):
        unique_id = result["unique_id"]
        node = nodes.get(unique_id, {})
        resource_type = node.get("resource_type") or unique_id.split(".")[0]
        results.append(
            NodeResult(
                unique_id=unique_id,
                resource_type=resource_type,
                name=node.get("name") or unique_id.split(".")[-1],
                status=_STATUS_BUCKET.get(str(result.get("status")), str(result.get("status"))),
                tested_model=_tested_model(node, nodes) if resource_type in {"test", "unit_test"} else None,
                failures=result.get("failures"),
                message=(result.get("message") or "").strip(),
                execution_time=float(result.get("execution_time") or 0.0),
            )
        )
    return results


def explain_rule_failures(target_dir: Path, db: str | None, results: list[NodeResult]) -> list[NodeResult]:
    """The message of each failing or warning `column_rules` test, replaced by the rules that broke:
    its compiled query (manifest.json) re-run on the built DuckDB file ``db``, grouped by failed_rule."""
    flagged = [r for r in results if r.status in {"fail", "warn"} and r.resource_type == "test"]
    manifest_path = target_dir / "manifest.json"
    if not flagged or not db or not Path(db).exists() or not manifest_path.exists():
        return results
    nodes = json.loads(manifest_path.read_text()).get("nodes", {})
    import duckdb

    explained = {}
    with duckdb.connect(db, read_only=True) as con:
        for r in flagged:
            node = nodes.get(r.unique_id, {})
            if (node.get("test_metadata") or {}).get("name") != "column_rules" or not node.get("compiled_code"):
                continue
            try:
                rows = con.execute(f"select failed_rule, count(*) as n from ({node['compiled_code']}) "
                                   "group by all order by n desc, failed_rule").fetchall()  # fmt: skip
            except duckdb.Error as exc:  # the summary must still be written
                explained[r.unique_id] = f"{r.message} (rules not listed: {type(exc).__name__})"
                continue
            explained[r.unique_id] = "broken rules: " + "; ".join(f"{rule} ({n} rows)" for rule, n in rows)
    return [replace(r, message=explained[r.unique_id]) if r.unique_id in explained else r for r in results]


def count_by_type(results: list[NodeResult]) -> dict[str, Counter]:
    """Status counts per resource type, plus a 'total' row."""
    table: dict[str, Counter] = {}
    for result in results:
        table.setdefault(result.resource_type, Counter())[result.status] += 1
    table["total"] = sum(table.values(), Counter())
    return table


def render_markdown(results: list[NodeResult], title: str = "dbt build results") -> str:
    """The reviewer summary as Markdown."""
    counts = count_by_type(results)
    total = counts["total"]
    headline = " · ".join(f"{total[bucket]} {bucket}" for bucket in BUCKETS)
    verdict = "FAILED" if total["fail"] or total["error"] else ("passed with warnings" if total["warn"] else "passed")
    lines = [f"## {title}: {verdict}", "", f"{len(results)} nodes: {headline}", ""]
    lines += ["| resource | " + " | ".join(BUCKETS) + " |", "|---|" + "---:|" * len(BUCKETS)]
    for resource_type in sorted(k for k in counts if k != "total") + ["total"]:
        row = counts[resource_type]
        lines.append(f"| {resource_type} | " + " | ".join(str(row[b]) for b in BUCKETS) + " |")

    flagged = [r for r in results if r.status in {"fail", "warn", "error"}]
    lines.append("")
    if not flagged:
        lines.append("No failing, erroring or warning nodes.")
    else:
        order = {"error": 0, "fail": 1, "warn": 2}
        lines += ["| status | node | model | failing rows | message |", "|---|---|---|---:|---|"]
        for r in sorted(flagged, key=lambda r: (order[r.status], r.tested_model or "", r.name)):
            message = r.message.replace("|", "\\|").replace("\n", " ")[:400]
            failures = "" if r.failures is None else str(r.failures)
            lines.append(f"| {r.status} | {r.name} | {r.tested_model or ''} | {failures} | {message} |")
    return "\n".join(lines) + "\n"


def data_diff_section(base_db: str, head_db: str | None, truth: str | None) -> str:
    """The data diff against a base build, or one line saying why there is none."""
    from microseg.datadiff import TITLE, diff_markdown

    if not head_db:
        return f"## {TITLE}\n\nNo head DuckDB file given (--head-db or MICROSEG_DUCKDB_PATH).\n"
    try:
        return diff_markdown(base_db, head_db, truth)
    except (FileNotFoundError, OSError) as exc:
        return f"## {TITLE}\n\nNot computed: {exc}.\n"
    except Exception as exc:  # a duckdb error on a foreign file: the summary must still be written
        return f"## {TITLE}\n\nNot computed: {type(exc).__name__}: {exc}.\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target-dir", type=Path, default=Path("target"))
    parser.add_argument("--out", type=Path, default=None, help="also write the Markdown here")
    parser.add_argument("--base-db", default=os.environ.get("MICROSEG_BASE_DUCKDB") or None,
                        help="DuckDB file of the base build: adds the data diff")  # fmt: skip
    parser.add_argument("--head-db", default=os.environ.get("MICROSEG_DUCKDB_PATH") or None)
    parser.add_argument("--truth", default=os.environ.get("MICROSEG_DIFF_TRUTH") or None)
    args = parser.parse_args(argv)
    try:
        results = load_results(args.target_dir)
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    markdown = render_markdown(explain_rule_failures(args.target_dir, args.head_db, results))
    if args.base_db:
        markdown += "\n" + data_diff_section(args.base_db, args.head_db, args.truth)
    print(markdown)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(markdown)
        print(f"(written to {args.out})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
