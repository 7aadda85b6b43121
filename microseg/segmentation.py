"""Micro-segmentation: feature scaling, PCA, K-Means with data-driven k, soft
membership, niche discovery, stable segment ids and validation.

Every function is pure: arrays or DataFrames in, results out, randomness only
through an explicit ``random_state``. :class:`MicroSegmenter` puts them together
as an estimator (fit once, then transform / predict / assign without refitting);
the dbt Python model ``segment_model`` fits it once per build and stores its
state, ``customer_segments`` applies the stored state (microseg.segment_run).

Fit on a sample, assign everyone: K-Means, the Gaussian mixture and the niche
pass are fitted on at most ``fit_sample`` customers and then applied to all,
so the cost of a build grows linearly with the customer count.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment
from sklearn.cluster import HDBSCAN, KMeans
from sklearn.decomposition import PCA
from sklearn.metrics import (
    adjusted_rand_score,
    calinski_harabasz_score,
    davies_bouldin_score,
    pairwise_distances_argmin,
    silhouette_score,
)
from sklearn.mixture import GaussianMixture
from sklearn.neighbors import NearestNeighbors


#: distances the silhouette that chooses k may use (microseg__segment_silhouette_metric)
SILHOUETTE_METRICS = ("cosine", "euclidean")


@dataclass(frozen=True)
class SegmentationConfig:
    """Settings of one segmentation run.

    The fields without a default are dbt vars (``microseg__segment_*``): they
    have no Python default on purpose, so the library can never run with a
    value that differs from dbt_project.yml. Build a config from the model's
    ``segmentation`` dict (:func:`microseg.segment_run.config_from_dbt`) or from
    the project file (:func:`microseg.segment_run.config_from_project`).
    """

    k_min: int
    k_max: int
    min_segment_share: float
    min_segment_size: int
    pca_variance_share: float
    core_membership_threshold: float
    random_state: int
    fit_sample: int
    silhouette_sample: int
    # distance of the silhouette that chooses k: "cosine" (direction of a customer's
    # PCA scores from the average customer) or "euclidean"
    silhouette_metric: str
    bootstrap_rounds: int
    # a new centroid farther than this (scaled feature space) from every previous one is a new segment
    id_match_max_distance: float
    # K-Means restarts per k tried; the model of the chosen k is the final one (fit once)
    kmeans_n_init: int = 6
    niche_min_cluster_size: int = 25
    niche_sample: int = 5_000
    # a niche member's 5th-neighbour distance is at most this share of the sample's median
    niche_density_ratio: float = 0.5

    def __post_init__(self) -> None:
        if self.silhouette_metric not in SILHOUETTE_METRICS:
            raise ValueError(f"silhouette metric must be one of {SILHOUETTE_METRICS}, got {self.silhouette_metric!r}")
        if self.k_min < 2 or self.k_max < self.k_min:
            raise ValueError(
                f"need 2 <= microseg__segment_k_min <= microseg__segment_k_max, got {self.k_min}, {self.k_max}"
            )

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


def transform_features(features: pd.DataFrame, columns: list[str], log_columns: list[str],
                       fill_values: dict[str, float] | None = None) -> pd.DataFrame:
    """The clustering features before scaling: ``columns`` as floats,
    :func:`signed_log1p` on ``log_columns``, missing values filled with
    ``fill_values`` (a fitted model's medians) or else the column median (0 when
    all are missing).

    Raises ValueError naming the columns that are missing.
    """
    missing = [c for c in columns if c not in features.columns]
    if missing:
        raise ValueError(f"feature columns not found: {missing}")
    frame = features[columns].apply(pd.to_numeric, errors="coerce").astype(float)
    for column in log_columns:
        if column in frame:
            frame[column] = signed_log1p(frame[column].to_numpy())
    if fill_values is not None:
        return frame.fillna({c: fill_values[c] for c in columns})
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


def nearest_centre(z: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """Index of the nearest centre (Euclidean) for each row: K-Means' assignment rule."""
    if len(z) == 0:
        return np.zeros(0, dtype=int)
    return pairwise_distances_argmin(z, centres)


def cosine_silhouette(z: np.ndarray, labels: np.ndarray) -> float:
    """sklearn's silhouette_score(z, labels, metric="cosine") without the pairwise matrix.

    The cosine distance 1 - u_i . u_j of unit rows is linear in u_j, so the sum of distances from a row to
    a cluster is the cluster's size minus u_i . (sum of the cluster's unit rows): O(rows x clusters x
    dimensions) instead of O(rows^2) (the 5,000-row matrix, computed and clipped once per k, was half of
    segment_model's time; docs/decisions.md). Zero rows keep distance 1 to all others, as in sklearn.
    Sums run in numpy (no BLAS product over rows), so the result does not depend on the thread count."""
    names, codes = np.unique(labels, return_inverse=True)
    k, n = len(names), len(z)
    if not 2 <= k <= n - 1:
        return float(silhouette_score(z, labels, metric="cosine"))  # sklearn's error message
    norms = np.sqrt(np.einsum("ij,ij->i", z, z))
    unit = z / np.where(norms > 0, norms, 1.0)[:, None]
    sizes = np.bincount(codes, minlength=k).astype(float)
    totals = np.stack([unit[codes == c].sum(axis=0) for c in range(k)])
    distance_sums = sizes[None, :] - (unit[:, None, :] * totals[None, :, :]).sum(axis=2)
    own = sizes[codes]
    rows = np.arange(n)
    # a row's distance to itself is 0 in sklearn (1 for a zero row here)
    distance_sums[rows, codes] -= 1.0 - np.einsum("ij,ij->i", unit, unit)
    with np.errstate(divide="ignore", invalid="ignore"):
        intra = distance_sums[rows, codes] / (own - 1)
        mean_to = distance_sums / sizes[None, :]
        mean_to[rows, codes] = np.inf
        inter = mean_to.min(axis=1)
        score = (inter - intra) / np.maximum(intra, inter)
    return float(np.mean(np.nan_to_num(np.where(own > 1, score, 0.0))))


def silhouette(z: np.ndarray, labels: np.ndarray, metric: str) -> float:
    """Silhouette score of ``labels`` with ``metric`` (one of SILHOUETTE_METRICS)."""
    if metric == "cosine":
        return cosine_silhouette(z, labels)
    return float(silhouette_score(z, labels, metric=metric))


def evaluate_k(z: np.ndarray, k_values: range, config: SegmentationConfig,
               n_customers: int) -> tuple[pd.DataFrame, dict[int, KMeans]]:
    """K-Means for every k on ``z``: silhouette (on a sample, with
    ``config.silhouette_metric``), Davies-Bouldin, Calinski-Harabasz, smallest
    segment size projected to all customers, and whether k respects the minimum
    segment size. Returns the table and the fitted models by k: the model of the
    chosen k is the final one, so the size check and the segments cannot disagree.

    The cosine silhouette compares the direction of customers' PCA scores (the
    scores are centred on the average customer, so the direction is which mix
    of behaviours stands out) and ignores the length, which in many noisy
    components mostly grows with noise and flattens Euclidean silhouettes
    toward few large segments (docs/decisions.md)."""
    min_size = config.min_size(n_customers)
    scale = n_customers / len(z)
    score_idx = sample_rows(len(z), config.silhouette_sample, config.random_state + 1)
    rows, models = [], {}
    for k in k_values:
        if k >= len(z):
            break
        model = KMeans(n_clusters=k, n_init=config.kmeans_n_init, random_state=config.random_state).fit(z)
        labels = model.labels_
        smallest = int(np.bincount(labels, minlength=k).min() * scale)
        models[k] = model
        rows.append(
            {
                "k": k,
                "silhouette": silhouette(z[score_idx], labels[score_idx], config.silhouette_metric),
                "davies_bouldin": float(davies_bouldin_score(z, labels)),
                "calinski_harabasz": float(calinski_harabasz_score(z, labels)),
                "smallest_segment_size": smallest,
                "meets_min_size": smallest >= min_size,
            }
        )
    return pd.DataFrame(rows), models


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


def fit_gmm(z_fit: np.ndarray, labels_fit: np.ndarray, centres: np.ndarray, random_state: int) -> GaussianMixture:
    """Gaussian mixture started from the K-Means centres (diagonal covariances),
    so mixture component j is segment j."""
    k = len(centres)
    weights = np.bincount(labels_fit, minlength=k) / len(labels_fit)
    return GaussianMixture(
        n_components=k, covariance_type="diag", means_init=centres, weights_init=np.clip(weights, 1e-6, None),
        max_iter=200, reg_covar=1e-4, random_state=random_state,
    ).fit(z_fit)


def gmm_from_params(weights, means, covariances) -> GaussianMixture:
    """A fitted diagonal GaussianMixture rebuilt from stored parameters (predict_proba only)."""
    covariances = np.asarray(covariances, dtype=float)
    gmm = GaussianMixture(n_components=len(weights), covariance_type="diag")
    gmm.weights_ = np.asarray(weights, dtype=float)
    gmm.means_ = np.asarray(means, dtype=float)
    gmm.covariances_ = covariances
    gmm.precisions_cholesky_ = 1.0 / np.sqrt(covariances)
    return gmm


@dataclass
class NicheModel:
    """Niche members of a fit (sample points in a dense core, their niche 0..n-1)
    and the radius within which another customer joins its nearest member's niche."""

    members: np.ndarray
    member_niche: np.ndarray
    radius: float

    def assign(self, z: np.ndarray) -> np.ndarray:
        """Niche per row of ``z`` (-1 = none); a member itself keeps its niche (distance 0)."""
        if len(self.members) == 0 or len(z) == 0:
            return np.full(len(z), -1, dtype=int)
        distance, nearest = NearestNeighbors(n_neighbors=1).fit(self.members).kneighbors(z)
        return np.where(distance[:, 0] <= self.radius, self.member_niche[nearest[:, 0]], -1).astype(int)


def fit_niches(z: np.ndarray, config: SegmentationConfig) -> NicheModel:
    """Dense, tight groups inside or across segments.

    HDBSCAN runs on a sample. Its clusters include ordinary density ripples,
    and a dense group inside a sparser region stays one node with its
    surroundings (they shed points one by one rather than split off). So a
    niche is the dense core of a cluster: members whose distance to their 5th
    neighbour is at most ``niche_density_ratio`` times the sample's median, kept
    when at least ``niche_min_cluster_size`` strong. Other customers take the
    niche of their nearest niche member when closer than the 90th percentile of
    neighbour distances inside niches (:meth:`NicheModel.assign`).
    """
    dims = z.shape[1]
    empty = NicheModel(np.zeros((0, dims)), np.zeros(0, dtype=int), 0.0)
    idx = sample_rows(len(z), config.niche_sample, config.random_state + 2)
    z_sample = z[idx]
    if len(z_sample) < 2 * config.niche_min_cluster_size:
        return empty
    clusters = HDBSCAN(min_cluster_size=config.niche_min_cluster_size, copy=True).fit_predict(z_sample)
    neighbour_distance = NearestNeighbors(n_neighbors=6).fit(z_sample).kneighbors(z_sample)[0][:, 5]
    overall = float(np.median(neighbour_distance))
    sample_niches = np.full(len(z_sample), -1, dtype=int)
    is_dense = neighbour_distance <= config.niche_density_ratio * overall
    for cluster in np.unique(clusters[clusters >= 0]):
        core = (clusters == cluster) & is_dense
        if core.sum() >= config.niche_min_cluster_size:
            sample_niches[core] = sample_niches.max() + 1
    in_niche = sample_niches >= 0
    if not in_niche.any():
        return empty
    members = z_sample[in_niche]
    radius = float(np.quantile(NearestNeighbors(n_neighbors=2).fit(members).kneighbors(members)[0][:, 1], 0.9))
    return NicheModel(members, sample_niches[in_niche], radius)


def discover_niches(z: np.ndarray, config: SegmentationConfig) -> np.ndarray:
    """Niche id per row of ``z`` (-1 = none): :func:`fit_niches`, then assign every row."""
    return fit_niches(z, config).assign(z)


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


def bootstrap_stability(z: np.ndarray, k: int, rounds: int, random_state: int, reference: np.ndarray) -> float:
    """Mean adjusted Rand index between the fitted model's labels of ``z``
    (``reference``) and K-Means refitted on bootstrap resamples, compared on
    every point (each refit predicts all)."""
    rng = np.random.default_rng(random_state)
    scores = []
    for round_ in range(rounds):
        resample = rng.integers(0, len(z), size=len(z))
        model = KMeans(n_clusters=k, n_init=2, random_state=random_state + round_ + 1).fit(z[resample])
        scores.append(adjusted_rand_score(reference, model.predict(z)))
    return float(np.mean(scores)) if scores else float("nan")


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


def segment_centroids(matrix: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """Mean row of ``matrix`` per label 0..k-1 (the space segment ids are matched in)."""
    sums = np.zeros((k, matrix.shape[1]))
    np.add.at(sums, labels, matrix)
    return sums / np.maximum(np.bincount(labels, minlength=k), 1)[:, None]


# ---------------------------------------------------------------------------
# The estimator
# ---------------------------------------------------------------------------


def _floats(values) -> list:
    return np.asarray(values, dtype=float).tolist()


class MicroSegmenter:
    """Micro-segmentation as a scikit-learn style estimator, fitted once per run.

    ``fit`` learns everything from one feature table: transform and scaling of
    ``columns`` (``log_columns`` through :func:`signed_log1p`), PCA, K-Means for
    every k in [k_min, k_max] on a sample of at most ``fit_sample`` rows (the
    model of the chosen k is the final one), its bootstrap stability, a Gaussian
    mixture for soft membership, niches, and stable segment ids matched to
    ``previous_centroids`` (a previous fit's :attr:`centroids_`).
    ``transform`` gives PCA scores, ``predict`` segment ids and ``assign`` the
    customer_segments columns; none of them refits. ``to_dict`` / ``from_dict``
    store the fitted state as JSON-able data (the segment_model table).

    >>> seg = MicroSegmenter(config, columns=["frequency", "monetary_eur"], log_columns=["monetary_eur"])
    >>> seg.fit(features).predict(features)  # doctest: +SKIP
    """

    def __init__(self, config: SegmentationConfig, columns: list[str], log_columns: list[str] = ()):
        self.config = config
        self.columns = list(columns)
        self.log_columns = list(log_columns)

    # -- parameters ---------------------------------------------------------

    def get_params(self, deep: bool = True) -> dict:
        """The settings: ``columns``, ``log_columns`` and every SegmentationConfig field."""
        return {"columns": list(self.columns), "log_columns": list(self.log_columns), **asdict(self.config)}

    def set_params(self, **params) -> "MicroSegmenter":
        """Change settings (same names as :meth:`get_params`); returns self, unfitted settings only."""
        for name in ("columns", "log_columns"):
            if name in params:
                setattr(self, name, list(params.pop(name)))
        if params:
            self.config = replace(self.config, **params)
        return self

    # -- fitting ------------------------------------------------------------

    def _transformed(self, X: pd.DataFrame) -> pd.DataFrame:
        return transform_features(X, self.columns, self.log_columns, getattr(self, "fill_values_", None))

    def fit(self, X: pd.DataFrame, y=None, previous_centroids: dict[int, dict[str, float]] | None = None,
            next_id: int | None = None) -> "MicroSegmenter":
        """Fit on the rows of ``X`` (a DataFrame holding ``columns``); ``y`` is ignored.

        ``previous_centroids``: ``{segment_id: {feature: centroid value}}`` of a
        previous fit (transformed, unscaled: :attr:`centroids_`); segments are
        matched to them on the features both fits share (Hungarian assignment,
        ``id_match_max_distance`` in this fit's scaled space). New segments are
        numbered from ``next_id`` (default: above every previous id). Raises
        ValueError when there are too few rows.
        """
        config = self.config
        n = len(X)
        check_size(n, config)
        self.fill_values_ = None
        transformed = self._transformed(X)
        self.fill_values_ = {c: float(v) for c, v in transformed.median().fillna(0.0).items()}
        self.scaler_ = FeatureScaler.fit(transformed, self.log_columns)
        matrix = self.scaler_.transform(transformed.to_numpy())
        pca = fit_pca(matrix, config.pca_variance_share, config.random_state)
        self.pca_mean_, self.pca_components_ = pca.mean_, pca.components_
        z = self._project(matrix)
        fit_idx = sample_rows(n, config.fit_sample, config.random_state)
        k_table, models = evaluate_k(z[fit_idx], range(config.k_min, config.k_max + 1), config, n)
        k = choose_k(k_table)
        kmeans = models[k]
        self.cluster_centers_ = kmeans.cluster_centers_
        gmm = fit_gmm(z[fit_idx], kmeans.labels_, kmeans.cluster_centers_, config.random_state)
        self.gmm_ = gmm_from_params(gmm.weights_, gmm.means_, gmm.covariances_)
        self.niches_ = fit_niches(z, config)
        stability_idx = sample_rows(n, min(config.fit_sample, 20_000), config.random_state + 3)
        stability = bootstrap_stability(z[stability_idx], k, config.bootstrap_rounds, config.random_state,
                                        nearest_centre(z[stability_idx], self.cluster_centers_))
        labels = nearest_centre(z, self.cluster_centers_)
        centroids = segment_centroids(transformed.to_numpy(), labels, k)
        self.segment_ids_ = self._match(centroids, previous_centroids or {}, next_id)
        self.centroids_ = {int(i): dict(zip(self.columns, map(float, row)))
                           for i, row in zip(self.segment_ids_, centroids)}
        self.segment_sizes_ = {int(i): int(s) for i, s in zip(self.segment_ids_, np.bincount(labels, minlength=k))}
        self.k_table_ = k_table.assign(is_chosen=k_table["k"] == k)
        self.quality_ = {
            "chosen_k": int(k),
            "stability_ari": stability,
            "pca_components": int(len(self.pca_components_)),
            "pca_variance_explained": float(pca.explained_variance_ratio_.sum()),
            "min_segment_size": int(config.min_size(n)),
            "customer_count": int(n),
            "feature_count": len(self.columns),
        }
        return self

    def _match(self, centroids: np.ndarray, previous: dict[int, dict[str, float]], next_id: int | None) -> np.ndarray:
        """Ids for this fit's centroids (unscaled rows): previous centroids on the
        shared features, both scaled with this fit's scaler, matched by
        :func:`match_segment_ids`. A feature added to or dropped from the recipe is
        left out of the match rather than breaking it."""
        shared = [i for i, c in enumerate(self.columns) if previous and all(c in p for p in previous.values())]
        if not shared:
            return match_segment_ids({}, centroids, self.config.id_match_max_distance,
                                     next_id if next_id is not None else
                                     (max(previous) + 1 if previous else None))
        centre, scale = self.scaler_.center[shared], self.scaler_.scale[shared]
        names = [self.columns[i] for i in shared]
        prev = {int(i): (np.array([p[c] for c in names]) - centre) / scale for i, p in previous.items()}
        current = (centroids[:, shared] - centre) / scale
        return match_segment_ids(prev, current, self.config.id_match_max_distance, next_id)

    # -- applying -----------------------------------------------------------

    def _project(self, matrix: np.ndarray) -> np.ndarray:
        return (matrix - self.pca_mean_) @ self.pca_components_.T

    def transform(self, X: pd.DataFrame) -> np.ndarray:
        """PCA scores of the rows of ``X`` under the fitted scaling and PCA."""
        return self._project(self.scaler_.transform(self._transformed(X).to_numpy()))

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """Stable segment id of each row (nearest fitted K-Means centre)."""
        return self.segment_ids_[nearest_centre(self.transform(X), self.cluster_centers_)]

    def assign(self, X: pd.DataFrame) -> pd.DataFrame:
        """The per-customer outputs: segment_id, membership_probability (mixture
        probability of the own segment), is_core_member, niche_id (1.., null
        outside niches), pc1, pc2; rows in the order of ``X``."""
        z = self.transform(X)
        labels = nearest_centre(z, self.cluster_centers_)
        probability = np.clip(self.gmm_.predict_proba(z)[np.arange(len(z)), labels], 0.0, 1.0)
        niches = self.niches_.assign(z)
        return pd.DataFrame(
            {
                "segment_id": self.segment_ids_[labels].astype("int64"),
                "membership_probability": probability,
                "is_core_member": probability >= self.config.core_membership_threshold,
                "niche_id": pd.array(np.where(niches >= 0, niches + 1, 0), dtype="Int64"),
                "pc1": z[:, 0],
                "pc2": z[:, 1],
            }
        ).assign(niche_id=lambda f: f["niche_id"].where(f["niche_id"] > 0))

    # -- storage ------------------------------------------------------------

    def to_dict(self) -> dict:
        """The fitted state as JSON-able data (floats kept exactly by json)."""
        return {
            "params": self.get_params(),
            "fill_values": self.fill_values_,
            "scaler": {"center": _floats(self.scaler_.center), "scale": _floats(self.scaler_.scale)},
            "pca": {"mean": _floats(self.pca_mean_), "components": _floats(self.pca_components_)},
            "cluster_centers": _floats(self.cluster_centers_),
            "segment_ids": [int(i) for i in self.segment_ids_],
            "gmm": {"weights": _floats(self.gmm_.weights_), "means": _floats(self.gmm_.means_),
                    "covariances": _floats(self.gmm_.covariances_)},
            "niches": {"members": _floats(self.niches_.members), "member_niche": [int(i) for i in
                       self.niches_.member_niche], "radius": float(self.niches_.radius)},
            "centroids": {str(i): c for i, c in self.centroids_.items()},
            "segment_sizes": {str(i): s for i, s in self.segment_sizes_.items()},
            "k_table": self.k_table_.to_dict(orient="list"),
            "quality": self.quality_,
        }

    @classmethod
    def from_dict(cls, state: dict) -> "MicroSegmenter":
        """A fitted MicroSegmenter from :meth:`to_dict` output."""
        params = dict(state["params"])
        columns, log_columns = params.pop("columns"), params.pop("log_columns")
        model = cls(SegmentationConfig(**params), columns, log_columns)
        model.fill_values_ = state["fill_values"]
        model.scaler_ = FeatureScaler(columns, np.array(state["scaler"]["center"]), np.array(state["scaler"]["scale"]))
        model.pca_mean_ = np.array(state["pca"]["mean"])
        model.pca_components_ = np.array(state["pca"]["components"])
        model.cluster_centers_ = np.array(state["cluster_centers"])
        model.segment_ids_ = np.array(state["segment_ids"], dtype=int)
        model.gmm_ = gmm_from_params(**state["gmm"])
        dims = len(model.pca_components_)
        model.niches_ = NicheModel(np.array(state["niches"]["members"], dtype=float).reshape(-1, dims),
                                   np.array(state["niches"]["member_niche"], dtype=int), state["niches"]["radius"])
        model.centroids_ = {int(i): c for i, c in state["centroids"].items()}
        model.segment_sizes_ = {int(i): s for i, s in state["segment_sizes"].items()}
        model.k_table_ = pd.DataFrame(state["k_table"])
        model.quality_ = state["quality"]
        return model
