"""Propensity: BG/NBD maximum likelihood, metrics, training on synthetic data,
reasons, the estimator, scoring once with the training BG/NBD fit for the
features and a fit on the scoring rows for the BG/NBD baseline, the
evaluation reading scores without re-scoring, registry round trip, defaults
equal to dbt_project.yml, CDNOW mapping."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

import duckdb
import lightgbm as lgb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from microseg.propensity import bgnbd, btyd, cdnow, metrics, registry
from microseg.propensity import train as train_module
from microseg.propensity.estimator import PropensityModel
from microseg.propensity.train import (
    BGNBD_BASELINE,
    PropensityConfig,
    PropensityTrainingError,
    explain_reasons,
    score_propensity,
    scoring_bgnbd_params,
    train_propensity,
)

PROJECT = Path(__file__).resolve().parents[2] / "dbt_project.yml"

TRUE = bgnbd.BGNBDParams(r=0.25, alpha=4.0, a=0.8, b=2.5)


@pytest.fixture(scope="module")
def simulated_bgnbd():
    rng = np.random.default_rng(7)
    T = rng.uniform(20, 40, size=6000)
    x, t_x = bgnbd.simulate(TRUE, T, rng)
    return x, t_x, T


def test_bgnbd_recovers_known_parameters(simulated_bgnbd):
    x, t_x, T = simulated_bgnbd
    fit = bgnbd.fit(x, t_x, T)
    assert fit.r == pytest.approx(TRUE.r, rel=0.15)
    assert fit.alpha == pytest.approx(TRUE.alpha, rel=0.25)
    assert fit.a == pytest.approx(TRUE.a, rel=0.35)
    assert fit.b == pytest.approx(TRUE.b, rel=0.35)
    # the fit is the maximum: the true parameters cannot score higher on the same data
    assert bgnbd.log_likelihood(fit, x, t_x, T).sum() >= bgnbd.log_likelihood(TRUE, x, t_x, T).sum()


def test_bgnbd_expected_purchases_match_simulation():
    """Conditional expectation for one (x, t_x, T) against a Monte Carlo of the same process."""
    rng = np.random.default_rng(3)
    n, T, t = 200_000, 30.0, 10.0
    lam = rng.gamma(TRUE.r, 1 / TRUE.alpha, n)
    p = rng.beta(TRUE.a, TRUE.b, n)
    # simulate the whole 40 weeks, keep customers whose first 30 weeks show x=2 repeat purchases with t_x in [20, 22]
    times = np.cumsum(rng.exponential(1 / lam[:, None], size=(n, 40)), axis=1)
    dropped_after = rng.geometric(p)  # dies right after this many repeat purchases
    alive_count = np.minimum((times <= T + t).sum(1), dropped_after)
    in_cal = np.minimum((times <= T).sum(1), dropped_after)
    last_cal = np.where(in_cal > 0, times[np.arange(n), np.maximum(in_cal - 1, 0)], 0)
    keep = (in_cal == 2) & (last_cal >= 20) & (last_cal <= 22)
    observed = (alive_count - in_cal)[keep].mean()
    expected = bgnbd.expected_purchases(TRUE, t, np.array([2.0]), np.array([21.0]), np.array([T]))[0]
    assert keep.sum() > 300
    assert expected == pytest.approx(observed, rel=0.15)


def test_bgnbd_p_alive_and_bad_input():
    p = bgnbd.p_alive(TRUE, np.array([0.0, 3.0, 3.0]), np.array([0.0, 29.0, 5.0]), np.array([30.0, 30.0, 30.0]))
    assert p[0] == 1.0
    assert p[1] > p[2]  # a recent last purchase means more likely alive
    with pytest.raises(bgnbd.BGNBDFitError, match="repeat purchase"):
        bgnbd.fit(np.zeros(5), np.zeros(5), np.full(5, 10.0))
    with pytest.raises(bgnbd.BGNBDFitError, match="t_x <= T"):
        bgnbd.fit(np.array([1.0]), np.array([12.0]), np.array([10.0]))


def test_metrics_on_known_scores():
    y = np.array([0, 0, 0, 0, 0, 0, 0, 0, 1, 1] * 10)
    perfect = y + np.linspace(0, 0.1, y.size)
    s = metrics.summary(y, perfect, is_probability=False)
    assert s["roc_auc"] == 1.0 and s["pr_auc"] == pytest.approx(1.0)
    assert s["top_decile_lift"] == pytest.approx(5.0)  # top 10 rows all positive, base rate 0.2
    assert np.isnan(s["brier_score"])
    p = np.full(y.size, 0.2)
    prob = metrics.summary(y, p, is_probability=True)
    assert prob["roc_auc"] == 0.5
    assert prob["brier_score"] == pytest.approx(0.16)
    table = metrics.decile_table(y, perfect)
    assert table["n_rows"].sum() == y.size and table.iloc[0]["decile"] == 10
    cal = metrics.calibration_table(y, p)
    assert list(cal["bin"]) == [3] and cal["observed_rate"].iloc[0] == pytest.approx(0.2)
    # ties share a decile
    assert len(set(metrics.deciles(np.zeros(50)))) == 1


def synthetic_snapshot(n: int, seed: int) -> pd.DataFrame:
    """Customers whose next-period purchase depends on recency, frequency and sessions."""
    rng = np.random.default_rng(seed)
    freq = rng.poisson(2, n) + 1
    tenure = rng.integers(100, 700, n)
    recency = np.minimum(rng.exponential(150, n).astype(int), tenure)
    first_to_last = np.where(freq > 1, tenure - recency, 0)
    sessions = rng.poisson(3, n)
    logit = -1.0 - recency / 120 + 0.4 * freq + 0.25 * sessions
    label = rng.random(n) < 1 / (1 + np.exp(-logit))
    frame = pd.DataFrame(
        {
            "customer_key": [f"c{i:06d}" for i in range(n)],
            "snapshot_kind": "training",
            "feature_as_of_date": pd.Timestamp("2026-01-01").date(),
            "recency_days": recency,
            "tenure_days": tenure,
            "first_to_last_days": first_to_last,
            "repeat_purchase_days": np.where(first_to_last > 0, freq - 1, 0),
            "frequency": freq,
            "monetary_eur": freq * rng.gamma(2, 30, n),
            "sessions_90d": sessions,
            "noise": rng.normal(size=n),
            "label": label,
        }
    )
    frame["r_score"] = 1 + (5 * frame["recency_days"].rank(method="min", ascending=False).sub(1) / n).astype(int)
    frame["f_score"] = 1 + (5 * frame["frequency"].rank(method="min").sub(1) / n).astype(int)
    frame["m_score"] = 1 + (5 * frame["monetary_eur"].rank(method="min").sub(1) / n).astype(int)
    return frame


FAST = PropensityConfig(horizon_days=90, n_folds=3, n_search=2, max_boost_rounds=200, num_threads=1)


@pytest.fixture(scope="module")
def trained():
    return train_propensity(synthetic_snapshot(3000, 1), FAST)


def test_training_beats_baselines_and_is_calibrated(trained):
    cv = trained.cv_metrics
    frame = synthetic_snapshot(3000, 1)
    oracle_logit = -1.0 - frame["recency_days"] / 120 + 0.4 * frame["frequency"] + 0.25 * frame["sessions_90d"]
    oracle_auc = metrics.summary(frame["label"], oracle_logit, is_probability=False)["roc_auc"]
    assert cv["model"]["roc_auc"] > oracle_auc - 0.03
    assert cv["model"]["roc_auc"] > max(cv["recency"]["roc_auc"], cv["rfm"]["roc_auc"], cv["bgnbd"]["roc_auc"])
    # Platt calibration on out-of-fold scores: mean prediction equals the base rate
    assert trained.oof_propensity.mean() == pytest.approx(cv["model"]["positive_rate"], abs=0.01)
    assert "label" not in trained.feature_names and "r_score" not in trained.feature_names
    assert "bgnbd_expected_purchases" in trained.feature_names
    # successive halving: both candidates on the small rung, the better one promoted to full CV
    assert [e["rung"] for e in cv["search"]] == [0, 0, 1]
    # stored as LightGBM text and loadable
    assert trained.model_text.startswith("tree") and lgb.Booster(model_str=trained.model_text).num_trees() > 0


def test_successive_halving_scores_all_on_a_sample_and_promotes_the_best_third(monkeypatch):
    """6 candidates, halving factor 3: rung 0 fits all six on a customer sample of a third of the rows
    with 3 folds, rung 1 the best two on every row with the configured folds. Planted defect: promote
    every candidate (keep = len(candidates)) and the rung-1 count fails."""
    calls = []
    real_cv = lgb.cv

    def spy(params, dataset, **kwargs):
        train_idx, valid_idx = kwargs["folds"][0]
        calls.append((len(train_idx) + len(valid_idx), len(kwargs["folds"])))
        return real_cv(params, dataset, **kwargs)

    monkeypatch.setattr(lgb, "cv", spy)
    config = PropensityConfig(**{**FAST.__dict__, "n_search": 6, "n_folds": 4, "min_rung_rows": 500})
    trained = train_propensity(synthetic_snapshot(3000, 1), config)
    rung0 = trained.cv_metrics["search"][:6]
    promoted = sorted(range(6), key=lambda i: -rung0[i]["cv_auc"])[:2]
    promoted = promoted[: promoted.index(0) + 1] if 0 in promoted else promoted  # none ranked below the default
    rungs = [e["rung"] for e in trained.cv_metrics["search"]]
    assert rungs == [0] * 6 + [1] * len(promoted)
    assert [c[1] for c in calls] == [3] * 6 + [4] * len(promoted)
    assert all(900 <= rows <= 1100 for rows, _ in calls[:6]) and all(rows == 3000 for rows, _ in calls[6:])
    keys = [k for k in rung0[0] if k not in ("rung", "rows", "cv_auc", "rounds")]
    assert [{k: e[k] for k in keys} for e in trained.cv_metrics["search"][6:]] == [
        {k: rung0[i][k] for k in keys} for i in sorted(promoted)]


def test_a_challenger_the_default_beat_on_the_rung_is_not_promoted(monkeypatch):
    """Rung 1 is cut after the default candidate: when the default wins the cheap rung it goes alone, and a
    challenger that beats it goes with it. Planted defect: the cut removed, the runner-up is promoted too."""
    def fake_cv(auc_by_leaves):
        def cv(params, dataset, folds, config):
            return auc_by_leaves[params["num_leaves"]], 10, None
        return cv

    X = pd.DataFrame({"a": np.arange(3000.0)})
    y = np.tile([0.0, 1.0], 1500)
    groups = pd.Series(np.arange(3000))
    default = dict(train_module.DEFAULT_CANDIDATE)  # num_leaves 15
    rivals = [{**default, "num_leaves": 7}, {**default, "num_leaves": 31}]
    config = PropensityConfig(**{**FAST.__dict__, "n_search": 3, "halving_factor": 2})
    monkeypatch.setattr(train_module, "_cv", fake_cv({15: 0.80, 7: 0.79, 31: 0.70}))
    assert train_module._first_rung([default, *rivals], X, y, groups, 1500, 1500, config, []) == [default]
    monkeypatch.setattr(train_module, "_cv", fake_cv({15: 0.80, 7: 0.81, 31: 0.70}))
    assert train_module._first_rung([default, *rivals], X, y, groups, 1500, 1500, config, []) == [default, rivals[0]]
    monkeypatch.setattr(train_module, "_cv", fake_cv({15: 0.60, 7: 0.81, 31: 0.70}))
    assert train_module._first_rung([default, *rivals], X, y, groups, 1500, 1500, config, []) == rivals


def test_lightgbm_threads_divide_the_cores_by_the_dbt_threads(monkeypatch):
    """4 threads on 2 cores made LightGBM spin next to another dbt model: threads = cores // dbt threads."""
    monkeypatch.setattr(train_module.os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    assert train_module.lightgbm_threads(2) == 1
    assert train_module.lightgbm_threads(1) == 2
    assert train_module.lightgbm_threads(4) == 1
    monkeypatch.setattr(train_module.os, "sched_getaffinity", lambda pid: set(range(8)), raising=False)
    assert train_module.lightgbm_threads(2) == 4
    params = train_module._lgb_params(train_module.DEFAULT_CANDIDATE, 10, 90, PropensityConfig(dbt_threads=2))
    assert params["num_threads"] == 4
    settings = {"propensity_horizon_days": "90", "propensity_target": "purchase", "propensity_model_mode": "retrain",
                "propensity_max_training_rows": "10", "propensity_cv_folds": "3",
                "propensity_search_candidates": "1", "propensity_seed": "1", "dbt_threads": "2"}
    assert registry.config_from_dbt(settings).dbt_threads == 2


def test_training_is_deterministic(trained):
    again = train_propensity(synthetic_snapshot(3000, 1), FAST)
    assert again.model_text == trained.model_text
    assert np.array_equal(again.oof_propensity, trained.oof_propensity)


def test_too_few_positives_is_a_clear_error():
    frame = synthetic_snapshot(500, 2)
    frame["label"] = False
    frame.loc[:4, "label"] = True
    with pytest.raises(PropensityTrainingError, match="5 positive and 495 negative"):
        train_propensity(frame, FAST)


def test_training_rows_are_capped():
    capped = train_propensity(synthetic_snapshot(3000, 1), PropensityConfig(**{**FAST.__dict__, "max_training_rows": 1000}))
    assert capped.n_training_rows == 1000


def test_row_caps_sample_stratified_where_a_stratified_split_exists():
    """sample_positions (the row caps of training and of the retraining decisions): a seeded, sorted sample,
    stratified on the label, the same as scikit-learn's stratified split; a plain seeded sample (not an error)
    when a class has one row or fewer rows are left out than there are classes."""
    from sklearn.model_selection import train_test_split

    labels = (np.arange(1000) % 7 == 0).astype(float)
    keep = train_module.sample_positions(1000, 300, 42, stratify=labels)
    expected, _ = train_test_split(np.arange(1000), train_size=300, stratify=labels, random_state=42)
    np.testing.assert_array_equal(keep, np.sort(expected))
    assert labels[keep].mean() == pytest.approx(labels.mean(), abs=0.005)
    np.testing.assert_array_equal(keep, train_module.sample_positions(1000, 300, 42, stratify=labels))
    one = np.zeros(1000)
    one[17] = 1.0  # a class of one row
    assert len(train_module.sample_positions(1000, 300, 42, stratify=one)) == 300
    assert len(train_module.sample_positions(1000, 999, 42, stratify=labels)) == 999  # one row left out
    plain, _ = train_test_split(np.arange(1000), train_size=300, random_state=42)
    np.testing.assert_array_equal(train_module.sample_positions(1000, 300, 42), np.sort(plain))


def test_scoring_gives_probabilities_and_reasons(trained):
    scoring = synthetic_snapshot(400, 5).drop(columns="label").assign(snapshot_kind="scoring")
    out, contrib = score_propensity(scoring, trained.model_text, trained.feature_names, trained.calibration, 90,
                                    scoring_bgnbd_params(trained.bgnbd_params))
    assert out["customer_key"].is_unique and len(out) == 400
    assert out["propensity"].between(0, 1).all()
    # the raw score is read off the contributions (one booster pass): it equals LightGBM's raw score
    X = scoring.sort_values("customer_key", ignore_index=True)
    X, _ = train_module.add_bgnbd_features(X, 90, scoring_bgnbd_params(trained.bgnbd_params))
    raw = lgb.Booster(model_str=trained.model_text).predict(X[trained.feature_names].astype(float), raw_score=True)
    assert np.allclose(out["raw_score"], raw)
    top = out["reason_1"].str.split(" ").str[0]
    assert top.isin(trained.feature_names).all()
    # the customer with the most recent purchase has recency among its reasons pushing up
    best = out.loc[scoring["recency_days"].idxmin()]
    assert any(r and r.startswith("recency_days (+") for r in best[["reason_1", "reason_2", "reason_3"]])


def test_scoring_reuses_the_training_bgnbd_fit(trained, monkeypatch):
    """The model's BG/NBD features come from the stored training fit, with no
    refit: scoring without the baseline never calls bgnbd.fit. Planted defect:
    refitting the features on the scoring rows calls bgnbd.fit and this test fails."""
    scoring = synthetic_snapshot(400, 5).drop(columns="label").assign(snapshot_kind="scoring")
    stored = scoring_bgnbd_params(trained.bgnbd_params)
    assert stored == trained.bgnbd_params["2026-01-01"]

    def no_fit(*args, **kwargs):
        raise AssertionError("BG/NBD was refitted at scoring time")

    monkeypatch.setattr(bgnbd, "fit", no_fit)
    out, _ = score_propensity(scoring, trained.model_text, trained.feature_names, trained.calibration, 90, stored,
                              baseline=False)
    frame = scoring.sort_values("customer_key", ignore_index=True)
    expected = bgnbd.expected_purchases(bgnbd.BGNBDParams(**stored), 90 / 7.0, frame["repeat_purchase_days"],
                                        frame["first_to_last_days"] / 7.0, frame["tenure_days"] / 7.0)
    assert np.allclose(out["bgnbd_expected_purchases"], expected)
    assert out[BGNBD_BASELINE].isna().all()


def _bgnbd_on(frame: pd.DataFrame) -> np.ndarray:
    """BG/NBD expected purchases in 90 days from a direct fit on ``frame`` (in customer_key order)."""
    frame = frame.sort_values("customer_key", ignore_index=True)
    x, t_x, T = (frame["repeat_purchase_days"].to_numpy(float), frame["first_to_last_days"].to_numpy(float) / 7.0,
                 frame["tenure_days"].to_numpy(float) / 7.0)
    return bgnbd.expected_purchases(btyd.fit("bgnbd", x, t_x, T), 90 / 7.0, x, t_x, T)


def test_bgnbd_baseline_is_fitted_on_the_scoring_rows(trained):
    """Two batches sharing 150 customers: the model scores a shared customer the
    same in both (its BG/NBD features use the training fit), while the BG/NBD
    baseline is each batch's own fit (equal to btyd.fit on that batch), and the
    forward evaluation compares the model with that baseline. Planted defects:
    the baseline read off the feature column (the old handicapped baseline), or
    the features refitted per batch, each fail here."""
    a = synthetic_snapshot(400, 5).drop(columns="label").assign(snapshot_kind="scoring")
    other = synthetic_snapshot(400, 9).drop(columns="label").assign(snapshot_kind="scoring")
    other = other.assign(customer_key="d" + other["customer_key"],
                         repeat_purchase_days=other["repeat_purchase_days"] * 3)  # a busier crowd: another fit
    b = pd.concat([a.head(150), other], ignore_index=True)
    model = PropensityModel(FAST)
    model.model_text_, model.feature_names_ = trained.model_text, trained.feature_names
    model.calibration_, model.bgnbd_params_ = trained.calibration, scoring_bgnbd_params(trained.bgnbd_params)
    out_a, _ = model.explain(a)
    out_b, _ = model.explain(b)
    assert np.allclose(out_a[BGNBD_BASELINE], _bgnbd_on(a))
    assert np.allclose(out_b[BGNBD_BASELINE], _bgnbd_on(b))
    shared = out_a.merge(out_b, on="customer_key", suffixes=("_a", "_b"))
    assert len(shared) == 150
    assert np.allclose(shared["propensity_a"], shared["propensity_b"])
    assert np.allclose(shared["bgnbd_expected_purchases_a"], shared["bgnbd_expected_purchases_b"])
    assert not np.allclose(shared[BGNBD_BASELINE + "_a"], shared[BGNBD_BASELINE + "_b"])
    assert not np.allclose(out_a[BGNBD_BASELINE], out_a["bgnbd_expected_purchases"])
    # predict_proba of one customer equals its batch score
    one = a[a["customer_key"] == shared["customer_key"].iloc[0]]
    assert np.isclose(model.predict_proba(one)[0, 1], shared["propensity_a"].iloc[0])
    # and of a shuffled batch, row for row (the booster's plain prediction, not explain's contributions)
    shuffled = a.sample(frac=1.0, random_state=7)
    expected = out_a.set_index("customer_key")["propensity"].reindex(shuffled["customer_key"]).to_numpy()
    assert np.allclose(model.predict_proba(shuffled)[:, 1], expected, rtol=1e-12, atol=1e-12)
    # the forward evaluation's BG/NBD row is the baseline's AUC, not the feature's
    labels = a[["customer_key", "snapshot_kind"]].assign(
        target_happened=np.random.default_rng(3).random(len(a)) < 0.3, is_label_complete=True)
    row = pd.Series({"cv_evaluation": "[]", "as_of_date": "2026-01-01", "model_id": "m",
                     "feature_list": json.dumps(trained.feature_names), "model_text": trained.model_text})
    predictions = out_a.assign(as_of_date=pd.Timestamp("2026-01-01").date(), model_id="m")
    predictions["feature_contributions"] = [np.zeros(len(trained.feature_names))] * len(predictions)
    table = registry.evaluation_table(row, predictions, labels)
    auc = table[(table["evaluation_set"] == "forward") & (table["scorer"] == "bgnbd")
                & (table["metric"] == "roc_auc")]["metric_value"]
    y = labels.set_index("customer_key")["target_happened"].reindex(out_a["customer_key"]).to_numpy(float)
    assert np.isclose(auc.iloc[0], metrics.summary(y, out_a[BGNBD_BASELINE].to_numpy(float),
                                                   is_probability=False)["roc_auc"])


def test_estimator_fits_once_and_predicts_probabilities_in_row_order(trained):
    model = PropensityModel(FAST).fit(synthetic_snapshot(3000, 1))
    assert model.model_text_ == trained.model_text  # same training as train_propensity
    assert model.get_params() == asdict(FAST)
    assert model.set_params(n_search=3) is model and model.config.n_search == 3
    scoring = synthetic_snapshot(400, 5).drop(columns="label").sample(frac=1.0, random_state=1)
    proba = model.predict_proba(scoring)
    assert proba.shape == (400, 2) and np.allclose(proba.sum(axis=1), 1.0)
    scores, _ = model.explain(scoring)
    by_key = scores.set_index("customer_key")["propensity"]
    assert np.allclose(proba[:, 1], by_key.loc[scoring["customer_key"]].to_numpy())
    # a stored registry row loads into the same estimator and scores identically
    row = pd.Series({"parameters": json.dumps({"calibration": model.calibration_,
                                               "bgnbd_training_snapshot": trained.bgnbd_params}),
                     "model_text": model.model_text_, "feature_list": json.dumps(model.feature_names_)})
    assert np.allclose(PropensityModel.from_registry_row(row, FAST).predict_proba(scoring), proba)


def test_propensity_defaults_equal_dbt_project_vars():
    """PropensityConfig keeps defaults for notebooks; they must be the project's
    (a default that drifts from dbt_project.yml fails here)."""
    project_vars = yaml.safe_load(PROJECT.read_text())["vars"]
    default = PropensityConfig()
    assert default.horizon_days == project_vars["microseg__propensity_horizon_days"]
    assert default.target == project_vars["microseg__propensity_target"]
    assert default.n_folds == project_vars["microseg__propensity_cv_folds"]
    assert default.n_search == project_vars["microseg__propensity_search_candidates"]
    assert default.max_training_rows == project_vars["microseg__propensity_max_training_rows"]
    assert default.random_state == project_vars["microseg__propensity_seed"]
    assert list(default.exclude_features) == project_vars["microseg__propensity_exclude_features"]
    assert default.reuse_latest == (project_vars["microseg__propensity_model_mode"] == "reuse_latest")


def test_explain_reasons_orders_by_absolute_contribution():
    contrib = np.array([[0.1, -0.5, 0.3, 0.0, 9.0]])  # last column is the bias
    assert explain_reasons(contrib, ["a", "b", "c", "d"]) == [["b (-0.50)", "c (+0.30)", "a (+0.10)"]]
    # fewer features than reasons, a zero contribution, several rows
    two = np.array([[0.0, 0.25, 9.0], [-1.0, 0.0, 9.0]])
    assert explain_reasons(two, ["a", "b"]) == [["b (+0.25)", None, None], ["a (-1.00)", None, None]]
    assert explain_reasons(np.zeros((2, 1)), []) == [[None, None, None], [None, None, None]]


def test_registry_row_round_trip():
    features = synthetic_snapshot(2000, 3)
    labels = features[["customer_key", "snapshot_kind", "label", "feature_as_of_date"]].assign(is_label_complete=True)
    labels = labels.rename(columns={"feature_as_of_date": "label_window_start", "label": "target_happened"})
    features = features.drop(columns="label")
    config = PropensityConfig(**{**FAST.__dict__, "target": "purchase"})
    table = registry.train_registry_row(features, labels, config)
    assert table.schema == registry.REGISTRY_SCHEMA and table.num_rows == 1
    row = table.to_pandas().iloc[0]
    assert json.loads(row["parameters"])["calibration"]["method"] == "platt"
    assert row["as_of_date"] == pd.Timestamp("2026-04-01").date()  # 2026-01-01 + 90 days
    assert registry.latest_model(table.to_pandas(), config)["model_id"] == row["model_id"]
    other = PropensityConfig(**{**FAST.__dict__, "target": "event:add_to_cart"})
    assert registry.latest_model(table.to_pandas(), other) is None
    with pytest.raises(PropensityTrainingError, match="microseg__propensity_model_mode: retrain"):
        registry.require_model(table.to_pandas(), other)
    scoring = features.assign(snapshot_kind="scoring")
    scored = registry.score_with_model(scoring, row, config)
    assert (scored["model_id"] == row["model_id"]).all()
    assert scored["feature_contributions"].map(len).eq(len(json.loads(row["feature_list"]))).all()


def test_bgnbd_features_are_fitted_per_snapshot_date_and_leave_the_frame_alone():
    """One BG/NBD fit per feature_as_of_date, each applied to its own rows only (shuffled, so the rows of a
    date are not contiguous); a date without repeat buyers stays null; without the date column one fit
    named 'all'; the caller's frame is not changed."""
    first = synthetic_snapshot(1200, 5)
    second = synthetic_snapshot(800, 6).assign(feature_as_of_date=pd.Timestamp("2026-02-01").date())
    single = synthetic_snapshot(50, 7).assign(feature_as_of_date=pd.Timestamp("2026-03-01").date(),
                                                repeat_purchase_days=0, first_to_last_days=0)
    frame = pd.concat([first, second, single], ignore_index=True).sample(frac=1.0, random_state=3)
    before = frame.copy()
    out, fits = train_module.add_bgnbd_features(frame, 90)
    pd.testing.assert_frame_equal(frame, before)
    assert list(out.columns) == list(frame.columns) + list(train_module.BGNBD_FEATURES)
    assert set(fits) == {"2026-01-01", "2026-02-01"}
    for snapshot, part in ((first, "2026-01-01"), (second, "2026-02-01")):
        alone, own = train_module.add_bgnbd_features(snapshot, 90)
        assert own == {part: fits[part]}
        rows = out["feature_as_of_date"] == pd.Timestamp(part).date()
        got = out.loc[rows].sort_values("customer_key")[list(train_module.BGNBD_FEATURES)].to_numpy()
        assert np.allclose(got, alone.sort_values("customer_key")[list(train_module.BGNBD_FEATURES)].to_numpy())
    assert out.loc[out["feature_as_of_date"] == pd.Timestamp("2026-03-01").date(),
                   list(train_module.BGNBD_FEATURES)].isna().all().all()
    undated, fits = train_module.add_bgnbd_features(first.drop(columns="feature_as_of_date"), 90)
    assert list(fits) == ["all"] and fits["all"] == train_module.add_bgnbd_features(first, 90)[1]["2026-01-01"]


def test_scores_reach_duckdb_with_one_list_of_contributions_per_customer():
    """score_with_model's frame, as DuckDB reads it when the dbt model returns it: the contributions a
    DOUBLE[] per row equal to the model's matrix, the other columns typed and valued as in the same frame with
    a column of per-row numpy arrays, and no index column (a frame with an Arrow column is read through Arrow,
    which keeps an index that is not a range as a column: a planted integer index fails this)."""
    features = synthetic_snapshot(1500, 2)
    labels = features[["customer_key", "snapshot_kind", "label", "feature_as_of_date"]].assign(is_label_complete=True)
    labels = labels.rename(columns={"feature_as_of_date": "label_window_start", "label": "target_happened"})
    features = features.drop(columns="label")
    row = registry.train_registry_row(features, labels, FAST).to_pandas().iloc[0]
    scoring = features.assign(snapshot_kind="scoring").iloc[7:]
    scored = registry.score_with_model(scoring, row, FAST)
    n_features = len(json.loads(row["feature_list"]))
    _, contrib = PropensityModel.from_registry_row(row, FAST).explain(scoring)
    as_arrays = scored.assign(feature_contributions=list(contrib[:, :n_features]))
    con = duckdb.connect()
    con.register("scored", scored)
    con.register("as_arrays", as_arrays)
    assert con.sql("describe scored").fetchall() == con.sql("describe as_arrays").fetchall()
    stored = np.array(con.sql("select feature_contributions from scored").fetchnumpy()["feature_contributions"]
                      .tolist())
    assert stored.shape == (len(scoring), n_features) and np.array_equal(stored, contrib[:, :n_features])
    different = con.execute("select count(*) from (select * from scored except all select * from as_arrays)")
    assert different.fetchone()[0] == 0


def test_evaluation_reads_the_predictions_and_never_scores_again(monkeypatch):
    """propensity_evaluation's table from propensity_predictions' rows alone.
    Planted defect: scoring inside the evaluation (the old double scoring)
    reaches score_propensity and this test fails."""
    features = synthetic_snapshot(2000, 3)
    labels = features[["customer_key", "snapshot_kind", "label", "feature_as_of_date"]].assign(is_label_complete=True)
    labels = labels.rename(columns={"feature_as_of_date": "label_window_start", "label": "target_happened"})
    features = features.drop(columns="label")
    table = registry.train_registry_row(features, labels, FAST)
    row = table.to_pandas().iloc[0]
    predictions = registry.score_with_model(features.assign(snapshot_kind="scoring"), row, FAST)

    def no_scoring(*args, **kwargs):
        raise AssertionError("the evaluation scored again")

    monkeypatch.setattr(train_module, "score_propensity", no_scoring)
    monkeypatch.setattr(registry, "PropensityModel", None)
    out = registry.evaluation_table(row, predictions, labels)
    importance = out[out["metric"] == "mean_abs_contribution"].set_index("feature")["metric_value"]
    names = json.loads(row["feature_list"])
    expected = np.abs(np.stack(predictions["feature_contributions"].to_numpy())).mean(axis=0)
    assert np.allclose(importance.loc[names].to_numpy(), expected)
    assert set(out["evaluation_set"]) == {"cross_validation", "scoring"}
    # the contributions as an Arrow list column (as propensity_evaluation reads them) give the same importance
    as_arrow = pa.array([list(map(float, row)) for row in predictions["feature_contributions"]],
                        type=pa.list_(pa.float64()))
    chunked = pa.chunked_array([as_arrow.slice(0, 700), as_arrow.slice(700)])
    from_arrow = registry.evaluation_table(row, predictions.drop(columns="feature_contributions"), labels, chunked)
    assert np.allclose(from_arrow[from_arrow["metric"] == "mean_abs_contribution"].set_index("feature")
                       .loc[names, "metric_value"].to_numpy(), expected)


def test_mean_abs_contributions_refuses_ragged_rows():
    """A null or short contributions row is named, not averaged into a shifted column."""
    good = [[1.0, -2.0, 3.0], [-1.0, 2.0, 5.0]]
    assert np.allclose(registry.mean_abs_contributions(pa.array(good), 2), [1.0, 2.0])
    assert np.allclose(registry.mean_abs_contributions(pd.Series([np.array(r) for r in good]), 3), [1.0, 2.0, 4.0])
    for bad in ([[1.0, 2.0, 3.0], [1.0, 2.0]], [[1.0, 2.0, 3.0], None]):
        with pytest.raises(ValueError, match="feature_contributions"):
            registry.mean_abs_contributions(pa.array(bad, type=pa.list_(pa.float64())), 2)


def test_stacked_snapshots_keep_a_customer_in_one_fold(monkeypatch):
    """Two training snapshots of the same customers: CV folds group by customer, BG/NBD fits per snapshot."""
    first = synthetic_snapshot(1500, 4)
    second = synthetic_snapshot(1500, 5).assign(feature_as_of_date=pd.Timestamp("2025-10-03").date())
    stacked = pd.concat([first, second], ignore_index=True)
    seen = {}
    real_cv = lgb.cv

    def spy(params, dataset, **kwargs):
        seen["folds"] = kwargs["folds"]
        return real_cv(params, dataset, **kwargs)

    monkeypatch.setattr(lgb, "cv", spy)
    trained = train_propensity(stacked, FAST)
    keys = stacked.sort_values(["customer_key", "feature_as_of_date"], ignore_index=True)["customer_key"]
    for train_idx, valid_idx in seen["folds"]:
        assert not set(keys.iloc[train_idx]) & set(keys.iloc[valid_idx])
    assert set(trained.bgnbd_params) == {"2025-10-03", "2026-01-01"}
    assert trained.n_training_rows == 3000


def test_config_rejects_unknown_mode():
    settings = {"propensity_horizon_days": "90", "propensity_target": "purchase", "propensity_model_mode": "sometimes",
                "propensity_max_training_rows": "10", "propensity_cv_folds": "3",
                "propensity_search_candidates": "1", "propensity_seed": "1"}
    with pytest.raises(PropensityTrainingError, match="retrain or reuse_latest"):
        registry.config_from_dbt(settings)
    settings = {**settings, "propensity_model_mode": "retrain", "propensity_reasons": "lime"}
    with pytest.raises(PropensityTrainingError, match="propensity_reasons must be path or shap, got 'lime'"):
        registry.config_from_dbt(settings)


def test_path_and_shap_reasons_score_alike(trained):
    """Both contribution methods add up to the same raw score, so propensities are equal; the strongest reason
    of most customers is the same feature (decision paths are the default: about 40x less CPU than TreeSHAP)."""
    scoring = synthetic_snapshot(400, 5).drop(columns="label").assign(snapshot_kind="scoring")
    args = (scoring, trained.model_text, trained.feature_names, trained.calibration, 90,
            scoring_bgnbd_params(trained.bgnbd_params))
    path, path_contrib = score_propensity(*args)
    shap, shap_contrib = score_propensity(*args, reasons="shap")
    np.testing.assert_allclose(path["raw_score"], shap["raw_score"], atol=1e-9)
    assert not np.array_equal(path_contrib, shap_contrib)
    lead = np.abs(path_contrib[:, :-1]).argmax(1) == np.abs(shap_contrib[:, :-1]).argmax(1)
    assert lead.mean() > 0.6


def test_cdnow_mapping_follows_the_raw_contract(tmp_path):
    master_txt = tmp_path / "CDNOW_master.txt"
    master_txt.write_text(
        " customer_id  date number_of_cds  dollar_value\n"
        " 00001 19970101  1   11.77\n 00002 19970112  2   0.00\n 00001 19970401  3   36.00\n"
    )
    master = cdnow.read_master(master_txt)
    assert list(master["customer_id"]) == [1, 2, 1]
    cdnow.to_raw_contract(master, tmp_path / "raw")
    orders = pq.read_table(tmp_path / "raw" / "orders.parquet").to_pandas()
    lines = pq.read_table(tmp_path / "raw" / "order_lines.parquet").to_pandas()
    assert list(orders.columns) == ["order_id", "customer_ref", "ordered_at", "currency", "channel", "payment_method"]
    assert orders["order_id"].is_unique and orders["customer_ref"].iloc[0] == orders["customer_ref"].iloc[2]
    assert list(lines["line_amount"]) == ["11.77", "0.00", "36.00"] and list(lines["unit_price"])[2] == "12.0000"
    for name, columns in cdnow.EMPTY_TABLES.items():
        table = pq.read_table(tmp_path / "raw" / f"{name}.parquet")
        assert table.num_rows == 0 and table.column_names == columns
        assert all(str(t) == "string" for t in table.schema.types)
    # a free CD is still a purchase: customer 2 is active, customer 1 buys again in the window
    assert cdnow.direct_label_count(master, "1997-01-31") == (2, 1)


def test_lightgbm_threads_wait_passively():
    """Spinning OpenMP threads took 12.4 s of CPU for a 1.2 s churn fit on a shared machine: importing microseg
    sets OMP_WAIT_POLICY=PASSIVE for LightGBM's libgomp unless the caller chose one."""
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    code = "import microseg.propensity.train, os; print(os.environ['OMP_WAIT_POLICY'])"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "PASSIVE"
    out = subprocess.run([sys.executable, "-c", code], env={**env, "OMP_WAIT_POLICY": "ACTIVE"},
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "ACTIVE"


def test_numpy_asks_for_no_huge_pages_after_microseg_is_imported():
    """With numpy's huge-page advice the kernel compacted memory on page faults: scoring 949,530 customers spent
    29.5 s in the kernel, 5.2 s without. Importing microseg turns the advice off even when numpy was imported
    first (as dbt does), unless the caller set NUMPY_MADVISE_HUGEPAGE (removing the switch fails this: planted)."""
    env = {k: v for k, v in os.environ.items() if k != "NUMPY_MADVISE_HUGEPAGE"}
    code = ("import numpy; import microseg.propensity.train; from numpy._core.multiarray import _set_madvise_hugepage; "
            "print(_set_madvise_hugepage(False))")  # returns the setting it replaces
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
    out = subprocess.run([sys.executable, "-c", code], env={**env, "NUMPY_MADVISE_HUGEPAGE": "1"},
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"


def test_cdnow_builds_leave_the_value_model_training_customers(tmp_path, monkeypatch):
    # make cdnow builds the whole project, the value model too: its training snapshot (cutoff minus the value
    # horizon) must fall after CDNOW's first purchase (1997-01-01) at every cutoff, or the build fails
    seen = []

    def fake_run(cmd, **kwargs):
        seen.append(json.loads(cmd[cmd.index("--vars") + 1]))
        return subprocess.CompletedProcess(cmd, 0)

    monkeypatch.setattr(cdnow.subprocess, "run", fake_run)
    for cutoff in cdnow.CUTOFFS:
        assert cdnow.run_cutoff(tmp_path, tmp_path / "x.duckdb", cutoff, "dbt", tmp_path / "log") == 0
    for vars_ in seen:
        months = vars_.get("microseg__value_horizon_months", 12)
        training = pd.Timestamp(vars_["microseg__as_of_date"]) - pd.DateOffset(months=months)
        assert training > pd.Timestamp("1997-01-01"), vars_
