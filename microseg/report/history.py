"""Segments over time: segment sizes per run (ml.segment_centroid_history), and, where the tables
exist, the migration of customers between segments and the drift of features and segment shares.
Tables are found by name (``*migration*``, ``*drift*``, ``*psi*``) and their columns guessed, so the
section follows the history models as they are built."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from microseg.report.catalog import Catalog
from microseg.report.discover import latest, numeric_columns, pick, time_column
from microseg.report.page import PALETTE, Chart, Section, Table, style

KEY, TITLE = "history", "Segments over time"
SIZE_HISTORY = "ml.segment_centroid_history"
PSI_WARN, PSI_ERROR = 0.1, 0.25
MAX_ROWS = 30
SAMPLE_ROWS = 1000
MAX_DRIFT_ROWS = 50_000


def sizes_over_time(catalog: Catalog) -> pd.DataFrame:
    return catalog.df(f"""
        select run_started_at, segment_id, any_value(customer_count) as customers
        from {SIZE_HISTORY} group by run_started_at, segment_id order by run_started_at, segment_id""")


def sizes_chart(sizes: pd.DataFrame) -> Chart:
    """Customers per segment and run: lines over runs, or bars while there is a single run."""
    runs = sizes["run_started_at"].nunique()
    fig = go.Figure()
    if runs == 1:
        fig.add_bar(x=[f"segment {s}" for s in sizes["segment_id"]], y=sizes["customers"], marker_color=PALETTE[: len(sizes)])
        style(fig, yaxis={"title": "customers"}, showlegend=False)
        return Chart("history-sizes", "Segment sizes (one run so far)", fig,
                     f"One segmentation run recorded ({sizes['run_started_at'].iloc[0]:%Y-%m-%d %H:%M}); "
                     "lines over runs appear from the next build on.")  # fmt: skip
    for segment_id, rows in sizes.groupby("segment_id", sort=True):
        fig.add_scatter(x=rows["run_started_at"], y=rows["customers"], mode="lines+markers", name=f"segment {segment_id}")
    style(fig, height=420, xaxis={"title": "segmentation run"}, yaxis={"title": "customers"}, legend={"orientation": "h", "y": -0.35})
    return Chart("history-sizes", "Segment sizes per run", fig,
                 f"{runs} runs recorded; segment ids are kept stable between runs, so a line is one segment.")


def migration_chart(catalog: Catalog, table: str, sample: pd.DataFrame) -> Chart | None:
    """Heatmap from-segment x to-segment of customers in the newest run, when the columns can be told.
    Counted in DuckDB: a migration table may hold one row per customer."""
    cols = list(sample.columns)
    source = pick(cols, r"^(from|previous|prev|old|before)_.*(segment|tier)", r"(segment|tier).*_(from|previous|prev|before|old)$")
    target = pick(cols, r"^(to|current|new|after|next)_.*(segment|tier)", r"(segment|tier).*_(to|current|after|new|next)$",
                  exclude=(source,) if source else ())  # fmt: skip
    if not (source and target):
        return None
    count = pick(numeric_columns(sample), r"customer", r"^n$|count|members", exclude=(source, target))
    measure = f'sum("{count}")' if count else "count(*)"
    when = time_column(sample)
    newest = f'where "{when}" = (select max("{when}") from {table})' if when else ""
    rows = catalog.df(f'select coalesce(cast("{source}" as varchar), \'none\') as source, '
                      f'coalesce(cast("{target}" as varchar), \'none\') as target, {measure} as customers '
                      f"from {table} {newest} group by all")  # fmt: skip
    matrix = rows.pivot_table(index="source", columns="target", values="customers", aggfunc="sum", fill_value=0)
    if matrix.empty:
        return None
    fig = go.Figure(go.Heatmap(z=matrix.to_numpy(), x=list(matrix.columns), y=list(matrix.index),
                               colorscale="Blues", texttemplate="%{z:,}", colorbar={"title": "customers"}))  # fmt: skip
    style(fig, height=200 + 36 * len(matrix), xaxis={"title": target}, yaxis={"title": source, "autorange": "reversed"})
    return Chart(f"history-migration-{table.split('.')[-1]}", f"Migration between segments ({table})", fig,
                 "Rows: where customers were in the previous run; columns: where they are now. The diagonal stayed.")


def drift_chart(catalog: Catalog, table: str, sample: pd.DataFrame) -> Chart | None:
    """PSI per feature (or segment), over runs when there are several, else for the newest run."""
    frame = catalog.df(f"select * from {table} limit {MAX_DRIFT_ROWS}")  # features x runs: small
    value = pick(numeric_columns(frame), r"psi", r"drift", r"stability")
    name = pick([c for c in frame.columns if frame[c].dtype == object or pd.api.types.is_string_dtype(frame[c])],
                r"feature", r"segment", r"metric", r"name")  # fmt: skip
    if not (value and name):
        return None
    when = time_column(frame)
    fig = go.Figure()
    if when and frame[when].nunique() > 1:
        for label, rows in frame.sort_values(when).groupby(name, sort=True):
            fig.add_scatter(x=rows[when], y=rows[value], mode="lines+markers", name=str(label))
        xaxis = {"title": when}
    else:
        rows = latest(frame, when).sort_values(value, ascending=False).head(40)
        fig.add_bar(x=rows[name].astype(str), y=rows[value], name=value)
        xaxis = {"title": name, "tickangle": -45}
    for threshold, colour in ((PSI_WARN, "#f2b600"), (PSI_ERROR, "#d62728")):
        fig.add_hline(y=threshold, line_dash="dot", line_color=colour)
    style(fig, height=420, xaxis=xaxis, yaxis={"title": value})
    return Chart(f"history-drift-{table.split('.')[-1]}", f"Drift ({table})", fig,
                 f"Population stability index: above {PSI_WARN} (yellow line) worth a look, above {PSI_ERROR} (red) re-segment.")


def add_discovered(section: Section, catalog: Catalog, tables: list[str], chart_for) -> None:
    """One chart per table when its columns are understood (guessed from its first rows), else those rows."""
    for table in tables:
        sample = catalog.df(f"select * from {table} limit {SAMPLE_ROWS}")
        if sample.empty:
            section.notes.append(f"{table} is empty (it fills from the second run on).")
            continue
        chart = chart_for(catalog, table, sample)
        if chart is not None and chart.trace_points():
            section.charts.append(chart)
        else:
            total = catalog.scalar(f"select count(*) from {table}")
            title = f"{table} (first {min(len(sample), MAX_ROWS)} of {total:,} rows)"
            section.tables.append(Table(title, sample.head(MAX_ROWS)))


def build(catalog: Catalog) -> Section:
    migration = catalog.find(r"migration")
    drift = [t for t in catalog.find(r"drift", r"psi") if t not in migration]
    has_sizes = catalog.has(SIZE_HISTORY, "run_started_at", "segment_id", "customer_count")
    if not (migration or drift or has_sizes):
        return Section.skip(KEY, TITLE, "No segment history, migration or drift table in this database yet.")
    section = Section(KEY, TITLE, intro="How segments move between runs: sizes, customers changing segment, and drift "
                                        "of the features the segments are built on.")  # fmt: skip
    if has_sizes:
        sizes = sizes_over_time(catalog)
        if not sizes.empty:
            section.charts.append(sizes_chart(sizes))
    if not migration:
        section.notes.append("No segment migration table in this database: migration appears once the history models are built.")
    if not drift:
        section.notes.append("No drift table in this database: feature and segment-share drift appear once the drift "
                             "models are built.")  # fmt: skip
    add_discovered(section, catalog, migration, migration_chart)
    add_discovered(section, catalog, drift, drift_chart)
    return section
