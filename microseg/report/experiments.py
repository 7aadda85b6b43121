"""Experiment readouts (activation.experiment_readout, docs/activation.md): per sent campaign and segment,
the absolute conversion lift of treatment over control with its confidence interval, and the readout
rows a marketer needs to judge it (arm sizes, rates, q-value, power and sample-ratio flags). Every column
is read by its name in :data:`COLUMNS`; tests/python/test_report_sources.py fails when one leaves its model."""

from __future__ import annotations

import plotly.graph_objects as go

from microseg.report.catalog import Catalog
from microseg.report.page import Chart, Section, Table, style

KEY, TITLE = "experiments", "Experiment readouts"
READOUT = "activation.experiment_readout"
COLUMNS = {
    READOUT: ("campaign_id", "segment_name", "recipients_treatment", "recipients_control", "conversion_rate_treatment",
              "conversion_rate_control", "conversion_lift_abs", "conversion_lift_abs_ci_low", "conversion_lift_abs_ci_high",
              "conversion_q_value", "is_significant", "is_underpowered", "has_sample_ratio_mismatch", "revenue_lift_eur"),
}  # fmt: skip
MAX_ROWS = 30
MAX_CELLS = 40
SIGNIFICANT, NOT_SIGNIFICANT = "#d62728", "#1f77b4"


def readout_chart(frame) -> Chart:
    """Point and interval of the absolute conversion lift per readout cell (campaign / segment): every campaign's
    '(all)' cell first, then the segment cells, up to MAX_CELLS; red when the cell is significant after the
    false-discovery-rate correction (is_significant)."""
    rows = frame.dropna(subset=["conversion_lift_abs"]).head(MAX_CELLS)
    names = rows["campaign_id"].astype(str) + " / " + rows["segment_name"].astype(str)
    fig = go.Figure(go.Scatter(x=rows["conversion_lift_abs"], y=names, mode="markers",
                               marker={"size": 9, "color": [SIGNIFICANT if s else NOT_SIGNIFICANT for s in rows["is_significant"]]},
                               error_x={"type": "data", "symmetric": False,
                                        "array": rows["conversion_lift_abs_ci_high"] - rows["conversion_lift_abs"],
                                        "arrayminus": rows["conversion_lift_abs"] - rows["conversion_lift_abs_ci_low"]},
                               hovertemplate="%{y}: %{x:+.2%}<extra></extra>"))  # fmt: skip
    fig.add_vline(x=0, line_dash="dot", line_color="#555")
    style(fig, height=140 + 28 * len(rows), margin={"l": 260, "r": 20, "t": 30, "b": 50}, showlegend=False,
          xaxis={"title": "conversion rate, treatment minus control", "tickformat": "+.1%"},
          yaxis={"autorange": "reversed"})  # fmt: skip
    return Chart("experiments-lift", "Conversion lift with its interval, per campaign and segment", fig,
                 "Treatment minus control conversion rate; red: significant after the false-discovery-rate correction "
                 "(q-value). Read the table for arm sizes, power and sample-ratio warnings.")  # fmt: skip


def build(catalog: Catalog) -> Section:
    if not catalog.has(READOUT, *COLUMNS[READOUT]):
        return Section.skip(KEY, TITLE, f"{READOUT} is not in this database: build the activation models and send a "
                                        "campaign with a control group to see lifts and their intervals here.")  # fmt: skip
    section = Section(KEY, TITLE, intro="Did the campaign work? Conversion lift of the treated group over the control "
                                        "group, with its confidence interval, per campaign and segment.")  # fmt: skip
    frame = catalog.df(f"select {', '.join(COLUMNS[READOUT])} from {READOUT} "
                       "order by segment_name = '(all)' desc, campaign_id, segment_name")  # fmt: skip
    if frame.empty:
        section.notes.append(f"{READOUT} is empty: no campaign's conversion window is over yet.")
        return section
    if frame["conversion_lift_abs"].notna().any():
        section.charts.append(readout_chart(frame))
    section.kpis += [("cells read out", f"{len(frame):,}"), ("significant", f"{int(frame['is_significant'].fillna(False).sum()):,}"),
                     ("underpowered", f"{int(frame['is_underpowered'].fillna(False).sum()):,}")]  # fmt: skip
    section.tables.append(Table(f"{READOUT} (first {min(len(frame), MAX_ROWS)} of {len(frame):,} rows)", frame.head(MAX_ROWS)))
    return section
