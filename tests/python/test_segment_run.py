"""The dbt-facing segmentation steps: settings from the `segmentation` dict
(no Python default), one stored fit applied without refitting, ids kept
through segment_model's own previous fit on changed data, names and actions
from the playbook, and a clear error for too few customers."""

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from microseg import model_reuse
from microseg import segment_run as run
from microseg import segmentation as seg
from microseg.segment_profiles import FALLBACK_NAME, name_segments, profile_segments


def blobs(n_per_group=(300, 250, 200, 150, 100), dim=6, spread=0.4, seed=0):
    """Well-separated Gaussian groups; returns (matrix, true labels)."""
    rng = np.random.default_rng(seed)
    centres = 8.0 * np.eye(dim)[: len(n_per_group)]
    x = np.vstack([rng.normal(c, spread, size=(n, dim)) for c, n in zip(centres, n_per_group)])
    return x, np.repeat(np.arange(len(n_per_group)), n_per_group)


PROJECT = Path(__file__).resolve().parents[2] / "dbt_project.yml"
CONFIG = run.config_from_project(PROJECT, k_min=3, k_max=7, bootstrap_rounds=2, silhouette_sample=1000)
SPEC = pd.DataFrame({"feature": [f"f{i}" for i in range(6)], "transform": ["none"] * 6})
PLAYBOOK = pd.DataFrame(
    {"trait": ["big_f0", "low_f1"], "feature": ["f0", "f1"], "direction": ["high", "low"], "min_effect": [0.5, 0.5],
     "label": ["big zero", "small one"], "priority": [2, 1], "action": ["vip", "reactivate"], "channel": ["email", "sms"]}
)


def features_frame(x: np.ndarray, prefix: str = "c") -> pd.DataFrame:
    frame = pd.DataFrame(x, columns=SPEC["feature"])
    return frame.assign(customer_key=[f"{prefix}{i:05d}" for i in range(len(x))], as_of_date=pd.Timestamp("2026-06-30"))


def run_once(features: pd.DataFrame, previous_rows=None, config=CONFIG, at="2026-06-30 01:00"):
    """One build: segment_model appends a fit, customer_segments applies it."""
    row = run.fit_row(features, SPEC, previous_rows, config, pd.Timestamp(at))
    rows = row if previous_rows is None else pd.concat([previous_rows, row], ignore_index=True)
    return rows, run.quality_table(row), run.segments_table(features, SPEC, PLAYBOOK, row)


def test_config_comes_from_the_segmentation_dict_and_has_no_python_default():
    settings = {name: str(value) for name, value in {
        "k_min": 5, "k_max": 9, "min_segment_share": 0.02, "min_segment_size": 30, "pca_variance_share": 0.9,
        "core_membership_threshold": 0.85, "random_state": 42, "fit_sample": 50000, "silhouette_sample": 5000,
        "silhouette_metric": "Euclidean", "bootstrap_rounds": 5, "id_match_max_distance": 3.0}.items()}
    config = run.config_from_dbt(settings)
    assert (config.k_min, config.min_segment_share, config.silhouette_metric) == (5, 0.02, "euclidean")
    with pytest.raises(ValueError, match="'id_match_max_distance' \\(var microseg__segment_id_max_distance\\)"):
        run.config_from_dbt({k: v for k, v in settings.items() if k != "id_match_max_distance"})
    with pytest.raises(ValueError, match="k_min <= microseg__segment_k_max"):
        run.config_from_dbt({**settings, "k_min": "9", "k_max": "4"})
    with pytest.raises(ValueError, match="silhouette metric"):
        run.config_from_dbt({**settings, "silhouette_metric": "manhattan"})
    with pytest.raises(TypeError):
        seg.SegmentationConfig()  # every var-backed field must be given


def test_every_var_backed_field_is_read_from_dbt_project_yml():
    project_vars = yaml.safe_load(PROJECT.read_text())["vars"]
    config = run.config_from_project(PROJECT)
    for var, name in run.VARS.items():
        assert getattr(config, name) == project_vars[var], var
    # the models pass every var (python_models/_segments__models.yml, one dict), and dbt's threads for the cap
    # on the fit's native threads (run.threads_from_dbt)
    yml = yaml.safe_load((PROJECT.parent / "python_models" / "_segments__models.yml").read_text())
    settings = yml["x-segmentation-config"]["segmentation"]
    assert set(settings) == set(run.VARS.values()) | set(model_reuse.SEGMENT_POLICY_VARS) | {"dbt_threads"}
    for key, var in model_reuse.SEGMENT_POLICY_VARS.items():  # segment_model's refit-or-reuse settings
        assert var in settings[key], key


def test_quality_and_segments_tables_hold_their_contract():
    x, y = blobs()
    features = features_frame(x)
    _, quality, segments = run_once(features)
    assert quality["is_chosen"].sum() == 1 and int(quality.loc[quality["is_chosen"], "k"].iloc[0]) == 5
    assert quality.loc[quality["is_chosen"], "stability_ari"].iloc[0] > 0.9
    assert segments["customer_key"].is_unique and len(segments) == len(features)
    assert segments["membership_probability"].between(0, 1).all()
    assert segments.groupby("segment_id").size().min() >= quality["min_segment_size"].max()
    assert (segments["is_core_member"] == (segments["membership_probability"] >= 0.85)).all()


def changed_data(x: np.ndarray, y: np.ndarray, seed: int = 5) -> tuple[pd.DataFrame, np.ndarray]:
    """The next build's customers: a fifth of them gone, 150 new ones in the
    planted groups, everyone's values jittered, group 2 shifted by 0.6 on f2,
    and new customer keys (so rows sort, sample and initialise differently)."""
    rng = np.random.default_rng(seed)
    keep = rng.random(len(x)) > 0.2
    new_groups = rng.integers(0, 5, size=150)
    new = np.vstack([rng.normal(8.0 * np.eye(6)[g], 0.4) for g in new_groups])
    x2 = np.vstack([x[keep], new]) + rng.normal(0, 0.05, size=(keep.sum() + 150, 6))
    y2 = np.concatenate([y[keep], new_groups])
    x2[y2 == 2, 2] += 0.6
    order = rng.permutation(len(x2))
    return features_frame(x2[order], prefix="k"), y2[order]


def test_ids_survive_a_build_on_changed_data_through_the_stored_fit():
    """Issue 9: the second build's data differ (customers dropped and added,
    values jittered, one segment moved); every planted group keeps its id.
    Planted defect: segment_model ignoring its previous rows renumbers the
    segments 1..5 in K-Means order and this test fails."""
    x, y = blobs()
    rows, _, first = run_once(features_frame(x))
    first_id = {g: first["segment_id"][y == g].mode()[0] for g in range(5)}
    features2, y2 = changed_data(x, y)
    unmatched = run.segments_table(features2, SPEC, PLAYBOOK, run.fit_row(features2, SPEC, None, CONFIG, "2026-07-01"))
    assert [unmatched["segment_id"][y2 == g].mode()[0] for g in range(5)] != list(first_id.values()), \
        "the changed data must renumber the segments when the history is ignored, or this test proves nothing"
    rows, _, second = run_once(features2, rows, at="2026-07-01 01:00")
    for g in range(5):
        assert second["segment_id"][y2 == g].mode()[0] == first_id[g]
        assert (second["segment_id"][y2 == g] == first_id[g]).mean() > 0.95
    history = run.centroid_history_table(rows)
    assert history["run_started_at"].nunique() == 2 and len(history) == 2 * 5 * 6


def test_a_new_group_gets_a_new_id_and_a_retired_id_is_never_reused():
    x, y = blobs()
    rows, _, first = run_once(features_frame(x))
    # the smallest group (id of group 4) leaves, a new one far from all others appears
    rng = np.random.default_rng(2)
    newcomers = rng.normal(-8.0 * np.ones(6), 0.4, size=(120, 6))
    x2 = np.vstack([x[y != 4], newcomers])
    rows, _, second = run_once(features_frame(x2), rows, at="2026-07-01 01:00")
    assert set(second["segment_id"][len(x2) - 120:]) == {6}
    assert first["segment_id"][y == 4].mode()[0] not in set(second["segment_id"])
    # a third build where the old group is back does not hand it id 6, and 7 would be next
    rows, _, third = run_once(features_frame(x), rows, at="2026-07-02 01:00")
    assert 6 not in set(third["segment_id"]) or 7 not in set(third["segment_id"])
    assert int(rows["max_segment_id"].iloc[-1]) >= 6


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


def test_profile_statistics_are_the_segment_s_and_the_whole_base_s():
    rng = np.random.default_rng(1)
    raw = pd.DataFrame({"f0": rng.lognormal(0, 1, 500), "f1": rng.normal(5, 2, 500)})
    ids = rng.integers(1, 5, 500)
    transformed = np.log1p(raw.abs())
    profile = profile_segments(raw, transformed, ids).set_index(["segment_id", "feature"])
    for segment_id in np.unique(ids):
        members = raw[ids == segment_id]
        for feature in raw.columns:
            row = profile.loc[(segment_id, feature)]
            assert row["customer_count"] == len(members)
            assert row["mean_value"] == members[feature].mean() and row["median_value"] == members[feature].median()
            assert row["base_mean"] == raw[feature].mean() and row["base_median"] == raw[feature].median()
            effect = (transformed[ids == segment_id][feature].mean() - transformed[feature].mean()) / (
                transformed[feature].std(ddof=0))
            assert row["effect_size"] == pytest.approx(effect)


def test_too_few_customers_is_a_clear_error_naming_the_vars():
    x, _ = blobs(n_per_group=(20, 20, 20))
    with pytest.raises(ValueError, match="too few to segment.*microseg__segment_min_size"):
        run_once(features_frame(x))


def test_ids_survive_a_recipe_change_on_the_shared_features():
    x, y = blobs()
    rows, _, first = run_once(features_frame(x))
    # the previous fit knew a feature this one dropped, and lacked one it adds
    centroids = {i: {**{f: v for f, v in c.items() if f != "f5"}, "retired": c["f0"]}
                 for i, c in json.loads(rows["centroids"].iloc[0]).items()}
    rows = rows.assign(centroids=json.dumps(centroids))
    _, _, second = run_once(features_frame(x), rows, at="2026-07-01 01:00")
    assert (first["segment_id"] == second["segment_id"]).all()


def test_row_order_of_the_features_does_not_change_the_result():
    x, _ = blobs()
    # samples smaller than the data, so a different row order would draw other customers
    config = replace(CONFIG, silhouette_sample=500, fit_sample=600)
    features = features_frame(x)
    shuffled = features.sample(frac=1.0, random_state=3)
    a_rows, a_quality, a = run_once(features, config=config)
    b_rows, b_quality, b = run_once(shuffled, config=config)
    pd.testing.assert_frame_equal(a_quality, b_quality)
    pd.testing.assert_frame_equal(a, b)
    assert a_rows["model_state"].iloc[0] == b_rows["model_state"].iloc[0]
