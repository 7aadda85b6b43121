"""The dbt-facing segmentation steps: settings from vars, ids kept through the
centroid history on a perturbed re-run, names and actions from the playbook,
and a clear error for too few customers."""

import numpy as np
import pandas as pd
import pytest

from microseg import segment_run as run
from microseg.segment_profiles import FALLBACK_NAME, name_segments, profile_segments


def blobs(n_per_group=(300, 250, 200, 150, 100), dim=6, spread=0.4, seed=0):
    """Well-separated Gaussian groups; returns (matrix, true labels)."""
    rng = np.random.default_rng(seed)
    centres = 8.0 * np.eye(dim)[: len(n_per_group)]
    x = np.vstack([rng.normal(c, spread, size=(n, dim)) for c, n in zip(centres, n_per_group)])
    return x, np.repeat(np.arange(len(n_per_group)), n_per_group)


SETTINGS = {"microseg__segment_k_min": "3", "microseg__segment_k_max": "7", "microseg__segment_bootstrap_rounds": "2",
            "microseg__segment_silhouette_sample": "1000", "microseg__segment_min_size": "30"}
SPEC = pd.DataFrame({"feature": [f"f{i}" for i in range(6)], "transform": ["none"] * 6})
PLAYBOOK = pd.DataFrame(
    {"trait": ["big_f0", "low_f1"], "feature": ["f0", "f1"], "direction": ["high", "low"], "min_effect": [0.5, 0.5],
     "label": ["big zero", "small one"], "priority": [2, 1], "action": ["vip", "reactivate"], "channel": ["email", "sms"]}
)


def features_frame(x: np.ndarray) -> pd.DataFrame:
    frame = pd.DataFrame(x, columns=SPEC["feature"])
    return frame.assign(customer_key=[f"c{i}" for i in range(len(x))], as_of_date=pd.Timestamp("2026-06-30"))


def run_once(x, history=None):
    config = run.config_from_vars(SETTINGS)
    features = features_frame(x)
    quality = run.quality_table(features, SPEC, config)
    segments = run.segments_table(features, SPEC, PLAYBOOK, quality, history, config)
    return features, quality, segments


def test_config_from_vars_casts_text_and_keeps_defaults():
    config = run.config_from_vars({"microseg__segment_k_min": "5", "microseg__segment_min_share": "0.02",
                                   "microseg__segment_random_state": None})
    assert (config.k_min, config.min_segment_share, config.random_state) == (5, 0.02, 42)
    with pytest.raises(ValueError, match="k_min <= microseg__segment_k_max"):
        run.config_from_vars({"microseg__segment_k_min": "9", "microseg__segment_k_max": "4"})


def test_silhouette_metric_comes_from_a_var_and_is_checked():
    assert run.config_from_vars({}).silhouette_metric == "cosine"
    assert run.config_from_vars({"microseg__segment_silhouette_metric": "Euclidean"}).silhouette_metric == "euclidean"
    with pytest.raises(ValueError, match="silhouette metric"):
        run.config_from_vars({"microseg__segment_silhouette_metric": "manhattan"})


def test_quality_and_segments_tables_hold_their_contract():
    x, y = blobs()
    features, quality, segments = run_once(x)
    assert quality["is_chosen"].sum() == 1 and int(quality.loc[quality["is_chosen"], "k"].iloc[0]) == 5
    assert quality.loc[quality["is_chosen"], "stability_ari"].iloc[0] > 0.9
    assert segments["customer_key"].is_unique and len(segments) == len(features)
    assert segments["membership_probability"].between(0, 1).all()
    assert segments.groupby("segment_id").size().min() >= quality["min_segment_size"].max()
    assert (segments["is_core_member"] == (segments["membership_probability"] >= 0.85)).all()


def test_ids_survive_a_perturbed_rerun_through_the_history():
    x, y = blobs()
    features, _, first = run_once(x)
    history = run.centroid_history_rows(features, first, SPEC, pd.Timestamp("2026-06-30 01:00"))
    perturbed = x + np.random.default_rng(5).normal(0, 0.05, size=x.shape)
    _, _, second = run_once(perturbed, history)
    for group in np.unique(y):
        assert first["segment_id"][y == group].mode()[0] == second["segment_id"][y == group].mode()[0]
    # a history from an unrelated space matches nothing: ids continue after the old maximum
    far = history.assign(centroid_value=history["centroid_value"] + 100.0)
    _, _, third = run_once(x, far)
    assert third["segment_id"].min() == history["segment_id"].max() + 1


def test_names_and_actions_come_from_the_strongest_traits():
    rng = np.random.default_rng(0)
    raw = pd.DataFrame({"f0": rng.normal(0, 1, 300), "f1": rng.normal(0, 1, 300)})
    ids = np.repeat([1, 2, 3], 100)
    raw.loc[ids == 1, "f0"] += 3  # big f0 only
    raw.loc[ids == 2, ["f0", "f1"]] += [3, -3]  # both: priority 1 (low_f1) picks the action
    profile = profile_segments(raw, raw, ids)
    names = name_segments(profile, PLAYBOOK).set_index("segment_id")
    assert names.loc[1, "segment_name"] == "Big zero" and names.loc[1, "recommended_action"] == "vip"
    assert names.loc[2, "segment_name"] == "Small one, big zero" and names.loc[2, "recommended_channel"] == "sms"
    assert names.loc[3, "segment_name"] == FALLBACK_NAME
    top = profile[(profile["segment_id"] == 1) & (profile["distinction_rank"] == 1)]
    assert top["feature"].iloc[0] == "f0" and top["lift"].iloc[0] > 1


def test_too_few_customers_is_a_clear_error_naming_the_vars():
    x, _ = blobs(n_per_group=(20, 20, 20))
    with pytest.raises(ValueError, match="too few to segment.*microseg__segment_min_size"):
        run_once(x)


def test_ids_survive_a_recipe_change_on_the_shared_features():
    x, y = blobs()
    features, _, first = run_once(x)
    history = run.centroid_history_rows(features, first, SPEC, pd.Timestamp("2026-06-30 01:00"))
    # the previous run knew a feature this run dropped, and lacked one it adds
    history = pd.concat([history, history[history["feature"] == "f0"].assign(feature="retired")])
    history = history[history["feature"] != "f5"]
    _, _, second = run_once(x, history)
    assert (first["segment_id"] == second["segment_id"]).all()


def test_row_order_of_the_features_does_not_change_the_result():
    x, _ = blobs()
    # samples smaller than the data, so a different row order would draw other customers
    config = run.config_from_vars({**SETTINGS, "microseg__segment_silhouette_sample": "500",
                                   "microseg__segment_fit_sample": "600"})
    features = features_frame(x)
    shuffled = features.sample(frac=1.0, random_state=3)
    quality = run.quality_table(features, SPEC, config)
    pd.testing.assert_frame_equal(quality, run.quality_table(shuffled, SPEC, config))
    a = run.segments_table(features, SPEC, PLAYBOOK, quality, None, config)
    b = run.segments_table(shuffled, SPEC, PLAYBOOK, quality, None, config)
    pd.testing.assert_frame_equal(a, b)
