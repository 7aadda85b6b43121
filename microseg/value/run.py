"""The glue between the customer value dbt Python models and microseg.value.clv:
one model row (BTYD fits, LightGBM texts, cross-validation metrics), the
scores of the scoring snapshot, and the long metrics table."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import numpy as np
import pandas as pd
import pyarrow as pa
from sklearn.metrics import roc_auc_score

from microseg import model_reuse
from microseg.value import clv
from microseg.value.clv import ValueConfig, ValueModelError

#: the columns of customer_value_labels that training and the reuse decision read (customer_value_model)
TRAINING_LABEL_COLUMNS = ("customer_key, snapshot_kind, is_value_label_complete, next_revenue_eur, "
                          "is_churn_label_complete, is_churned")
METRIC_COLUMNS = ["as_of_date", "evaluation_set", "subject", "scorer", "metric", "metric_value"]


def snapshot(features: pd.DataFrame, kind: str) -> pd.DataFrame:
    # in customer order: the BTYD fits sum over rows, and on a flat likelihood the optimum found moves with
    # their order (an incremental chain and a full refresh store the same rows in another order)
    # rows already together and in customer order (customer_value_model reads them ordered) are a slice, not a
    # copy; otherwise the positions of the kind's rows in customer order are taken once
    rows = np.flatnonzero((features["snapshot_kind"] == kind).to_numpy())
    together = len(rows) > 0 and rows[-1] - rows[0] + 1 == len(rows)
    if together and features["customer_key"].iloc[rows[0]:rows[-1] + 1].is_monotonic_increasing:
        part = features.iloc[rows[0]:rows[-1] + 1].reset_index(drop=True)
    else:
        rows = rows[features["customer_key"].iloc[rows].reset_index(drop=True).sort_values(kind="stable").index]
        part = features.take(rows).reset_index(drop=True)
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
    # one training frame at a time: the value frame is gone before the churn frame is built
    value_train, value_fits = clv.btyd_value(
        labelled(features, labels, "value_training", "next_revenue_eur", "is_value_label_complete"), config,
        purchase_model, start)
    value_fit, n_value_rows = clv.fit_value_model(value_train, config), len(value_train)
    del value_train
    churn_train, churn_fits = clv.btyd_value(
        labelled(features, labels, "churn_training", "is_churned", "is_churn_label_complete"), config,
        purchase_model, start)
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
        "n_value_training_rows": n_value_rows,
        "n_churn_training_rows": len(churn_train),
    }])


#: types of customer_value_model (incremental, one row per run: a first row in mode retrain has its
#: decision figures null, which must not fix their columns' types)
MODEL_SCHEMA = pa.schema([
    ("trained_at", pa.timestamp("us")), ("as_of_date", pa.date32()), ("config", pa.string()),
    ("purchase_model", pa.string()), ("purchase_model_selection", pa.string()), ("btyd_training_fits", pa.string()),
    ("value_model", pa.string()), ("churn_model", pa.string()), ("value_source", pa.string()),
    ("n_value_training_rows", pa.int64()), ("n_churn_training_rows", pa.int64()),
    ("decided_at", pa.timestamp("us")), ("decision", pa.string()), ("reasons", pa.string()),
    ("model_as_of_date", pa.date32()), ("model_age_days", pa.int64()), ("training_auc", pa.float64()),
    ("matured_auc", pa.float64()), ("auc_drop", pa.float64()), ("training_spearman", pa.float64()),
    ("matured_spearman", pa.float64()), ("spearman_drop", pa.float64()),
])
#: columns a reused model keeps from the stored row
MODEL_KEPT = ["trained_at", "config", "purchase_model", "purchase_model_selection", "btyd_training_fits",
              "value_model", "churn_model", "value_source", "n_value_training_rows", "n_churn_training_rows"]


def latest_model_row(model_rows: pd.DataFrame) -> pd.Series:
    """The customer_value_model row of the latest run (the table holds one row per run)."""
    if model_rows.empty:
        raise ValueModelError("customer_value_model holds no model: build customer_value_model first")
    order = [c for c in ("decided_at", "trained_at") if c in model_rows.columns]
    return model_rows.sort_values(order).iloc[-1]


def matured_metrics(features: pd.DataFrame, labels: pd.DataFrame, model_row: pd.Series,
                    config: ValueConfig) -> dict:
    """The stored models on the latest training snapshots with complete labels, scored as
    :func:`score` scores (BTYD fitted on the snapshot, the stored boosters applied; beyond
    config.max_training_rows rows on a sample of that many, drawn like the training samples):
    {churn_window_date, churn_auc, value_window_date, value_spearman}; NaN where a snapshot
    is empty, has one class or is not later than the model's own (in sample)."""
    name = model_row["purchase_model"]
    start = json.loads(model_row["purchase_model_selection"]).get(name, {}).get("params")
    value_fit, churn_fit = json.loads(model_row["value_model"]), json.loads(model_row["churn_model"])
    out = {"churn_window_date": None, "churn_auc": np.nan, "value_window_date": None, "value_spearman": np.nan}
    trained = json.loads(model_row["btyd_training_fits"])
    for kind, label, complete, key in (("churn_training", "is_churned", "is_churn_label_complete", "churn"),
                                       ("value_training", "next_revenue_eur", "is_value_label_complete", "value")):
        frame = labelled(features, labels, kind, label, complete)
        window = frame["feature_as_of_date"].max() if len(frame) else None
        # a window no later than the model's own training snapshot is in sample: not judged, not scored
        if len(frame) < 2 or not model_reuse.is_out_of_time(window, trained.get(key)):
            continue
        frame, _ = clv.btyd_value(frame, config, name, start)
        # judged on at most max_training_rows rows, sampled as training samples (BTYD fitted on the whole window)
        frame = clv.cap_rows(frame, config, stratify=key == "churn")
        y = frame["label"].astype(float).to_numpy()
        out[f"{key}_window_date"] = window.date()
        # each window scores the one model it judges (1,000,000 persons: 9.1 -> 4.6 s of predictions)
        if key == "churn" and 0 < y.sum() < len(y):
            out["churn_auc"] = float(roc_auc_score(y, clv.predict_churn_risk(frame, churn_fit)))
        elif key == "value":
            out["value_spearman"] = clv.value_metrics(y, clv.predict_revenue(frame, value_fit))["spearman"]
    return out


def value_model_row(features: pd.DataFrame, labels: pd.DataFrame, config: ValueConfig, policy,
                    stored_rows: pd.DataFrame | None, decided_at) -> pa.Table:
    """customer_value_model's row of this run: the models trained (:func:`train_value_models`) or
    the latest stored ones reused (microseg.model_reuse.decide_value, var
    microseg__value_model_mode), with the decision, its reasons and figures."""
    stored = None if stored_rows is None or stored_rows.empty else latest_model_row(stored_rows)
    as_of = snapshot(features, "scoring")["feature_as_of_date"].max()
    as_of = as_of.date() if pd.notna(as_of) else None
    matured = matured_metrics(features, labels, stored, config) \
        if policy.mode == "auto" and stored is not None and as_of is not None else None
    decision = model_reuse.decide_value(stored, clv.config_to_json(config), as_of, policy, matured)
    if decision["decision"] == "refit":
        row = train_value_models(features, labels, config).iloc[0].to_dict()
        decision["model_as_of_date"] = row["as_of_date"]
    else:
        row = {**{c: stored[c] for c in MODEL_KEPT}, "as_of_date": as_of}
    row.update({k: v for k, v in decision.items() if k not in ("decision", "reasons")})
    row.update(decided_at=pd.Timestamp(decided_at).to_pydatetime(), decision=decision["decision"],
               reasons=",".join(decision["reasons"]))
    row = {k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in row.items()}
    for key in ("as_of_date", "model_as_of_date"):
        row[key] = pd.Timestamp(row[key]).date() if row[key] is not None else None
    row["trained_at"] = pd.Timestamp(row["trained_at"]).to_pydatetime()
    return pa.Table.from_pylist([{c: row.get(c) for c in MODEL_SCHEMA.names}], schema=MODEL_SCHEMA)


def score(features: pd.DataFrame, model_row: pd.Series, config: ValueConfig) -> tuple[pd.DataFrame, str]:
    """Scores of the scoring snapshot: the chosen purchase model and Gamma-Gamma fitted on it (as each
    training snapshot was on its own rows), LightGBM value and churn from the model row.

    Returns the scores and the fits as JSON, the btyd_fit column: one value for every row, which the
    model adds in DuckDB (microseg.frames.with_text_column) rather than as a pandas column of a copy per
    row (1,000,000 persons: 949,530 copies of 251 characters, 238 MB)."""
    scoring = snapshot(features, "scoring")
    if scoring.empty:
        raise ValueModelError("customer value: the scoring snapshot has no customer with a purchase")
    name = model_row["purchase_model"]
    start = json.loads(model_row["purchase_model_selection"]).get(name, {}).get("params")
    scoring, fits = clv.btyd_value(scoring, config, name, start)
    out = clv.predict(scoring, json.loads(model_row["value_model"]), json.loads(model_row["churn_model"]))
    out.insert(1, "as_of_date", scoring["feature_as_of_date"].dt.date.to_numpy())
    for col in ("recency_days", "frequency", "monetary_eur"):
        out[col] = scoring[col].to_numpy()
    return out, json.dumps(fits)


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
