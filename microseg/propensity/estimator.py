"""The propensity model as a scikit-learn style estimator, usable outside dbt.

>>> model = PropensityModel(PropensityConfig(horizon_days=90)).fit(training)   # doctest: +SKIP
>>> model.predict_proba(scoring)[:, 1]                                          # doctest: +SKIP

``fit`` takes a training snapshot with a ``label`` column
(:func:`microseg.propensity.registry.training_frame` builds it from the dbt
marts) and trains once (:func:`~microseg.propensity.train.train_propensity`:
BG/NBD features, bounded search with cross-validation, Platt calibration).
``predict_proba`` (the score only) and ``explain`` (with reasons) score a snapshot with the fitted booster,
the calibration and the training BG/NBD fit for the BG/NBD features (no
refit: one customer scores the same in any batch); ``explain`` also returns
the BG/NBD baseline, fitted on the rows it is given. A registry row of
propensity_model_registry loads with :meth:`PropensityModel.from_registry_row`.
"""

from __future__ import annotations

import json
from dataclasses import asdict, replace

import numpy as np
import pandas as pd

from microseg.propensity.train import (
    PropensityConfig,
    TrainedModel,
    lightgbm_threads_of,
    predict_propensity,
    score_propensity,
    scoring_bgnbd_params,
    train_propensity,
)


class PropensityModel:
    """Fit once on a labelled snapshot, score many (fit / predict_proba / explain, get_params / set_params)."""

    def __init__(self, config: PropensityConfig):
        self.config = config

    def get_params(self, deep: bool = True) -> dict:
        """Every PropensityConfig field."""
        return asdict(self.config)

    def set_params(self, **params) -> "PropensityModel":
        self.config = replace(self.config, **params)
        return self

    def fit(self, X: pd.DataFrame, y=None) -> "PropensityModel":
        """Train on ``X`` (a training snapshot); ``y`` overrides its ``label`` column when given."""
        if y is not None:
            X = X.assign(label=np.asarray(y))
        self.trained_ = train_propensity(X, self.config)
        self.model_text_ = self.trained_.model_text
        self.feature_names_ = list(self.trained_.feature_names)
        self.calibration_ = self.trained_.calibration
        self.bgnbd_params_ = scoring_bgnbd_params(self.trained_.bgnbd_params)
        return self

    @classmethod
    def from_registry_row(cls, row: pd.Series, config: PropensityConfig) -> "PropensityModel":
        """A fitted model from a propensity_model_registry row (LightGBM text, never pickle)."""
        model = cls(config)
        params = json.loads(row["parameters"])
        model.model_text_ = row["model_text"]
        model.feature_names_ = json.loads(row["feature_list"])
        model.calibration_ = params["calibration"]
        model.bgnbd_params_ = scoring_bgnbd_params(params.get("bgnbd_training_snapshot"))
        return model

    def explain(self, X: pd.DataFrame, baseline: bool = True) -> tuple[pd.DataFrame, np.ndarray]:
        """One row per customer of ``X`` (sorted by customer_key): propensity, raw
        score, three reasons, baseline scores (BG/NBD's fitted on ``X``; null
        with ``baseline=False``); and the contributions matrix (``config.reasons``)."""
        return score_propensity(X, self.model_text_, self.feature_names_, self.calibration_,
                                self.config.horizon_days, self.bgnbd_params_, baseline=baseline,
                                reasons=self.config.reasons, num_threads=lightgbm_threads_of(self.config))

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """(n, 2) array of [P(no target), P(target)] in the row order of ``X``: the booster's prediction
        only (no reasons, no baseline fitted)."""
        p = predict_propensity(X, self.model_text_, self.feature_names_, self.calibration_, self.config.horizon_days,
                               self.bgnbd_params_, num_threads=lightgbm_threads_of(self.config))
        return np.column_stack([1.0 - p, p])


__all__ = ["PropensityModel", "PropensityConfig", "TrainedModel"]
