"""Segmentation library: MicroSegmenter recovers planted groups, respects the
minimum size, fits once (the k table describes the applied model), round-trips
through its stored state, keeps ids stable across a perturbed re-run."""

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from microseg import segmentation as seg
from microseg.segment_run import config_from_project

PROJECT = Path(__file__).resolve().parents[2] / "dbt_project.yml"


def blobs(n_per_group=(300, 250, 200, 150, 100), dim=6, spread=0.4, seed=0):
    """Well-separated Gaussian groups; returns (matrix, true labels)."""
    rng = np.random.default_rng(seed)
    centres = 8.0 * np.eye(dim)[: len(n_per_group)]  # every pair of centres ~11 apart
    x = np.vstack([rng.normal(c, spread, size=(n, dim)) for c, n in zip(centres, n_per_group)])
    y = np.repeat(np.arange(len(n_per_group)), n_per_group)
    return x, y


CONFIG = config_from_project(PROJECT, k_min=3, k_max=8, bootstrap_rounds=3, niche_sample=1000, silhouette_sample=1000)


def test_signed_log1p_keeps_sign_and_order():
    values = np.array([-100.0, -1.0, 0.0, 1.0, 100.0])
    out = seg.signed_log1p(values)
    assert list(np.sign(out)) == [-1, -1, 0, 1, 1]
    assert np.all(np.diff(out) > 0)


def test_prepare_matrix_fills_missing_and_rejects_unknown_columns():
    frame = pd.DataFrame({"monetary": [10.0, None, 1000.0, 50.0], "freq": [1, 2, None, 4]})
    m = seg.prepare_matrix(frame, ["monetary", "freq"], log_columns=["monetary"])
    assert m.shape == (4, 2) and np.isfinite(m).all()
    with pytest.raises(ValueError, match="not found: \\['nope'\\]"):
        seg.prepare_matrix(frame, ["monetary", "nope"], log_columns=[])


def test_fit_pca_keeps_requested_variance_and_at_least_two_components():
    x, _ = blobs()
    pca = seg.fit_pca(x, 0.9, random_state=0)
    assert pca.explained_variance_ratio_.sum() >= 0.9
    assert pca.n_components_ >= 2


def test_cosine_silhouette_equals_sklearns_without_the_distance_matrix():
    """The silhouette that chooses k is computed from cluster sums of unit rows (no pairwise matrix): it must
    equal sklearn's cosine silhouette, with a zero row (distance 1 to others, 0 to itself: without that
    correction this failed, planted), a singleton cluster (silhouette 0) and labels that are not 0..k-1."""
    from sklearn.metrics import silhouette_score

    rng = np.random.default_rng(4)
    for n, dim, k in ((2000, 9, 7), (60, 3, 12)):
        z = rng.normal(size=(n, dim)) + rng.integers(0, 3, size=(n, 1))
        z[3] = 0.0
        labels = rng.integers(0, k, n) * 3 + 1
        labels[7] = 999
        assert seg.cosine_silhouette(z, labels) == pytest.approx(silhouette_score(z, labels, metric="cosine"),
                                                                 abs=1e-12)
    with pytest.raises(ValueError, match="Number of labels"):
        seg.cosine_silhouette(z, np.zeros(len(z), dtype=int))


def test_choose_k_finds_planted_groups():
    x, _ = blobs()
    table, models = seg.evaluate_k(x, range(3, 9), CONFIG, n_customers=len(x))
    assert sorted(models) == list(range(3, 9))
    assert list(table["k"]) == list(range(3, 9))
    assert seg.choose_k(table) == 5


def test_choose_k_skips_k_below_minimum_size():
    table = pd.DataFrame(
        {"k": [3, 4, 5], "silhouette": [0.4, 0.5, 0.9], "meets_min_size": [True, True, False]}
    )
    assert seg.choose_k(table) == 4
    assert seg.choose_k(table.assign(meets_min_size=False)) == 3


def test_min_size_is_share_with_floor():
    config = replace(CONFIG, min_segment_share=0.01, min_segment_size=30)
    assert config.min_size(1000) == 30
    assert config.min_size(100_000) == 1000


def test_match_segment_ids_keeps_ids_and_numbers_new_groups_after_old_ones():
    previous = {7: np.array([0.0, 0.0]), 3: np.array([5.0, 5.0]), 9: np.array([10.0, 0.0])}
    # same groups moved a little and listed in another order, plus one new group far away
    current = np.array([[5.2, 4.9], [30.0, 30.0], [0.1, -0.2], [9.8, 0.3]])
    ids = seg.match_segment_ids(previous, current, max_distance=1.0)
    assert list(ids) == [3, 10, 7, 9]


def test_match_segment_ids_is_optimal_not_greedy():
    # greedy nearest-first would give a->p1 (distance 1) and leave b with p2 (distance 10)
    previous = {1: np.array([1.0]), 2: np.array([-1.0])}
    current = np.array([[0.0], [2.5]])
    ids = seg.match_segment_ids(previous, current, max_distance=3.0)
    assert list(ids) == [2, 1]


def test_match_segment_ids_without_history_or_with_other_dimensions():
    assert list(seg.match_segment_ids({}, np.zeros((3, 2)), 1.0)) == [1, 2, 3]
    assert list(seg.match_segment_ids({4: np.zeros(3)}, np.zeros((2, 2)), 1.0)) == [5, 6]


def frame(x: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(x, columns=[f"f{i}" for i in range(x.shape[1])])


def segmenter(config=CONFIG) -> seg.MicroSegmenter:
    return seg.MicroSegmenter(config, columns=[f"f{i}" for i in range(6)])


def test_microsegmenter_recovers_groups_with_valid_outputs():
    x, y = blobs()
    model = segmenter().fit(frame(x))
    out = model.assign(frame(x))
    assert model.quality_["chosen_k"] == 5
    assert adjusted_rand_score(y, out["segment_id"]) > 0.95
    assert out["membership_probability"].between(0, 1).all()
    assert out["membership_probability"].median() > 0.85
    assert model.quality_["stability_ari"] > 0.9
    assert set(out["segment_id"]) == set(model.centroids_) == {1, 2, 3, 4, 5}
    assert out["segment_id"].value_counts().min() >= CONFIG.min_size(len(x))
    assert (model.predict(frame(x)) == out["segment_id"]).all()
    assert model.transform(frame(x)).shape == (len(x), model.quality_["pca_components"])


def test_the_chosen_k_row_describes_the_applied_model():
    """One fit: the size check of the k table is the one of the segments applied."""
    x, _ = blobs()
    model = segmenter().fit(frame(x))
    chosen = model.k_table_[model.k_table_["is_chosen"]].iloc[0]
    sizes = model.assign(frame(x))["segment_id"].value_counts()
    assert int(chosen["k"]) == len(sizes)
    assert int(chosen["smallest_segment_size"]) == sizes.min()


def test_stored_state_reproduces_the_fitted_model_exactly():
    x, _ = blobs()
    model = segmenter().fit(frame(x))
    loaded = seg.MicroSegmenter.from_dict(json.loads(json.dumps(model.to_dict())))
    pd.testing.assert_frame_equal(model.assign(frame(x)), loaded.assign(frame(x)))
    assert loaded.get_params() == model.get_params()


def test_get_and_set_params_follow_the_estimator_convention():
    model = segmenter()
    params = model.get_params()
    assert params["k_max"] == CONFIG.k_max and params["columns"] == [f"f{i}" for i in range(6)]
    assert model.set_params(k_max=6, random_state=7) is model
    assert (model.config.k_max, model.config.random_state) == (6, 7)
    with pytest.raises(ValueError, match="k_min <= microseg__segment_k_max"):
        model.set_params(k_max=2)


def test_segment_ids_stable_on_perturbed_rerun():
    x, y = blobs()
    first = segmenter().fit(frame(x))
    rng = np.random.default_rng(1)
    perturbed = x + rng.normal(0, 0.05, size=x.shape)
    second = segmenter().fit(frame(perturbed), previous_centroids=first.centroids_)
    # every planted group keeps the id it had in the first run
    a, b = first.predict(frame(x)), second.predict(frame(perturbed))
    for group in np.unique(y):
        assert np.bincount(a[y == group]).argmax() == np.bincount(b[y == group]).argmax()


def test_fit_is_deterministic():
    x, _ = blobs()
    a = segmenter().fit(frame(x)).assign(frame(x))
    b = segmenter().fit(frame(x)).assign(frame(x))
    pd.testing.assert_frame_equal(a, b)


def test_too_few_customers_is_a_clear_error():
    with pytest.raises(ValueError, match="too few to segment"):
        segmenter().fit(frame(np.zeros((4, 6))))


def test_discover_niches_flags_a_dense_group_and_leaves_sparse_points_out():
    rng = np.random.default_rng(3)
    sparse = rng.uniform(-10, 10, size=(1500, 3))
    dense = rng.normal(4, 0.05, size=(100, 3))
    z = np.vstack([sparse, dense])
    niches = seg.discover_niches(z, replace(CONFIG, niche_sample=800, niche_min_cluster_size=20))
    dense_niches = niches[1500:]
    assert (dense_niches >= 0).mean() > 0.8
    assert len(set(dense_niches[dense_niches >= 0])) == 1
    assert (niches[:1500] >= 0).mean() < 0.1
