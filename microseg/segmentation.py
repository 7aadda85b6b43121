"""Micro-segmentation: feature scaling, PCA, K-Means with data-driven k, soft
membership, niche discovery, stable segment ids and validation.

Every function is pure: arrays or DataFrames in, results out, randomness only
through an explicit ``random_state``. The dbt Python model ``customer_segments``
reads the features mart, calls :func:`segment_customers` and writes tables.

Fit on a sample, assign everyone: K-Means, the Gaussian mixture and the niche
pass are fitted on at most ``fit_sample`` customers and then applied to all,
so the cost of a build grows linearly with the customer count.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment
from sklearn.cluster import HDBSCAN, KMeans
from sklearn.decomposition import PCA
from sklearn.metrics import adjusted_rand_score, calinski_harabasz_score, davies_bouldin_score, silhouette_score
from sklearn.mixture import GaussianMixture
from sklearn.neighbors import NearestNeighbors


#: distances the silhouette that chooses k may use (microseg__segment_silhouette_metric)
SILHOUETTE_METRICS = ("cosine", "euclidean")


@dataclass(frozen=True)
class SegmentationConfig:
    """Settings of one segmentation run (dbt vars map onto these fields)."""

    k_min: int = 4
    k_max: int = 12
    min_segment_share: float = 0.01
    min_segment_size: int = 30
    pca_variance_share: float = 0.90
    core_membership_threshold: float = 0.85
    random_state: int = 42
    fit_sample: int = 50_000
    silhouette_sample: int = 5_000
    # distance of the silhouette that chooses k: "cosine" (direction of a customer's
    # PCA scores from the average customer) or "euclidean"
    silhouette_metric: str = "cosine"
    bootstrap_rounds: int = 5
    niche_min_cluster_size: int = 25
    niche_sample: int = 5_000
    # a niche member's 5th-neighbour distance is at most this share of the sample's median
    niche_density_ratio: float = 0.5
    # a new centroid farther than this (in PCA space) from every previous one is a new segment
    id_match_max_distance: float = 1.5

    def __post_init__(self) -> None:
        if self.silhouette_metric not in SILHOUETTE_METRICS:
            raise ValueError(f"silhouette metric must be one of {SILHOUETTE_METRICS}, got {self.silhouette_metric!r}")

    def min_size(self, n_customers: int) -> int:
        """Minimum customers per segment: the larger of the share and the floor."""
        return max(self.min_segment_size, int(np.ceil(self.min_segment_share * n_customers)))


# ---------------------------------------------------------------------------
# Features
# ---------------------------------------------------------------------------


def signed_log1p(values: np.ndarray) -> np.ndarray:
    """log(1 + |x|) with the sign of x: tames skewed money without losing refunds."""
    return np.sign(values) * np.log1p(np.abs(values))


#: width of the 10-90 % quantile range of a standard normal distribution
NORMAL_10_90_RANGE = 2.5631


@dataclass
class FeatureScaler:
    """Column-wise centre and scale learned on one run's transformed features.

    Log-transformed columns (skewed money and counts) are robust-scaled:
    median, and the 10-90 % quantile range divided by 2.5631 (the range of a
    normal distribution in standard deviations), so a robust unit weighs as
    much as a standard deviation. Bounded shares and scores are standardized
    (mean, standard deviation): their inter-quantile range is often tiny, and
    dividing by it lets a few points dominate. A zero scale becomes 1.
    """

    columns: list[str]
    center: np.ndarray
    scale: np.ndarray

    @classmethod
    def fit(cls, frame: pd.DataFrame, log_columns: list[str]) -> "FeatureScaler":
        values = frame.to_numpy(dtype=float)
        is_log = np.array([c in log_columns for c in frame.columns])
        q10, q50, q90 = np.quantile(values, [0.1, 0.5, 0.9], axis=0)
        center = np.where(is_log, q50, values.mean(axis=0))
        scale = np.where(is_log, (q90 - q10) / NORMAL_10_90_RANGE, values.std(axis=0))
        return cls(list(frame.columns), center, np.where(scale > 0, scale, 1.0))

    def transform(self, values: np.ndarray) -> np.ndarray:
        return (values - self.center) / self.scale


def transform_features(features: pd.DataFrame, columns: list[str], log_columns: list[str]) -> pd.DataFrame:
    """The clustering features before scaling: ``columns`` as floats,
    :func:`signed_log1p` on ``log_columns``, missing values filled with the column
    median (0 when all are missing).

    Raises ValueError naming the columns that are missing.
    """
    missing = [c for c in columns if c not in features.columns]
    if missing:
        raise ValueError(f"feature columns not found: {missing}")
    frame = features[columns].apply(pd.to_numeric, errors="coerce").astype(float)
    for column in log_columns:
        if column in frame:
            frame[column] = signed_log1p(frame[column].to_numpy())
    return frame.fillna(frame.median()).fillna(0.0)


def prepare_matrix(features: pd.DataFrame, columns: list[str], log_columns: list[str]) -> np.ndarray:
    """Scaled numeric matrix of ``columns`` (:func:`transform_features`, then
    :class:`FeatureScaler`)."""
    frame = transform_features(features, columns, log_columns)
    return FeatureScaler.fit(frame, log_columns).transform(frame.to_numpy())


def fit_pca(matrix: np.ndarray, variance_share: float, random_state: int) -> PCA:
    """PCA keeping the fewest components that explain ``variance_share`` of the
    variance (at least 2, so segments can be drawn on pc1 / pc2)."""
    full = PCA(random_state=random_state).fit(matrix)
    n_components = int(np.searchsorted(np.cumsum(full.explained_variance_ratio_), variance_share) + 1)
    n_components = min(max(2, n_components), matrix.shape[1])
    return PCA(n_components=n_components, random_state=random_state).fit(matrix)


def sample_rows(n_rows: int, size: int, random_state: int) -> np.ndarray:
    """Sorted indices of a uniform sample without replacement (all rows if fewer)."""
    if n_rows <= size:
        return np.arange(n_rows)
    return np.sort(np.random.default_rng(random_state).choice(n_rows, size=size, replace=False))


# ---------------------------------------------------------------------------
# Choosing k
# ---------------------------------------------------------------------------


def evaluate_k(z: np.ndarray, k_values: range, config: SegmentationConfig, n_customers: int) -> pd.DataFrame:
    """K-Means for every k on ``z``: silhouette (on a sample, with
    ``config.silhouette_metric``), Davies-Bouldin, Calinski-Harabasz, smallest
    segment size projected to all customers, and whether k respects the minimum
    segment size.

    The cosine silhouette compares the direction of customers' PCA scores (the
    scores are centred on the average customer, so the direction is which mix
    of behaviours stands out) and ignores the length, which in many noisy
    components mostly grows with noise and flattens Euclidean silhouettes
    toward few large segments (docs/decisions.md)."""
    min_size = config.min_size(n_customers)
    scale = n_customers / len(z)
    score_idx = sample_rows(len(z), config.silhouette_sample, config.random_state + 1)
    rows = []
    for k in k_values:
        if k >= len(z):
            break
        model = KMeans(n_clusters=k, n_init=4, random_state=config.random_state).fit(z)
        labels = model.labels_
        smallest = int(np.bincount(labels, minlength=k).min() * scale)
        rows.append(
            {
                "k": k,
                "silhouette": float(silhouette_score(z[score_idx], labels[score_idx], metric=config.silhouette_metric)),
                "davies_bouldin": float(davies_bouldin_score(z, labels)),
                "calinski_harabasz": float(calinski_harabasz_score(z, labels)),
                "smallest_segment_size": smallest,
                "meets_min_size": smallest >= min_size,
            }
        )
    return pd.DataFrame(rows)


def choose_k(k_table: pd.DataFrame) -> int:
    """Highest silhouette among the k that meet the minimum segment size (ties: the
    smaller k). If none does, the smallest k tried: few large segments are safer
    than many that cannot be acted on."""
    feasible = k_table[k_table["meets_min_size"]]
    if feasible.empty:
        return int(k_table["k"].min())
    best = feasible.sort_values(["silhouette", "k"], ascending=[False, True]).iloc[0]
    return int(best["k"])


# ---------------------------------------------------------------------------
# Soft membership and niches
# ---------------------------------------------------------------------------


def gmm_membership(z_fit: np.ndarray, labels_fit: np.ndarray, centers: np.ndarray, z_all: np.ndarray,
                   labels_all: np.ndarray, random_state: int) -> np.ndarray:
    """Probability that each customer belongs to its own K-Means segment under a
    Gaussian mixture started from the K-Means centres (diagonal covariances), so
    mixture component j is segment j."""
    k = len(centers)
    weights = np.bincount(labels_fit, minlength=k) / len(labels_fit)
    gmm = GaussianMixture(
        n_components=k, covariance_type="diag", means_init=centers, weights_init=np.clip(weights, 1e-6, None),
        max_iter=200, reg_covar=1e-4, random_state=random_state,
    ).fit(z_fit)
    proba = gmm.predict_proba(z_all)
    return proba[np.arange(len(z_all)), labels_all]


def discover_niches(z: np.ndarray, config: SegmentationConfig) -> np.ndarray:
    """Niche id per customer (-1 = none): dense, tight groups inside or across
    segments.

    HDBSCAN runs on a sample. Its clusters include ordinary density ripples,
    and a dense group inside a sparser region stays one node with its
    surroundings (they shed points one by one rather than split off). So a
    niche is the dense core of a cluster: members whose distance to their 5th
    neighbour is at most ``niche_density_ratio`` times the sample's median, kept
    when at least ``niche_min_cluster_size`` strong. Customers outside the sample take the niche of their nearest niche
    member when closer than the 90th percentile of neighbour distances inside
    niches; otherwise -1. Niche ids are 0..n-1 in order of discovery.
    """
    idx = sample_rows(len(z), config.niche_sample, config.random_state + 2)
    z_sample = z[idx]
    niches = np.full(len(z), -1, dtype=int)
    if len(z_sample) < 2 * config.niche_min_cluster_size:
        return niches
    clusters = HDBSCAN(min_cluster_size=config.niche_min_cluster_size, copy=True).fit_predict(z_sample)
    neighbour_distance = NearestNeighbors(n_neighbors=6).fit(z_sample).kneighbors(z_sample)[0][:, 5]
    overall = float(np.median(neighbour_distance))
    sample_niches = np.full(len(z_sample), -1, dtype=int)
    is_dense = neighbour_distance <= config.niche_density_ratio * overall
    for cluster in np.unique(clusters[clusters >= 0]):
        core = (clusters == cluster) & is_dense
        if core.sum() >= config.niche_min_cluster_size:
            sample_niches[core] = sample_niches.max() + 1
    niches[idx] = sample_niches
    in_niche = sample_niches >= 0
    if not in_niche.any() or len(idx) == len(z):
        return niches
    members = z_sample[in_niche]
    radius = float(np.quantile(NearestNeighbors(n_neighbors=2).fit(members).kneighbors(members)[0][:, 1], 0.9))
    rest = np.setdiff1d(np.arange(len(z)), idx)
    distance, nearest = NearestNeighbors(n_neighbors=1).fit(members).kneighbors(z[rest])
    niches[rest] = np.where(distance[:, 0] <= radius, sample_niches[in_niche][nearest[:, 0]], -1)
    return niches


# ---------------------------------------------------------------------------
# Stable ids and stability
# ---------------------------------------------------------------------------


def match_segment_ids(previous: dict[int, np.ndarray], current: np.ndarray, max_distance: float,
                      next_id: int | None = None) -> np.ndarray:
    """Stable id for each current centroid (row of ``current``).

    Hungarian assignment on Euclidean distance between the previous run's
    centroids (``{segment_id: centroid}``) and the current ones; a pair farther
    apart than ``max_distance`` is not a match. Unmatched current centroids get
    new ids from ``next_id`` (default: above every previous id; pass the
    highest id ever used + 1 so a retired id is never reused). Centroids must share one space (same
    features, scaling and PCA); when the dimensions differ nothing matches.
    """
    new_ids = np.full(len(current), -1, dtype=int)
    prev_ids = np.array(sorted(previous), dtype=int)
    if len(prev_ids) and all(len(previous[i]) == current.shape[1] for i in prev_ids):
        prev = np.vstack([previous[i] for i in prev_ids])
        cost = np.linalg.norm(current[:, None, :] - prev[None, :, :], axis=2)
        rows, cols = linear_sum_assignment(cost)
        for r, c in zip(rows, cols):
            if cost[r, c] <= max_distance:
                new_ids[r] = prev_ids[c]
    if next_id is None:
        next_id = int(prev_ids.max()) + 1 if len(prev_ids) else 1
    for r in np.flatnonzero(new_ids < 0):
        new_ids[r] = next_id
        next_id += 1
    return new_ids


def bootstrap_stability(z: np.ndarray, k: int, rounds: int, random_state: int) -> float:
    """Mean adjusted Rand index between a reference K-Means and K-Means refitted on
    bootstrap resamples, compared on every point (each refit predicts all)."""
    reference = KMeans(n_clusters=k, n_init=4, random_state=random_state).fit_predict(z)
    rng = np.random.default_rng(random_state)
    scores = []
    for round_ in range(rounds):
        resample = rng.integers(0, len(z), size=len(z))
        model = KMeans(n_clusters=k, n_init=2, random_state=random_state + round_ + 1).fit(z[resample])
        scores.append(adjusted_rand_score(reference, model.predict(z)))
    return float(np.mean(scores))


# ---------------------------------------------------------------------------
# The whole run
# ---------------------------------------------------------------------------


@dataclass
class ModelSelection:
    """Choice of k and the run's quality figures (the segment_quality table)."""

    k_table: pd.DataFrame
    chosen_k: int
    stability_ari: float
    pca_variance_explained: float
    pca_components: int
    min_size: int


def check_size(n: int, config: SegmentationConfig) -> None:
    """Raise ValueError with a readable message when ``n`` customers cannot be
    split into ``k_min`` segments of the minimum size."""
    needed = max(config.k_min * config.min_size(n), config.k_min * 2, 3)
    if n < needed:
        raise ValueError(
            f"{n} customers is too few to segment into at least {config.k_min} segments of at least "
            f"{config.min_size(n)} customers (need {needed}); lower microseg__segment_k_min or "
            f"microseg__segment_min_size, or widen the active-customer rule"
        )


def select_model(matrix: np.ndarray, config: SegmentationConfig) -> ModelSelection:
    """PCA, K-Means for every k in [k_min, k_max] on the fit sample, the chosen k
    (:func:`choose_k`) and its bootstrap stability."""
    n = len(matrix)
    check_size(n, config)
    pca = fit_pca(matrix, config.pca_variance_share, config.random_state)
    z = pca.transform(matrix)
    z_fit = z[sample_rows(n, config.fit_sample, config.random_state)]
    k_table = evaluate_k(z_fit, range(config.k_min, config.k_max + 1), config, n)
    k = choose_k(k_table)
    stability_idx = sample_rows(n, min(config.fit_sample, 20_000), config.random_state + 3)
    return ModelSelection(
        k_table=k_table.assign(is_chosen=k_table["k"] == k),
        chosen_k=k,
        stability_ari=bootstrap_stability(z[stability_idx], k, config.bootstrap_rounds, config.random_state),
        pca_variance_explained=float(pca.explained_variance_ratio_.sum()),
        pca_components=int(pca.n_components_),
        min_size=config.min_size(n),
    )


@dataclass
class SegmentationResult:
    """Everything one run produces; tables are built from it by the dbt model."""

    labels: np.ndarray
    segment_ids: np.ndarray
    membership_probability: np.ndarray
    niche_ids: np.ndarray
    pcs: np.ndarray
    centroids: dict[int, np.ndarray]
    k_table: pd.DataFrame
    chosen_k: int
    stability_ari: float
    pca_variance_explained: float
    pca_components: int
    metrics: dict[str, float] = field(default_factory=dict)


def segment_centroids(matrix: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """Mean row of ``matrix`` per label 0..k-1 (the space segment ids are matched in)."""
    sums = np.zeros((k, matrix.shape[1]))
    np.add.at(sums, labels, matrix)
    return sums / np.maximum(np.bincount(labels, minlength=k), 1)[:, None]


def segment_customers(matrix: np.ndarray, config: SegmentationConfig,
                      previous_centroids: dict[int, np.ndarray] | None = None, k: int | None = None,
                      next_id: int | None = None, match_columns: np.ndarray | None = None) -> SegmentationResult:
    """Segment the rows of a prepared feature matrix (see :func:`prepare_matrix`).

    ``k`` None chooses k with :func:`select_model`. Segment ids are matched on
    the segments' mean rows of ``matrix`` (scaled features, not PCA scores: a
    refitted PCA may rotate or flip its axes) against ``previous_centroids`` in
    the same space; new groups are numbered from ``next_id`` (default: above
    every previous id). ``match_columns`` restricts the match to those columns
    (the features both runs have). Raises ValueError when there are too few rows.
    """
    n = len(matrix)
    check_size(n, config)
    selection = select_model(matrix, config) if k is None else None
    k = selection.chosen_k if selection else k
    pca = fit_pca(matrix, config.pca_variance_share, config.random_state)
    z = pca.transform(matrix)
    z_fit = z[sample_rows(n, config.fit_sample, config.random_state)]
    kmeans = KMeans(n_clusters=k, n_init=8, random_state=config.random_state).fit(z_fit)
    labels = kmeans.predict(z)
    probability = gmm_membership(z_fit, kmeans.labels_, kmeans.cluster_centers_, z, labels, config.random_state)
    centroids = segment_centroids(matrix, labels, k)
    matched = centroids if match_columns is None else centroids[:, match_columns]
    ids = match_segment_ids(previous_centroids or {}, matched, config.id_match_max_distance, next_id)
    k_table = selection.k_table if selection else pd.DataFrame()
    chosen = k_table.set_index("k").loc[k] if selection else None
    return SegmentationResult(
        labels=labels,
        segment_ids=ids[labels],
        membership_probability=np.clip(probability, 0.0, 1.0),
        niche_ids=discover_niches(z, config),
        pcs=z[:, :2],
        centroids={int(ids[j]): centroids[j] for j in range(k)},
        k_table=k_table,
        chosen_k=k,
        stability_ari=selection.stability_ari if selection else float("nan"),
        pca_variance_explained=float(pca.explained_variance_ratio_.sum()),
        pca_components=int(pca.n_components_),
        metrics={} if chosen is None else {
            "silhouette": float(chosen["silhouette"]),
            "davies_bouldin": float(chosen["davies_bouldin"]),
            "calinski_harabasz": float(chosen["calinski_harabasz"]),
        },
    )
