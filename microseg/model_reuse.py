"""Refit the segmentation and the customer value models only when needed
(vars microseg__segment_model_mode and microseg__value_model_mode), as
propensity does (microseg.propensity.retraining).

Modes, per model family:

- ``retrain`` (default): fit on every run (reason ``mode_retrain``);
- ``reuse_latest``: apply the latest stored fit whatever its age (reason
  ``mode_reuse_latest``); nothing stored, or a stored fit that cannot apply
  (seed segment_features changed), is one error line;
- ``auto``: reuse the latest stored fit unless a reason holds:

  - segments: ``no_model``; ``features_changed`` (seed segment_features names
    other columns); ``model_age`` (the fit's as_of_date more than
    ``max_age_days`` before the run's, or after it); ``feature_drift`` (a clustering
    feature's PSI, this run's customers on the bins of the run that fitted,
    >= ``psi_error``); ``drift_unknown`` (that run's distribution is not
    stored: drift cannot be judged); ``stability_below_floor`` (the fit's
    bootstrap ARI); ``quality_below_floor`` (the fit's silhouette on this run's
    customers, same sample size and distance as the fit's choice of k);
  - value: ``no_model``; ``config_changed`` (value settings other than
    threads); ``model_age``; ``auc_decay`` / ``value_decay`` (the stored churn
    model's ROC-AUC / value model's Spearman on the latest training snapshot
    with complete labels, when that snapshot is later than the model's own,
    more than ``max_metric_drop`` below the model's out-of-fold figure).

A reused fit is stored again as this run's row (segment_model,
customer_value_model: append-only, one row per run) with the decision, its
reasons and figures, so every run says whether it refitted and why, and the
tables reading the latest row need no change. The decision functions are pure
(DataFrames and numbers in, a dict out).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pandas as pd

from microseg import drift as drift_lib
from microseg import segmentation as seg

MODES = ("retrain", "reuse_latest", "auto")
#: value settings whose change makes a stored value model stale (threads only change the speed)
VALUE_RUNTIME_KEYS = ("dbt_threads", "num_threads")


#: keys of the `segmentation` config dict segment_model decides with -> their vars
SEGMENT_POLICY_VARS = {"model_mode": "microseg__segment_model_mode",
                       "max_model_age_days": "microseg__segment_max_model_age_days",
                       "drift_psi_error": "microseg__drift_psi_error",
                       "silhouette_floor": "microseg__segment_silhouette_floor",
                       "stability_floor": "microseg__segment_stability_floor"}
#: keys of the `value` config dict customer_value_model decides with -> their vars
VALUE_POLICY_VARS = {"value_model_mode": "microseg__value_model_mode",
                     "value_max_model_age_days": "microseg__value_max_model_age_days",
                     "value_max_metric_drop": "microseg__value_max_metric_drop"}


class ModelReuseError(ValueError):
    """One line for the log: reuse asked but impossible, or a bad mode."""


@dataclass(frozen=True)
class ReusePolicy:
    """Mode and thresholds of one model family. ``family`` is segment or value
    (var microseg__<family>_model_mode); floors apply to segments, the metric
    drop to value."""

    family: str
    mode: str
    max_age_days: int
    psi_error: float = np.inf
    silhouette_floor: float = -np.inf
    stability_floor: float = -np.inf
    max_metric_drop: float = np.inf

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ModelReuseError(f"microseg__{self.family}_model_mode must be one of {', '.join(MODES)}, "
                                  f"got '{self.mode}'")


def _require(settings: dict | None, keys: dict[str, str], what: str) -> dict:
    settings = settings or {}
    for key, var in keys.items():
        if settings.get(key) in (None, "", "None"):
            raise ModelReuseError(f"{what} config key {key!r} (var {var}) is missing or null")
    return settings


def segment_policy_from_dbt(settings: dict | None) -> ReusePolicy:
    """ReusePolicy of segment_model from the `segmentation` config dict (values arrive as text)."""
    s = _require(settings, SEGMENT_POLICY_VARS, "segmentation")
    return ReusePolicy("segment", str(s["model_mode"]).strip().lower(), int(float(s["max_model_age_days"])),
                       psi_error=float(s["drift_psi_error"]), silhouette_floor=float(s["silhouette_floor"]),
                       stability_floor=float(s["stability_floor"]))


def value_policy_from_dbt(settings: dict | None) -> ReusePolicy:
    """ReusePolicy of customer_value_model from the `value` config dict."""
    s = _require(settings, VALUE_POLICY_VARS, "value")
    return ReusePolicy("value", str(s["value_model_mode"]).strip().lower(),
                       int(float(s["value_max_model_age_days"])), max_metric_drop=float(s["value_max_metric_drop"]))


def _nothing_stored(policy: ReusePolicy, table: str) -> ModelReuseError:
    return ModelReuseError(f"microseg__{policy.family}_model_mode is reuse_latest but ml.{table} holds no fit to "
                           f"reuse: build once with microseg__{policy.family}_model_mode retrain or auto")


def _age(as_of_date, model_as_of_date) -> int:
    return int((pd.Timestamp(as_of_date) - pd.Timestamp(model_as_of_date)).days)


# ---------------------------------------------------------------------------
# Segments
# ---------------------------------------------------------------------------


def feature_psi(features: pd.DataFrame, reference: pd.DataFrame) -> dict[str, float]:
    """PSI of each clustering feature of ``features`` on the bins of ``reference``
    (segment_feature_distributions rows, basis own, of one run): the run's
    customers against the population that run held."""
    out = {}
    for feature, ref in reference.groupby("feature", sort=True):
        if feature not in features.columns:
            continue
        values = pd.to_numeric(features[feature], errors="coerce").to_numpy(float)
        counts = drift_lib.bin_counts(values, drift_lib.edges_from_rows(ref))
        bins = list(range(len(counts) - 1)) + [drift_lib.MISSING_BIN]
        current = pd.Series(counts / max(len(values), 1), index=bins)
        expected = ref.set_index("bin")["customer_share"]
        shares = pd.concat([expected.rename("expected"), current.rename("current")], axis=1).fillna(0.0)
        out[str(feature)] = drift_lib.psi(shares["expected"], shares["current"])
    return out


def current_silhouette(model: seg.MicroSegmenter, features: pd.DataFrame) -> float:
    """Silhouette of a stored fit's segments on ``features`` (rows ordered by customer_key):
    the sample size, seed and distance the fit chose k with; NaN with fewer than two segments."""
    config = model.config
    rows = seg.sample_rows(len(features), config.silhouette_sample, config.random_state + 1)
    z = model.transform(features.iloc[rows])
    labels = seg.nearest_centre(z, model.cluster_centers_)
    if len(np.unique(labels)) < 2 or len(labels) <= len(np.unique(labels)):
        return float("nan")
    return seg.silhouette(z, labels, config.silhouette_metric)


def _decided_without_a_fit(policy, stored, model_name: str, out: dict) -> dict | None:
    """The decision when no stored fit is consulted: mode retrain refits; no stored fit refits in auto
    and stops reuse_latest with one line. None: the stored fit decides."""
    if policy.mode == "retrain":
        return {**out, "reasons": ["mode_retrain"]}
    if stored is None:
        if policy.mode == "reuse_latest":
            raise _nothing_stored(policy, model_name)
        return {**out, "reasons": ["no_model"]}
    return None


def decide_segments(stored: pd.Series | None, columns: list[str], as_of_date, policy: ReusePolicy,
                    psi_by_feature: dict[str, float] | None, silhouette_now: float) -> dict:
    """Refit or reuse for segment_model. ``stored``: the latest segment_model row
    (model_state, model_fit_id, model_as_of_date); ``columns``: the clustering
    columns of this run's recipe; ``psi_by_feature``: :func:`feature_psi` against
    the fitting run's distribution (None: not stored); ``silhouette_now``:
    :func:`current_silhouette`. Returns {decision: refit | reuse, reasons: [...],
    model_fit_id, model_as_of_date, model_age_days, max_feature_psi, current_silhouette}."""
    out = {"decision": "refit", "model_fit_id": None, "model_as_of_date": None, "model_age_days": None,
           "max_feature_psi": np.nan, "current_silhouette": np.nan}
    early = _decided_without_a_fit(policy, stored, "segment_model", out)
    if early is not None:
        return early
    state = json.loads(stored["model_state"])
    out["model_fit_id"] = stored_model_fit_id(stored)
    out["model_as_of_date"] = pd.Timestamp(stored_model_as_of(stored)).date()
    out["model_age_days"] = _age(as_of_date, out["model_as_of_date"])
    same_columns = list(state["params"]["columns"]) == list(columns)
    if policy.mode == "reuse_latest":
        if not same_columns:
            raise ModelReuseError("microseg__segment_model_mode is reuse_latest but seed segment_features names "
                                  "other columns than the stored fit: build with retrain or auto")
        return {**out, "decision": "reuse", "reasons": ["mode_reuse_latest"]}
    if not same_columns:
        return {**out, "reasons": ["features_changed"]}
    reasons = []
    # negative: fitted on later data than this run's (a rebuild of an earlier as_of_date)
    if out["model_age_days"] > policy.max_age_days or out["model_age_days"] < 0:
        reasons.append("model_age")
    if psi_by_feature is None:
        reasons.append("drift_unknown")
    elif psi_by_feature:
        out["max_feature_psi"] = float(max(psi_by_feature.values()))
        if out["max_feature_psi"] >= policy.psi_error:
            reasons.append("feature_drift")
    if float(state["quality"].get("stability_ari", np.nan)) < policy.stability_floor:
        reasons.append("stability_below_floor")
    out["current_silhouette"] = float(silhouette_now)
    if silhouette_now < policy.silhouette_floor:
        reasons.append("quality_below_floor")
    return {**out, "decision": "refit" if reasons else "reuse", "reasons": reasons or ["within_thresholds"]}


def stored_model_fit_id(row: pd.Series) -> str:
    """The fit whose parameters a segment_model row holds (its own fit_id for a refit or an older row)."""
    value = row.get("model_fit_id")
    return str(value) if isinstance(value, str) and value else str(row["fit_id"])


def stored_model_as_of(row: pd.Series):
    value = row.get("model_as_of_date")
    return row["as_of_date"] if value is None or pd.isna(value) else value


# ---------------------------------------------------------------------------
# Customer value
# ---------------------------------------------------------------------------


def value_config_changed(stored_config: str, config_json: str) -> bool:
    """True when the stored model was trained with other value settings (threads aside)."""
    old, new = json.loads(stored_config), json.loads(config_json)
    for key in VALUE_RUNTIME_KEYS:
        old.pop(key, None)
        new.pop(key, None)
    return old != new


def decide_value(stored: pd.Series | None, config_json: str, as_of_date, policy: ReusePolicy,
                 matured: dict | None = None) -> dict:
    """Refit or reuse for customer_value_model. ``stored``: its latest row;
    ``matured``: {churn_window_date, churn_auc, value_window_date, value_spearman} of the
    stored models on the latest training snapshots with complete labels (None: not computed,
    only needed in mode auto). Returns {decision, reasons, model_as_of_date, model_age_days,
    training_auc, matured_auc, auc_drop, training_spearman, matured_spearman, spearman_drop}."""
    out = {"decision": "refit", "model_as_of_date": None, "model_age_days": None, "training_auc": np.nan,
           "matured_auc": np.nan, "auc_drop": np.nan, "training_spearman": np.nan, "matured_spearman": np.nan,
           "spearman_drop": np.nan}
    early = _decided_without_a_fit(policy, stored, "customer_value_model", out)
    if early is not None:
        return early
    model_as_of = stored_model_as_of(stored)
    out["model_as_of_date"] = pd.Timestamp(model_as_of).date()
    out["model_age_days"] = _age(as_of_date, model_as_of)
    if policy.mode == "reuse_latest":
        return {**out, "decision": "reuse", "reasons": ["mode_reuse_latest"]}
    reasons = []
    if value_config_changed(stored["config"], config_json):
        reasons.append("config_changed")
    if out["model_age_days"] > policy.max_age_days or out["model_age_days"] < 0:
        reasons.append("model_age")
    windows = json.loads(stored["btyd_training_fits"])
    churn_fit, value_fit = json.loads(stored["churn_model"]), json.loads(stored["value_model"])
    out["training_auc"] = float(churn_fit["oof_auc"].get("model", np.nan))
    out["training_spearman"] = float(value_fit["oof_metrics"]["model"].get("spearman", np.nan))
    matured = matured or {}
    if is_out_of_time(matured.get("churn_window_date"), windows.get("churn")):
        out["matured_auc"] = float(matured["churn_auc"])
        out["auc_drop"] = out["training_auc"] - out["matured_auc"]
        if out["auc_drop"] > policy.max_metric_drop:
            reasons.append("auc_decay")
    if is_out_of_time(matured.get("value_window_date"), windows.get("value")):
        out["matured_spearman"] = float(matured["value_spearman"])
        out["spearman_drop"] = out["training_spearman"] - out["matured_spearman"]
        if out["spearman_drop"] > policy.max_metric_drop:
            reasons.append("value_decay")
    return {**out, "decision": "refit" if reasons else "reuse", "reasons": reasons or ["within_thresholds"]}


def is_out_of_time(window_date, trained_windows: dict | None) -> bool:
    """True when a matured window is out of time: after every snapshot the model was trained on."""
    if window_date is None or pd.isna(window_date):
        return False
    trained = [pd.Timestamp(d) for d in (trained_windows or {})]
    return not trained or pd.Timestamp(window_date) > max(trained)


# ---------------------------------------------------------------------------
# Reading what the previous run stored
# ---------------------------------------------------------------------------


def stored_rows(session, this, table: str, query: str, params: list | None = None) -> pd.DataFrame | None:
    """Rows of ``table`` in the schema of the running model (``this``: dbt.this) as the
    previous run left them, or None when it does not exist. Read by name, not ref():
    segment_feature_distributions is built after segment_model (it refs it), so a ref
    would be a cycle; before segment_model runs, the table holds the earlier runs only.
    ``query`` names the table as ``{relation}``."""
    exists = session.execute("select count(*) from information_schema.tables where table_catalog = ? "
                             "and table_schema = ? and table_name = ?",
                             [this.database, this.schema, table]).fetchall()[0][0]
    if not exists:
        return None
    relation = f'"{this.database}"."{this.schema}"."{table}"'
    return session.execute(query.format(relation=relation), params or []).df()


def reference_reader(session, this):
    """fit_id -> that run's segment_feature_distributions rows of basis own (None: not stored)."""
    def read(fit_id: str) -> pd.DataFrame | None:
        return stored_rows(session, this, "segment_feature_distributions",
                           "select * from {relation} where basis = 'own' and fit_id = ?", [fit_id])
    return read
