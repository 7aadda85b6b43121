"""Experiment readouts: per campaign (and segment), the lift of treatment over control with its 95%
interval. Tables are found by name (``*readout*``, ``*experiment*``) and their columns guessed; a
table whose columns cannot be told is shown as rows."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from microseg.report.catalog import Catalog
from microseg.report.discover import numeric_columns, pick
from microseg.report.page import Chart, Section, Table, style

KEY, TITLE = "experiments", "Experiment readouts"
MAX_ROWS = 30
MAX_CELLS = 40


def label_columns(frame: pd.DataFrame) -> list[str]:
    """Up to two text columns naming a readout cell: campaign or experiment, then segment or audience."""
    text = [c for c in frame.columns if frame[c].dtype == object or pd.api.types.is_string_dtype(frame[c])]
    first = pick(text, r"campaign", r"experiment", r"audience", r"name")
    second = pick(text, r"segment", r"persona", r"audience", r"cell", exclude=(first,) if first else ())
    return [c for c in (first, second) if c]


def interval_columns(frame: pd.DataFrame) -> tuple[str, str, str] | None:
    """(estimate, lower, upper) columns of the lift and its interval, absolute lift preferred."""
    numeric = numeric_columns(frame)
    lower = pick(numeric, r"(abs|absolute).*(low|lower|lo)\b", r"ci_low|ci_lower|lower|_lo$|low$")
    upper = pick(numeric, r"(abs|absolute).*(high|upper|hi)\b", r"ci_high|ci_upper|upper|_hi$|high$")
    estimate = pick(numeric, r"^(abs|absolute)_?(lift|uplift|effect|diff)", r"lift|uplift|effect|difference",
                    exclude=tuple(c for c in (lower, upper) if c))  # fmt: skip
    return (estimate, lower, upper) if estimate and lower and upper else None


def readout_chart(table: str, frame: pd.DataFrame) -> Chart | None:
    """Point and 95% interval per readout cell; cells whose interval excludes 0 are coloured."""
    columns, labels = interval_columns(frame), label_columns(frame)
    if columns is None or not labels:
        return None
    estimate, lower, upper = columns
    rows = frame.dropna(subset=[estimate]).head(MAX_CELLS)
    names = rows[labels].astype(str).agg(" / ".join, axis=1)
    significant = (rows[lower] > 0) | (rows[upper] < 0)
    fig = go.Figure(go.Scatter(x=rows[estimate], y=names, mode="markers",
                               marker={"size": 9, "color": ["#d62728" if s else "#1f77b4" for s in significant]},
                               error_x={"type": "data", "symmetric": False, "array": rows[upper] - rows[estimate],
                                        "arrayminus": rows[estimate] - rows[lower]},
                               hovertemplate="%{y}: %{x:.3g}<extra></extra>"))  # fmt: skip
    fig.add_vline(x=0, line_dash="dot", line_color="#555")
    style(fig, height=140 + 28 * len(rows), margin={"l": 260, "r": 20, "t": 30, "b": 50}, showlegend=False,
          xaxis={"title": f"{estimate} (95% interval)"}, yaxis={"autorange": "reversed"})  # fmt: skip
    return Chart(f"experiments-{table.split('.')[-1]}", f"Lift with 95% interval ({table})", fig,
                 "Treatment minus control; red: the interval excludes zero. Read the table for p-values and power.")


def build(catalog: Catalog) -> Section:
    tables = catalog.find(r"readout", r"experiment.*(result|summary)")
    if not tables:
        return Section.skip(KEY, TITLE, "No experiment readout table in this database yet: run a campaign with a "
                                        "control group to see lifts and their intervals here.")  # fmt: skip
    section = Section(KEY, TITLE, intro="Did the campaign work? Lift of the treated group over the control group, "
                                        "with a 95% confidence interval, per campaign and segment.")  # fmt: skip
    for table in tables:
        frame = catalog.df(f"select * from {table}")
        if frame.empty:
            section.notes.append(f"{table} is empty.")
            continue
        chart = readout_chart(table, frame)
        if chart is not None:
            section.charts.append(chart)
        section.tables.append(Table(f"{table} (first {min(len(frame), MAX_ROWS)} of {len(frame):,} rows)", frame.head(MAX_ROWS)))
    return section
