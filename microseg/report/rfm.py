"""RFM: the recency x frequency-monetary grid of customers with each cell's segment name, and the
size, spend and suggested action of every RFM segment (mart mart_customer_rfm)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from microseg.report.catalog import Catalog
from microseg.report.page import Chart, Section, Table, fmt_int, style

KEY, TITLE = "rfm", "RFM segments"
RFM = "marts.mart_customer_rfm"
SCORES = range(1, 6)


def rfm_cells(catalog: Catalog) -> pd.DataFrame:
    return catalog.df(f"""
        select r_score, fm_score, any_value(rfm_segment) as rfm_segment, count(*) as customers
        from {RFM} group by r_score, fm_score order by r_score, fm_score""")


def grid(cells: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """5 x 5 customer counts (rows: R score 1..5, columns: FM score 1..5) and the cell labels."""
    counts = np.zeros((5, 5), dtype=int)
    labels = np.full((5, 5), "", dtype=object)
    for row in cells.itertuples():
        if row.r_score in SCORES and row.fm_score in SCORES:
            counts[row.r_score - 1, row.fm_score - 1] = row.customers
            labels[row.r_score - 1, row.fm_score - 1] = f"{row.rfm_segment}<br>{row.customers:,}"
    return counts, labels


def grid_chart(cells: pd.DataFrame) -> Chart:
    counts, labels = grid(cells)
    fig = go.Figure(go.Heatmap(z=counts, x=[f"FM {s}" for s in SCORES], y=[f"R {s}" for s in SCORES], text=labels,
                               texttemplate="%{text}", textfont={"size": 12}, colorscale="Blues", colorbar={"title": "customers"},
                               hovertemplate="%{y} / %{x}: %{z:,} customers<extra></extra>"))  # fmt: skip
    style(fig, height=460, xaxis={"title": "frequency-monetary score (5 = best)"},
          yaxis={"title": "recency score (5 = most recent)"})  # fmt: skip
    return Chart("rfm-grid", "RFM grid: customers per cell and its segment", fig,
                 "Each cell is a recency score x frequency-monetary score; its name comes from seed rfm_segments.")


def segment_summary(catalog: Catalog) -> pd.DataFrame:
    return catalog.df(f"""
        select rfm_segment, count(*) as customers, round(avg(monetary_eur), 2) as avg_spend_eur,
               round(median(recency_days), 0) as median_recency_days, any_value(suggested_action) as suggested_action
        from {RFM} group by rfm_segment order by customers desc, rfm_segment""")


def segments_chart(summary: pd.DataFrame) -> Chart:
    fig = go.Figure(go.Bar(x=summary["rfm_segment"], y=summary["customers"], customdata=summary["avg_spend_eur"],
                           hovertemplate="%{x}: %{y:,} customers, average spend %{customdata:,.2f} EUR<extra></extra>"))  # fmt: skip
    style(fig, yaxis={"title": "customers"}, showlegend=False)
    return Chart("rfm-segments", "Customers per RFM segment", fig, "Hover a bar for the segment's average spend.")


def build(catalog: Catalog) -> Section:
    if not catalog.has(RFM, "r_score", "fm_score", "rfm_segment", "monetary_eur"):
        return Section.skip(KEY, TITLE, f"{RFM} is not in this database.")
    cells = rfm_cells(catalog)
    if cells.empty:
        return Section.skip(KEY, TITLE, f"{RFM} is empty: no customer has an order.")
    summary = segment_summary(catalog)
    section = Section(KEY, TITLE, intro="Customers with an order, scored 1-5 on recency and on frequency-monetary value.")
    section.kpis = [("customers with an order", fmt_int(summary["customers"].sum())), ("RFM segments", str(len(summary)))]
    section.charts += [grid_chart(cells), segments_chart(summary)]
    section.tables.append(Table("RFM segments and suggested actions", summary))
    return section
