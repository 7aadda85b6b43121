"""Drift and re-segmentation alerts (microseg.drift) and the retraining
decision (microseg.propensity.retraining) without dbt: PSI against values
computed by hand, zero between identical runs, a planted shift alerting, and
each retraining reason firing on its own."""

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from microseg import drift
from microseg.propensity import registry
from microseg.propensity.estimator import PropensityModel
from microseg.propensity.retraining import (
    RetrainingPolicy,
    decide,
    decide_for_run,
    decision_row,
    matured_window_auc,
    models_before,
    policy_from_dbt,
)
from microseg.propensity.train import PropensityConfig

ROOT = Path(__file__).resolve().parents[2]
PROJECT = ROOT / "dbt_project.yml"
CONFIG = drift.DriftConfig(bins=10, psi_warn=0.1, psi_error=0.25, size_change=0.5, stability_floor=0.7,
                           new_niche_max_overlap=0.5, min_niche_size=30)


def test_psi_matches_values_computed_by_hand():
    # (0.25 - 0.5) ln(0.25 / 0.5) + (0.75 - 0.5) ln(0.75 / 0.5) = 0.25 ln 2 + 0.25 ln 1.5
    assert drift.psi([0.5, 0.5], [0.25, 0.75]) == pytest.approx(0.25 * np.log(2) + 0.25 * np.log(1.5))
    assert drift.psi([0.5, 0.5], [0.25, 0.75]) == pytest.approx(0.274653, abs=1e-6)
    # 0.1 ln 2 + (-0.1) ln 0.75 = 0.0693147 + 0.0287682
    assert drift.psi([0.1, 0.2, 0.3, 0.4], [0.2, 0.2, 0.3, 0.3]) == pytest.approx(0.0980829, abs=1e-6)
    assert drift.psi([0.3, 0.7], [0.3, 0.7]) == 0.0
    # an emptied bin counts with the floor share: finite, large
    assert drift.psi([0.5, 0.5], [1.0, 0.0]) == pytest.approx(0.5 * np.log(2) + (1e-4 - 0.5) * np.log(1e-4 / 0.5))


def test_an_atom_that_moves_a_little_stays_in_its_bin():
    """Half the customers at the base share (a smoothed rate without trials), the
    base share moving from 0.12094 to 0.12120 between runs: PSI stays ~0.
    Planted defect seen failing: atoms as plain quantile edges (PSI 2.78)."""
    rng = np.random.default_rng(0)
    rest = rng.beta(1, 8, 4900)
    before = np.concatenate([np.full(5100, 0.12094), rest])
    after = np.concatenate([np.full(5100, 0.12120), rest])
    edges = drift.quantile_edges(before, 10)
    shares = [drift.bin_counts(v, edges) / len(v) for v in (before, after)]
    assert drift.psi(*shares) < 0.01


def smoothed_click_rate(campaigns: int, base: float, click: float = 1.0, seed: int = 0, n: int = 3000):
    """A smoothed email click rate, (clicks + 5 x base) / (sent + 5), as mart_customer_features
    computes it: half the customers got no email (exactly the base share), the others every
    campaign of the 90-day window, so their values sit on a lattice that moves when the window
    holds another campaign. ``click`` scales every customer's click probability."""
    rng = np.random.default_rng(seed)
    sent = np.where(rng.random(n) < 0.5, 0, campaigns)
    clicks = rng.binomial(sent, np.clip(rng.beta(1.2, 14, n) * click, 0, 1))
    return (clicks + 5 * base) / (sent + 5)


def lattice_psi(before: np.ndarray, after: np.ndarray) -> float:
    edges = drift.quantile_edges(before, 10)
    return drift.psi(*(drift.bin_counts(v, edges) / len(v) for v in (before, after)))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_lattice_that_moves_with_the_campaign_count_is_not_drift(seed):
    """The CI data between as-of 2026-06-01 and 2026-07-01, no planted shift: 11 then 13 campaigns
    in the window, base share 0.1219 then 0.1212. Every edge stays away from the lattice's atoms
    and no bin is near empty, so PSI stays ~0 (0.001-0.006). Planted defect seen failing: the
    former atom bins (an atom's own bin +-2 % of the range, quantile edges kept between them: a
    moved atom landed in an all but empty gap bin; PSI 6.8, as 3.42 for the real click rate)."""
    before = smoothed_click_rate(11, 0.1219, seed=seed)
    after = smoothed_click_rate(13, 0.1212, seed=seed + 10)
    assert lattice_psi(before, after) < CONFIG.psi_warn
    edges = drift.quantile_edges(before, 10)
    shares = drift.bin_counts(before, edges)[:-1] / len(before)
    assert shares.min() >= drift.MIN_BIN_SHARE / 10  # no near-empty expected bin
    atoms = np.unique(before, return_counts=True)
    heavy = atoms[0][atoms[1] >= drift.ATOM_SHARE * len(before)]
    assert min(np.abs(heavy - e).min() for e in edges) > 0.001  # no edge on an atom


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_real_shift_of_a_lattice_feature_is_still_an_error(seed):
    """The same lattice with every click probability tripled: PSI 0.34-0.45, error level."""
    before = smoothed_click_rate(11, 0.1219, seed=seed)
    assert lattice_psi(before, smoothed_click_rate(13, 0.1212, click=3.0, seed=seed + 10)) > CONFIG.psi_error


def test_the_base_share_moving_past_a_close_lattice_value_is_not_drift():
    """email_click_rate_smoothed of 1,500 persons (seed 42) as of 2026-05-01 and 2026-06-01, values
    held by 15 customers or more: the base share (682 customers) moved 0.1244 -> 0.1197 and sits
    0.0085 from a lattice value (97 customers at 0.1159). Planted defect seen failing:
    ATOM_TOLERANCE 0.02 put an edge midway between the two (0.1201), the base crossed it: PSI 3.8."""
    before = {0.0444: 297, 0.1159: 97, 0.1244: 682, 0.1873: 67, 0.2587: 40, 0.3301: 33, 0.4016: 16}
    after = {0.0374: 302, 0.0999: 85, 0.1197: 707, 0.1624: 76, 0.2249: 43, 0.2874: 33, 0.3499: 21}
    values = [np.repeat(list(d), list(d.values())).astype(float) for d in (before, after)]
    assert lattice_psi(*values) < CONFIG.psi_warn


def test_small_bins_merge_with_their_smaller_neighbour():
    values = np.array([1.0] * 50 + [2.0] * 2 + [3.0] * 20 + [4.0] * 28)
    # bins (..1], (1..2], (2..3], (3..]: the 2 % bin joins its smaller neighbour (20 % < 50 %)
    assert drift.merge_small_bins(values, np.array([1.5, 2.5, 3.5]), 0.05).tolist() == [1.5, 3.5]
    assert drift.merge_small_bins(values, np.array([1.5, 2.5, 3.5]), 0.6).tolist() == []
    assert drift.merge_small_bins(np.array([np.nan, 1.0, 2.0]), np.array([1.5]), 0.4).tolist() == [1.5]


def test_bins_are_the_reference_quantiles_with_a_missing_bin():
    values = np.array([0, 0, 0, 0, 1, 2, 3, 4, 5, np.nan])
    edges = drift.quantile_edges(values, 4)
    assert list(edges) == sorted(set(edges))  # ties merged
    counts = drift.bin_counts(values, edges)
    assert counts.sum() == len(values) and counts[-1] == 1  # missing bin last
    assert drift.bin_counts(np.array([0.0, 1.0, 1.5, 9.0]), np.array([1.0, 2.0])).tolist() == [2, 1, 1, 0]


def run(fit_id, at, as_of="2026-06-30"):
    return pd.Series({"fit_id": fit_id, "fitted_at": pd.Timestamp(at), "as_of_date": pd.Timestamp(as_of)})


def features(seed=0, n=3000, app_shift=0.0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"customer_key": [f"c{i:05d}" for i in range(n)],
                         "monetary_eur": rng.gamma(2, 50, n),
                         "channel_share_app_smoothed": np.clip(rng.beta(2, 5, n) + app_shift, 0, 1)})


COLUMNS = ["monetary_eur", "channel_share_app_smoothed"]


def two_runs(second: pd.DataFrame, first: pd.DataFrame | None = None) -> pd.DataFrame:
    first = features() if first is None else first
    a = drift.distribution_rows(first, COLUMNS, run("seg-1", "2026-06-30 01:00"), None, 10)
    b = drift.distribution_rows(second, COLUMNS, run("seg-2", "2026-07-01 01:00", "2026-07-01"),
                                drift.previous_reference(a, run("seg-2", "2026-07-01 01:00")), 10)
    return pd.concat([a, b], ignore_index=True)


def sizes(*runs):
    rows = []
    for (fit_id, at, as_of), counts in zip([("seg-1", "2026-06-30 01:00", "2026-06-30"),
                                           ("seg-2", "2026-07-01 01:00", "2026-07-01")], runs):
        for segment_id, n in counts.items():
            rows.append({"fit_id": fit_id, "fitted_at": pd.Timestamp(at), "as_of_date": pd.Timestamp(as_of),
                         "segment_id": segment_id, "customer_count": n})
    return pd.DataFrame(rows)


def runs_table(stability=(0.9, 0.9)):
    return pd.DataFrame({"fit_id": ["seg-1", "seg-2"],
                         "fitted_at": pd.to_datetime(["2026-06-30 01:00", "2026-07-01 01:00"]),
                         "as_of_date": pd.to_datetime(["2026-06-30", "2026-07-01"]), "stability_ari": stability})


NO_NICHES = pd.DataFrame(columns=["fit_id", "customer_key", "niche_id"])


def test_identical_runs_have_zero_psi_and_no_alert():
    table = drift.drift_table(two_runs(features()), sizes({1: 600, 2: 400}, {1: 600, 2: 400}), CONFIG)
    latest = table[table["is_latest"]]
    assert set(latest["drift_kind"]) == {"feature", "segment_mix", "segment_share"}
    assert latest["psi"].abs().max() < 1e-12 and (latest["status"] == "ok").all()
    assert drift.alerts_table(table, runs_table(), NO_NICHES, CONFIG).empty


def test_fresh_sample_of_the_same_population_stays_below_warn():
    table = drift.drift_table(two_runs(features(seed=1)), sizes({1: 600, 2: 400}, {1: 590, 2: 410}), CONFIG)
    assert table["psi"].max() < CONFIG.psi_warn
    assert drift.alerts_table(table, runs_table(), NO_NICHES, CONFIG).empty


def test_planted_channel_shift_is_an_error_alert_naming_the_feature():
    """Planted defect seen failing: bins of the current run's own quantiles
    instead of the previous run's (every PSI ~0, no alert)."""
    table = drift.drift_table(two_runs(features(seed=1, app_shift=0.3)), sizes({1: 600, 2: 400}, {1: 600, 2: 400}),
                              CONFIG)
    row = table[(table["drift_kind"] == "feature") & (table["subject"] == "channel_share_app_smoothed")].iloc[0]
    assert row["psi"] > CONFIG.psi_error and row["status"] == "error"
    assert table.loc[(table["drift_kind"] == "feature") & (table["subject"] == "monetary_eur"), "status"].item() == "ok"
    alerts = drift.alerts_table(table, runs_table(), NO_NICHES, CONFIG)
    assert alerts[["reason", "subject", "severity"]].values.tolist() == [
        ["feature_drift", "channel_share_app_smoothed", "error"]]
    assert "PSI of the feature channel_share_app_smoothed" in alerts["message"].item()
    # dates print as dates, not as midnight timestamps, also when the drift table is read back from
    # DuckDB (the model's case: dates arrive as pandas timestamps)
    stored = table.astype({"as_of_date": "datetime64[us]", "previous_as_of_date": "datetime64[us]"})
    message = drift.alerts_table(stored, runs_table(), NO_NICHES, CONFIG)["message"].item()
    assert message.endswith("against the run as of 2026-06-30"), message


def test_segment_mix_psi_and_size_change_alerts():
    # segment 2 doubles its share, segment 3 appears: PSI by hand over shares
    table = drift.drift_table(two_runs(features()), sizes({1: 800, 2: 200}, {1: 500, 2: 400, 3: 100}), CONFIG)
    mix = table[table["drift_kind"] == "segment_mix"].iloc[0]
    assert mix["psi"] == pytest.approx(drift.psi([0.8, 0.2, 0.0], [0.5, 0.4, 0.1]))
    shares = table[table["drift_kind"] == "segment_share"].set_index("subject")
    assert shares.loc["3", ["previous_share", "current_share"]].tolist() == [0.0, 0.1]
    assert shares["psi"].sum() == pytest.approx(mix["psi"])
    alerts = drift.alerts_table(table, runs_table(), NO_NICHES, CONFIG)
    size = alerts[alerts["reason"] == "segment_size_change"]
    assert sorted(size["subject"]) == ["2", "3"]  # 1: -37.5 % (within 50 %), 2: +100 %, 3: new
    assert "appeared" in size.loc[size["subject"] == "3", "message"].item()
    assert alerts.loc[alerts["reason"] == "segment_mix_drift", "severity"].tolist() == ["warn"]  # PSI 0.37


def test_stability_falling_below_its_floor_and_a_new_niche_alert():
    table = drift.drift_table(two_runs(features()), sizes({1: 600, 2: 400}, {1: 600, 2: 400}), CONFIG)
    alerts = drift.alerts_table(table, runs_table(stability=(0.9, 0.5)), NO_NICHES, CONFIG)
    assert alerts[["reason", "metric_value", "threshold"]].values.tolist() == [["stability_below_floor", 0.5, 0.7]]
    # still below the floor in the next run: not a new alert
    assert drift.alerts_table(table, runs_table(stability=(0.5, 0.5)), NO_NICHES, CONFIG).empty
    old = pd.DataFrame({"fit_id": "seg-1", "customer_key": [f"c{i}" for i in range(40)], "niche_id": 1})
    same = old.assign(fit_id="seg-2", niche_id=3)  # same customers, another niche number: not new
    fresh = pd.DataFrame({"fit_id": "seg-2", "customer_key": [f"n{i}" for i in range(40)], "niche_id": 2})
    small = pd.DataFrame({"fit_id": "seg-2", "customer_key": [f"s{i}" for i in range(10)], "niche_id": 4})
    alerts = drift.alerts_table(table, runs_table(), pd.concat([old, same, fresh, small]), CONFIG)
    assert alerts[["reason", "subject", "metric_value"]].values.tolist() == [["new_dense_niche", "2", 0.0]]


def test_drift_config_comes_from_the_vars():
    project_vars = yaml.safe_load(PROJECT.read_text())["vars"]
    yml = yaml.safe_load((ROOT / "python_models" / "_segment_history__models.yml").read_text())
    settings = yml["x-drift-config"]["drift"]
    assert set(settings) == set(drift.VARS.values())
    rendered = {name: str(project_vars[var]) for var, name in drift.VARS.items()}
    config = drift.config_from_dbt(rendered)
    assert (config.psi_warn, config.psi_error) == (0.1, 0.25)
    with pytest.raises(ValueError, match="'psi_error' \\(var microseg__drift_psi_error\\)"):
        drift.config_from_dbt({k: v for k, v in rendered.items() if k != "psi_error"})
    with pytest.raises(ValueError, match="psi_warn < microseg__drift_psi_error"):
        replace(config, psi_warn=0.3)


# ---------------------------------------------------------------------------
# Retraining decision
# ---------------------------------------------------------------------------

FAST = PropensityConfig(horizon_days=90, n_folds=3, n_search=1, max_boost_rounds=100, num_threads=1)
POLICY = RetrainingPolicy(mode="auto", max_auc_drop=0.05, max_age_days=180, psi_error=0.25)


def snapshot(n: int, seed: int, date: str, signal: float = 1.0):
    """Training snapshot rows and labels as of ``date``: purchase depends on recency and frequency
    (times ``signal``: 0 = the relation the model learnt is gone)."""
    rng = np.random.default_rng(seed)
    freq = rng.poisson(2, n) + 1
    tenure = rng.integers(100, 700, n)
    recency = np.minimum(rng.exponential(150, n).astype(int), tenure)
    logit = -0.5 + signal * (-recency / 100 + 0.5 * freq)
    label = rng.random(n) < 1 / (1 + np.exp(-logit))
    first_to_last = np.where(freq > 1, tenure - recency, 0)
    frame = pd.DataFrame({"customer_key": [f"c{seed}-{i:05d}" for i in range(n)], "snapshot_kind": "training",
                          "feature_as_of_date": pd.Timestamp(date).date(), "recency_days": recency,
                          "tenure_days": tenure, "first_to_last_days": first_to_last,
                          "repeat_purchase_days": np.where(first_to_last > 0, freq - 1, 0), "frequency": freq,
                          "monetary_eur": freq * rng.gamma(2, 30, n)})
    for score, column, ascending in (("r_score", "recency_days", False), ("f_score", "frequency", True),
                                     ("m_score", "monetary_eur", True)):
        frame[score] = 1 + (5 * frame[column].rank(method="min", ascending=ascending).sub(1) / n).astype(int)
    labels = pd.DataFrame({"customer_key": frame["customer_key"], "snapshot_kind": "training",
                           "label_window_start": frame["feature_as_of_date"], "target_happened": label,
                           "is_label_complete": True})
    return frame, labels


@pytest.fixture(scope="module")
def model_registry():
    frame, labels = snapshot(2000, 1, "2026-01-01")
    return registry.train_registry_row(frame, labels, FAST).to_pandas()  # as_of_date 2026-04-01


NO_DRIFT = pd.DataFrame({"fitted_at": pd.to_datetime([]), "drift_kind": [], "psi": []})


def test_retraining_reasons_fire_one_at_a_time(model_registry):
    same, same_labels = snapshot(2000, 2, "2026-02-01")
    as_of = "2026-05-02"  # matured window 2026-02-01: after the model's own window (2026-01-01)
    keep = decide(model_registry, same, same_labels, NO_DRIFT, FAST, POLICY, as_of)
    assert (keep["decision"], keep["reasons"]) == ("reuse", ["within_thresholds"])
    assert keep["matured_auc"] > 0.7 and keep["previous_model_id"] == model_registry["model_id"].item()

    noise, noise_labels = snapshot(2000, 3, "2026-02-01", signal=0.0)
    decayed = decide(model_registry, noise, noise_labels, NO_DRIFT, FAST, POLICY, as_of)
    assert decayed["reasons"] == ["auc_decay"] and decayed["auc_drop"] > 0.05

    later = pd.Timestamp(model_registry["trained_at"].item()) + pd.Timedelta(hours=1)
    shifted = pd.DataFrame({"fitted_at": [later], "drift_kind": ["feature"], "psi": [0.4]})
    assert decide(model_registry, same, same_labels, shifted, FAST, POLICY, as_of)["reasons"] == ["feature_drift"]
    # drift from a run before the model was trained does not count
    earlier = shifted.assign(fitted_at=later - pd.Timedelta(days=30))
    assert decide(model_registry, same, same_labels, earlier, FAST, POLICY, as_of)["decision"] == "reuse"

    old = decide(model_registry, same, same_labels, NO_DRIFT, FAST, POLICY, "2026-12-01")
    assert "model_age" in old["reasons"] and old["model_age_days"] == 244
    # a model trained on later data than the run's as_of_date is never reused (it would leak)
    assert decide(model_registry, same, same_labels, NO_DRIFT, FAST, POLICY, "2026-03-01")["reasons"] == ["no_model"]
    assert decide(None, same, same_labels, NO_DRIFT, FAST, POLICY, as_of)["reasons"] == ["no_model"]


def test_matured_auc_beyond_the_row_cap_is_that_of_a_stratified_sample(model_registry, monkeypatch):
    """A matured window larger than max_training_rows is judged on a seeded sample of that many rows with the
    window's positive rate; at or below the cap on every row."""
    window, window_labels = snapshot(2000, 2, "2026-02-01")
    row = model_registry.iloc[0]
    date, full = matured_window_auc(row, window, window_labels, FAST)
    assert str(date) == "2026-02-01" and full > 0.7
    capped = replace(FAST, max_training_rows=500)
    _, sampled = matured_window_auc(row, window, window_labels, capped)
    assert sampled != full and sampled == pytest.approx(full, abs=0.06)
    # the sample: 500 rows, the same ones on every call, stratified on the label
    scored = []
    original = PropensityModel.predict_proba
    monkeypatch.setattr(PropensityModel, "predict_proba", lambda self, X: (scored.append(X), original(self, X))[1])
    assert matured_window_auc(row, window, window_labels, capped)[1] == sampled
    matured_window_auc(row, window, window_labels, capped)
    monkeypatch.undo()
    assert [len(x) for x in scored] == [500, 500] and scored[0]["customer_key"].tolist() == scored[1][
        "customer_key"].tolist()
    rate = window_labels["target_happened"].astype(float).mean()
    kept = window_labels.set_index("customer_key").loc[scored[0]["customer_key"], "target_happened"].astype(float)
    assert kept.mean() == pytest.approx(rate, abs=0.002)
    assert matured_window_auc(row, window, window_labels, replace(FAST, max_training_rows=2000))[1] == full


def test_modes_retrain_and_reuse_latest_behave_as_before(model_registry):
    same, same_labels = snapshot(500, 2, "2026-02-01")
    always = decide(model_registry, same, same_labels, NO_DRIFT, FAST, replace(POLICY, mode="retrain"), "2026-05-02")
    assert (always["decision"], always["reasons"]) == ("retrain", ["mode_retrain"])
    reuse = decide(model_registry, same, same_labels, NO_DRIFT, FAST, replace(POLICY, mode="reuse_latest"), "2026-12-01")
    assert (reuse["decision"], reuse["reasons"]) == ("reuse", ["mode_reuse_latest"])
    row = decision_row(reuse, "seg-1", "2026-12-01 02:00", model_registry["model_id"].item()).to_pandas()
    assert row["reasons"].item() == "mode_reuse_latest" and row["model_id"].item() == model_registry["model_id"].item()
    assert row["training_auc"].isna().item() and row["previous_model_as_of_date"].item() == pd.Timestamp("2026-04-01").date()
    # models registered after the run's fit are not "before" it
    cutoff = pd.Timestamp(model_registry["trained_at"].item())
    assert models_before(model_registry, cutoff).empty and len(models_before(model_registry, cutoff + pd.Timedelta(1))) == 1


def test_retraining_policy_comes_from_the_propensity_dict():
    project_vars = yaml.safe_load(PROJECT.read_text())["vars"]
    yml = yaml.safe_load((ROOT / "python_models" / "_propensity__python_models.yml").read_text())
    settings = {k: str(v) for k, v in yml["x-propensity-config"]["propensity"].items()}
    assert {"propensity_max_auc_drop", "propensity_max_model_age_days", "drift_psi_error"} <= set(settings)
    policy = policy_from_dbt({"propensity_model_mode": project_vars["microseg__propensity_model_mode"],
                              "propensity_max_auc_drop": project_vars["microseg__propensity_max_auc_drop"],
                              "propensity_max_model_age_days": project_vars["microseg__propensity_max_model_age_days"],
                              "drift_psi_error": project_vars["microseg__drift_psi_error"]})
    assert policy.psi_error == project_vars["microseg__drift_psi_error"]
    with pytest.raises(ValueError, match="microseg__propensity_max_auc_drop"):
        policy_from_dbt({"propensity_model_mode": "auto", "propensity_max_model_age_days": "9", "drift_psi_error": "1"})
    with pytest.raises(ValueError, match="retrain, reuse_latest, auto"):
        replace(policy, mode="sometimes")


def test_history_rows_have_fixed_types_even_when_a_column_is_all_null():
    """segment_feature_distributions' first run has reference_fit_id all null;
    an incremental table typed by that run rejects the next run's text ids."""
    from microseg.segment_history import distributions_for_run, membership_rows

    spec = pd.DataFrame({"feature": COLUMNS, "transform": ["log1p", "none"]})
    fit = pd.DataFrame([run("seg-1", "2026-06-30 01:00")])
    first = distributions_for_run(features(), spec, fit, None, 10)
    assert first.schema.field("reference_fit_id").type == "string" and first.num_rows > 0
    assert distributions_for_run(features(), spec, fit, first.to_pandas(), 10).num_rows == 0  # recorded once
    segments = pd.DataFrame({"customer_key": ["c00000", "c00001"], "segment_id": [1, 2], "segment_name": ["a", "b"],
                             "membership_probability": [0.9, 0.5], "is_core_member": [True, False],
                             "niche_id": pd.array([None, None], dtype="Int64"), "as_of_date": pd.Timestamp("2026-06-30")})
    rows = membership_rows(segments, features(), fit, None)
    assert rows.schema.field("niche_id").type == "int64" and rows.num_rows == 2
    assert membership_rows(segments, features(), fit, rows.to_pandas()).num_rows == 0


def test_the_registry_decides_from_the_run_view_as_from_its_inputs(model_registry):
    """decide_for_run reads propensity_retraining_inputs (the run's fit on every row, one segment_drift row each)
    and decides as decide does from segment_model and segment_drift; mode retrain needs no run."""
    same, same_labels = snapshot(2000, 2, "2026-02-01")
    trained = pd.Timestamp(model_registry["trained_at"].item())
    fit = {"fit_id": "seg-2", "fitted_at": trained + pd.Timedelta(days=1), "as_of_date": pd.Timestamp("2026-05-02")}
    run = pd.DataFrame([{**fit, "drift_fitted_at": trained + pd.Timedelta(hours=1), "psi": 0.4},
                        {**fit, "drift_fitted_at": trained - pd.Timedelta(days=30), "psi": 0.9}])
    run["drift_kind"] = "feature"
    drift = run[["drift_fitted_at", "drift_kind", "psi"]].rename(columns={"drift_fitted_at": "fitted_at"})
    got = decide_for_run(model_registry, same, same_labels, run, FAST, POLICY)
    want = decide(model_registry, same, same_labels, drift, FAST, POLICY, "2026-05-02")
    keys = ("decision", "reasons", "previous_model_id", "model_age_days", "matured_auc", "max_feature_psi")
    assert [got[k] for k in keys] == [want[k] for k in keys] and got["reasons"] == ["feature_drift"]
    assert got["max_feature_psi"] == 0.4  # the drift before the model was trained does not count
    quiet = pd.DataFrame([{**fit, "drift_fitted_at": pd.NaT, "drift_kind": None, "psi": np.nan}])
    assert decide_for_run(model_registry, same, same_labels, quiet, FAST, POLICY)["reasons"] == ["within_thresholds"]
    # a model registered after the run's fit is not weighed
    before = run.assign(fitted_at=trained - pd.Timedelta(hours=1))
    assert decide_for_run(model_registry, same, same_labels, before, FAST, POLICY)["reasons"] == ["no_model"]
    retrain = decide_for_run(model_registry, same, same_labels, run.iloc[:0], FAST, replace(POLICY, mode="retrain"))
    assert (retrain["decision"], retrain["reasons"]) == ("retrain", ["mode_retrain"])
    with pytest.raises(ValueError, match="propensity_retraining_inputs is empty but microseg__propensity_model_mode"):
        decide_for_run(model_registry, same, same_labels, run.iloc[:0], FAST, POLICY)
