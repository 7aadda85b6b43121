"""Retrain the propensity model only when needed (microseg__propensity_model_mode: auto).

A run is a segmentation fit (ml.segment_model): the registry decides, before
training, with the models registered before the run's fit
(:func:`models_before`), and ``propensity_retraining_decisions`` recomputes the
same decision from the same inputs to record it, so the two cannot disagree.

In mode ``auto`` the latest usable model (same target and horizon, trained
on data no later than the current as_of_date) is reused unless one of these holds, each a reason:

- ``no_model``: there is none;
- ``model_age``: its as_of_date is more than ``max_age_days`` before the current one;
- ``auc_decay``: its ROC-AUC on the latest matured window (the training
  snapshot as of as_of_date - horizon, whose labels are complete) is more than
  ``max_auc_drop`` below its cross-validation ROC-AUC; judged only when that
  window starts after the model's own training window (out of time);
- ``feature_drift``: a segmentation run since the model was trained has a
  clustering feature with PSI >= ``psi_error`` (segment_drift).

Modes ``retrain`` (always, reason ``mode_retrain``) and ``reuse_latest``
(the latest model of the target and horizon, whatever its age; reason
``mode_reuse_latest``, ``no_model`` when there is none) behave as before.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
from sklearn.metrics import roc_auc_score

from microseg.propensity.estimator import PropensityModel
from microseg.propensity.registry import latest_model, training_frame
from microseg.propensity.train import PropensityConfig, sample_positions

MODES = ("retrain", "reuse_latest", "auto")
#: types of propensity_retraining_decisions (fixed: the table is incremental and
#: a first row in mode retrain has most figures null)
DECISION_SCHEMA = pa.schema([
    ("fit_id", pa.string()), ("decided_at", pa.timestamp("us")), ("as_of_date", pa.date32()), ("mode", pa.string()),
    ("decision", pa.string()), ("reasons", pa.string()), ("previous_model_id", pa.string()),
    ("previous_model_as_of_date", pa.date32()), ("model_age_days", pa.int64()), ("training_auc", pa.float64()),
    ("matured_window_date", pa.date32()), ("matured_auc", pa.float64()), ("auc_drop", pa.float64()),
    ("max_feature_psi", pa.float64()), ("model_id", pa.string()),
])
DECISION_COLUMNS = DECISION_SCHEMA.names
#: segment_drift with no row (mode retrain reads none)
NO_DRIFT = pd.DataFrame({"fitted_at": pd.to_datetime([]), "drift_kind": pd.Series([], dtype=object),
                         "psi": pd.Series([], dtype=float)})


@dataclass(frozen=True)
class RetrainingPolicy:
    """Mode and thresholds (vars microseg__propensity_model_mode, _max_auc_drop,
    _max_model_age_days, microseg__drift_psi_error)."""

    mode: str
    max_auc_drop: float
    max_age_days: int
    psi_error: float

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"microseg__propensity_model_mode must be one of {', '.join(MODES)}, got '{self.mode}'")


def policy_from_dbt(settings: dict) -> RetrainingPolicy:
    """RetrainingPolicy from the `propensity` config dict (values arrive as text)."""
    keys = {"propensity_model_mode": "microseg__propensity_model_mode",
            "propensity_max_auc_drop": "microseg__propensity_max_auc_drop",
            "propensity_max_model_age_days": "microseg__propensity_max_model_age_days",
            "drift_psi_error": "microseg__drift_psi_error"}
    for key, var in keys.items():
        if settings.get(key) in (None, "", "None"):
            raise ValueError(f"propensity config key {key!r} (var {var}) is missing or null")
    return RetrainingPolicy(mode=str(settings["propensity_model_mode"]).strip().lower(),
                            max_auc_drop=float(settings["propensity_max_auc_drop"]),
                            max_age_days=int(float(settings["propensity_max_model_age_days"])),
                            psi_error=float(settings["drift_psi_error"]))


def models_before(registry: pd.DataFrame | None, cutoff) -> pd.DataFrame | None:
    """Registry rows trained before ``cutoff`` (the current run's fitted_at)."""
    if registry is None or registry.empty or cutoff is None:
        return registry
    return registry[pd.to_datetime(registry["trained_at"]) < pd.Timestamp(cutoff)]


def usable_model(registry: pd.DataFrame | None, config: PropensityConfig, as_of_date) -> pd.Series | None:
    """The latest model of the target and horizon trained on data up to ``as_of_date``
    (a model from later data would leak into an earlier run's scores)."""
    if registry is None or registry.empty:
        return None
    return latest_model(registry[pd.to_datetime(registry["as_of_date"]) <= pd.Timestamp(as_of_date)], config)


def matured_window_auc(model_row: pd.Series, features: pd.DataFrame, labels: pd.DataFrame,
                       config: PropensityConfig) -> tuple[object, float]:
    """(window date, ROC-AUC) of a stored model on the latest training snapshot
    with complete labels; AUC is NaN when the window has one class only. Beyond
    config.max_training_rows rows the AUC is that of a seeded sample of that many
    rows, stratified on the label like the training sample (a customer's score does
    not depend on the other rows): the decision compares it with a threshold of
    microseg__propensity_max_auc_drop (0.05), far above the sample's error."""
    window = training_frame(features, labels)
    if window.empty:
        return None, float("nan")
    date = window["feature_as_of_date"].max()
    window = window[window["feature_as_of_date"] == date]
    if window["label"].nunique() < 2:
        return pd.Timestamp(date).date(), float("nan")
    if len(window) > config.max_training_rows:
        window = window.sort_values("customer_key", ignore_index=True)
        window = window.iloc[sample_positions(len(window), config.max_training_rows, config.random_state,
                                              stratify=window["label"].astype(int))]
    # the score only (explain() with its reasons and BG/NBD baseline: 28.1 s instead of 9.4 at 1,000,000 persons)
    propensity = PropensityModel.from_registry_row(model_row, config).predict_proba(window.drop(columns="label"))[:, 1]
    return pd.Timestamp(date).date(), float(roc_auc_score(window["label"].astype(int), propensity))


def decide(registry: pd.DataFrame | None, features: pd.DataFrame, labels: pd.DataFrame, drift: pd.DataFrame,
           config: PropensityConfig, policy: RetrainingPolicy, as_of_date) -> dict:
    """The decision for the current run: {'decision': 'retrain' | 'reuse', 'reasons': [...],
    and the figures behind it}. ``registry``: the models registered before the run;
    ``drift``: segment_drift (fitted_at, drift_kind, psi)."""
    out = {"mode": policy.mode, "as_of_date": None if as_of_date is None else pd.Timestamp(as_of_date).date(),
           "previous_model_id": None,
           "previous_model_as_of_date": None, "model_age_days": None, "training_auc": np.nan,
           "matured_window_date": None, "matured_auc": np.nan, "auc_drop": np.nan, "max_feature_psi": np.nan}
    if policy.mode == "retrain":
        return {**out, "decision": "retrain", "reasons": ["mode_retrain"]}
    if policy.mode == "reuse_latest":
        row = latest_model(registry, config)
    else:
        row = usable_model(registry, config, as_of_date)
    if row is None:
        return {**out, "decision": "retrain", "reasons": ["no_model"]}
    out["previous_model_id"] = row["model_id"]
    out["previous_model_as_of_date"] = pd.Timestamp(row["as_of_date"]).date()
    if policy.mode == "reuse_latest":
        return {**out, "decision": "reuse", "reasons": ["mode_reuse_latest"]}
    reasons = []
    age = (pd.Timestamp(as_of_date) - pd.Timestamp(row["as_of_date"])).days
    out["model_age_days"] = int(age)
    if age > policy.max_age_days:
        reasons.append("model_age")
    out["training_auc"] = float(json.loads(row["cv_metrics"]).get("model", {}).get("roc_auc", np.nan))
    window_date, auc = matured_window_auc(row, features, labels, config)
    out["matured_window_date"] = window_date
    if window_date is not None and pd.Timestamp(window_date) > pd.Timestamp(row["feature_as_of_date"]):
        out["matured_auc"] = auc
        out["auc_drop"] = out["training_auc"] - auc
        if out["auc_drop"] > policy.max_auc_drop:
            reasons.append("auc_decay")
    since = drift[(drift["drift_kind"] == "feature")
                  & (pd.to_datetime(drift["fitted_at"]) > pd.Timestamp(row["trained_at"]))]
    if len(since):
        out["max_feature_psi"] = float(since["psi"].max())
        if out["max_feature_psi"] >= policy.psi_error:
            reasons.append("feature_drift")
    return {**out, "decision": "retrain" if reasons else "reuse", "reasons": reasons or ["within_thresholds"]}


def decide_for_run(registry: pd.DataFrame | None, features: pd.DataFrame, labels: pd.DataFrame, run: pd.DataFrame,
                   config: PropensityConfig, policy: RetrainingPolicy) -> dict:
    """The registry's decision (:func:`decide`) from ``run``, the rows of
    propensity_retraining_inputs: the run's fit (fit_id, fitted_at, as_of_date)
    on every row with one segment_drift row each (drift_fitted_at, drift_kind,
    psi; null when there is none). ``registry``: every model registered so far
    (those trained before the fit are kept). Mode retrain decides without a run:
    the view is empty then, so training need not wait for segmentation."""
    if policy.mode == "retrain":
        return decide(None, features, labels, NO_DRIFT, config, policy, None)
    if run.empty:
        raise ValueError(f"propensity_retraining_inputs is empty but microseg__propensity_model_mode is "
                         f"{policy.mode}: build it with the same vars as propensity_model_registry "
                         "(dbt build --select +propensity_model_registry)")
    fit = run.iloc[0]
    drift = run.loc[run["drift_kind"].notna(), ["drift_fitted_at", "drift_kind", "psi"]]
    drift = drift.rename(columns={"drift_fitted_at": "fitted_at"}).reset_index(drop=True)
    return decide(models_before(registry, fit["fitted_at"]), features, labels, drift, config, policy,
                  fit["as_of_date"])


def decision_row(decision: dict, fit_id: str, decided_at, model_id: str | None) -> pa.Table:
    """One propensity_retraining_decisions row (reasons comma-separated; NaN figures null)."""
    row = {**decision, "fit_id": fit_id, "decided_at": pd.Timestamp(decided_at).to_pydatetime(), "model_id": model_id,
           "reasons": ",".join(decision["reasons"])}
    row = {k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in row.items()}
    for key in ("as_of_date", "previous_model_as_of_date", "matured_window_date"):
        row[key] = pd.Timestamp(row[key]).date() if row[key] is not None else None
    return pa.Table.from_pylist([{c: row[c] for c in DECISION_COLUMNS}], schema=DECISION_SCHEMA)
