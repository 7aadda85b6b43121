"""Customer value and churn: Gamma-Gamma maximum likelihood and conditional
spend (against the lifetimes package's published CDNOW figures), discounted
CLV, value metrics, the LightGBM value and churn models on synthetic data,
paired bootstrap intervals, defaults equal to dbt_project.yml."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest
import yaml
from sklearn.metrics import roc_auc_score

from microseg.propensity import bgnbd
from microseg.propensity.train import apply_calibration
from microseg.value import bootstrap, clv, gammagamma, run

ROOT = Path(__file__).resolve().parents[2]
TRUE_GG = gammagamma.GammaGammaParams(p=6.0, q=4.0, v=15.0)


def test_gamma_gamma_recovers_simulated_parameters():
    rng = np.random.default_rng(3)
    x = rng.integers(1, 8, size=20000)
    mbar = gammagamma.simulate(TRUE_GG, x, rng)
    fit = gammagamma.fit(x, mbar)
    assert fit.p == pytest.approx(TRUE_GG.p, rel=0.1)
    assert fit.q == pytest.approx(TRUE_GG.q, rel=0.1)
    assert fit.v == pytest.approx(TRUE_GG.v, rel=0.15)
    assert fit.population_mean == pytest.approx(TRUE_GG.population_mean, rel=0.03)


def test_expected_spend_shrinks_towards_the_population_mean():
    # FH 2013: with p = 6.25, q = 3.74, gamma = 15.44 a customer with 2 repeat purchases averaging 22.35
    # is expected to spend 24.66 (lifetimes' CDNOW example, customer 1), one-time buyers the mean 35.22
    params = gammagamma.GammaGammaParams(6.25, 3.74, 15.44)
    spend = gammagamma.expected_spend(params, [2, 0, 50], [22.35, np.nan, 22.35])
    assert spend[0] == pytest.approx(24.66, abs=0.01)
    assert spend[1] == pytest.approx(6.25 * 15.44 / 2.74)
    assert 22.35 < spend[2] < spend[0]  # more purchases, more weight on the customer's own mean


def test_gamma_gamma_and_clv_match_lifetimes_on_cdnow(cdnow_summary):
    df = cdnow_summary
    gg = gammagamma.fit(df["x"], df["zbar"])
    # Fader & Hardie (2013) and the lifetimes docs: p = 6.25, q = 3.74, gamma = 15.44 on the 946 repeat buyers
    assert (round(gg.p, 2), round(gg.q, 2), round(gg.v, 2)) == (6.25, 3.74, 15.45)
    spend = gammagamma.expected_spend(gg, df["x"], df["zbar"])
    # lifetimes docs, conditional_expected_average_profit: 24.658619, 18.911489, 35.170981
    np.testing.assert_allclose(spend[:3], [24.658619, 18.911489, 35.170981], rtol=1e-4)
    bg = bgnbd.fit(df["x"], df["t_x"], df["T"])
    np.testing.assert_allclose([bg.r, bg.alpha, bg.a, bg.b], [0.243, 4.414, 0.793, 2.426], atol=1e-3)
    # lifetimes docs, customer_lifetime_value(time=12, discount_rate=0.01) with its default freq='D' on weekly
    # data, i.e. 30 time units (weeks here) per "month": 140.096218, 18.943466, 38.180575
    value = clv.discounted_clv(bg, spend[:3], df["x"][:3], df["t_x"][:3], df["T"][:3], 12, 0.01, weeks_per_month=30)
    np.testing.assert_allclose(value, [140.096218, 18.943466, 38.180575], rtol=1e-3)


def test_discounted_clv_telescopes_and_discounts():
    bg = bgnbd.BGNBDParams(0.25, 4.0, 0.8, 2.5)
    x, t_x, T, spend = np.array([0.0, 3, 10]), np.array([0.0, 20, 30]), np.array([30.0, 30, 31]), np.array([40.0] * 3)
    undiscounted = clv.discounted_clv(bg, spend, x, t_x, T, 12, 0.0, weeks_per_month=52 / 12)
    np.testing.assert_allclose(undiscounted, bgnbd.expected_purchases(bg, 52.0, x, t_x, T) * spend, rtol=1e-9)
    discounted = clv.discounted_clv(bg, spend, x, t_x, T, 12, clv.monthly_rate(0.10), weeks_per_month=52 / 12)
    assert np.all(discounted < undiscounted) and np.all(discounted > undiscounted / 1.10)
    assert (1 + clv.monthly_rate(0.10)) ** 12 == pytest.approx(1.10)


def test_value_metrics_top_decile_share_and_errors():
    actual = np.array([100.0] + [0.0] * 9 + [10.0] * 10)
    perfect = clv.value_metrics(actual, actual)
    assert perfect["top_decile_revenue_share"] == pytest.approx(110 / 200)  # top 2 of 20 rows: 100 + 10
    assert perfect["mae_eur"] == 0 and perfect["pearson"] == pytest.approx(1.0)
    reversed_ = clv.value_metrics(actual, -actual)
    assert reversed_["top_decile_revenue_share"] == 0.0
    assert reversed_["spearman"] < 0


def _synthetic_customers(n: int, seed: int) -> pd.DataFrame:
    """Customers with BG/NBD histories and a browsing signal that drives what they do next."""
    rng = np.random.default_rng(seed)
    T = rng.uniform(10, 60, n)
    x, t_x = bgnbd.simulate(bgnbd.BGNBDParams(0.5, 6.0, 0.7, 3.0), T, rng)
    sessions = rng.poisson(2.0, n) * rng.integers(0, 2, n)
    spend = gammagamma.simulate(TRUE_GG, np.maximum(x, 1), rng)
    return pd.DataFrame({
        "customer_key": [f"c{i:05d}" for i in range(n)],
        "feature_as_of_date": pd.Timestamp("2026-01-01"),
        "repeat_purchase_days": x, "first_to_last_days": t_x * 7, "tenure_days": T * 7,
        "recency_days": (T - t_x) * 7, "repeat_spend_mean_eur": np.where(x > 0, spend, np.nan),
        "sessions_90d": sessions.astype(float),
    })


def test_churn_model_beats_p_alive_when_behaviour_tells():
    frame, _ = clv.btyd_value(_synthetic_customers(3000, 1), clv.ValueConfig(num_threads=1))
    rng = np.random.default_rng(2)
    # the customers who browse stay; BG/NBD cannot see browsing
    churned = rng.random(len(frame)) < np.where(frame["sessions_90d"] > 0, 0.15, 0.75)
    fit = clv.fit_churn_model(frame.assign(label=churned), clv.ValueConfig(num_threads=1))
    assert fit["oof_auc"]["model"] > fit["oof_auc"]["btyd_not_alive"] + 0.1
    scores = clv.predict(frame, clv.fit_value_model(frame.assign(label=frame["sessions_90d"] * 10.0),
                                                    clv.ValueConfig(num_threads=1)), fit)
    assert scores["churn_risk"].between(0, 1).all()
    # calibrated: the mean predicted churn is close to the observed rate
    assert scores["churn_risk"].mean() == pytest.approx(churned.mean(), abs=0.05)


def test_value_model_is_used_only_when_it_validates_better():
    config = clv.ValueConfig(num_threads=1)
    frame, _ = clv.btyd_value(_synthetic_customers(2000, 4), config)
    # revenue driven by browsing, which BTYD cannot see: the model must win and be used
    rng = np.random.default_rng(5)
    revenue = frame["sessions_90d"] * 30.0 * rng.gamma(2.0, 0.5, len(frame))
    fit = clv.fit_value_model(frame.assign(label=revenue), config)
    assert fit["use_model"] and fit["oof_metrics"]["model"]["mae_eur"] < fit["oof_metrics"]["btyd"]["mae_eur"]
    assert clv.predict(frame, fit, None)["value_source"].eq("lightgbm").all()
    # revenue = exactly the BTYD expectation: the BTYD value stays
    fit = clv.fit_value_model(frame.assign(label=frame["btyd_expected_revenue_eur"]), config)
    assert not fit["use_model"]
    out = clv.predict(frame, fit, None)
    np.testing.assert_allclose(out["value_eur"], frame["btyd_clv_eur"])


def test_btyd_value_names_a_snapshot_it_cannot_fit():
    frame = _synthetic_customers(50, 6).assign(repeat_purchase_days=0.0, first_to_last_days=0.0,
                                               repeat_spend_mean_eur=np.nan)
    with pytest.raises(clv.ValueModelError, match="as of 2026-01-01"):
        clv.btyd_value(frame, clv.ValueConfig())


def test_paired_bootstrap_interval_separates_a_real_lead():
    rng = np.random.default_rng(8)
    y = rng.random(3000) < 0.3
    good = y + rng.normal(0, 0.8, y.size)
    weak = y + rng.normal(0, 1.6, y.size)
    lead = bootstrap.paired_difference(y, good, weak, rounds=200)
    assert lead["diff_low"] > 0 and lead["diff_low"] < lead["diff"] < lead["diff_high"]
    tie = bootstrap.paired_difference(y, good, good + 1e-9 * rng.random(y.size), rounds=200)
    assert tie["diff_low"] <= 0 <= tie["diff_high"]


def test_defaults_equal_dbt_project_vars():
    vars_ = yaml.safe_load((ROOT / "dbt_project.yml").read_text())["vars"]
    default = clv.ValueConfig()
    assert vars_["microseg__value_horizon_months"] == default.horizon_months
    assert vars_["microseg__value_discount_rate_annual"] == default.discount_rate_annual
    assert vars_["microseg__churn_inactive_days"] == default.churn_inactive_days
    assert default.horizon_days == 365


def _browsers(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for kind in ("training", "scoring"):
        clicks = rng.poisson(0.5, n)
        carts = rng.poisson(0.3, n)
        p = 0.03 + 0.25 * (clicks > 0) + 0.05 * (carts > 0)
        rows.append(pd.DataFrame({
            "customer_key": [f"b{i:05d}" for i in range(n)], "snapshot_kind": kind,
            "feature_as_of_date": pd.Timestamp("2026-01-01"),
            "sessions_30d": rng.poisson(1, n), "sessions_90d": rng.poisson(3, n), "product_views_90d": rng.poisson(5, n),
            "cart_adds_90d": carts, "checkouts_90d": 0, "sessions_total": rng.poisson(6, n),
            "days_since_last_session": rng.integers(0, 300, n).astype(float), "emails_sent_90d": 3,
            "email_opens_90d": clicks + rng.poisson(1, n), "email_clicks_90d": clicks,
            "is_label_complete": kind == "training", "is_first_purchase": rng.random(n) < p,
        }))
    frame = pd.concat(rows, ignore_index=True)
    frame["is_first_purchase"] = frame["is_first_purchase"].astype("boolean")
    frame.loc[frame["snapshot_kind"] == "scoring", "is_first_purchase"] = pd.NA
    return frame


def test_first_purchase_model_learns_what_the_baseline_misses():
    from microseg.value.first_purchase import score_first_purchase

    scores = score_first_purchase(_browsers(3000, 9), clv.ValueConfig(num_threads=1))
    assert len(scores) == 3000 and scores["customer_key"].is_unique
    assert scores["first_purchase_propensity"].between(0, 1).all()
    assert set(scores["decile"]) == set(range(1, 11))
    # email clicks drive first purchases; the cart/recency baseline cannot see them
    assert scores["cv_roc_auc_model"].iloc[0] > scores["cv_roc_auc_baseline"].iloc[0] + 0.1
    assert scores["forward_roc_auc_model"].isna().all()  # no scoring label outside a backtest


def test_first_purchase_without_both_classes_falls_back_to_the_baseline(capsys):
    """A small shop (the damaged-input build: 8 first purchases among 24 browsers) must not fail the build:
    no model, the base rate for everyone, deciles by the baseline, null AUCs, and one line saying so."""
    from microseg.value.first_purchase import baseline, score_first_purchase

    frame = _browsers(500, 10).assign(is_first_purchase=False)
    scores = score_first_purchase(frame, clv.ValueConfig(num_threads=1))
    assert "scored by the baseline" in capsys.readouterr().out
    scoring = frame[frame["snapshot_kind"] == "scoring"].sort_values("customer_key", ignore_index=True)
    assert len(scores) == len(scoring) and scores["customer_key"].is_unique
    assert (scores["first_purchase_propensity"] == 0).all()
    assert scores["cv_roc_auc_model"].isna().all()
    assert set(scores["decile"]) == set(range(1, 11))
    top = scores.loc[scores["decile"] == 10, "baseline_score"].min()
    assert top >= scores.loc[scores["decile"] == 1, "baseline_score"].max()
    assert (scores["baseline_score"].to_numpy() == baseline(scoring)).all()


def test_purchase_model_is_chosen_on_later_purchases_and_recorded():
    """Pareto/NBD paths (death at any time, not only after a purchase): the held-out choice between two snapshots
    of the same customers is the best held-out fit, never BG/NBD (which cannot lose a one-time buyer), the BTYD
    columns use it, and the metrics record every model."""
    rng = np.random.default_rng(12)
    n = 2000
    lam, death = rng.gamma(0.55, 1 / 10.5, n), rng.exponential(1 / rng.gamma(0.6, 1 / 11.5, n))
    times = np.cumsum(rng.exponential(1 / lam[:, None], size=(n, 60)), axis=1)
    times[times > death[:, None]] = np.inf
    tenure = rng.uniform(26, 38, n)

    def snap(weeks_later: float, date: str) -> pd.DataFrame:
        T = tenure + weeks_later
        seen = times <= T[:, None]
        x, t_x = seen.sum(1).astype(float), np.where(seen, times, 0.0).max(1)
        return pd.DataFrame({"customer_key": [f"c{i:05d}" for i in range(n)], "feature_as_of_date": pd.Timestamp(date),
                             "repeat_purchase_days": x, "first_to_last_days": t_x * 7, "tenure_days": T * 7,
                             "recency_days": (T - t_x) * 7, "repeat_spend_mean_eur": np.where(x > 0, 30.0, np.nan)})

    chosen, report = clv.choose_purchase_model(snap(0.0, "2026-01-01"), snap(26.0, "2026-07-02"))
    assert chosen == max(report, key=lambda name: report[name]["holdout_log_likelihood"]) != "bgnbd"
    assert report["pareto_nbd"]["holdout_log_likelihood"] > report["bgnbd"]["holdout_log_likelihood"]
    frame, fits = clv.btyd_value(snap(26.0, "2026-07-02"), clv.ValueConfig(horizon_months=3), chosen)
    assert fits["2026-07-02"]["purchase_model"] == chosen and chosen in fits["2026-07-02"]
    # Pareto/NBD and MBG/NBD, unlike BG/NBD, doubt one-time buyers too
    assert frame.loc[frame["repeat_purchase_days"] == 0, "btyd_p_alive"].max() < 1
    model_row = pd.Series({"as_of_date": "2026-07-02", "purchase_model": chosen,
                           "purchase_model_selection": json.dumps(report),
                           "value_model": json.dumps({"oof_metrics": {}}), "churn_model": json.dumps({"oof_auc": {}})})
    labels = pd.DataFrame({"customer_key": pd.Series([], dtype=object), "snapshot_kind": pd.Series([], dtype=object),
                           "is_value_label_complete": pd.Series([], dtype=bool),
                           "is_churn_label_complete": pd.Series([], dtype=bool)})
    rows = run.evaluation_table(model_row, pd.DataFrame({"customer_key": pd.Series([], dtype=object)}), labels)
    chosen_rows = rows[(rows["evaluation_set"] == "model_selection") & (rows["metric"] == "is_chosen")]
    assert dict(zip(chosen_rows["scorer"], chosen_rows["metric_value"])) == {
        name: float(name == chosen) for name in ("bgnbd", "mbgnbd", "pareto_nbd")}


def test_value_and_churn_training_are_capped_at_max_training_rows():
    """Beyond max_training_rows the LightGBM value and churn models train on a seeded sample of that many rows
    (the out-of-fold metrics count them); the churn sample keeps the churn rate."""
    config = clv.ValueConfig(num_threads=1, max_training_rows=600, max_boost_rounds=50)
    frame, _ = clv.btyd_value(_synthetic_customers(1500, 6), config)
    churned = np.random.default_rng(7).random(len(frame)) < np.where(frame["sessions_90d"] > 0, 0.15, 0.75)
    value = clv.fit_value_model(frame.assign(label=frame["sessions_90d"] * 10.0), config)
    assert value["oof_metrics"]["model"]["n_rows"] == 600
    churn = clv.fit_churn_model(frame.assign(label=churned), config)
    assert churn["oof_auc"]["model"] > 0.6
    assert clv.cap_rows(frame.assign(label=churned), config, stratify=True)["label"].mean() == pytest.approx(
        churned.mean(), abs=0.01)
    assert len(clv.cap_rows(frame, clv.ValueConfig(), stratify=False)) == len(frame)


def test_btyd_value_fits_each_date_on_its_own_rows_whatever_the_index():
    """Two snapshots interleaved under a shuffled index: each date's columns equal that date fitted alone,
    the fits come in date order, and the input frame is left as it was."""
    config = clv.ValueConfig(horizon_months=3)
    early = _synthetic_customers(400, 8)
    late = _synthetic_customers(300, 9).assign(feature_as_of_date=pd.Timestamp("2026-04-01"))
    # a later date's row first: the fits still come in date order
    mixed = pd.concat([late.iloc[:1], pd.concat([late.iloc[1:], early]).sample(frac=1.0, random_state=3)])
    mixed.index = np.random.default_rng(4).permutation(len(mixed)) + 1000
    before = mixed.copy()
    out, fits = clv.btyd_value(mixed, config)
    pd.testing.assert_frame_equal(mixed, before)
    assert list(fits) == ["2026-01-01", "2026-04-01"]
    for part in (early, late):
        alone, _ = clv.btyd_value(part, config)
        got = out[out["feature_as_of_date"] == part["feature_as_of_date"].iloc[0]].set_index("customer_key")
        pd.testing.assert_frame_equal(got.loc[alone["customer_key"], list(clv.BTYD_COLUMNS)],
                                      alone.set_index("customer_key")[list(clv.BTYD_COLUMNS)])


def test_predictions_in_row_chunks_equal_one_call():
    config = clv.ValueConfig(num_threads=1, max_boost_rounds=30)
    frame, _ = clv.btyd_value(_synthetic_customers(500, 10), config)
    fit = clv.fit_value_model(frame.assign(label=frame["sessions_90d"] * 10.0), config)
    frame.index = frame.index[::-1] + 7  # positions, not labels, pick the chunks
    booster = lgb.Booster(model_str=fit["model_text"])
    whole = clv.predict_rows(booster, frame, fit["features"], rows=len(frame) + 1)
    np.testing.assert_array_equal(clv.predict_rows(booster, frame, fit["features"], rows=37), whole)
    assert len(whole) == len(frame) and np.unique(whole).size > 10
    assert clv.predict_rows(booster, frame.iloc[:0], fit["features"]).shape == (0,)


def test_one_model_predictions_are_the_boosters_and_predict_uses_them():
    """matured_metrics scores each window with the one model it judges: predict_revenue is the value booster's
    prediction, predict_churn_risk the churn booster's Platt-calibrated log-odds, and predict's columns are
    exactly these."""
    config = clv.ValueConfig(num_threads=1, max_boost_rounds=30)
    frame, _ = clv.btyd_value(_synthetic_customers(800, 11), config)
    churned = np.random.default_rng(12).random(len(frame)) < np.where(frame["sessions_90d"] > 0, 0.15, 0.75)
    value = clv.fit_value_model(frame.assign(label=frame["sessions_90d"] * 10.0), config)
    churn = clv.fit_churn_model(frame.assign(label=churned), config)
    revenue = lgb.Booster(model_str=value["model_text"]).predict(frame[value["features"]].astype(float))
    p = lgb.Booster(model_str=churn["model_text"]).predict(frame[churn["features"]].astype(float))
    risk = apply_calibration(np.log(p / (1 - p)), churn["calibration"])
    np.testing.assert_allclose(clv.predict_revenue(frame, value), revenue, rtol=1e-12)
    np.testing.assert_allclose(clv.predict_churn_risk(frame, churn), risk, rtol=1e-12)
    scores = clv.predict(frame, value, churn)
    np.testing.assert_array_equal(scores["model_expected_revenue_eur"], clv.predict_revenue(frame, value))
    np.testing.assert_array_equal(scores["churn_risk"], clv.predict_churn_risk(frame, churn))
    assert np.unique(risk).size > 5 and clv.predict_churn_risk(frame.iloc[:0], churn).shape == (0,)


def test_matured_metrics_beyond_the_row_cap_judge_a_sample_drawn_like_training():
    """The reuse decision's matured windows (later than the models' training snapshots): beyond max_training_rows
    the churn ROC-AUC and the value Spearman are those of cap_rows' sample (stratified on churn), with BTYD fitted
    on the whole window; within the cap every row counts."""
    config = clv.ValueConfig(num_threads=1, max_boost_rounds=30)
    train, _ = clv.btyd_value(_synthetic_customers(1500, 20), config)
    rng = np.random.default_rng(21)
    value_fit = clv.fit_value_model(train.assign(label=train["sessions_90d"] * 10.0), config)
    churn_fit = clv.fit_churn_model(
        train.assign(label=rng.random(len(train)) < np.where(train["sessions_90d"] > 0, 0.15, 0.75)), config)
    trained = {"churn": {"2026-01-01": {}}, "value": {"2026-01-01": {}}}
    model_row = pd.Series({"purchase_model": "bgnbd", "purchase_model_selection": "{}",
                           "value_model": json.dumps(value_fit), "churn_model": json.dumps(churn_fit),
                           "btyd_training_fits": json.dumps(trained)})
    window = _synthetic_customers(2000, 22).assign(feature_as_of_date=pd.Timestamp("2026-02-01"))
    features = pd.concat([window.assign(snapshot_kind=kind) for kind in ("churn_training", "value_training")])
    churned = rng.random(len(window)) < np.where(window["sessions_90d"] > 0, 0.2, 0.7)
    revenue = window["sessions_90d"] * 20.0 * rng.gamma(2.0, 0.5, len(window))
    labels = pd.concat([pd.DataFrame({"customer_key": window["customer_key"], "snapshot_kind": kind,
                                      "is_value_label_complete": True, "next_revenue_eur": revenue,
                                      "is_churn_label_complete": True, "is_churned": churned})
                        for kind in ("churn_training", "value_training")])
    whole = run.matured_metrics(features, labels, model_row, config)
    capped_config = replace(config, max_training_rows=400)
    capped = run.matured_metrics(features, labels, model_row, capped_config)
    assert str(whole["churn_window_date"]) == str(capped["value_window_date"]) == "2026-02-01"
    assert capped["churn_auc"] != whole["churn_auc"] and capped["value_spearman"] != whole["value_spearman"]
    expected = {}
    for key, label in (("churn", churned), ("value", revenue)):
        frame, _ = clv.btyd_value(window.assign(label=label), config)
        if key == "churn":
            expected["whole_churn_auc"] = roc_auc_score(churned, clv.predict_churn_risk(frame, churn_fit))
        sample = clv.cap_rows(frame, capped_config, stratify=key == "churn")
        assert len(sample) == 400
        if key == "churn":
            expected["churn_auc"] = roc_auc_score(sample["label"], clv.predict_churn_risk(sample, churn_fit))
        else:
            expected["value_spearman"] = clv.value_metrics(sample["label"], clv.predict_revenue(sample, value_fit))[
                "spearman"]
    assert capped["churn_auc"] == pytest.approx(expected["churn_auc"], abs=1e-12)
    assert capped["value_spearman"] == pytest.approx(expected["value_spearman"], abs=1e-12)
    assert whole["churn_auc"] == pytest.approx(expected["whole_churn_auc"], abs=1e-12)


def test_snapshot_takes_one_kind_in_customer_order():
    features = pd.DataFrame({"customer_key": ["c3", "c1", "c2", "c1", "c0"],
                             "snapshot_kind": ["scoring", "scoring", "training", "training", "scoring"],
                             "feature_as_of_date": ["2026-01-02"] * 5, "value": [3, 1, 2, 11, 0]},
                            index=[9, 8, 7, 6, 5])
    got = run.snapshot(features, "scoring")
    assert got["customer_key"].tolist() == ["c0", "c1", "c3"] and got["value"].tolist() == [0, 1, 3]
    assert got.index.tolist() == [0, 1, 2] and str(got["feature_as_of_date"].dtype).startswith("datetime64")
    # the same rows read in snapshot and customer order (a slice, no copy) give the same snapshot; rows that are
    # together but not in customer order are still sorted
    ordered = features.sort_values(["snapshot_kind", "customer_key"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(run.snapshot(ordered, "scoring"), got)
    together = ordered.iloc[[2, 1, 0, 3, 4]]
    pd.testing.assert_frame_equal(run.snapshot(together, "scoring"), got)
    assert run.snapshot(ordered, "training")["customer_key"].tolist() == ["c1", "c2"]
