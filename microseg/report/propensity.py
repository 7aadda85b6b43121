"""Propensity: who is likely to buy in the horizon. Purchase rate and lift per score decile against the
baselines, calibration, the headline metrics of model and baselines, feature importance, and the
scored customers per tier (marts propensity_model_metrics and propensity_scores)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from microseg.report.catalog import Catalog
from microseg.report.page import Chart, Section, Table, fmt_int, fmt_pct, style

KEY, TITLE = "propensity", "Propensity to buy"
METRICS = ("marts.propensity_model_metrics", "ml.propensity_evaluation")
SCORES = "marts.propensity_scores"
METRIC_COLUMNS = ("model_id", "evaluation_set", "table_name", "scorer", "metric", "bucket", "metric_value")
# forward = scores checked against what happened after the as-of date; preferred when the data has it
EVALUATION_ORDER = ("forward", "cross_validation")
SCORER_NAMES = {"model": "model (LightGBM)", "recency": "baseline: recency", "rfm": "baseline: RFM score",
                "bgnbd": "baseline: BG/NBD"}  # fmt: skip
TOP_FEATURES = 15
AXIS_TITLES = {"positive_rate": "purchase rate", "lift": "lift (1 = average)"}


def latest_metrics(catalog: Catalog, table: str) -> pd.DataFrame:
    """Metric rows of the newest model (model ids start with their training timestamp)."""
    return catalog.df(f"select * from {table} where model_id = (select max(model_id) from {table})")


def pick_evaluation_set(metrics: pd.DataFrame, table_name: str) -> str | None:
    present = set(metrics.loc[metrics["table_name"] == table_name, "evaluation_set"])
    return next((e for e in EVALUATION_ORDER if e in present), min(present) if present else None)


def wide(metrics: pd.DataFrame, table_name: str, evaluation_set: str) -> pd.DataFrame:
    """One row per scorer and bucket, one column per metric, for one table of the long metrics mart."""
    rows = metrics[(metrics["table_name"] == table_name) & (metrics["evaluation_set"] == evaluation_set)]
    index = ["scorer", "bucket"] if rows["bucket"].notna().any() else ["scorer"]
    frame = rows.pivot_table(index=index, columns="metric", values="metric_value", aggfunc="first").reset_index()
    frame.columns.name = None
    # the model first, then the baselines in a fixed order
    order = {s: i for i, s in enumerate(SCORER_NAMES)}
    return frame.sort_values(index, key=lambda c: c.map(order).fillna(len(order)) if c.name == "scorer" else c,
                             ignore_index=True)  # fmt: skip


def deciles_chart(deciles: pd.DataFrame, metric: str, key: str, title: str, caption: str, reference: float | None) -> Chart:
    fig = go.Figure()
    for scorer, rows in deciles.groupby("scorer", sort=False):
        rows = rows.sort_values("bucket")
        name = SCORER_NAMES.get(scorer, scorer)
        if scorer == "model":
            fig.add_bar(x=rows["bucket"], y=rows[metric], name=name, marker_color="#1f77b4")
        else:
            fig.add_scatter(x=rows["bucket"], y=rows[metric], name=name, mode="lines+markers")
    if reference is not None:
        fig.add_hline(y=reference, line_dash="dot", line_color="#555")
    style(fig, xaxis={"title": "score decile (10 = most likely)", "dtick": 1}, yaxis={"title": AXIS_TITLES.get(metric, metric)})
    return Chart(key, title, fig, caption)


def calibration_chart(calibration: pd.DataFrame) -> Chart:
    rows = calibration[calibration["scorer"] == "model"].sort_values("bucket")
    fig = go.Figure()
    fig.add_scatter(x=[0, 1], y=[0, 1], mode="lines", name="perfect calibration", line={"dash": "dot", "color": "#888"})
    fig.add_scatter(x=rows["mean_predicted"], y=rows["observed_rate"], mode="lines+markers", name="model",
                    hovertemplate="predicted %{x:.1%}, observed %{y:.1%}<extra></extra>")
    style(fig, xaxis={"title": "predicted probability", "tickformat": ".0%", "range": [0, 1]},
          yaxis={"title": "observed purchase rate", "tickformat": ".0%", "range": [0, 1]})  # fmt: skip
    return Chart("propensity-calibration", "Calibration: predicted vs observed", fig,
                 "On the diagonal, a predicted 30% means 30 in 100 such customers bought.")


def baselines_chart(summary: pd.DataFrame) -> Chart:
    fig = go.Figure()
    for metric in ("roc_auc", "pr_auc"):
        if metric in summary:
            fig.add_bar(x=[SCORER_NAMES.get(s, s) for s in summary["scorer"]], y=summary[metric],
                        name=metric.replace("_", "-").upper(),
                        text=summary[metric], texttemplate="%{text:.3f}")  # fmt: skip
    style(fig, barmode="group", yaxis={"title": "area under curve", "range": [0, 1]})
    return Chart("propensity-baselines", "Model vs baselines", fig,
                 "ROC-AUC 0.5 = guessing, 1 = perfect ranking; the model should beat every simple baseline.")


def importance_chart(metrics: pd.DataFrame) -> Chart | None:
    rows = metrics[(metrics["table_name"] == "feature_importance") & (metrics["metric"] == "mean_abs_contribution")]
    if rows.empty:
        rows = metrics[(metrics["table_name"] == "feature_importance") & (metrics["metric"] == "gain")]
    if rows.empty or "feature" not in rows:
        return None
    top = rows.nlargest(TOP_FEATURES, "metric_value").iloc[::-1]
    fig = go.Figure(go.Bar(y=top["feature"], x=top["metric_value"], orientation="h", marker_color="#2ca02c"))
    style(fig, height=120 + 24 * len(top), margin={"l": 230, "r": 20, "t": 30, "b": 50}, showlegend=False,
          xaxis={"title": str(top["metric"].iloc[0]).replace("_", " ")})  # fmt: skip
    return Chart("propensity-importance", f"Top {len(top)} features", fig,
                 "Mean absolute contribution to a customer's score (log-odds): what drives the predictions.")


def tiers_chart(tiers: pd.DataFrame) -> Chart:
    fig = go.Figure(go.Bar(x=tiers["tier"], y=tiers["customers"], customdata=tiers["expected_buyers"],
                           hovertemplate="%{x}: %{y:,} customers, %{customdata:,.0f} expected buyers<extra></extra>"))  # fmt: skip
    style(fig, yaxis={"title": "customers"}, showlegend=False)
    return Chart("propensity-tiers", "Scored customers per tier", fig, "Hover for the expected buyers (sum of probabilities).")


def add_deciles(section: Section, metrics: pd.DataFrame) -> None:
    evaluation_set = pick_evaluation_set(metrics, "deciles")
    if evaluation_set is None:
        return
    deciles = wide(metrics, "deciles", evaluation_set)
    model = deciles[deciles["scorer"] == "model"]
    rate = model["n_positives"].sum() / model["n_rows"].sum() if "n_positives" in model else None
    model_id = metrics["model_id"].iloc[0]
    section.notes.append(f"Deciles, lift and calibration: evaluation set '{evaluation_set}' of model {model_id}.")
    section.charts.append(deciles_chart(deciles, "positive_rate", "propensity-deciles", "Purchase rate per score decile",
                                        "Share of customers who bought, by decile of each scorer's score; dotted: overall rate.",
                                        rate))  # fmt: skip
    section.charts.append(deciles_chart(deciles, "lift", "propensity-lift", "Lift per score decile",
                                        "Purchase rate of the decile / overall rate: 2 = twice as likely as average.", 1.0))  # fmt: skip


def add_summary(section: Section, metrics: pd.DataFrame) -> None:
    evaluation_set = pick_evaluation_set(metrics, "summary")
    if evaluation_set is None:
        return
    summary = wide(metrics, "summary", evaluation_set)
    section.charts.append(baselines_chart(summary))
    model = summary[summary["scorer"] == "model"]
    if not model.empty and "roc_auc" in model:
        section.kpis.append((f"ROC-AUC ({evaluation_set.replace('_', ' ')})", f"{model['roc_auc'].iloc[0]:.3f}"))
    shown = [c for c in ("scorer", "roc_auc", "pr_auc", "top_decile_lift", "brier_score", "positive_rate") if c in summary]
    section.tables.append(Table("Headline metrics", summary[shown].round(4), "ROC-AUC and PR-AUC: ranking quality; top decile "
                                "lift: purchase rate of the top 10% / overall; Brier score: calibration error."))  # fmt: skip


def add_tiers(section: Section, catalog: Catalog) -> None:
    """Customers and expected buyers (sum of probabilities) per tier, most likely tier first."""
    tiers = catalog.df(f"select tier, count(*) as customers, sum(propensity) as expected_buyers from {SCORES} "
                       "group by tier order by avg(propensity) desc")  # fmt: skip
    if tiers.empty:
        return
    customers, buyers = tiers["customers"].sum(), tiers["expected_buyers"].sum()
    section.kpis[:0] = [("customers scored", fmt_int(customers)), ("expected buyers", fmt_int(round(buyers))),
                        ("expected purchase rate", fmt_pct(buyers / customers))]  # fmt: skip
    section.charts.append(tiers_chart(tiers))


def build(catalog: Catalog) -> Section:
    table = next((t for t in METRICS if catalog.has(t, *METRIC_COLUMNS)), None)
    if table is None:
        return Section.skip(KEY, TITLE, "No propensity metrics in this database: build the propensity models to see this section.")
    metrics = latest_metrics(catalog, table)
    section = Section(KEY, TITLE, intro="A LightGBM model scores every customer's probability to buy within the horizon; "
                                        "simple baselines show what the model adds.")  # fmt: skip
    add_deciles(section, metrics)
    calibration_set = pick_evaluation_set(metrics, "calibration")
    if calibration_set:
        section.charts.append(calibration_chart(wide(metrics, "calibration", calibration_set)))
    add_summary(section, metrics)
    importance = importance_chart(metrics)
    if importance:
        section.charts.append(importance)
    if catalog.has(SCORES, "tier", "propensity"):
        add_tiers(section, catalog)
    if not section.charts:
        section.notes.append(f"{table} has no rows for the newest model.")
    return section
