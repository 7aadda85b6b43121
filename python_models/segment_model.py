"""The micro-segmentation fit, once per build (incremental, append-only): a
MicroSegmenter (scaling, PCA, K-Means for every k tried, the chosen k's model,
Gaussian mixture, niches) fitted on mart_customer_features and stored as JSON
with the k table and quality figures. Segment ids are matched to this table's
own latest previous fit (Hungarian matching on centroids), so no other table is
read. customer_segments, segment_quality and segment_centroid_history read it.
History survives --full-refresh unless microseg__allow_history_refresh."""

from datetime import datetime, timezone

from microseg.segment_run import config_from_dbt, fit_row, threads_from_dbt


def model(dbt, session):
    dbt.config(materialized="incremental", incremental_strategy="append", schema="ml")
    settings = dbt.config.get("segmentation")
    config = config_from_dbt(settings)
    previous = session.sql(f"select fit_id, fitted_at, max_segment_id, centroids from {dbt.this}").df() \
        if dbt.is_incremental else None
    return fit_row(
        features=dbt.ref("mart_customer_features").df(),
        spec=dbt.ref("segment_features").df(),
        previous_rows=previous,
        config=config,
        fitted_at=datetime.now(timezone.utc).replace(tzinfo=None),
        threads=threads_from_dbt(settings),
    )
