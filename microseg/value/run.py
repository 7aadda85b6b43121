"""The glue between the customer value dbt Python models and microseg.value.clv:
one model row (BTYD fits, LightGBM texts, cross-validation metrics), the
scores of the scoring snapshot, and the long metrics table."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from microseg.value import clv
from microseg.value.clv import ValueConfig, ValueModelError

METRIC_COLUMNS = ["as_of_date", "evaluation_set", "subject", "scorer", "metric", "metric_value"]


def snapshot(features: pd.DataFrame, kind: str) -> pd.DataFrame:
    # in customer order: the BTYD fits sum over rows, and on a flat likelihood the optimum found moves with
    # their order (an incremental chain and a full refresh store the same rows in another order)
    part = features[features["snapshot_kind"] == kind].sort_values("customer_key", kind="stable", ignore_index=True)
    part["feature_as_of_date"] = pd.to_datetime(part["feature_as_of_date"])
    return part


def labelled(features: pd.DataFrame, labels: pd.DataFrame, kind: str, label: str, complete: str) -> pd.DataFrame:
    """Rows of snapshot ``kind`` with a complete window, ``label`` renamed to label."""
    lab = labels[(labels["snapshot_kind"] == kind) & labels[complete]][["customer_key", label]]
    return snapshot(features, kind).merge(lab.rename(columns={label: "label"}), on="customer_key", how="inner")


def train_value_models(features: pd.DataFrame, labels: pd.DataFrame, config: ValueConfig) -> pd.DataFrame:
    """One row: the purchase model chosen by held-out log-likelihood (fitted on the value training snapshot,
    scored on the same customers' purchases up to as_of_date), the BTYD fits of both training snapshots, the
    LightGBM value and churn models (text format) and their out-of-fold metrics against the BTYD baselines."""
    purchase_model, selection = clv.choose_purchase_model(snapshot(features, "value_training"),
                                                          snapshot(features, "scoring"))
    start = selection[purchase_model]["params"]
    value_train, value_fits = clv.btyd_value(
        labelled(features, labels, "value_training", "next_revenue_eur", "is_value_label_complete"), config,
        purchase_model, start)
    churn_train, churn_fits = clv.btyd_value(
        labelled(features, labels, "churn_training", "is_churned", "is_churn_label_complete"), config,
        purchase_model, start)
    value_fit = clv.fit_value_model(value_train, config)
    churn_fit = clv.fit_churn_model(churn_train, config)
    as_of = snapshot(features, "scoring")["feature_as_of_date"].max()
    return pd.DataFrame([{
        "trained_at": datetime.now(timezone.utc).replace(tzinfo=None),
        "as_of_date": as_of.date() if pd.notna(as_of) else None,
        "config": clv.config_to_json(config),
        "purchase_model": purchase_model,
        "purchase_model_selection": json.dumps(selection),
        "btyd_training_fits": json.dumps({"value": value_fits, "churn": churn_fits}),
        "value_model": json.dumps(value_fit),
        "churn_model": json.dumps(churn_fit),
        "value_source": "lightgbm" if value_fit["use_model"] else "btyd",
        "n_value_training_rows": len(value_train),
        "n_churn_training_rows": len(churn_train),
    }])


def score(features: pd.DataFrame, model_row: pd.Series, config: ValueConfig) -> pd.DataFrame:
    """Scores of the scoring snapshot: the chosen purchase model and Gamma-Gamma fitted on it (as each
    training snapshot was on its own rows), LightGBM value and churn from the model row."""
    scoring = snapshot(features, "scoring").sort_values("customer_key", ignore_index=True)
    if scoring.empty:
        raise ValueModelError("customer value: the scoring snapshot has no customer with a purchase")
    name = model_row["purchase_model"]
    start = json.loads(model_row["purchase_model_selection"]).get(name, {}).get("params")
    scoring, fits = clv.btyd_value(scoring, config, name, start)
    out = clv.predict(scoring, json.loads(model_row["value_model"]), json.loads(model_row["churn_model"]))
    out.insert(1, "as_of_date", scoring["feature_as_of_date"].dt.date.to_numpy())
    for col in ("recency_days", "frequency", "monetary_eur"):
        out[col] = scoring[col].to_numpy()
    out["btyd_fit"] = json.dumps(fits)
    return out


def _rows(as_of, evaluation_set: str, subject: str, scorer: str, metrics: dict) -> list[dict]:
    return [{"as_of_date": as_of, "evaluation_set": evaluation_set, "subject": subject, "scorer": scorer,
             "metric": k, "metric_value": float(v)} for k, v in metrics.items()]


def evaluation_table(model_row: pd.Series, predictions: pd.DataFrame, labels: pd.DataFrame) -> pd.DataFrame:
    """Long table: the purchase model choice (model_selection: each model's held-out and calibration
    log-likelihood per customer, is_chosen), cross-validation metrics stored with the models, and a forward
    evaluation of the scores when the data covers the windows after as_of_date (a backtest)."""
    as_of = model_row["as_of_date"]
    rows = []
    for name, report in json.loads(model_row["purchase_model_selection"]).items():
        if "holdout_log_likelihood" in report:
            rows += _rows(as_of, "model_selection", "value", name,
                          {"holdout_log_likelihood": report["holdout_log_likelihood"],
                           "calibration_log_likelihood": report["calibration_log_likelihood"],
                           "is_chosen": float(name == model_row["purchase_model"])})
    value_fit, churn_fit = json.loads(model_row["value_model"]), json.loads(model_row["churn_model"])
    for scorer, metrics in value_fit["oof_metrics"].items():
        rows += _rows(as_of, "cross_validation", "value", scorer, metrics)
    for scorer, auc in churn_fit["oof_auc"].items():
        rows += _rows(as_of, "cross_validation", "churn", scorer, {"roc_auc": auc})
    scoring = labels[labels["snapshot_kind"] == "scoring"]
    fwd = predictions.merge(scoring, on="customer_key", how="inner")
    done = fwd[fwd["is_value_label_complete"]]
    if len(done):
        y = done["next_revenue_eur"].to_numpy(float)
        rows += _rows(as_of, "forward", "value", "model", clv.value_metrics(y, done["model_expected_revenue_eur"]))
        rows += _rows(as_of, "forward", "value", "btyd", clv.value_metrics(y, done["btyd_expected_revenue_eur"]))
    done = fwd[fwd["is_churn_label_complete"]]
    if len(done) and 0 < done["is_churned"].sum() < len(done):
        y = done["is_churned"].astype(float).to_numpy()
        scores = {"model": done["churn_risk"].to_numpy(float), **clv.churn_baselines(done)}
        for scorer, s in scores.items():
            rows += _rows(as_of, "forward", "churn", scorer,
                          {"roc_auc": float(roc_auc_score(y, s)), "n_rows": float(len(y)),
                           "n_positives": float(y.sum())})
    return pd.DataFrame(rows, columns=METRIC_COLUMNS)
