"""Customer value and churn risk on point-in-time snapshots.

Input: snapshots of microseg's propensity features (one row per customer and
``feature_as_of_date``; models/marts/value/customer_value_features) with
``repeat_purchase_days`` (x), ``first_to_last_days`` (t_x),
``tenure_days`` (T) and ``repeat_spend_mean_eur`` (mean sales per purchase day
after the first).

0. The purchase model (:func:`choose_purchase_model`): BG/NBD, MBG/NBD or
   Pareto/NBD, the one with the highest held-out log-likelihood when fitted on
   a snapshot and scored on the same customers' purchases up to a later date
   (microseg.propensity.btyd).
1. BTYD value (:func:`btyd_value`): that purchase model and Gamma-Gamma fitted
   on each snapshot's own rows (no label read), giving P(alive), expected
   purchases in the horizon, expected spend per purchase, expected revenue and
   the discounted horizon CLV (monthly steps, an annual rate turned monthly).
2. LightGBM value (:func:`fit_value_model`): Tweedie regression of the revenue
   in the horizon after a training snapshot on its features plus the BTYD
   columns. Out-of-fold predictions are compared with the BTYD expected revenue
   on the same rows; the model's value is used only when its out-of-fold mean
   absolute error is lower.
3. Churn (:func:`fit_churn_model`): churned = no purchase in the
   ``churn_inactive_days`` after the snapshot; LightGBM binary with Platt
   calibration on out-of-fold scores; baselines 1 - P(alive) and BG/NBD
   expected purchases in the churn window (negated).

LightGBM threads follow :func:`microseg.propensity.train.lightgbm_threads`
(cores // dbt threads), deterministic, seeded.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GroupKFold, KFold, StratifiedKFold

from microseg.propensity import btyd
from microseg.propensity.train import apply_calibration, feature_columns, fit_platt, lightgbm_threads, sample_positions
from microseg.value import gammagamma

DAYS_PER_MONTH = 365.25 / 12
BTYD_COLUMNS = ("btyd_p_alive", "btyd_expected_purchases", "btyd_expected_spend_eur",
                "btyd_expected_revenue_eur", "btyd_clv_eur", "btyd_expected_purchases_churn_window")
LGB_PARAMS = {"num_leaves": 15, "learning_rate": 0.05, "min_child_samples": 50, "feature_fraction": 0.9,
              "lambda_l2": 1.0}


class ValueModelError(ValueError):
    """The value or churn model cannot be trained on this data; the message says why."""


@dataclass(frozen=True)
class ValueConfig:
    """Settings (dbt vars microseg__value_* and microseg__churn_*)."""

    horizon_months: int = 12
    discount_rate_annual: float = 0.10
    churn_inactive_days: int = 180
    n_folds: int = 5
    random_state: int = 42
    dbt_threads: int = 1
    num_threads: int = 0
    max_boost_rounds: int = 1000
    early_stopping_rounds: int = 30
    min_rows: int = 50
    max_training_rows: int = 100_000

    @property
    def horizon_days(self) -> int:
        """The horizon in days, as the SQL labels count it: round(months x 365.25 / 12)."""
        return int(round(self.horizon_months * DAYS_PER_MONTH))

    def threads(self) -> int:
        return self.num_threads if self.num_threads > 0 else lightgbm_threads(self.dbt_threads)


def config_from_dbt(settings: dict | None) -> ValueConfig:
    """ValueConfig from the model's `value` config dict (values rendered from vars arrive as text)."""
    if not settings:
        raise ValueModelError("The customer value Python models need their `value` config (see the yml).")
    return ValueConfig(
        horizon_months=int(settings["value_horizon_months"]),
        discount_rate_annual=float(settings["value_discount_rate_annual"]),
        churn_inactive_days=int(settings["churn_inactive_days"]),
        n_folds=int(settings["value_cv_folds"]),
        random_state=int(settings["value_seed"]),
        dbt_threads=int(settings.get("dbt_threads") or 1),
        max_training_rows=int(settings.get("value_max_training_rows") or ValueConfig.max_training_rows),
    )


def monthly_rate(annual: float) -> float:
    """The monthly rate compounding to ``annual`` over 12 months."""
    return (1.0 + annual) ** (1.0 / 12.0) - 1.0


def discounted_clv(bg, spend, x, t_x, T, months: int, monthly_discount: float,
                   weeks_per_month: float = DAYS_PER_MONTH / 7, alive=None) -> np.ndarray:
    """sum over months i = 1..months of E[purchases in month i] x E[spend] / (1 + d)^i.

    ``bg``: fitted parameters of any purchase model (BG/NBD, MBG/NBD, Pareto/NBD).
    Time in weeks (t_x, T). E[purchases in month i] is the difference of the
    purchase model's cumulative expectation at the month's end and start (the lifetimes
    package's customer_lifetime_value does the same with freq='W',
    weeks_per_month=4.345). ``alive``: the model's P(alive) of these customers when already computed; it does
    not depend on the month, so it is computed once, not once per month (for Pareto/NBD a likelihood each).
    """
    name = btyd.name_of(bg)
    alive = btyd.p_alive(name, bg, x, t_x, T) if alive is None else alive
    total = np.zeros(np.asarray(x, float).shape)
    previous = np.zeros_like(total)
    for i in range(1, months + 1):
        cumulative = btyd.expected_purchases(name, bg, i * weeks_per_month, x, t_x, T, alive=alive)
        total += (cumulative - previous) * np.asarray(spend, float) / (1.0 + monthly_discount) ** i
        previous = cumulative
    return total


def _purchases(frame: pd.DataFrame, suffix: str = ""):
    """(x, t_x, T) of the purchase models, in weeks, from the columns named with ``suffix``."""
    x = frame["repeat_purchase_days" + suffix].to_numpy(float)
    t_x = frame["first_to_last_days" + suffix].to_numpy(float) / 7.0
    T = frame["tenure_days" + suffix].to_numpy(float) / 7.0
    return x, t_x, T


def _rfm(frame: pd.DataFrame):
    return (*_purchases(frame), frame["repeat_spend_mean_eur"].to_numpy(float))


def choose_purchase_model(calibration: pd.DataFrame, later: pd.DataFrame) -> tuple[str, dict]:
    """The purchase model with the highest held-out log-likelihood (microseg.propensity.btyd.choose).

    ``calibration``: a snapshot (one feature_as_of_date); ``later``: a later snapshot. Each model is fitted on
    the calibration rows and scored on the purchases the same customers (inner join on customer_key) made up
    to the later date. Returns (name, report by model). ValueModelError when the two share no customer or no
    model can be fitted.
    """
    # only the columns the fits read: a merge of every feature column held both snapshots twice
    rfm = ["customer_key", "repeat_purchase_days", "first_to_last_days", "tenure_days"]
    both = calibration[rfm].merge(later[rfm], on="customer_key", suffixes=("", "_later"))
    if both.empty:
        raise ValueModelError("customer value: the calibration and later snapshots share no customer")
    try:
        return btyd.choose(_purchases(both), _purchases(both, "_later"))
    except btyd.FitError as exc:
        raise ValueModelError(f"customer value: {exc}") from exc


def btyd_value(frame: pd.DataFrame, config: ValueConfig, purchase_model: str = "bgnbd",
               init: dict | None = None) -> tuple[pd.DataFrame, dict]:
    """Add the BTYD_COLUMNS to ``frame``, fitting ``purchase_model`` (a microseg.propensity.btyd.MODELS name)
    and Gamma-Gamma once per feature_as_of_date, each on at most btyd.MAX_FIT_CUSTOMERS customers (a seeded
    sample; every customer is scored). ``init``: the purchase model's parameters on another snapshot (the
    model choice's fit) as the optimiser's start, which saves iterations, not accuracy.

    Returns the frame and the fits by date ({date: {"purchase_model": name, name: {...}, "gamma_gamma":
    {...}}}). Raises ValueModelError naming the date when a snapshot cannot be fitted (no repeat purchase).
    """
    # the BTYD columns are filled by position into arrays and assigned to a shallow copy: a deep copy of the frame
    # and a copy of each date's rows cost two frames of memory (1,000,000 persons: 0.7 GB at scoring)
    values = {col: np.full(len(frame), np.nan) for col in BTYD_COLUMNS}
    fits = {}
    weeks = config.horizon_days / 7.0
    dates, columns = frame["feature_as_of_date"], _rfm(frame)
    for date in np.sort(dates.dropna().unique()):  # in date order, as a group-by gives them
        idx = np.flatnonzero((dates == date).to_numpy())
        x, t_x, T, mbar = (v[idx] for v in columns)
        rows = btyd.fit_sample(len(x))
        try:
            bg = btyd.fit(purchase_model, x, t_x, T,
                          init=btyd.params_from_dict(purchase_model, init) if init else None)
            gg = gammagamma.fit(x[rows], mbar[rows])
        except (btyd.FitError, gammagamma.GammaGammaFitError) as exc:
            raise ValueModelError(f"customer value: cannot fit BTYD on the snapshot as of "
                                  f"{pd.Timestamp(date).date()}: {exc}") from exc
        spend = gammagamma.expected_spend(gg, x, mbar)
        alive = btyd.p_alive(purchase_model, bg, x, t_x, T)
        purchases = btyd.expected_purchases(purchase_model, bg, weeks, x, t_x, T, alive=alive)
        values["btyd_p_alive"][idx] = alive
        values["btyd_expected_purchases"][idx] = purchases
        values["btyd_expected_spend_eur"][idx] = spend
        values["btyd_expected_revenue_eur"][idx] = purchases * spend
        values["btyd_clv_eur"][idx] = discounted_clv(bg, spend, x, t_x, T, config.horizon_months,
                                                     monthly_rate(config.discount_rate_annual), alive=alive)
        values["btyd_expected_purchases_churn_window"][idx] = btyd.expected_purchases(
            purchase_model, bg, config.churn_inactive_days / 7.0, x, t_x, T, alive=alive)
        fits[str(pd.Timestamp(date).date())] = {"purchase_model": purchase_model, purchase_model: bg.as_dict(),
                                                "gamma_gamma": gg.as_dict()}
    return frame.assign(**values), fits


def value_metrics(actual, predicted) -> dict[str, float]:
    """How well ``predicted`` value matches ``actual`` next-period revenue: Pearson and Spearman
    correlation, mean absolute error, totals, and the share of actual revenue captured by the
    customers in the top 10% of predicted value (ties broken by input order)."""
    a = np.asarray(actual, float)
    p = np.asarray(predicted, float)
    n = a.size
    out = {"n_rows": float(n), "actual_total_eur": float(a.sum()), "predicted_total_eur": float(p.sum())}
    if n < 2:
        return {**out, "pearson": np.nan, "spearman": np.nan, "mae_eur": np.nan, "top_decile_revenue_share": np.nan}
    k = max(1, int(np.ceil(0.1 * n)))
    top = np.argsort(-p, kind="stable")[:k]
    out.update(
        pearson=float(np.corrcoef(a, p)[0, 1]) if a.std() > 0 and p.std() > 0 else np.nan,
        spearman=float(pd.Series(a).corr(pd.Series(p), method="spearman")),
        mae_eur=float(np.mean(np.abs(a - p))),
        top_decile_revenue_share=float(a[top].sum() / a.sum()) if a.sum() > 0 else np.nan,
    )
    return out


def _folds(n: int, y: np.ndarray, config: ValueConfig, stratify: bool) -> list:
    if stratify:
        return list(StratifiedKFold(config.n_folds, shuffle=True, random_state=config.random_state).split(
            np.zeros(n), y))
    return list(KFold(config.n_folds, shuffle=True, random_state=config.random_state).split(np.zeros(n)))


def _cv_booster(params: dict, X: pd.DataFrame, y: np.ndarray, folds: list, config: ValueConfig):
    params = {**LGB_PARAMS, **params, "seed": config.random_state, "deterministic": True, "force_row_wise": True,
              "num_threads": config.threads(), "verbosity": -1}
    data = lgb.Dataset(X, label=y, free_raw_data=False, params={"verbosity": -1, "feature_pre_filter": False})
    result = lgb.cv(params, data, num_boost_round=config.max_boost_rounds, folds=folds,
                    callbacks=[lgb.early_stopping(config.early_stopping_rounds, verbose=False)],
                    return_cvbooster=True)
    rounds = len(next(iter(result.values())))
    oof = np.zeros(len(y))
    for (_, valid), booster in zip(folds, result["cvbooster"].boosters):
        oof[valid] = booster.predict(X.iloc[valid], num_iteration=rounds)
    final = lgb.train(params, data, num_boost_round=rounds)
    return final, rounds, oof


def cap_rows(training: pd.DataFrame, config: ValueConfig, stratify: bool) -> pd.DataFrame:
    """At most config.max_training_rows rows (a seeded sample, stratified on the label for churn), so the
    LightGBM cross-validation costs the same beyond that size; sorted by customer_key."""
    training = training.sort_values("customer_key", ignore_index=True)
    if len(training) <= config.max_training_rows:
        return training
    keep = sample_positions(len(training), config.max_training_rows, config.random_state,
                            stratify=training["label"] if stratify else None)
    return training.iloc[keep].reset_index(drop=True)


def _features(frame: pd.DataFrame) -> list[str]:
    return feature_columns(frame.drop(columns=["label"], errors="ignore"))


def fit_value_model(training: pd.DataFrame, config: ValueConfig) -> dict:
    """LightGBM (Tweedie) on a training snapshot with BTYD columns and ``label`` = revenue in the horizon.

    Returns {model_text, features, rounds, oof_metrics: {model: ..., btyd: ...}, use_model}. ``use_model``
    is true when the model's out-of-fold MAE is below the BTYD expected revenue's on the same rows.
    """
    if len(training) < max(config.min_rows, config.n_folds):
        raise ValueModelError(f"customer value: {len(training)} training rows, at least {config.min_rows} needed; "
                              "use a shorter microseg__value_horizon_months or more history")
    training = cap_rows(training, config, stratify=False)
    features = _features(training)
    X = training[features].astype(float)
    y = training["label"].astype(float).to_numpy()
    folds = _folds(len(y), y, config, stratify=False)
    final, rounds, oof = _cv_booster({"objective": "tweedie", "tweedie_variance_power": 1.5, "metric": "tweedie"},
                                     X, y, folds, config)
    metrics = {"model": value_metrics(y, oof), "btyd": value_metrics(y, training["btyd_expected_revenue_eur"])}
    return {"model_text": final.model_to_string(), "features": features, "rounds": rounds, "oof_metrics": metrics,
            "use_model": bool(metrics["model"]["mae_eur"] < metrics["btyd"]["mae_eur"])}


def churn_baselines(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    """Churn risk baselines, higher = more likely to lapse."""
    return {"btyd_not_alive": 1.0 - frame["btyd_p_alive"].to_numpy(float),
            "btyd_expected_purchases": -frame["btyd_expected_purchases_churn_window"].to_numpy(float),
            "recency": frame["recency_days"].to_numpy(float)}


def _auc(y, score) -> float:
    y = np.asarray(y, float)
    return float(roc_auc_score(y, score)) if 0 < y.sum() < y.size else float("nan")


def fit_churn_model(training: pd.DataFrame, config: ValueConfig) -> dict:
    """LightGBM binary on a training snapshot with ``label`` = churned (no purchase in the churn window).

    Returns {model_text, features, rounds, calibration, oof_auc: {model, <baselines>}}.
    """
    y = training["label"].astype(float).to_numpy()
    need = max(config.min_rows // 5, config.n_folds)
    if min(y.sum(), y.size - y.sum()) < need:
        raise ValueModelError(f"churn: the training snapshot has {int(y.sum())} churned and {int(y.size - y.sum())} "
                              f"retained customers, at least {need} of each needed; change "
                              "microseg__churn_inactive_days")
    training = cap_rows(training, config, stratify=True)
    y = training["label"].astype(float).to_numpy()
    features = _features(training)
    X = training[features].astype(float)
    folds = _folds(len(y), y, config, stratify=True)
    final, rounds, oof = _cv_booster({"objective": "binary", "metric": "auc"}, X, y, folds, config)
    # predictions are probabilities; Platt on their log-odds fixes the out-of-fold calibration
    raw = np.log(np.clip(oof, 1e-9, 1 - 1e-9) / np.clip(1 - oof, 1e-9, 1))
    calibration = fit_platt(raw, y)
    auc = {"model": _auc(y, raw)}
    auc.update({name: _auc(y, s) for name, s in churn_baselines(training).items()})
    return {"model_text": final.model_to_string(), "features": features, "rounds": rounds,
            "calibration": calibration, "oof_auc": auc}


#: rows per LightGBM prediction call: the float copy of a chunk's features, not of the whole snapshot, is held
#: (1,000,000 persons, customer_value_predictions alone: peak 1,955 -> 1,403 MiB, the same scores)
PREDICT_ROWS = 131_072


def predict_rows(booster: lgb.Booster, frame: pd.DataFrame, features: list[str], rows: int = PREDICT_ROWS
                 ) -> np.ndarray:
    """The booster's predictions for ``frame[features]`` as floats, ``rows`` rows at a time (each row's
    prediction depends on that row alone, so the result is the same as one call)."""
    parts = [booster.predict(frame.iloc[start:start + rows][features].astype(float))
             for start in range(0, len(frame), rows)]
    return np.concatenate(parts) if parts else np.zeros(0)


def predict_revenue(frame: pd.DataFrame, value_fit: dict) -> np.ndarray:
    """The LightGBM value model's revenue in the horizon (undiscounted) for a snapshot with its BTYD columns."""
    return predict_rows(lgb.Booster(model_str=value_fit["model_text"]), frame, value_fit["features"])


def predict_churn_risk(frame: pd.DataFrame, churn_fit: dict) -> np.ndarray:
    """The churn model's calibrated churn risk for a snapshot with its BTYD columns."""
    if not len(frame):
        return np.zeros(0)
    p = predict_rows(lgb.Booster(model_str=churn_fit["model_text"]), frame, churn_fit["features"])
    raw = np.log(np.clip(p, 1e-9, 1 - 1e-9) / np.clip(1 - p, 1e-9, 1))
    return apply_calibration(raw, churn_fit["calibration"])


def predict(frame: pd.DataFrame, value_fit: dict, churn_fit: dict | None) -> pd.DataFrame:
    """Scores of a snapshot that already has its BTYD columns (:func:`btyd_value`).

    value_model_eur is the LightGBM revenue in the horizon discounted like the BTYD CLV of the same customer
    (the BTYD CLV / expected revenue ratio); value_eur is the one that validated better.
    """
    revenue = predict_revenue(frame, value_fit)
    btyd_rev = frame["btyd_expected_revenue_eur"].to_numpy(float)
    btyd_clv = frame["btyd_clv_eur"].to_numpy(float)
    ratio = np.where(btyd_rev > 0, btyd_clv / np.where(btyd_rev > 0, btyd_rev, 1.0), 1.0)
    out = pd.DataFrame({"customer_key": frame["customer_key"].to_numpy()})
    for col in BTYD_COLUMNS:
        out[col] = frame[col].to_numpy(float)
    out["model_expected_revenue_eur"] = revenue
    out["model_clv_eur"] = revenue * ratio
    out["value_eur"] = out["model_clv_eur"] if value_fit["use_model"] else out["btyd_clv_eur"]
    out["value_source"] = "lightgbm" if value_fit["use_model"] else "btyd"
    out["churn_risk"] = predict_churn_risk(frame, churn_fit) if churn_fit is not None else np.nan
    return out


def config_to_json(config: ValueConfig) -> str:
    return json.dumps(asdict(config), sort_keys=True)
