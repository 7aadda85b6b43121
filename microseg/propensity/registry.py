"""The glue between the dbt Python models and the training / scoring code:
registry rows (one per trained model, LightGBM text format, never pickle),
scoring with the latest model, and the long evaluation table.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone

import lightgbm as lgb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from microseg.propensity.estimator import PropensityModel
from microseg.propensity.metrics import evaluation_rows
from microseg.propensity.train import BGNBD_BASELINE, PropensityConfig, PropensityTrainingError

REGISTRY_SCHEMA = pa.schema(
    [
        ("model_id", pa.string()),
        ("trained_at", pa.timestamp("us")),
        ("as_of_date", pa.date32()),
        ("feature_as_of_date", pa.date32()),
        ("n_training_snapshots", pa.int64()),
        ("horizon_days", pa.int64()),
        ("target", pa.string()),
        ("feature_list", pa.string()),
        ("parameters", pa.string()),
        ("cv_metrics", pa.string()),
        ("cv_evaluation", pa.string()),
        ("n_training_rows", pa.int64()),
        ("n_positives", pa.int64()),
        ("training_seconds", pa.float64()),
        ("model_text", pa.string()),
    ]
)

EVALUATION_COLUMNS = ["model_id", "as_of_date", "evaluation_set", "table_name", "scorer", "metric", "bucket",
                      "feature", "metric_value"]


#: filters of propensity_features, propensity_labels, customer_value_features and customer_value_labels
#: (snapshot_kind, macro propensity_snapshots) for a Python model's read (`dbt.ref(...).filter(...)`): training
#: (registry, retraining decisions) and scoring (the prediction and evaluation models) read their own snapshots only
TRAINING_ROWS = "snapshot_kind = 'training'"
SCORING_ROWS = "snapshot_kind = 'scoring'"


def config_from_dbt(settings: dict | None) -> PropensityConfig:
    """PropensityConfig from the model's `propensity` config dict (values rendered from vars arrive as text)."""
    if not settings:
        raise PropensityTrainingError("The propensity Python models need their `propensity` config (see the yml).")
    get = settings.get
    mode = str(get("propensity_model_mode")).strip().lower()
    if mode not in ("retrain", "reuse_latest", "auto"):
        raise PropensityTrainingError(
            f"microseg__propensity_model_mode must be retrain or reuse_latest (or auto), got '{mode}'")
    reasons = str(get("propensity_reasons") or "path").strip().lower()
    if reasons not in ("path", "shap"):
        raise PropensityTrainingError(f"microseg__propensity_reasons must be path or shap, got '{reasons}'")
    return PropensityConfig(
        reuse_latest=mode == "reuse_latest",
        reasons=reasons,
        horizon_days=int(get("propensity_horizon_days")),
        target=str(get("propensity_target")).strip().lower(),
        n_folds=int(get("propensity_cv_folds")),
        n_search=int(get("propensity_search_candidates")),
        max_training_rows=int(get("propensity_max_training_rows")),
        random_state=int(get("propensity_seed")),
        dbt_threads=int(get("dbt_threads") or 1),
        exclude_features=tuple(c.strip() for c in str(get("propensity_exclude_features") or "").split(",") if c.strip()),
    )


def training_frame(features: pd.DataFrame, labels: pd.DataFrame) -> pd.DataFrame:
    """Training snapshot rows joined to their labels (complete windows only)."""
    train = features[features["snapshot_kind"] == "training"]
    lab = labels[(labels["snapshot_kind"] == "training") & labels["is_label_complete"]]
    lab = lab[["customer_key", "label_window_start", "target_happened"]].rename(
        columns={"label_window_start": "feature_as_of_date", "target_happened": "label"}
    )
    train = train.assign(feature_as_of_date=pd.to_datetime(train["feature_as_of_date"]))
    lab = lab.assign(feature_as_of_date=pd.to_datetime(lab["feature_as_of_date"]))
    return train.merge(lab, on=["customer_key", "feature_as_of_date"], how="inner")


def latest_model(registry: pd.DataFrame, config: PropensityConfig) -> pd.Series | None:
    """The most recently trained registry row with the same target and horizon, or None."""
    if registry is None or registry.empty:
        return None
    same = registry[(registry["target"] == config.target) & (registry["horizon_days"] == config.horizon_days)]
    if same.empty:
        return None
    return same.sort_values(["trained_at", "model_id"]).iloc[-1]


def train_registry_row(features: pd.DataFrame, labels: pd.DataFrame, config: PropensityConfig) -> pa.Table:
    """Train on the training snapshot and return one registry row."""
    training = training_frame(features, labels)
    if training.empty:
        raise PropensityTrainingError(
            "Cannot train the propensity model: the training snapshot is empty (no customer with a sale on or "
            "before as_of_date - horizon, or no complete label window). Check microseg__as_of_date and "
            "microseg__propensity_horizon_days."
        )
    trained = PropensityModel(config).fit(training).trained_
    trained_at = datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)
    model_id = f"prop-{trained_at:%Y%m%dT%H%M%S}-{trained.model_hash[:10]}"
    feature_as_of = pd.Timestamp(training["feature_as_of_date"].max()).date()
    as_of = (pd.Timestamp(feature_as_of) + pd.Timedelta(days=config.horizon_days)).date()
    evaluation = trained.evaluation.assign(bucket=trained.evaluation["bucket"].astype(object))
    row = {
        "model_id": model_id,
        "trained_at": trained_at,
        "as_of_date": as_of,
        "feature_as_of_date": feature_as_of,
        "n_training_snapshots": int(training["feature_as_of_date"].nunique()),
        "horizon_days": config.horizon_days,
        "target": config.target,
        "feature_list": json.dumps(trained.feature_names),
        "parameters": json.dumps(
            {
                "lightgbm": trained.params,
                "calibration": trained.calibration,
                "bgnbd_training_snapshot": trained.bgnbd_params,
                "max_training_rows": config.max_training_rows,
                "n_search": config.n_search,
            },
            sort_keys=True,
            default=float,
        ),
        "cv_metrics": json.dumps(trained.cv_metrics, sort_keys=True, default=float),
        "cv_evaluation": evaluation.to_json(orient="records"),
        "n_training_rows": trained.n_training_rows,
        "n_positives": trained.n_positives,
        "training_seconds": round(trained.training_seconds, 3),
        "model_text": trained.model_text,
    }
    return pa.Table.from_pylist([row], schema=REGISTRY_SCHEMA)


def empty_registry() -> pa.Table:
    return REGISTRY_SCHEMA.empty_table()


def score_with_model(features: pd.DataFrame, model_row: pd.Series, config: PropensityConfig) -> pd.DataFrame:
    """Scores of the scoring snapshot with a registry row's model, computed once:
    calibrated propensity, raw score, reasons, baselines (the BG/NBD features
    from the training fit, no refit; the BG/NBD baseline fitted on the scoring
    rows) and each customer's contributions row
    (``feature_contributions``, in the order of the model's feature_list) for
    the evaluation's feature importance."""
    is_scoring = features["snapshot_kind"] == "scoring"
    scoring = features if is_scoring.all() else features[is_scoring]  # the model reads the scoring rows only
    out, contrib = PropensityModel.from_registry_row(model_row, config).explain(scoring)
    out.insert(1, "model_id", model_row["model_id"])
    as_of = scoring["feature_as_of_date"].iloc[0] if len(scoring) else None
    out["as_of_date"] = as_of
    n_features = len(json.loads(model_row["feature_list"]))
    out["feature_contributions"] = contribution_lists(contrib[:, :n_features], out.index)
    return out


def contribution_lists(matrix: np.ndarray, index: pd.Index) -> pd.Series:
    """A (rows x features) matrix as one Arrow list column (DuckDB DOUBLE[]): one buffer of values and one of
    offsets, where a column of per-row numpy views gave DuckDB one Python object to convert per row. A frame
    with such a column reaches DuckDB through Arrow, which keeps an index that is not a range as a column:
    score_propensity numbers its rows from 0."""
    rows, width = matrix.shape
    values = pa.array(np.ascontiguousarray(matrix, dtype=np.float64).ravel())
    lists = pa.LargeListArray.from_arrays(pa.array(np.arange(rows + 1, dtype=np.int64) * width), values)
    return pd.Series(pd.arrays.ArrowExtensionArray(lists), index=index, name="feature_contributions")


def require_model(registry: pd.DataFrame, config: PropensityConfig) -> pd.Series:
    row = latest_model(registry, config)
    if row is None:
        raise PropensityTrainingError(
            f"No model in propensity_model_registry for target '{config.target}' and horizon "
            f"{config.horizon_days} days. Build with microseg__propensity_model_mode: retrain."
        )
    return row


#: the columns of propensity_predictions the evaluation reads besides the contributions (propensity_evaluation)
EVALUATION_PREDICTION_COLUMNS = ("customer_key", "propensity", "recency_days", "rfm_score", BGNBD_BASELINE,
                                 "as_of_date")


def mean_abs_contributions(contributions, n_features: int) -> np.ndarray:
    """Mean |contribution| of each of the first ``n_features`` entries over the rows.

    ``contributions``: propensity_predictions' feature_contributions, either an Arrow list column (a
    relation's ``to_arrow_table()``: read as one float matrix, without a numpy array per row; with the
    unused prediction columns left unread, propensity_evaluation at 1,000,000 persons holds 1.2 GB above its
    inputs instead of 2.0) or a sequence of equal-length arrays (a pandas column)."""
    if isinstance(contributions, pd.Series) and isinstance(contributions.dtype, pd.ArrowDtype):
        contributions = pa.array(contributions.array)
    if isinstance(contributions, (pa.Array, pa.ChunkedArray)):
        lengths = pc.list_value_length(contributions)
        shortest, longest = pc.min_max(lengths).values()
        if len(contributions) and (lengths.null_count or shortest != longest):
            raise ValueError("propensity_predictions.feature_contributions: every row needs one contribution per "
                             "feature (a null or shorter list found)")
        width = lengths[0].as_py() if len(contributions) else 0
        values = pc.list_flatten(contributions)
        values = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
        matrix = values.to_numpy(zero_copy_only=False).reshape(len(contributions), width)
    else:
        matrix = np.stack(np.asarray(contributions, dtype=object))
    return np.abs(matrix[:, :n_features]).mean(axis=0)


def evaluation_table(model_row: pd.Series, predictions: pd.DataFrame, labels: pd.DataFrame,
                     contributions=None) -> pd.DataFrame:
    """Long metrics table: the model's cross-validation evaluation stored at training time,
    a forward evaluation of today's scores when their label window is in the data (backtests),
    and global feature importance (gain of the booster, mean |contribution| on the scoring rows).
    Reads the scores of propensity_predictions: nothing is scored again. The contributions are
    ``contributions`` (:func:`mean_abs_contributions`), else predictions' feature_contributions."""
    parts = []
    cv = pd.DataFrame(json.loads(model_row["cv_evaluation"]))
    cv["as_of_date"] = pd.Timestamp(model_row["as_of_date"]).date()
    parts.append(cv)

    scoring_labels = labels[(labels["snapshot_kind"] == "scoring") & labels["is_label_complete"]]
    forward = predictions.merge(
        scoring_labels[["customer_key", "target_happened"]].rename(columns={"target_happened": "label"}),
        on="customer_key",
        how="inner",
    )
    if len(forward) and len(forward) == len(predictions):
        y = forward["label"].astype(float).to_numpy()
        scores = {
            "model": forward["propensity"].to_numpy(float),
            "recency": -forward["recency_days"].to_numpy(float),
            "rfm": forward["rfm_score"].to_numpy(float),
        }
        # the BG/NBD baseline fitted on the scoring rows, not the model's feature (the training fit)
        if np.all(np.isfinite(forward[BGNBD_BASELINE].to_numpy(float))):
            scores["bgnbd"] = forward[BGNBD_BASELINE].to_numpy(float)
        fw = evaluation_rows(y, scores, evaluation_set="forward")
        fw["as_of_date"] = predictions["as_of_date"].iloc[0]
        parts.append(fw)

    names = json.loads(model_row["feature_list"])
    booster = lgb.Booster(model_str=model_row["model_text"])
    gain = booster.feature_importance(importance_type="gain")
    contrib_mean = np.full(len(names), np.nan)
    if len(predictions):
        contrib_mean = mean_abs_contributions(
            predictions["feature_contributions"] if contributions is None else contributions, len(names))
    imp = pd.DataFrame(
        {
            "evaluation_set": "scoring" if len(predictions) else "training",
            "table_name": "feature_importance",
            "scorer": "model",
            "metric": np.repeat(["gain", "mean_abs_contribution"], len(names)),
            "bucket": None,
            "feature": names * 2,
            "value": np.concatenate([gain, contrib_mean]),
        }
    )
    imp["as_of_date"] = predictions["as_of_date"].iloc[0] if len(predictions) else cv["as_of_date"].iloc[0]
    parts.append(imp)
    out = pd.concat(parts, ignore_index=True)
    out["model_id"] = model_row["model_id"]
    out["bucket"] = pd.array(out["bucket"], dtype="Int64")
    out["metric_value"] = out["value"].astype(float)
    out["as_of_date"] = pd.to_datetime(out["as_of_date"]).dt.date
    # metrics that do not apply (Brier score of a ranking baseline) are left out rather than NaN
    return out.loc[out["metric_value"].notna(), EVALUATION_COLUMNS].reset_index(drop=True)
