"""Segmentation library: recovers planted groups, respects the minimum size,
keeps ids stable across a perturbed re-run."""

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from microseg import segmentation as seg


def blobs(n_per_group=(300, 250, 200, 150, 100), dim=6, spread=0.4, seed=0):
    """Well-separated Gaussian groups; returns (matrix, true labels)."""
    rng = np.random.default_rng(seed)
    centres = 8.0 * np.eye(dim)[: len(n_per_group)]  # every pair of centres ~11 apart
    x = np.vstack([rng.normal(c, spread, size=(n, dim)) for c, n in zip(centres, n_per_group)])
    y = np.repeat(np.arange(len(n_per_group)), n_per_group)
    return x, y


CONFIG = seg.SegmentationConfig(k_min=3, k_max=8, bootstrap_rounds=3, niche_sample=1000, silhouette_sample=1000)


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


def test_choose_k_finds_planted_groups():
    x, _ = blobs()
    table = seg.evaluate_k(x, range(3, 9), CONFIG, n_customers=len(x))
    assert list(table["k"]) == list(range(3, 9))
    assert seg.choose_k(table) == 5


def test_choose_k_skips_k_below_minimum_size():
    table = pd.DataFrame(
        {"k": [3, 4, 5], "silhouette": [0.4, 0.5, 0.9], "meets_min_size": [True, True, False]}
    )
    assert seg.choose_k(table) == 4
    assert seg.choose_k(table.assign(meets_min_size=False)) == 3


def test_min_size_is_share_with_floor():
    config = seg.SegmentationConfig(min_segment_share=0.01, min_segment_size=30)
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


def test_segment_customers_recovers_groups_with_valid_outputs():
    x, y = blobs()
    result = seg.segment_customers(x, CONFIG)
    assert result.chosen_k == 5
    assert adjusted_rand_score(y, result.labels) > 0.95
    assert ((result.membership_probability >= 0) & (result.membership_probability <= 1)).all()
    assert np.median(result.membership_probability) > 0.85
    assert result.stability_ari > 0.9
    assert result.pcs.shape == (len(x), 2)
    assert set(result.segment_ids) == set(result.centroids) == {1, 2, 3, 4, 5}
    assert np.bincount(result.labels).min() >= CONFIG.min_size(len(x))


def test_segment_ids_stable_on_perturbed_rerun():
    x, y = blobs()
    first = seg.segment_customers(x, CONFIG)
    rng = np.random.default_rng(1)
    perturbed = x + rng.normal(0, 0.05, size=x.shape)
    second = seg.segment_customers(perturbed, CONFIG, previous_centroids=first.centroids)
    # every planted group keeps the id it had in the first run
    for group in np.unique(y):
        assert np.bincount(first.segment_ids[y == group]).argmax() == np.bincount(second.segment_ids[y == group]).argmax()


def test_segment_customers_is_deterministic():
    x, _ = blobs()
    a = seg.segment_customers(x, CONFIG)
    b = seg.segment_customers(x, CONFIG)
    assert np.array_equal(a.segment_ids, b.segment_ids)
    assert np.allclose(a.membership_probability, b.membership_probability)


def test_too_few_customers_is_a_clear_error():
    with pytest.raises(ValueError, match="too few to segment"):
        seg.segment_customers(np.zeros((4, 3)), CONFIG)


def test_discover_niches_flags_a_dense_group_and_leaves_sparse_points_out():
    rng = np.random.default_rng(3)
    sparse = rng.uniform(-10, 10, size=(1500, 3))
    dense = rng.normal(4, 0.05, size=(100, 3))
    z = np.vstack([sparse, dense])
    niches = seg.discover_niches(z, seg.SegmentationConfig(niche_sample=800, niche_min_cluster_size=20))
    dense_niches = niches[1500:]
    assert (dense_niches >= 0).mean() > 0.8
    assert len(set(dense_niches[dense_niches >= 0])) == 1
    assert (niches[:1500] >= 0).mean() < 0.1
