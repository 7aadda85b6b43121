"""Evaluation of propensity scores: ranking and probability metrics, a decile
table and a calibration table. Pure functions of (y, score) arrays.

Scores of baselines (recency, RFM, BG/NBD expected purchases) are rankings,
not probabilities: ``summary`` leaves Brier score and log loss null for them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, brier_score_loss, log_loss, roc_auc_score


def _arrays(y, score):
    y = np.asarray(y, dtype=float)
    score = np.asarray(score, dtype=float)
    if y.shape != score.shape:
        raise ValueError("y and score must have the same length")
    if np.any(~np.isfinite(score)):
        raise ValueError("scores must be finite")
    return y, score


def deciles(score) -> np.ndarray:
    """Decile 1..10 by rank of score, 10 = highest; ties share a decile (by their lowest rank)."""
    score = np.asarray(score, dtype=float)
    n = score.size
    if n == 0:
        return np.zeros(0, dtype=int)
    ranks = pd.Series(score).rank(method="min").to_numpy()  # 1 = lowest
    return (1 + np.floor(10.0 * (ranks - 1) / n)).astype(int)


def top_decile_lift(y, score) -> float:
    """Positive rate among the 10% highest scores divided by the overall rate."""
    y, score = _arrays(y, score)
    if y.size == 0 or y.mean() == 0:
        return float("nan")
    k = max(1, int(np.ceil(0.1 * y.size)))
    # stable sort on -score: ties keep their input order, so the result is deterministic
    top = np.argsort(-score, kind="stable")[:k]
    return float(y[top].mean() / y.mean())


def summary(y, score, *, is_probability: bool) -> dict[str, float]:
    """ROC-AUC, PR-AUC, top-decile lift, and for probabilities Brier score and log loss."""
    y, score = _arrays(y, score)
    both = 0 < y.sum() < y.size
    out = {
        "n_rows": float(y.size),
        "n_positives": float(y.sum()),
        "positive_rate": float(y.mean()) if y.size else float("nan"),
        "roc_auc": float(roc_auc_score(y, score)) if both else float("nan"),
        "pr_auc": min(1.0, float(average_precision_score(y, score))) if both else float("nan"),
        "top_decile_lift": top_decile_lift(y, score),
        "brier_score": float("nan"),
        "log_loss": float("nan"),
    }
    if is_probability and y.size:
        p = np.clip(score, 1e-15, 1 - 1e-15)
        out["brier_score"] = float(brier_score_loss(y, p))
        out["log_loss"] = float(log_loss(y, p, labels=[0, 1]))
    return out


def decile_table(y, score) -> pd.DataFrame:
    """Per score decile (10 = highest): rows, positives, positive rate, lift, mean score."""
    y, score = _arrays(y, score)
    frame = pd.DataFrame({"decile": deciles(score), "y": y, "score": score})
    base = y.mean() if y.size else float("nan")
    table = frame.groupby("decile").agg(n_rows=("y", "size"), n_positives=("y", "sum"), mean_score=("score", "mean"))
    table["positive_rate"] = table["n_positives"] / table["n_rows"]
    table["lift"] = table["positive_rate"] / base if base else np.nan
    return table.reset_index().sort_values("decile", ascending=False, ignore_index=True)


def calibration_table(y, probability, n_bins: int = 10) -> pd.DataFrame:
    """Reliability table: equal-width probability bins with mean predicted and observed rate."""
    y, p = _arrays(y, probability)
    bins = np.clip((p * n_bins).astype(int), 0, n_bins - 1) + 1
    frame = pd.DataFrame({"bin": bins, "y": y, "p": p})
    table = frame.groupby("bin").agg(n_rows=("y", "size"), mean_predicted=("p", "mean"), observed_rate=("y", "mean"))
    table = table.reset_index()
    table["bin_lower"] = (table["bin"] - 1) / n_bins
    table["bin_upper"] = table["bin"] / n_bins
    return table


def evaluation_rows(y, scores: dict[str, np.ndarray], *, evaluation_set: str, probability_scorer: str = "model") -> pd.DataFrame:
    """Long table of every metric for every scorer on the same rows (y).

    Columns: evaluation_set, table_name (summary, deciles, calibration), scorer,
    metric, bucket (decile or calibration bin; null in the summary), feature
    (null here), value. Only ``probability_scorer`` gets Brier score, log loss
    and a calibration table.
    """
    parts = []
    for scorer, score in scores.items():
        is_prob = scorer == probability_scorer
        for metric, value in summary(y, score, is_probability=is_prob).items():
            parts.append(("summary", scorer, metric, None, value))
        for row in decile_table(y, score).itertuples(index=False):
            for metric in ("n_rows", "n_positives", "positive_rate", "lift", "mean_score"):
                parts.append(("deciles", scorer, metric, int(row.decile), float(getattr(row, metric))))
        if is_prob:
            for row in calibration_table(y, score).itertuples(index=False):
                for metric in ("n_rows", "mean_predicted", "observed_rate"):
                    parts.append(("calibration", scorer, metric, int(row.bin), float(getattr(row, metric))))
    frame = pd.DataFrame(parts, columns=["table_name", "scorer", "metric", "bucket", "value"])
    frame.insert(0, "evaluation_set", evaluation_set)
    frame.insert(5, "feature", None)
    frame["bucket"] = frame["bucket"].astype("Int64")
    return frame
