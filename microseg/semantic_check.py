"""The semantic layer answers what the marts say: MetricFlow queries vs the marts.

Runs ``mf validate-configs`` and a few ``mf query`` calls (every metric of
models/marts/semantic at least once, plus grouped queries that exercise the
joins between semantic models and the time spine) against a built DuckDB file,
and compares each figure with the same figure read straight from the mart
that defines it. A metric whose filter, join or aggregation is wrong gives a
different number and the check fails naming it.

    python -m microseg.semantic_check --db data/ci/microseg.duckdb [--skip-validate]

Needs target/semantic_manifest.json, which any dbt command writes (``make
metrics`` runs ``dbt parse`` first).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]

# The same figures, read straight from the marts (docs/metrics.md): what each metric must return.
MART_SQL = {
    "customers": "select count(distinct customer_key) from marts.dim_customers where not is_anonymous",
    "active_customers": "select count(distinct customer_key) from marts.mart_customer_features",
    "revenue": "select sum(net_revenue_eur) from marts.fct_orders",
    "orders": "select count(*) filter (where sales_amount_eur > 0) from marts.fct_orders",
    "average_order_value": "select sum(net_revenue_eur) / count(*) filter (where sales_amount_eur > 0) "
                           "from marts.fct_orders",
    "segment_share": "select sum(customer_share) from marts.mart_segment_sizes",
    "segmented_customers": "select count(*) from ml.customer_segments",
    "expected_buyers": "select sum(propensity) from marts.propensity_scores",
    "retained_customers_365d": "select count(*) filter (where first_order_date <= as_of_date - 365 "
                               "and last_order_date > as_of_date - 365) from marts.mart_customer_rfm",
    "retention_base_365d": "select count(*) filter (where first_order_date <= as_of_date - 365) "
                           "from marts.mart_customer_rfm",
    "retention_rate_365d": "select count(*) filter (where first_order_date <= as_of_date - 365 "
                           "and last_order_date > as_of_date - 365) "
                           "/ count(*) filter (where first_order_date <= as_of_date - 365) from marts.mart_customer_rfm",
}  # fmt: skip
# Grouped queries: a group's figures must add up to the ungrouped total (joins neither drop nor fan out).
GROUPED = (
    (("revenue", "orders"), "customer__rfm_segment"),  # orders -> customer_rfm through the customer entity
    (("revenue",), "metric_time__month"),  # through the time spine
    (("segment_share", "segmented_customers"), "segment__segment_name"),
)


@dataclass
class Check:
    name: str
    semantic: float | None
    mart: float | None

    @property
    def ok(self) -> bool:
        if self.semantic is None or self.mart is None:
            return False
        return math.isclose(self.semantic, self.mart, rel_tol=1e-6, abs_tol=1e-6)


def metric_names(project_dir: Path = ROOT) -> list[str]:
    """Metrics in target/semantic_manifest.json."""
    manifest = json.loads((project_dir / "target" / "semantic_manifest.json").read_text())
    return sorted(m["name"] for m in manifest["metrics"])


def mart_figures(db: Path) -> dict[str, float]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {name: float(con.execute(sql).fetchall()[0][0]) for name, sql in MART_SQL.items()}
    finally:
        con.close()


def _mf_env(db: Path) -> dict[str, str]:
    return {**os.environ, "MICROSEG_DUCKDB_PATH": str(db), "DBT_PROFILES_DIR": str(ROOT),
            "DBT_PROJECT_DIR": str(ROOT), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}  # fmt: skip


def _mf(args: list[str], db: Path) -> subprocess.CompletedProcess:
    mf = Path(sys.executable).with_name("mf")
    run = subprocess.run([str(mf), *args], cwd=ROOT, env=_mf_env(db), capture_output=True, text=True)
    if run.returncode != 0:
        raise RuntimeError(f"mf {' '.join(args)} failed:\n{run.stdout[-3000:]}{run.stderr[-2000:]}")
    return run


def validate(db: Path) -> str:
    """``mf validate-configs`` (semantics, then every semantic model, dimension, entity, measure and
    metric against the warehouse); its summary lines. Raises on any error."""
    out = _mf(["validate-configs"], db).stdout
    summary = re.findall(r"(Successfully validated [^(]*\(ERRORS: \d+[^)]*\)|\S*ERRORS: [1-9]\d*.*)", out)
    if not summary or any(not line.startswith("Successfully") for line in summary):
        raise RuntimeError(f"mf validate-configs reported errors:\n{out[-3000:]}")
    return "mf validate-configs:\n" + "\n".join(f"  {line}" for line in summary)


def mf_query(metrics: list[str], db: Path, group_by: str | None = None) -> list[dict[str, str]]:
    """Rows of ``mf query --metrics ... [--group-by ...]`` as dicts (CSV strings)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "result.csv"
        args = ["query", "--metrics", ",".join(metrics), "--csv", str(out), "--quiet"]
        _mf(args + (["--group-by", group_by] if group_by else []), db)
        if not out.exists():  # mf writes no file for an empty result
            return []
        with out.open() as f:
            return list(csv.DictReader(f))


def _number(value: str | None) -> float | None:
    return None if value in (None, "", "None") else float(value)


def run_checks(db: Path, metrics: list[str]) -> list[Check]:
    """One ungrouped query of every metric, then the grouped queries; each figure vs its mart."""
    marts = mart_figures(db)
    checks = []
    total = mf_query(metrics, db)
    row = total[0] if len(total) == 1 else {}
    for name in metrics:
        checks.append(Check(name, _number(row.get(name)), marts.get(name)))
    for group_metrics, group_by in GROUPED:
        rows = mf_query(list(group_metrics), db, group_by)
        for name in group_metrics:
            summed = sum(_number(r.get(name)) or 0.0 for r in rows) if rows else None
            checks.append(Check(f"{name} summed over {group_by} ({len(rows)} groups)", summed, marts.get(name)))
        if group_by == "segment__segment_name" and rows:
            # each segment's share (segment_profiles) = its members in customer_segments / all members
            total = sum(_number(r["segmented_customers"]) or 0.0 for r in rows)
            gap = max(abs(_number(r["segment_share"]) - _number(r["segmented_customers"]) / total) for r in rows)
            checks.append(Check("largest gap: segment_share vs segmented_customers / total", gap, 0.0))
    return checks


def format_checks(checks: list[Check]) -> str:
    lines = ["| check | mf query | mart | ok |", "|---|---:|---:|---|"]
    for c in checks:
        fmt = (lambda v: "–" if v is None else f"{v:,.4f}")  # noqa: E731
        lines.append(f"| {c.name} | {fmt(c.semantic)} | {fmt(c.mart)} | {'yes' if c.ok else 'NO'} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, default=Path(os.environ.get("MICROSEG_DUCKDB_PATH", "data/microseg.duckdb")))
    parser.add_argument("--skip-validate", action="store_true", help="skip mf validate-configs")
    args = parser.parse_args(argv)
    db = args.db.resolve()
    if not db.is_file():
        print(f"error: DuckDB file {db} not found: build first (make dbt-test or make demo)", file=sys.stderr)
        return 1
    try:
        if not args.skip_validate:
            print(validate(db))
        metrics = metric_names()
        missing = sorted(set(metrics) - set(MART_SQL))
        if missing:
            print(f"error: no mart figure to compare for metric(s) {', '.join(missing)} (MART_SQL)", file=sys.stderr)
            return 1
        checks = run_checks(db, metrics)
    except (RuntimeError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(format_checks(checks))
    failed = [c.name for c in checks if not c.ok]
    print(f"{len(metrics)} metrics, {len(checks)} checks, {len(failed)} failed" + (f": {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
