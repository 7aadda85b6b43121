"""First-purchase propensity for customers who browse or read emails but have
never bought (models/marts/value/first_purchase_snapshots): LightGBM binary on
the training snapshot (label: a first purchase in the horizon after it), Platt
calibration on out-of-fold log-odds, scored once on the scoring snapshot.

Evaluated out of fold against a behaviour baseline (cart adds in 90 days, then
the most recent session: what a marketer would sort by without a model), and
forward when the scoring snapshot's window is covered by the data (backtest).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from microseg.propensity.train import apply_calibration, feature_columns, fit_platt
from microseg.value.clv import ValueConfig, ValueModelError, _cv_booster, _folds, predict_rows

LABEL = "is_first_purchase"


def baseline(frame: pd.DataFrame) -> np.ndarray:
    """Cart adds in 90 days first, then the most recent session (never browsed = oldest)."""
    recency = frame["days_since_last_session"].fillna(100_000).to_numpy(float)
    return frame["cart_adds_90d"].to_numpy(float) * 1e6 - recency


def _auc(y, s) -> float:
    return float(roc_auc_score(y, s)) if 0 < y.sum() < y.size else float("nan")


def _log_odds(p):
    p = np.clip(p, 1e-9, 1 - 1e-9)
    return np.log(p / (1 - p))


def score_first_purchase(snapshots: pd.DataFrame, config: ValueConfig) -> pd.DataFrame:
    """One row per scoring customer: calibrated first_purchase_propensity, its decile (10 = highest), the
    baseline score, and the out-of-fold (and, in a backtest, forward) ROC-AUC of model and baseline."""
    train = snapshots[(snapshots["snapshot_kind"] == "training") & snapshots["is_label_complete"].fillna(False)]
    train = train.sort_values("customer_key", ignore_index=True)
    y = train[LABEL].astype(float).to_numpy()
    need = max(config.min_rows // 5, config.n_folds)
    scoring = snapshots[snapshots["snapshot_kind"] == "scoring"].sort_values("customer_key", ignore_index=True)
    if min(y.sum(), y.size - y.sum()) < need:
        # Too few labelled examples to learn from (a small shop, a short history): no model, and no failed build.
        # Every customer gets the training base rate and the baseline's ranking; the AUC columns stay null.
        print(f"first purchase: the training snapshot has {int(y.sum())} first purchases among {y.size} browsing "
              f"non-buyers, at least {need} of each class are needed for a model: scored by the baseline "
              "(a longer microseg__propensity_horizon_days gives more examples)")
        return _baseline_only(scoring, float(y.mean()) if y.size else 0.0, len(y), int(y.sum()))
    exclude = {LABEL, "is_label_complete"}
    features = [c for c in feature_columns(train) if c not in exclude]
    folds = _folds(len(y), y, config, stratify=True)
    final, rounds, oof = _cv_booster({"objective": "binary", "metric": "auc"}, train[features].astype(float), y,
                                     folds, config)
    calibration = fit_platt(_log_odds(oof), y)
    p = predict_rows(final, scoring, features)
    out = pd.DataFrame({
        "customer_key": scoring["customer_key"],
        "as_of_date": pd.to_datetime(scoring["feature_as_of_date"]).dt.date,
        "first_purchase_propensity": apply_calibration(_log_odds(p), calibration),
        "baseline_score": baseline(scoring),
        "cv_roc_auc_model": _auc(y, oof),
        "cv_roc_auc_baseline": _auc(y, baseline(train)),
        "n_training_rows": len(y),
        "n_training_positives": int(y.sum()),
    })
    out["decile"] = _deciles(out["first_purchase_propensity"])
    done = scoring["is_label_complete"].fillna(False).to_numpy(bool)
    yf = scoring.loc[done, LABEL].astype(float).to_numpy()
    out["forward_roc_auc_model"] = _auc(yf, out.loc[done, "first_purchase_propensity"].to_numpy()) if done.any() \
        else np.nan
    out["forward_roc_auc_baseline"] = _auc(yf, out.loc[done, "baseline_score"].to_numpy()) if done.any() else np.nan
    return out


def _deciles(score: pd.Series) -> pd.Series:
    """1-10, 10 = highest score; ties broken by row order (customer_key)."""
    return (1 + np.floor(10 * score.rank(method="first").sub(1) / max(1, len(score)))).astype(int)


def _baseline_only(scoring: pd.DataFrame, base_rate: float, n_rows: int, n_positives: int) -> pd.DataFrame:
    """The scores when no model can be trained: the base rate for everyone, deciles by the baseline."""
    base = baseline(scoring)
    return pd.DataFrame({
        "customer_key": scoring["customer_key"],
        "as_of_date": pd.to_datetime(scoring["feature_as_of_date"]).dt.date,
        "first_purchase_propensity": np.full(len(scoring), min(max(base_rate, 0.0), 1.0)),
        "baseline_score": base,
        "cv_roc_auc_model": np.nan,
        "cv_roc_auc_baseline": np.nan,
        "n_training_rows": n_rows,
        "n_training_positives": n_positives,
        "decile": _deciles(pd.Series(base)),
        "forward_roc_auc_model": np.nan,
        "forward_roc_auc_baseline": np.nan,
    })
