"""What a change did to the data: a Markdown section comparing two builds.

Given the DuckDB file of a base build (for example main's) and of the head
build (the pull request's), on the same raw data:

- row counts per model (every table dbt built, base / head / signed delta);
- customers whose RFM segment, micro-segment or propensity tier changed: a
  migration table (from -> to, customers), plus customers only in one build;
- the change of the quality figures the builds hold: micro-segment quality
  of the chosen k (ml.segment_quality), propensity ROC-AUC, PR-AUC, Brier
  score, top-decile lift and expected calibration error per evaluation set
  and scorer (marts.propensity_model_metrics), and, when the generator's truth
  folder is given, identity pairwise precision and recall
  (marts.customer_identity_map against truth/identity.parquet).

Every delta carries its sign; figures where higher (or lower) is better are
marked better / worse. A table missing from one build is reported as such,
never a traceback.

    python -m microseg.datadiff --base BASE.duckdb --head HEAD.duckdb [--truth DIR/truth] [--out diff.md]
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

TITLE = "What this change did to the data"
# Schemas of the raw views made at run start: input, not built data.
SKIP_SCHEMAS = ("raw", "information_schema", "pg_catalog")
MIGRATION_ROWS = 12

# (label, schema.table, column) per customer assignment whose changes are tabled.
ASSIGNMENTS = (
    ("RFM segment", "marts.mart_customer_rfm", "rfm_segment"),
    ("micro-segment", "ml.customer_segments", "segment_name"),
    ("propensity tier", "marts.propensity_scores", "tier"),
)
# +1: higher is better, -1: lower is better, 0: neither.
DIRECTION = {
    "precision": 1, "recall": 1, "roc_auc": 1, "pr_auc": 1, "top_decile_lift": 1, "silhouette": 1,
    "stability_ari": 1, "calinski_harabasz": 1, "brier_score": -1, "log_loss": -1,
    "expected_calibration_error": -1, "davies_bouldin": -1,
}  # fmt: skip
SEGMENT_QUALITY = ("k", "silhouette", "davies_bouldin", "calinski_harabasz", "stability_ari", "smallest_segment_size")
PROPENSITY_SUMMARY = ("roc_auc", "pr_auc", "brier_score", "top_decile_lift")


@dataclass
class Build:
    """A read-only connection to one build's DuckDB file and the tables it holds."""

    con: duckdb.DuckDBPyConnection
    tables: set[str]

    @classmethod
    def open(cls, path: Path | str) -> Build:
        if not Path(path).is_file():
            raise FileNotFoundError(f"DuckDB file {path} not found")
        con = duckdb.connect(str(path), read_only=True)
        rows = con.sql(
            "select table_schema || '.' || table_name from information_schema.tables "
            f"where table_type = 'BASE TABLE' and table_schema not in {SKIP_SCHEMAS}"
        ).fetchall()
        return cls(con=con, tables={r[0] for r in rows})

    def df(self, sql: str) -> pd.DataFrame:
        return self.con.sql(sql).df()

    def row_counts(self) -> dict[str, int]:
        return {t: self.con.execute(f"select count(*) from {t}").fetchall()[0][0] for t in sorted(self.tables)}


def signed(delta: float | int | None, digits: int = 4) -> str:
    """A delta with its sign: +3, -0.0123, ±0; empty when unknown."""
    if delta is None or pd.isna(delta):
        return ""
    if delta == 0:
        return "±0"
    if isinstance(delta, int) or float(delta).is_integer() and abs(delta) >= 1:
        return f"{int(delta):+,d}"
    return f"{delta:+.{digits}f}"


def verdict(metric: str, delta: float | None) -> str:
    """better / worse for a metric with a direction, else empty."""
    direction = DIRECTION.get(metric, 0)
    if not direction or delta is None or pd.isna(delta) or delta == 0:
        return ""
    return "better" if delta * direction > 0 else "worse"


def _fmt(value) -> str:
    if value is None or pd.isna(value):
        return "–"
    if isinstance(value, (int,)) or float(value).is_integer():
        return f"{int(value):,d}"
    return f"{value:.4f}"


def row_count_changes(base: Build, head: Build) -> pd.DataFrame:
    """model, base, head, delta for every table of either build (None where absent)."""
    b, h = base.row_counts(), head.row_counts()
    rows = []
    for table in sorted(set(b) | set(h)):
        nb, nh = b.get(table), h.get(table)
        delta = nh - nb if nb is not None and nh is not None else None
        rows.append({"model": table, "base": nb, "head": nh, "delta": delta})
    return pd.DataFrame(rows, columns=["model", "base", "head", "delta"])


def migration(base: Build, head: Build, table: str, column: str) -> dict | None:
    """Customers whose ``column`` in ``table`` differs between the builds.

    Returns None when either build lacks the table; else a dict with the
    customers in both, changed, only in base, only in head, and the migration
    table (from, to, customers) of the changed ones, largest first."""
    if table not in base.tables or table not in head.tables:
        return None
    sql = f"select customer_key, cast({column} as varchar) as value from {table}"
    b, h = base.df(sql), head.df(sql)
    both = b.merge(h, on="customer_key", how="inner", suffixes=("_base", "_head"))
    changed = both[both["value_base"].fillna("(none)") != both["value_head"].fillna("(none)")]
    moves = (
        changed.fillna({"value_base": "(none)", "value_head": "(none)"})
        .groupby(["value_base", "value_head"]).size().rename("customers").reset_index()
        .rename(columns={"value_base": "from", "value_head": "to"})
        .sort_values(["customers", "from", "to"], ascending=[False, True, True], ignore_index=True)
    )  # fmt: skip
    return {
        "in_both": len(both),
        "changed": len(changed),
        "only_base": int((~b["customer_key"].isin(h["customer_key"])).sum()),
        "only_head": int((~h["customer_key"].isin(b["customer_key"])).sum()),
        "moves": moves,
    }


def segment_quality(build: Build) -> dict[str, float]:
    """Quality figures of the chosen k (empty when the build has no segment_quality)."""
    if "ml.segment_quality" not in build.tables:
        return {}
    df = build.df("select * from ml.segment_quality where is_chosen")
    if df.empty:
        return {}
    row = df.iloc[0]
    return {m: float(row[m]) for m in SEGMENT_QUALITY if m in df.columns and not pd.isna(row[m])}


def propensity_quality(build: Build) -> dict[str, float]:
    """'<evaluation_set> <scorer> <metric>' -> value: the summary metrics, and the expected
    calibration error (row-weighted mean |mean predicted - observed rate| over the bins)."""
    if "marts.propensity_model_metrics" not in build.tables:
        return {}
    metrics = ", ".join(f"'{m}'" for m in PROPENSITY_SUMMARY)
    summary = build.df(
        "select evaluation_set, scorer, metric, metric_value from marts.propensity_model_metrics "
        f"where table_name = 'summary' and metric in ({metrics})"
    )
    out = {f"{r.evaluation_set} {r.scorer} {r.metric}": float(r.metric_value) for r in summary.itertuples()}
    calibration = build.df(
        """pivot (select evaluation_set, scorer, bucket, metric, metric_value
                  from marts.propensity_model_metrics where table_name = 'calibration')
           on metric using first(metric_value) group by evaluation_set, scorer, bucket"""
    )
    if {"n_rows", "mean_predicted", "observed_rate"} <= set(calibration.columns):
        calibration["gap"] = (calibration["mean_predicted"] - calibration["observed_rate"]).abs()
        calibration["weighted"] = calibration["gap"] * calibration["n_rows"]
        grouped = calibration.groupby(["evaluation_set", "scorer"])[["weighted", "n_rows"]].sum()
        for (evaluation_set, scorer), r in grouped.iterrows():
            if r["n_rows"] > 0:
                out[f"{evaluation_set} {scorer} expected_calibration_error"] = float(r["weighted"] / r["n_rows"])
    return out


def identity_quality(build: Build, truth: pd.DataFrame) -> dict[str, float]:
    """Pairwise precision and recall of the build's identity map against truth."""
    from microseg.identity_eval import pairwise_quality

    if "marts.customer_identity_map" not in build.tables:
        return {}
    mapping = build.df("select source, source_id, customer_key from marts.customer_identity_map")
    q = pairwise_quality(truth, mapping)
    return {"precision": q.precision, "recall": q.recall}


def figure_changes(base: dict[str, float], head: dict[str, float]) -> list[dict]:
    """figure, base, head, delta, verdict for every figure of either build."""
    rows = []
    for name in sorted(set(base) | set(head), key=lambda n: (n.split()[:-1], n)):
        b, h = base.get(name), head.get(name)
        delta = h - b if b is not None and h is not None else None
        rows.append({"figure": name, "base": b, "head": h, "delta": delta, "verdict": verdict(name.split()[-1], delta)})
    return rows


def _figure_table(title: str, rows: list[dict]) -> list[str]:
    if not rows:
        return [f"**{title}**: not in either build.", ""]
    lines = [f"**{title}**", "", "| figure | base | head | change | |", "|---|---:|---:|---:|---|"]
    for r in rows:
        lines.append(f"| {r['figure']} | {_fmt(r['base'])} | {_fmt(r['head'])} | {signed(r['delta'])} | {r['verdict']} |")
    return lines + [""]


def render(base: Build, head: Build, truth: pd.DataFrame | None = None, heading: str = "##") -> str:
    """The Markdown section."""
    lines = [f"{heading} {TITLE}", ""]

    counts = row_count_changes(base, head)
    changed = counts[(counts["delta"] != 0) | counts["delta"].isna()]
    lines += [f"**Row counts**: {len(counts)} models, {len(changed)} changed"
              f" ({len(counts) - len(changed)} unchanged, not listed).", ""]  # fmt: skip
    if len(changed):
        lines += ["| model | base | head | change |", "|---|---:|---:|---:|"]
        for r in changed.itertuples():
            head_text = _fmt(r.head) if r.head is not None and not pd.isna(r.head) else "absent"
            base_text = _fmt(r.base) if r.base is not None and not pd.isna(r.base) else "absent"
            lines.append(f"| {r.model} | {base_text} | {head_text} | {signed(r.delta)} |")
        lines.append("")

    for label, table, column in ASSIGNMENTS:
        m = migration(base, head, table, column)
        if m is None:
            lines += [f"**Customers whose {label} changed**: {table} is not in both builds.", ""]
            continue
        share = m["changed"] / m["in_both"] if m["in_both"] else 0.0
        lines += [f"**Customers whose {label} changed**: {m['changed']:,d} of {m['in_both']:,d} in both builds"
                  f" ({share:.1%}); only in base {m['only_base']:,d}, only in head {m['only_head']:,d}.", ""]  # fmt: skip
        if m["changed"]:
            lines += ["| from | to | customers |", "|---|---|---:|"]
            moves = m["moves"]
            for r in moves.head(MIGRATION_ROWS).itertuples():
                lines.append(f"| {r[1]} | {r[2]} | {r.customers:,d} |")
            if len(moves) > MIGRATION_ROWS:
                rest = int(moves["customers"].iloc[MIGRATION_ROWS:].sum())
                lines.append(f"| ({len(moves) - MIGRATION_ROWS} more moves) | | {rest:,d} |")
            lines.append("")

    if truth is not None:
        lines += _figure_table("Identity resolution (pairwise, against truth)",
                               figure_changes(identity_quality(base, truth), identity_quality(head, truth)))  # fmt: skip
    lines += _figure_table("Segment quality (chosen k)", figure_changes(segment_quality(base), segment_quality(head)))
    lines += _figure_table("Propensity (evaluation set, scorer, metric)",
                           figure_changes(propensity_quality(base), propensity_quality(head)))  # fmt: skip
    return "\n".join(lines).rstrip() + "\n"


def diff_markdown(base_db: Path | str, head_db: Path | str, truth_dir: Path | str | None = None,
                  heading: str = "##") -> str:  # fmt: skip
    """Open both files read-only and render the section."""
    truth = None
    if truth_dir is not None and (Path(truth_dir) / "identity.parquet").is_file():
        truth = pd.read_parquet(Path(truth_dir) / "identity.parquet")
    base, head = Build.open(base_db), Build.open(head_db)
    try:
        return render(base, head, truth, heading)
    finally:
        base.con.close()
        head.con.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", type=Path, required=True, help="DuckDB file of the base build")
    parser.add_argument("--head", type=Path, required=True, help="DuckDB file of the head build")
    parser.add_argument("--truth", type=Path, default=None, help="generator truth folder: adds identity quality")
    parser.add_argument("--out", type=Path, default=None, help="also write the Markdown here")
    args = parser.parse_args(argv)
    try:
        markdown = diff_markdown(args.base, args.head, args.truth)
    except (FileNotFoundError, duckdb.Error) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(markdown)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(markdown)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
