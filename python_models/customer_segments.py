"""Micro-segments: one row per active customer (mart_customer_features) with
its segment, Gaussian-mixture membership probability, niche (HDBSCAN) and PCA
coordinates. k comes from segment_quality. Segment ids stay stable across runs:
the latest centroids in segment_centroid_history (read here if the table exists,
not ref'd: it is written after this model) are matched to this run's
(microseg.segment_run, docs/decisions.md)."""

from microseg.segment_run import config_from_vars, segments_table

HISTORY = "segment_centroid_history"


def previous_history(dbt, session):
    """This schema's segment_centroid_history, or None on a fresh database."""
    found = session.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
        [dbt.this.schema, HISTORY],
    ).fetchone()[0]
    if not found:
        return None
    return session.execute(f'select * from "{dbt.this.schema}"."{HISTORY}"').df()


def model(dbt, session):
    dbt.config(materialized="table", schema="marts")
    # dbt vars reach a Python model through config keys set in _segments__models.yml;
    # dbt parses dbt.config.get() statically, so each key is spelled out (no loop)
    settings = {
        "microseg__segment_k_min": dbt.config.get("microseg__segment_k_min"),
        "microseg__segment_k_max": dbt.config.get("microseg__segment_k_max"),
        "microseg__segment_min_share": dbt.config.get("microseg__segment_min_share"),
        "microseg__segment_min_size": dbt.config.get("microseg__segment_min_size"),
        "microseg__segment_pca_variance_share": dbt.config.get("microseg__segment_pca_variance_share"),
        "microseg__segment_core_threshold": dbt.config.get("microseg__segment_core_threshold"),
        "microseg__segment_random_state": dbt.config.get("microseg__segment_random_state"),
        "microseg__segment_fit_sample": dbt.config.get("microseg__segment_fit_sample"),
        "microseg__segment_silhouette_sample": dbt.config.get("microseg__segment_silhouette_sample"),
        "microseg__segment_silhouette_metric": dbt.config.get("microseg__segment_silhouette_metric"),
        "microseg__segment_bootstrap_rounds": dbt.config.get("microseg__segment_bootstrap_rounds"),
        "microseg__segment_id_max_distance": dbt.config.get("microseg__segment_id_max_distance"),
    }
    return segments_table(
        features=dbt.ref("mart_customer_features").df(),
        spec=dbt.ref("segment_features").df(),
        playbook=dbt.ref("segment_playbook").df(),
        quality=dbt.ref("segment_quality").df(),
        history=previous_history(dbt, session),
        config=config_from_vars(settings),
    )
