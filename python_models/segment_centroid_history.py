"""Centroids of every segmentation run (incremental, append-only): per segment
and clustering feature the mean of the transformed, unscaled feature, with the
run time and as_of_date. customer_segments reads the latest run's rows to keep
segment ids stable."""

from datetime import datetime, timezone

from microseg.segment_run import centroid_history_rows


def model(dbt, session):
    dbt.config(materialized="incremental", incremental_strategy="append", schema="marts")
    return centroid_history_rows(
        features=dbt.ref("mart_customer_features").df(),
        segments=dbt.ref("customer_segments").df(),
        spec=dbt.ref("segment_features").df(),
        run_started_at=datetime.now(timezone.utc).replace(tzinfo=None),
    )
