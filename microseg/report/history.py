"""Segments over time, from the segment history models (docs/dynamic_segments.md): segment sizes per
run (marts.segment_run_sizes), the migration of customers between the two newest runs
(marts.segment_migration), feature and segment-mix drift of the newest run (ml.segment_drift) and
its re-segmentation alerts (ml.resegmentation_alerts). Every column is read by its name in
:data:`COLUMNS`; tests/python/test_report_sources.py fails when one leaves its model."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from microseg.report.catalog import Catalog
from microseg.report.page import PALETTE, Chart, Section, Table, style

KEY, TITLE = "history", "Segments over time"
RUN_SIZES = "marts.segment_run_sizes"
MIGRATION = "marts.segment_migration"
DRIFT = "ml.segment_drift"
ALERTS = "ml.resegmentation_alerts"
COLUMNS = {
    RUN_SIZES: ("fit_id", "fitted_at", "as_of_date", "run_number", "segment_id", "segment_name", "customer_count"),
    MIGRATION: ("to_fit_id", "from_as_of_date", "to_as_of_date", "from_segment_id", "to_segment_id", "movement",
                "customer_count"),
    DRIFT: ("fitted_at", "as_of_date", "previous_as_of_date", "drift_kind", "subject", "psi", "status", "is_latest"),
    ALERTS: ("reason", "subject", "severity", "metric_value", "threshold", "message", "is_latest"),
}  # fmt: skip
# The defaults of vars microseg__drift_psi_warn / _error; the bars' colours come from the table's own status.
PSI_WARN, PSI_ERROR = 0.1, 0.25
STATUS_COLOURS = {"ok": "#1f77b4", "warn": "#f2b600", "error": "#d62728"}
MAX_FEATURES = 40
MOVEMENTS = ("stayed", "moved", "new", "left")


def _cols(table: str) -> str:
    return ", ".join(COLUMNS[table])


def _day(value) -> str:
    """A date column as YYYY-MM-DD (DuckDB dates arrive in pandas as timestamps)."""
    return pd.Timestamp(value).strftime("%Y-%m-%d")


def run_sizes(catalog: Catalog) -> pd.DataFrame:
    return catalog.df(f"select {_cols(RUN_SIZES)} from {RUN_SIZES} order by run_number, segment_id")


def sizes_chart(sizes: pd.DataFrame) -> Chart:
    """Customers per segment and run: one line per segment over runs, or bars while there is a single run."""
    runs = sizes["run_number"].nunique()
    labels = sizes["segment_name"].fillna("").astype(str).str.cat(sizes["segment_id"].astype(str), sep=" #")
    fig = go.Figure()
    if runs == 1:
        fig.add_bar(x=labels, y=sizes["customer_count"], marker_color=PALETTE[: len(sizes)])
        style(fig, yaxis={"title": "customers"}, showlegend=False)
        first = sizes.iloc[0]
        return Chart("history-sizes", "Segment sizes (one run so far)", fig,
                     f"One segmentation run recorded (as of {_day(first['as_of_date'])}, fitted {first['fitted_at']:%Y-%m-%d %H:%M}); "
                     "lines over runs appear from the next build on.")  # fmt: skip
    sizes = sizes.assign(label=labels, run=[f"run {n} ({_day(d)})" for n, d in zip(sizes["run_number"], sizes["as_of_date"])])
    for segment_id, rows in sizes.groupby("segment_id", sort=True):
        fig.add_scatter(x=rows["run"], y=rows["customer_count"], mode="lines+markers", name=rows["label"].iloc[-1])
    style(fig, height=420, xaxis={"title": "segmentation run (as-of date)", "type": "category"},
          yaxis={"title": "customers"}, legend={"orientation": "h", "y": -0.35})  # fmt: skip
    return Chart("history-sizes", "Segment sizes per run", fig,
                 f"{runs} runs recorded; segment ids are kept stable between runs, so a line is one segment.")


def newest_migration(catalog: Catalog) -> pd.DataFrame:
    """The rows of the newest pair of runs: the pair whose later run was fitted last (segment_run_sizes)."""
    newest = f"(select fit_id from {RUN_SIZES} order by fitted_at desc, fit_id desc limit 1)"
    return catalog.df(f"select {_cols(MIGRATION)} from {MIGRATION} where to_fit_id = {newest}")


def migration_chart(moves: pd.DataFrame) -> Chart:
    """Heatmap from-segment x to-segment of customers; customers new in the later run come from `new`,
    customers who left go to `left`."""
    frame = moves.assign(source=moves["from_segment_id"].map(lambda s: "new" if pd.isna(s) else f"segment {int(s)}"),
                         target=moves["to_segment_id"].map(lambda s: "left" if pd.isna(s) else f"segment {int(s)}"))  # fmt: skip
    matrix = frame.pivot_table(index="source", columns="target", values="customer_count", aggfunc="sum", fill_value=0)
    order = lambda labels: sorted(labels, key=lambda x: (x in ("new", "left"), len(x), x))  # noqa: E731
    matrix = matrix.loc[order(matrix.index), order(matrix.columns)]
    first = moves.iloc[0]
    fig = go.Figure(go.Heatmap(z=matrix.to_numpy(), x=list(matrix.columns), y=list(matrix.index), colorscale="Blues",
                               texttemplate="%{z:,}", colorbar={"title": "customers"}))  # fmt: skip
    style(fig, height=200 + 36 * len(matrix), xaxis={"title": f"segment as of {_day(first['to_as_of_date'])}"},
          yaxis={"title": f"segment as of {_day(first['from_as_of_date'])}", "autorange": "reversed"})  # fmt: skip
    return Chart("history-migration", "Migration between the two newest runs", fig,
                 "Rows: where customers were in the earlier run (new: not segmented then); columns: where they are now "
                 "(left: no longer active). The diagonal stayed.")  # fmt: skip


def movement_kpis(moves: pd.DataFrame) -> list[tuple[str, str]]:
    """Customers per movement (stayed, moved, new, left) with their share of the pair's customers."""
    totals = moves.groupby("movement")["customer_count"].sum()
    everyone = int(totals.sum())
    return [(m, f"{int(totals.get(m, 0)):,} ({totals.get(m, 0) / everyone:.0%})") for m in MOVEMENTS if everyone]


def drift_chart(drift: pd.DataFrame) -> Chart:
    """PSI of every clustering feature and of the segment mix in the newest run, coloured by status."""
    rows = drift[drift["drift_kind"].isin(["feature", "segment_mix"])].copy()
    rows["label"] = rows["subject"].where(rows["drift_kind"] == "feature", "segment mix")
    rows = rows.sort_values("psi", ascending=False).head(MAX_FEATURES)
    colours = [STATUS_COLOURS.get(s, "#7f7f7f") for s in rows["status"]]
    fig = go.Figure(go.Bar(x=rows["label"], y=rows["psi"], marker_color=colours, hovertemplate="%{x}: PSI %{y:.3f}<extra></extra>"))
    for threshold, colour in ((PSI_WARN, STATUS_COLOURS["warn"]), (PSI_ERROR, STATUS_COLOURS["error"])):
        fig.add_hline(y=threshold, line_dash="dot", line_color=colour)
    first = rows.iloc[0]
    style(fig, height=420, xaxis={"title": "feature", "tickangle": -45}, yaxis={"title": "PSI"}, showlegend=False)
    title = f"Drift since the previous run (as of {_day(first['previous_as_of_date'])} to {_day(first['as_of_date'])})"
    return Chart("history-drift", title, fig,
                 f"Population stability index of each feature's distribution and of the segment mix: from {PSI_WARN} "
                 f"(yellow) worth a look, from {PSI_ERROR} (red) re-segment.")  # fmt: skip


def build(catalog: Catalog) -> Section:
    present = [t for t in COLUMNS if catalog.has(t, *COLUMNS[t])]
    if RUN_SIZES not in present:
        return Section.skip(KEY, TITLE, f"{RUN_SIZES} is not in this database: build the segment history models to "
                                        "see segments over time.")  # fmt: skip
    section = Section(KEY, TITLE, intro="How segments move between runs: sizes, customers changing segment, and drift "
                                        "of the features the segments are built on.")  # fmt: skip
    sizes = run_sizes(catalog)
    if sizes.empty:
        section.notes.append(f"{RUN_SIZES} is empty: no segmentation run recorded yet.")
        return section
    section.charts.append(sizes_chart(sizes))
    moves = newest_migration(catalog) if MIGRATION in present else pd.DataFrame()
    if moves.empty:
        section.notes.append("No migration yet: it appears from the second segmentation run on.")
    else:
        section.kpis += movement_kpis(moves)
        section.charts.append(migration_chart(moves))
    drift = catalog.df(f"select {_cols(DRIFT)} from {DRIFT} where is_latest") if DRIFT in present else pd.DataFrame()
    if drift.empty or not drift["drift_kind"].isin(["feature", "segment_mix"]).any():
        section.notes.append("No drift yet: it appears from the second segmentation run on.")
    else:
        section.charts.append(drift_chart(drift))
    if ALERTS in present and not drift.empty:
        alerts = catalog.df(f"select {_cols(ALERTS)} from {ALERTS} where is_latest order by severity, reason, subject")
        if alerts.empty:
            section.notes.append("No re-segmentation alert in the newest run.")
        else:
            section.tables.append(Table("Re-segmentation alerts of the newest run", alerts.drop(columns="is_latest"),
                                        "error: re-segment now; warn: look at the feature or segment named."))  # fmt: skip
    return section
