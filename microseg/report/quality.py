"""Data quality: what happened to every raw row of each source (staged, duplicate, rejected, erased),
the reasons rows were rejected, and the erasure requests applied (marts data_quality_summary and
erasure_audit)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from microseg.report.catalog import Catalog
from microseg.report.page import Chart, Section, Table, fmt_int, fmt_pct, style

KEY, TITLE = "quality", "Data quality"
SUMMARY = "marts.data_quality_summary"
ERASURE = "marts.erasure_audit"
OUTCOMES = {"staged_rows": "staged", "exact_duplicate_rows": "exact duplicate",
            "rejected_rows": "rejected", "erased_rows": "erased (privacy request)"}  # fmt: skip
OUTCOME_COLOURS = ["#2ca02c", "#7f7f7f", "#d62728", "#9467bd"]


def rejection_reasons(summary: pd.DataFrame) -> pd.DataFrame:
    """Long table (source_table, reason, rows) of the ``rejected_<reason>`` columns, zero counts dropped."""
    reason_cols = [c for c in summary.columns if c.startswith("rejected_") and c not in ("rejected_rows", "rejected_share")]
    long = summary.melt(id_vars="source_table", value_vars=reason_cols, var_name="reason", value_name="rows")
    long["reason"] = long["reason"].str.removeprefix("rejected_").str.replace("_", " ")
    long["rows"] = long["rows"].fillna(0).astype(int)
    return long[long["rows"] > 0].reset_index(drop=True)


def funnel_chart(summary: pd.DataFrame) -> Chart:
    """Per source, the share of raw rows in each outcome (stacked bars, labels carry the counts)."""
    fig = go.Figure()
    raw = summary["raw_rows"].where(summary["raw_rows"] > 0)
    for (col, label), colour in zip(OUTCOMES.items(), OUTCOME_COLOURS):
        counts = summary[col].fillna(0).astype(int)
        fig.add_bar(y=summary["source_table"], x=(counts / raw).fillna(0), name=label, orientation="h",
                    marker_color=colour, customdata=counts,
                    hovertemplate=f"%{{y}}: %{{customdata:,}} rows {label} (%{{x:.1%}})<extra></extra>")  # fmt: skip
    style(fig, height=120 + 40 * len(summary), barmode="stack", xaxis={"tickformat": ".0%", "title": "share of raw rows"})
    return Chart("quality-funnel", "What happened to each raw row", fig,
                 "Every raw row ends up staged, removed as an exact duplicate, rejected with a reason, or erased.")


def reasons_chart(reasons: pd.DataFrame) -> Chart:
    fig = go.Figure()
    for reason, rows in reasons.groupby("reason", sort=True):
        fig.add_bar(x=rows["source_table"], y=rows["rows"], name=reason)
    style(fig, barmode="stack", yaxis={"title": "rejected rows"})
    return Chart("quality-reasons", "Rejected rows by reason", fig,
                 "Rejected rows are kept in stg_<source>__<entity>_rejected with this reason code, never dropped silently.")


def erasure_chart(audit: pd.DataFrame) -> Chart:
    """Rows removed per source by erasure requests, split by request status."""
    sources = {c: c.removeprefix("erased_").removesuffix("_rows").replace("_", " ")
               for c in audit.columns if c.startswith("erased_") and c != "erased_rows"}  # fmt: skip
    fig = go.Figure()
    for status, rows in audit.groupby("status", sort=True):
        fig.add_bar(x=list(sources.values()), y=[int(rows[c].fillna(0).sum()) for c in sources],
                    name=f"{status} ({len(rows)} requests)")  # fmt: skip
    style(fig, barmode="stack", yaxis={"title": "rows erased"})
    return Chart("quality-erasure", "Rows removed by erasure requests", fig,
                 "Every identifier of a person named in an erasure request is removed before staging.")


def build(catalog: Catalog) -> Section:
    if not catalog.has(SUMMARY, "source_table", "raw_rows", *OUTCOMES):
        return Section.skip(KEY, TITLE, f"{SUMMARY} is not in this database: build the quality marts to see this section.")
    summary = catalog.df(f"select * from {SUMMARY} order by raw_rows desc, source_table")
    section = Section(KEY, TITLE, intro="Raw rows per source and what the pipeline did with each of them.")
    raw, staged = int(summary["raw_rows"].sum()), int(summary["staged_rows"].sum())
    section.kpis = [("raw rows", fmt_int(raw)), ("staged rows", fmt_int(staged)),
                    ("rejected", fmt_pct(summary["rejected_rows"].sum() / raw if raw else None, 2)),
                    ("exact duplicates", fmt_pct(summary["exact_duplicate_rows"].sum() / raw if raw else None, 2))]  # fmt: skip
    section.charts.append(funnel_chart(summary))
    reasons = rejection_reasons(summary)
    if reasons.empty:
        section.notes.append("No row was rejected.")
    else:
        section.charts.append(reasons_chart(reasons))
    if catalog.has(ERASURE, "status"):
        audit = catalog.df(f"select * from {ERASURE} order by request_id")
        if audit.empty:
            section.notes.append("No erasure request in the data.")
        else:
            section.charts.append(erasure_chart(audit))
            statuses = audit["status"].value_counts().sort_index()
            section.kpis.append(("erasure requests", ", ".join(f"{n} {s}" for s, n in statuses.items())))
    table = summary[["source_table", "raw_rows", *OUTCOMES]].rename(columns={"source_table": "source", **OUTCOMES})
    section.tables.append(Table("Rows per source", table,
                                "raw = staged + exact duplicate + rejected + erased (a dbt test keeps it exact)."))  # fmt: skip
    return section
