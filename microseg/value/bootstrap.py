"""Paired bootstrap intervals: resample customers with replacement, recompute
two scorers' metric on the same resample, and report the difference.

A difference whose 95% interval lies above zero is a lead that one split's
noise does not explain (on these customers; a new period can still differ).
"""

from __future__ import annotations

from typing import Callable

import numpy as np
from sklearn.metrics import roc_auc_score


def paired_difference(y, score_a, score_b, metric: Callable = roc_auc_score, *, rounds: int = 1000,
                      level: float = 0.95, random_state: int = 42) -> dict[str, float]:
    """metric(y, a) - metric(y, b) with its percentile bootstrap interval over ``rounds`` resamples.

    Resamples in which the metric is undefined (e.g. one class only for ROC-AUC) are skipped and counted.
    Returns a, b, diff, diff_low, diff_high, share_above_zero, rounds_used.
    """
    y = np.asarray(y, float)
    a = np.asarray(score_a, float)
    b = np.asarray(score_b, float)
    if not (y.shape == a.shape == b.shape):
        raise ValueError("y and both scores must have the same length")
    rng = np.random.default_rng(random_state)
    diffs = []
    for _ in range(rounds):
        idx = rng.integers(0, y.size, y.size)
        try:
            diffs.append(metric(y[idx], a[idx]) - metric(y[idx], b[idx]))
        except ValueError:
            continue
    diffs = np.asarray(diffs, float)
    tail = (1 - level) / 2
    value_a, value_b = float(metric(y, a)), float(metric(y, b))
    return {"a": value_a, "b": value_b, "diff": value_a - value_b,
            "diff_low": float(np.quantile(diffs, tail)) if diffs.size else float("nan"),
            "diff_high": float(np.quantile(diffs, 1 - tail)) if diffs.size else float("nan"),
            "share_above_zero": float(np.mean(diffs > 0)) if diffs.size else float("nan"),
            "rounds_used": float(diffs.size)}
