"""Decision-path contributions (microseg.propensity.contributions): exact sums, the hand-worked stump,
agreement with TreeSHAP where the answer is clear, and block-independence."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest

from microseg.propensity import contributions


def _booster(X: np.ndarray, y: np.ndarray, **params) -> lgb.Booster:
    base = {"objective": "binary", "verbose": -1, "num_threads": 1, "seed": 3, "min_data_in_leaf": 20}
    return lgb.train({**base, **params}, lgb.Dataset(X, y), num_boost_round=params.pop("rounds", 40))


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(11)
    X = rng.normal(size=(3_000, 5))
    X[rng.random(X.shape) < 0.05] = np.nan  # missing values follow LightGBM's default direction
    logit = 2.0 * np.nan_to_num(X[:, 0]) - 1.0 * np.nan_to_num(X[:, 1]) ** 2 + 0.3 * np.nan_to_num(X[:, 2])
    y = (rng.random(len(X)) < 1 / (1 + np.exp(-logit))).astype(int)
    return X, y


def test_contributions_sum_to_the_raw_score_and_blocks_and_chunks_do_not_matter(data, monkeypatch):
    """Each row's contributions (bias column included) add up to the booster's raw score, missing values and
    all (a wrong node value in the walk, e.g. the root instead of the parent, fails this: planted)."""
    X, y = data
    booster = _booster(X, y)
    out = contributions.path_contributions(booster, X)
    assert out.shape == (len(X), X.shape[1] + 1)
    np.testing.assert_allclose(out.sum(axis=1), booster.predict(X, raw_score=True), rtol=0, atol=1e-10)
    monkeypatch.setattr(contributions, "BLOCK_ROWS", 7)
    assert np.array_equal(contributions.path_contributions(booster, X), out)
    # leaf indices predicted 50 rows at a time (a chunk boundary inside a block), from a frame too
    monkeypatch.setattr(contributions, "LEAF_ROWS", 50)
    assert np.array_equal(contributions.path_contributions(booster, X), out)
    assert np.array_equal(contributions.path_contributions(booster, pd.DataFrame(X)), out)
    assert contributions.path_contributions(booster, X[:0]).shape == (0, X.shape[1] + 1)


def test_joint_leaf_tables_give_the_per_tree_sums(data, monkeypatch):
    """Trees looked up together (a joint table of their leaves) credit each row as the trees one by one do,
    for trees of different leaf counts; a group never exceeds its row budget. A wrong joint row (the leaf
    order of two trees swapped) fails this: planted."""
    X, y = data
    booster = _booster(X, y, num_leaves=7, rounds=30)
    tables, _ = contributions.leaf_tables(booster)
    assert len({t.shape[0] for t in tables}) > 1 or len(tables) > 1
    for trees, joint in contributions.joint_tables(tables, 64):
        assert joint.shape[0] == np.prod([tables[t].shape[0] for t in trees]) and (joint.shape[0] <= 64 or len(trees) == 1)
    grouped = contributions.path_contributions(booster, X)
    monkeypatch.setattr(contributions, "MAX_JOINT_LEAVES", 1)  # every tree alone
    alone = contributions.path_contributions(booster, X)
    np.testing.assert_allclose(grouped, alone, rtol=0, atol=1e-12)
    leaves = booster.predict(X, pred_leaf=True)
    by_tree = sum(table[leaves[:, t]] for t, table in enumerate(tables))
    np.testing.assert_allclose(grouped[:, :-1], by_tree, rtol=0, atol=1e-12)


def test_a_stump_credits_its_split_feature_with_leaf_minus_root():
    """One tree, one split on feature 1: the row's leaf value minus the root value goes to feature 1, the
    root value to the bias, nothing to feature 0."""
    rng = np.random.default_rng(2)
    X = rng.normal(size=(500, 2))
    y = (X[:, 1] > 0).astype(int)
    booster = _booster(X, y, num_leaves=2, rounds=1, boost_from_average=False)
    root = booster.dump_model()["tree_info"][0]["tree_structure"]
    out = contributions.path_contributions(booster, X)
    raw = booster.predict(X, raw_score=True)
    assert root["split_feature"] == 1
    np.testing.assert_allclose(out[:, 2], root["internal_value"])
    np.testing.assert_allclose(out[:, 1], raw - root["internal_value"])
    assert not out[:, 0].any()


def test_the_strongest_feature_leads_as_with_treeshap(data):
    """Where one feature dominates the log-odds (2 x x0), the path method and TreeSHAP name the same
    feature first for most rows, and rank the features alike on mean |contribution|."""
    X, y = data
    booster = _booster(X, y)
    path = contributions.path_contributions(booster, X)[:, :-1]
    shap = booster.predict(X, pred_contrib=True)[:, :-1]
    assert np.mean(np.abs(path).argmax(1) == np.abs(shap).argmax(1)) > 0.8
    assert list(np.argsort(-np.abs(path).mean(0))[:2]) == list(np.argsort(-np.abs(shap).mean(0))[:2])
