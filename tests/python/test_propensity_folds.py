"""The fast stratified group k-fold returns scikit-learn's StratifiedGroupKFold folds exactly."""

import numpy as np
import pytest
from sklearn.model_selection import StratifiedGroupKFold

from microseg.propensity.folds import stratified_group_folds


def _sklearn_folds(y, groups, k, seed):
    return list(StratifiedGroupKFold(k, shuffle=True, random_state=seed).split(np.zeros(len(y)), y, groups=groups))


@pytest.mark.filterwarnings("ignore:The least populated class")
def test_same_folds_as_scikit_learn():
    rng = np.random.default_rng(7)
    compared = 0
    for trial in range(60):
        n = int(rng.integers(30, 600))
        groups = rng.integers(0, int(rng.integers(8, n)), n)
        # binary with rare to common positives (the propensity labels), and three classes
        y = rng.integers(0, 3, n) if trial % 4 == 0 else (rng.random(n) < rng.uniform(0.03, 0.9)).astype(float)
        k, seed = int(rng.integers(2, 7)), int(rng.integers(0, 1000))
        if len(np.unique(groups)) < k or np.bincount(np.unique(y, return_inverse=True)[1]).max() < k:
            continue
        expected = _sklearn_folds(y, groups, k, seed)
        got = stratified_group_folds(y, groups, k, seed)
        assert len(got) == k
        for (train_e, test_e), (train_g, test_g) in zip(expected, got):
            np.testing.assert_array_equal(test_g, test_e)
            np.testing.assert_array_equal(train_g, train_e)
        compared += 1
    assert compared > 40


def test_customers_with_two_snapshots_stay_in_one_fold():
    # the propensity training shape: most customers have a row per snapshot, labels differ between them
    rng = np.random.default_rng(3)
    groups = np.repeat(np.arange(400), 2)[:790]
    y = (rng.random(groups.size) < 0.4).astype(float)
    folds = stratified_group_folds(y, groups, 5, 42)
    for (train_e, test_e), (train_g, test_g) in zip(_sklearn_folds(y, groups, 5, 42), folds):
        np.testing.assert_array_equal(test_g, test_e)
        assert not set(groups[test_g]) & set(groups[train_g])


def test_fewer_groups_than_folds_is_an_error():
    with pytest.raises(ValueError, match="n_splits=5 greater than the number of groups: 3"):
        stratified_group_folds(np.array([0, 1, 0, 1]), np.array([1, 1, 2, 3]), 5, 0)
