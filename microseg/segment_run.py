"""The segmentation as the dbt Python models run it: dbt vars to a config, the
feature recipe from seed segment_features, and one function per model
(segment_quality, customer_segments, segment_centroid_history,
segment_profiles). Each takes DataFrames and returns the model's DataFrame.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from microseg import segmentation as seg
from microseg.segment_profiles import name_segments, profile_segments

#: dbt var -> SegmentationConfig field
VARS = {
    "microseg__segment_k_min": "k_min",
    "microseg__segment_k_max": "k_max",
    "microseg__segment_min_share": "min_segment_share",
    "microseg__segment_min_size": "min_segment_size",
    "microseg__segment_pca_variance_share": "pca_variance_share",
    "microseg__segment_core_threshold": "core_membership_threshold",
    "microseg__segment_random_state": "random_state",
    "microseg__segment_fit_sample": "fit_sample",
    "microseg__segment_silhouette_sample": "silhouette_sample",
    "microseg__segment_silhouette_metric": "silhouette_metric",
    "microseg__segment_bootstrap_rounds": "bootstrap_rounds",
    "microseg__segment_id_max_distance": "id_match_max_distance",
}


def config_from_vars(settings: dict) -> seg.SegmentationConfig:
    """SegmentationConfig from dbt var values keyed by var name (they arrive as
    text through model config); a missing or null var keeps the library default."""
    defaults = seg.SegmentationConfig()
    values = {}
    for var, field_name in VARS.items():
        value = settings.get(var)
        if value not in (None, "", "None"):
            kind = type(getattr(defaults, field_name))
            values[field_name] = str(value).strip().lower() if kind is str else kind(float(value))
    config = seg.SegmentationConfig(**values)
    if config.k_min < 2 or config.k_max < config.k_min:
        raise ValueError(f"need 2 <= microseg__segment_k_min <= microseg__segment_k_max, got {config.k_min}, {config.k_max}")
    return config


def recipe(spec: pd.DataFrame) -> tuple[list[str], list[str]]:
    """(feature columns, log-transformed columns) from seed segment_features."""
    columns = [str(c) for c in spec["feature"]]
    return columns, [str(c) for c, t in zip(spec["feature"], spec["transform"]) if t == "log1p"]


def _ordered(features: pd.DataFrame) -> pd.DataFrame:
    """Rows by customer_key: a table's row order is not fixed across builds,
    and the samples (fit, silhouette, niches) must draw the same customers for
    the same data and seed."""
    return features.sort_values("customer_key", kind="stable").reset_index(drop=True)


def _as_of(features: pd.DataFrame):
    dates = features["as_of_date"].dropna().unique()
    if len(dates) != 1:
        raise ValueError(f"mart_customer_features must hold one as_of_date, found {len(dates)}")
    return pd.Timestamp(dates[0]).date()


def quality_table(features: pd.DataFrame, spec: pd.DataFrame, config: seg.SegmentationConfig) -> pd.DataFrame:
    """segment_quality: one row per k tried, with the run's figures repeated."""
    columns, log_columns = recipe(spec)
    features = _ordered(features)
    matrix = seg.prepare_matrix(features, columns, log_columns)
    s = seg.select_model(matrix, config)
    return s.k_table.assign(
        as_of_date=_as_of(features),
        customer_count=len(features),
        min_segment_size=s.min_size,
        stability_ari=np.where(s.k_table["is_chosen"], s.stability_ari, np.nan),
        pca_components=s.pca_components,
        pca_variance_explained=s.pca_variance_explained,
        feature_count=len(columns),
    )[["as_of_date", "k", "is_chosen", "silhouette", "davies_bouldin", "calinski_harabasz", "smallest_segment_size",
       "meets_min_size", "min_segment_size", "stability_ari", "customer_count", "feature_count", "pca_components",
       "pca_variance_explained"]]


def previous_centroids(history: pd.DataFrame | None,
                       scaler: seg.FeatureScaler) -> tuple[dict[int, np.ndarray], np.ndarray, int]:
    """The latest recorded run's centroids from segment_centroid_history, on the
    features this run shares with it, scaled with this run's scaler; the
    positions of those features in this run's matrix; and the next unused id
    (1 without history). A feature added to or dropped from the recipe is left
    out of the match rather than breaking it."""
    if history is None or history.empty:
        return {}, np.arange(len(scaler.columns)), 1
    next_id = int(history["segment_id"].max()) + 1
    latest = history[history["run_started_at"] == history["run_started_at"].max()]
    wide = latest.pivot(index="segment_id", columns="feature", values="centroid_value")
    shared = np.array([i for i, c in enumerate(scaler.columns) if c in wide.columns], dtype=int)
    if len(shared) == 0:
        return {}, shared, next_id
    names = [scaler.columns[i] for i in shared]
    scaled = (wide[names].to_numpy(dtype=float) - scaler.center[shared]) / scaler.scale[shared]
    return {int(i): row for i, row in zip(wide.index, scaled)}, shared, next_id


def segments_table(features: pd.DataFrame, spec: pd.DataFrame, playbook: pd.DataFrame, quality: pd.DataFrame,
                   history: pd.DataFrame | None, config: seg.SegmentationConfig) -> pd.DataFrame:
    """customer_segments: fit with the k segment_quality chose, match ids to the
    previous run, name the segments from their profile."""
    columns, log_columns = recipe(spec)
    chosen = quality.loc[quality["is_chosen"].astype(bool), "k"]
    if len(chosen) != 1:
        raise ValueError("segment_quality must mark exactly one k as chosen")
    features = _ordered(features)
    transformed = seg.transform_features(features, columns, log_columns)
    scaler = seg.FeatureScaler.fit(transformed, log_columns)
    matrix = scaler.transform(transformed.to_numpy())
    previous, shared, next_id = previous_centroids(history, scaler)
    result = seg.segment_customers(matrix, config, previous, k=int(chosen.iloc[0]), next_id=next_id,
                                   match_columns=shared)
    names = name_segments(profile_segments(features[columns], transformed, result.segment_ids), playbook)
    out = pd.DataFrame(
        {
            "customer_key": features["customer_key"].to_numpy(),
            "segment_id": result.segment_ids.astype("int64"),
            "membership_probability": result.membership_probability,
            "is_core_member": result.membership_probability >= config.core_membership_threshold,
            "niche_id": np.where(result.niche_ids >= 0, result.niche_ids + 1, 0).astype("int64"),
            "pc1": result.pcs[:, 0],
            "pc2": result.pcs[:, 1],
            "as_of_date": _as_of(features),
        }
    )
    out = out.merge(names[["segment_id", "segment_name"]], on="segment_id", how="left")
    out["niche_id"] = out["niche_id"].where(out["niche_id"] > 0).astype("Int64")
    return out[["customer_key", "segment_id", "segment_name", "membership_probability", "is_core_member",
                "niche_id", "pc1", "pc2", "as_of_date"]]


def centroid_history_rows(features: pd.DataFrame, segments: pd.DataFrame, spec: pd.DataFrame,
                          run_started_at) -> pd.DataFrame:
    """segment_centroid_history rows of this run: per segment and clustering
    feature the mean of the transformed, unscaled feature (log money, raw
    shares). Unscaled so the next run can scale them with its own scaler."""
    columns, log_columns = recipe(spec)
    merged = features.merge(segments[["customer_key", "segment_id"]], on="customer_key", how="inner")
    transformed = seg.transform_features(merged, columns, log_columns)
    means = transformed.groupby(merged["segment_id"].to_numpy()).mean()
    sizes = merged.groupby("segment_id").size()
    long = means.rename_axis("segment_id").reset_index().melt(
        id_vars="segment_id", var_name="feature", value_name="centroid_value"
    )
    return long.assign(
        customer_count=long["segment_id"].map(sizes).astype("int64"),
        as_of_date=_as_of(features),
        run_started_at=pd.Timestamp(run_started_at).tz_localize(None) if pd.Timestamp(run_started_at).tzinfo
        else pd.Timestamp(run_started_at),
    )[["run_started_at", "as_of_date", "segment_id", "feature", "centroid_value", "customer_count"]]


def profiles_table(features: pd.DataFrame, segments: pd.DataFrame, spec: pd.DataFrame,
                   playbook: pd.DataFrame) -> pd.DataFrame:
    """segment_profiles: one row per segment x clustering feature, with the
    segment's name, top features, action and channel repeated on each row."""
    columns, log_columns = recipe(spec)
    merged = features.merge(segments[["customer_key", "segment_id", "segment_name"]], on="customer_key", how="inner")
    transformed = seg.transform_features(merged, columns, log_columns)
    profile = profile_segments(merged[columns], transformed, merged["segment_id"].to_numpy())
    names = name_segments(profile, playbook).drop(columns="segment_name")
    stored = merged.groupby("segment_id")["segment_name"].first().rename("segment_name").reset_index()
    out = profile.merge(stored, on="segment_id").merge(names, on="segment_id")
    out["as_of_date"] = _as_of(features)
    return out[["segment_id", "segment_name", "customer_count", "customer_share", "feature", "mean_value",
                "median_value", "base_mean", "base_median", "lift", "effect_size", "distinction_rank",
                "top_features", "traits", "recommended_action", "recommended_channel", "as_of_date"]]
