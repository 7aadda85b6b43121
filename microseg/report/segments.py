"""Micro-segments: a sampled map of customers on the first two principal components, segment sizes,
names and playbook actions, and a heatmap of each segment's lift per feature (ml.customer_segments,
ml.segment_profiles)."""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from microseg.report.catalog import Catalog
from microseg.report.page import PALETTE, Chart, Section, Table, fmt_int, fmt_pct, style

KEY, TITLE = "segments", "Micro-segments"
SEGMENTS = "ml.customer_segments"
PROFILES = "ml.segment_profiles"
# lift colours are clipped at 4x / 0.25x: a feature rare in the base would otherwise wash out the rest
MAX_LOG2_LIFT = 2.0


def map_sample(catalog: Catalog, sample: int) -> pd.DataFrame:
    """Up to ``sample`` customers, the same ones on every rebuild: ordered by a hash of their key."""
    return catalog.df(f"""
        select customer_key, segment_id, segment_name, pc1, pc2, membership_probability
        from {SEGMENTS} where pc1 is not null and pc2 is not null
        order by hash(customer_key), customer_key limit ?""", [sample])  # fmt: skip


def map_chart(points: pd.DataFrame, total: int) -> Chart:
    fig = go.Figure()
    for i, ((segment_id, name), rows) in enumerate(points.groupby(["segment_id", "segment_name"], sort=True)):
        fig.add_scatter(x=rows["pc1"], y=rows["pc2"], mode="markers", name=f"{segment_id}: {name}",
                        marker={"size": 5, "opacity": 0.6, "color": PALETTE[i % len(PALETTE)]},
                        hovertemplate=f"{name}<extra></extra>")  # fmt: skip
    style(fig, height=480, xaxis={"title": "principal component 1"}, yaxis={"title": "principal component 2"})
    return Chart("segments-map", "Segment map", fig,
                 f"{len(points):,} of {total:,} customers (a fixed hash sample), placed by the first two principal "
                 "components of the clustering features; nearby points behave alike.")  # fmt: skip


def segment_table(catalog: Catalog) -> pd.DataFrame:
    """One row per segment: size, share, traits, top features, playbook action and channel."""
    cols = [c for c in ("traits", "top_features", "recommended_action", "recommended_channel") if catalog.has(PROFILES, c)]
    extra = "".join(f", any_value({c}) as {c}" for c in cols)
    return catalog.df(f"""
        select segment_id, any_value(segment_name) as segment_name, any_value(customer_count) as customers,
               any_value(customer_share) as share{extra}
        from {PROFILES} group by segment_id order by segment_id""")


def sizes_chart(table: pd.DataFrame) -> Chart:
    labels = [f"{i}: {n}" for i, n in zip(table["segment_id"], table["segment_name"], strict=True)]
    fig = go.Figure(go.Bar(y=labels, x=table["customers"], orientation="h", marker_color=PALETTE[: len(table)],
                           text=[fmt_pct(s) for s in table["share"]], textposition="auto",
                           hovertemplate="%{y}: %{x:,} customers<extra></extra>"))  # fmt: skip
    style(fig, height=140 + 34 * len(table), xaxis={"title": "customers"}, yaxis={"autorange": "reversed"}, showlegend=False)
    return Chart("segments-sizes", "Segment sizes", fig, "Label: the segment's share of segmented customers.")


def lift_matrix(catalog: Catalog) -> pd.DataFrame:
    """Segments (rows, 'id: name') x features (columns) of lift = segment mean / base mean."""
    profiles = catalog.df(f"select segment_id, segment_name, feature, lift from {PROFILES} order by segment_id, feature")
    # wrapped labels: seven segment names side by side must not overlap
    profiles["segment"] = [f"{i}: " + "<br>".join(textwrap.wrap(n, 13)) for i, n in
                           zip(profiles["segment_id"], profiles["segment_name"], strict=True)]  # fmt: skip
    matrix = profiles.pivot_table(index="segment", columns="feature", values="lift", aggfunc="first", sort=False)
    # most distinctive features first: largest absolute log-lift in any segment
    order = np.log2(matrix.clip(lower=1e-6)).abs().max().sort_values(ascending=False).index
    return matrix[order]


def heatmap_chart(matrix: pd.DataFrame) -> Chart:
    """Features as rows (most distinctive first), segments as columns, coloured by log2(lift)."""
    matrix = matrix.T
    values = matrix.to_numpy(dtype=float)
    colour = np.clip(np.log2(np.clip(values, 1e-6, None)), -MAX_LOG2_LIFT, MAX_LOG2_LIFT)
    fig = go.Figure(go.Heatmap(z=colour, x=list(matrix.columns), y=list(matrix.index), customdata=values,
                               zmin=-MAX_LOG2_LIFT, zmax=MAX_LOG2_LIFT, colorscale="RdBu", reversescale=True,
                               colorbar={"title": "lift", "tickvals": [-2, -1, 0, 1, 2],
                                         "ticktext": ["0.25x", "0.5x", "1x", "2x", "4x"]},
                               text=[[f"{v:.1f}x" for v in row] for row in values], texttemplate="%{text}", textfont={"size": 10},
                               hovertemplate="%{x}<br>%{y}: %{customdata:.2f}x the average customer<extra></extra>"))  # fmt: skip
    style(fig, height=140 + 22 * len(matrix), margin={"l": 260, "r": 20, "t": 30, "b": 80},
          xaxis={"tickangle": 0}, yaxis={"autorange": "reversed"})  # fmt: skip
    return Chart("segments-profile", "Segment profiles: lift per feature", fig,
                 "Red: the segment's average is above all customers' average (2x = double); blue: below. "
                 "Features sorted by how strongly any segment departs from the average.", wide=True)  # fmt: skip


def build(catalog: Catalog, sample: int = 3000) -> Section:
    if not catalog.has(PROFILES, "segment_id", "segment_name", "customer_count", "customer_share", "feature", "lift"):
        return Section.skip(KEY, TITLE, f"{PROFILES} is not in this database: build the segmentation models to see this section.")
    table = segment_table(catalog)
    section = Section(KEY, TITLE, intro="Customers grouped by behaviour (clustering on the feature mart); each segment is "
                                        "named after the features that set it apart and carries a playbook action.")  # fmt: skip
    section.kpis = [("segments", str(len(table))), ("customers segmented", fmt_int(table["customers"].sum()))]
    if catalog.has(SEGMENTS, "pc1", "pc2", "segment_id", "segment_name"):
        points = map_sample(catalog, sample)
        if not points.empty:
            section.charts.append(map_chart(points, int(catalog.scalar(f"select count(*) from {SEGMENTS}"))))
    else:
        section.notes.append(f"{SEGMENTS} has no principal components (pc1, pc2): no segment map.")
    section.charts += [sizes_chart(table), heatmap_chart(lift_matrix(catalog))]
    names = {"segment_id": "id", "segment_name": "segment", "recommended_action": "playbook action",
             "recommended_channel": "channel", "top_features": "what sets it apart"}  # fmt: skip
    shown = table.assign(share=[fmt_pct(s) for s in table["share"]]).rename(columns=names)
    section.tables.append(Table("Segments and playbook actions", shown, "Actions come from seed segment_playbook, "
                                                                         "matched on each segment's traits."))  # fmt: skip
    return section
