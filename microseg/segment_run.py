"""The segmentation as the dbt Python models run it: the `segmentation` config
dict to a SegmentationConfig, the feature recipe from seed segment_features,
and one function per model. One fit per build:

- segment_model (incremental, append-only, one row per run): :func:`run_row`
  decides (microseg.model_reuse, var microseg__segment_model_mode) whether
  :func:`fit_row` fits a :class:`~microseg.segmentation.MicroSegmenter` and
  stores its state as JSON, ids matched to the model's own previous row, or
  the latest stored fit is stored again as this run's;
- customer_segments: :func:`segments_table` applies the latest stored fit
  (transform and predict, no refit);
- segment_quality and segment_centroid_history: :func:`quality_table` and
  :func:`centroid_history_table` read the stored fits;
- segment_profiles: :func:`profiles_table`.

Each takes DataFrames and returns the model's DataFrame.
"""

from __future__ import annotations

import fnmatch
import json
from dataclasses import fields
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from microseg import model_reuse
from microseg import segmentation as seg
from microseg.frames import read_frame
from microseg.segment_profiles import name_segments, profile_segments
from microseg.threads import model_threads, native_threads

#: dbt var -> SegmentationConfig field (= key of the `segmentation` config dict)
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
FIELD_TYPES = {f.name: f.type for f in fields(seg.SegmentationConfig)}

#: columns of segment_model, one row per run: the fit in use (refitted or reused) and why
MODEL_COLUMNS = ["fit_id", "fitted_at", "as_of_date", "chosen_k", "customer_count", "max_segment_id", "centroids",
                 "segment_sizes", "model_state", "decision", "reasons", "model_fit_id", "model_as_of_date",
                 "model_age_days", "max_feature_psi", "current_silhouette"]


def config_from_dbt(settings: dict | None) -> seg.SegmentationConfig:
    """SegmentationConfig from the models' `segmentation` config dict (keys are
    the field names of VARS; values rendered from vars arrive as text). A
    missing key is an error naming its var: there is no Python default."""
    if not settings:
        raise ValueError("The segmentation Python models need their `segmentation` config "
                         "(python_models/_segments__models.yml).")
    values = {}
    for var, name in VARS.items():
        value = settings.get(name)
        if value in (None, "", "None"):
            raise ValueError(f"segmentation config key {name!r} (var {var}) is missing or null")
        kind = FIELD_TYPES[name]
        values[name] = (str(value).strip().lower() if kind == "str"
                        else int(float(value)) if kind == "int" else float(value))
    return seg.SegmentationConfig(**values)


def threads_from_dbt(settings: dict | None) -> int:
    """BLAS / OpenMP threads of the fit: cores // dbt threads (key ``dbt_threads`` of the `segmentation`
    dict, ``{{ target.threads }}``; 1 dbt thread when absent), as LightGBM's (microseg.threads)."""
    return model_threads((settings or {}).get("dbt_threads") or 1)


def config_from_project(path: str | Path = "dbt_project.yml", **overrides) -> seg.SegmentationConfig:
    """SegmentationConfig from the vars of a dbt_project.yml (outside dbt: notebooks, tests), with overrides."""
    project_vars = yaml.safe_load(Path(path).read_text())["vars"]
    settings = {name: project_vars[var] for var, name in VARS.items()}
    config = config_from_dbt(settings)
    return seg.replace(config, **overrides) if overrides else config


def recipe(spec: pd.DataFrame, available: list[str] | None = None) -> tuple[list[str], list[str]]:
    """(feature columns, log-transformed columns) from seed segment_features.

    A feature with a ``*`` is a pattern (``category_affinity_*``: one column per
    canonical category, which is data) expanded against ``available`` (the
    features' columns, in their order); a row with transform ``drop`` removes
    the columns it names or matches (``category_affinity_other``: the
    remainder share, collinear with the others). A pattern matching nothing
    is an error naming the seed row."""
    columns, log_columns = [], set()
    for feature, transform in zip(spec["feature"], spec["transform"]):
        feature, transform = str(feature).strip(), str(transform).strip()
        if "*" in feature:
            if available is None:
                raise ValueError(f"seed segment_features: pattern {feature!r} needs the features' columns")
            matched = [c for c in available if fnmatch.fnmatchcase(str(c), feature)]
            if not matched:
                raise ValueError(f"seed segment_features: pattern {feature!r} matches no column of the features")
        else:
            matched = [feature]
        if transform == "drop":
            columns = [c for c in columns if c not in matched]
            continue
        columns += [c for c in matched if c not in columns]
        if transform == "log1p":
            log_columns.update(matched)
    return columns, [c for c in columns if c in log_columns]


def input_columns(spec: pd.DataFrame, available: list[str]) -> list[str]:
    """The columns of mart_customer_features that the segmentation models read: customer_key, as_of_date and
    the clustering features of seed segment_features (:func:`recipe`), in the table's order."""
    columns, _ = recipe(spec, list(available))
    keep = {"customer_key", "as_of_date", *columns}
    return [c for c in available if c in keep]


def read_features(relation, spec: pd.DataFrame, connection) -> pd.DataFrame:
    """mart_customer_features (a DuckDB relation) with only :func:`input_columns`: the mart holds every
    feature a marketer reads (81 columns at 1,000,000 persons, a 0.6 GB frame), the models a third of them."""
    quoted = ", ".join('"' + c.replace('"', '""') + '"' for c in input_columns(spec, relation.columns))
    return read_frame(relation.project(quoted), connection)


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


def _naive(ts) -> pd.Timestamp:
    ts = pd.Timestamp(ts)
    return ts.tz_convert(None) if ts.tzinfo else ts


def previous_fit(model_rows: pd.DataFrame | None) -> tuple[dict[int, dict[str, float]], int]:
    """The latest previous fit's centroids ({segment_id: {feature: value}}) and the
    next unused segment id (1 without history; an id is never reused)."""
    if model_rows is None or model_rows.empty:
        return {}, 1
    latest = model_rows.sort_values(["fitted_at", "fit_id"]).iloc[-1]
    centroids = json.loads(latest["centroids"])
    return {int(i): c for i, c in centroids.items()}, int(model_rows["max_segment_id"].max()) + 1


def fit_row(features: pd.DataFrame, spec: pd.DataFrame, previous_rows: pd.DataFrame | None,
            config: seg.SegmentationConfig, fitted_at, threads: int | None = None) -> pd.DataFrame:
    """segment_model: one row holding this build's fit (MicroSegmenter state as JSON),
    segment ids matched to the latest of ``previous_rows`` (the model's own table).
    ``threads``: BLAS / OpenMP threads of the fit (:func:`threads_from_dbt`; None leaves them as they are)."""
    columns, log_columns = recipe(spec, list(features.columns))
    features = _ordered(features)
    previous, next_id = previous_fit(previous_rows)
    with native_threads(threads):
        model = seg.MicroSegmenter(config, columns, log_columns).fit(features, previous_centroids=previous,
                                                                      next_id=next_id)
    fitted_at = _naive(fitted_at)
    max_id = max([int(model.segment_ids_.max()), next_id - 1])
    return pd.DataFrame(
        {
            "fit_id": [f"seg-{fitted_at:%Y%m%dT%H%M%S%f}"],
            "fitted_at": [fitted_at],
            "as_of_date": [_as_of(features)],
            "chosen_k": [int(model.quality_["chosen_k"])],
            "customer_count": [len(features)],
            "max_segment_id": [max_id],
            "centroids": [json.dumps({str(i): c for i, c in model.centroids_.items()})],
            "segment_sizes": [json.dumps({str(i): s for i, s in model.segment_sizes_.items()})],
            "model_state": [json.dumps(model.to_dict())],
        }
    )


def run_row(features: pd.DataFrame, spec: pd.DataFrame, previous_rows: pd.DataFrame | None,
            config: seg.SegmentationConfig, policy, reference_distribution, fitted_at,
            threads: int | None = None) -> pd.DataFrame:
    """segment_model's row of this run: a new fit (:func:`fit_row` on ``threads`` native threads) or the latest
    stored fit reused (microseg.model_reuse.decide_segments), with the decision, its reasons and figures.

    ``previous_rows``: the model's own table (the latest row suffices); ``reference_distribution``:
    fit_id -> that run's segment_feature_distributions rows of basis own, or None when not stored
    (called only in mode auto)."""
    columns, _ = recipe(spec, list(features.columns))
    features = _ordered(features)
    stored = None if previous_rows is None or previous_rows.empty else \
        previous_rows.sort_values(["fitted_at", "fit_id"]).iloc[-1]
    psi_by_feature, silhouette_now = None, float("nan")
    if policy.mode == "auto" and stored is not None:
        reference = reference_distribution(model_reuse.stored_model_fit_id(stored))
        psi_by_feature = None if reference is None or reference.empty else model_reuse.feature_psi(features, reference)
        stored_model = seg.MicroSegmenter.from_dict(json.loads(stored["model_state"]))
        if stored_model.columns == columns:
            silhouette_now = model_reuse.current_silhouette(stored_model, features)
    decision = model_reuse.decide_segments(stored, columns, _as_of(features), policy, psi_by_feature,
                                           silhouette_now)
    fitted_at = _naive(fitted_at)
    if decision["decision"] == "refit":
        row = fit_row(features, spec, previous_rows, config, fitted_at, threads=threads)
        row["model_fit_id"], row["model_as_of_date"] = row["fit_id"], row["as_of_date"]
    else:
        row = pd.DataFrame([stored[["chosen_k", "max_segment_id", "centroids", "segment_sizes", "model_state"]]])
        row.insert(0, "fit_id", f"seg-{fitted_at:%Y%m%dT%H%M%S%f}")
        row.insert(1, "fitted_at", fitted_at)
        row.insert(2, "as_of_date", _as_of(features))
        row["customer_count"] = len(features)
        row["model_fit_id"], row["model_as_of_date"] = decision["model_fit_id"], decision["model_as_of_date"]
    row["decision"], row["reasons"] = decision["decision"], ",".join(decision["reasons"])
    row["model_age_days"] = pd.array([decision["model_age_days"]], dtype="Int64")
    row["max_feature_psi"] = float(decision["max_feature_psi"])
    row["current_silhouette"] = float(decision["current_silhouette"])
    return row.astype({"chosen_k": "int64", "max_segment_id": "int64", "customer_count": "int64"})[MODEL_COLUMNS]


def latest_model(model_rows: pd.DataFrame) -> tuple[pd.Series, seg.MicroSegmenter]:
    """The latest segment_model row and its fitted MicroSegmenter (``model_rows``
    may hold only the latest row: the dbt models read no more)."""
    if model_rows.empty:
        raise ValueError("segment_model holds no fit: build segment_model first")
    row = model_rows.sort_values(["fitted_at", "fit_id"]).iloc[-1]
    return row, seg.MicroSegmenter.from_dict(json.loads(row["model_state"]))


def quality_table(model_rows: pd.DataFrame) -> pd.DataFrame:
    """segment_quality: one row per k tried by the latest fit, with its figures repeated."""
    row, model = latest_model(model_rows)
    q = model.quality_
    k_table = model.k_table_
    return k_table.assign(
        as_of_date=pd.Timestamp(row["as_of_date"]).date(),
        customer_count=q["customer_count"],
        min_segment_size=q["min_segment_size"],
        stability_ari=np.where(k_table["is_chosen"], q["stability_ari"], np.nan),
        pca_components=q["pca_components"],
        pca_variance_explained=q["pca_variance_explained"],
        feature_count=q["feature_count"],
    )[["as_of_date", "k", "is_chosen", "silhouette", "davies_bouldin", "calinski_harabasz", "smallest_segment_size",
       "meets_min_size", "min_segment_size", "stability_ari", "customer_count", "feature_count", "pca_components",
       "pca_variance_explained"]]


def centroid_history_table(model_rows: pd.DataFrame) -> pd.DataFrame:
    """segment_centroid_history: per stored fit, segment and clustering feature
    the segment mean of the transformed, unscaled feature and the segment size."""
    rows = []
    for fit in model_rows.itertuples(index=False):
        sizes = json.loads(fit.segment_sizes)
        for segment_id, centroid in json.loads(fit.centroids).items():
            for feature, value in centroid.items():
                rows.append((_naive(fit.fitted_at), pd.Timestamp(fit.as_of_date).date(), int(segment_id), feature,
                             float(value), int(sizes[segment_id])))
    out = pd.DataFrame(rows, columns=["run_started_at", "as_of_date", "segment_id", "feature", "centroid_value",
                                      "customer_count"])
    return out.astype({"segment_id": "int64", "customer_count": "int64"})


def segments_table(features: pd.DataFrame, spec: pd.DataFrame, playbook: pd.DataFrame,
                   model_rows: pd.DataFrame) -> pd.DataFrame:
    """customer_segments: the latest stored fit applied to every active customer
    (no refit), segments named from their profile."""
    columns, log_columns = recipe(spec, list(features.columns))
    _, model = latest_model(model_rows)
    if model.columns != columns:
        raise ValueError("seed segment_features changed since segment_model was fitted: build segment_model first")
    features = _ordered(features)
    out = model.assign(features)
    transformed = seg.transform_features(features, columns, log_columns)
    names = name_segments(profile_segments(features[columns], transformed, out["segment_id"].to_numpy()), playbook)
    out.insert(0, "customer_key", features["customer_key"].to_numpy())
    out["as_of_date"] = _as_of(features)
    out = out.merge(names[["segment_id", "segment_name"]], on="segment_id", how="left")
    return out[["customer_key", "segment_id", "segment_name", "membership_probability", "is_core_member",
                "niche_id", "pc1", "pc2", "as_of_date"]]


def profiles_table(features: pd.DataFrame, segments: pd.DataFrame, spec: pd.DataFrame,
                   playbook: pd.DataFrame) -> pd.DataFrame:
    """segment_profiles: one row per segment x clustering feature, with the
    segment's name, top features, action and channel repeated on each row."""
    columns, log_columns = recipe(spec, list(features.columns))
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
