"""Niches: small dense groups of near-identical customers found inside or across segments
(ml.customer_segments.niche_id; -1 or null = in no niche)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from microseg.report.catalog import Catalog
from microseg.report.page import Chart, Section, Table, fmt_int, style

KEY, TITLE = "niches", "Niches"
SEGMENTS = "ml.customer_segments"


def niche_members(catalog: Catalog) -> pd.DataFrame:
    """Customers per niche and segment (niche members only)."""
    return catalog.df(f"""
        select niche_id, segment_id, any_value(segment_name) as segment_name, count(*) as customers
        from {SEGMENTS} where niche_id is not null and niche_id >= 0
        group by niche_id, segment_id order by niche_id, segment_id""")


def niches_chart(members: pd.DataFrame) -> Chart:
    fig = go.Figure()
    for (segment_id, name), rows in members.groupby(["segment_id", "segment_name"], sort=True):
        fig.add_bar(x=[f"niche {n}" for n in rows["niche_id"]], y=rows["customers"], name=f"{segment_id}: {name}")
    style(fig, barmode="stack", yaxis={"title": "customers"})
    return Chart("niches-sizes", "Customers per niche, by segment", fig,
                 "A niche is a dense core of very similar customers: a ready-made, tightly targeted audience.")


def build(catalog: Catalog) -> Section:
    if not catalog.has(SEGMENTS, "niche_id", "segment_id", "segment_name"):
        return Section.skip(KEY, TITLE, f"{SEGMENTS} has no niche_id: niches are not computed in this build.")
    members = niche_members(catalog)
    section = Section(KEY, TITLE, intro="Dense groups of near-identical customers found by density clustering (HDBSCAN).")
    if members.empty:
        section.notes.append("No niche was found in this data: no group of customers is dense enough "
                             "(niches need at least the configured minimum size of near-identical customers).")  # fmt: skip
        return section
    per_niche = members.groupby("niche_id", as_index=False).agg(customers=("customers", "sum"),
                                                                  segments=("segment_name", lambda s: ", ".join(s)))  # fmt: skip
    section.kpis = [("niches", str(len(per_niche))), ("customers in a niche", fmt_int(per_niche["customers"].sum()))]
    section.charts.append(niches_chart(members))
    section.tables.append(Table("Niches", per_niche))
    return section
