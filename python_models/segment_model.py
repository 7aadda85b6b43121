"""The micro-segmentation of this run (incremental, append-only, one row per run): a MicroSegmenter (scaling,
PCA, K-Means for every k tried, the chosen k's model, Gaussian mixture, niches) fitted on
mart_customer_features, or in microseg__segment_model_mode reuse_latest / auto the latest stored fit reused
(microseg.model_reuse: decision, reasons and figures on the row). Segment ids are matched to this table's own
latest previous fit (Hungarian matching on centroids). customer_segments, segment_quality and
segment_centroid_history read it. History survives --full-refresh unless microseg__allow_history_refresh."""

from datetime import datetime, timezone

from microseg.frames import read_frame
from microseg.model_reuse import reference_reader, segment_policy_from_dbt
from microseg.segment_run import config_from_dbt, read_features, run_row, threads_from_dbt


def model(dbt, session):
    dbt.config(materialized="incremental", incremental_strategy="append", schema="ml")
    settings = dbt.config.get("segmentation")
    previous = read_frame(session.sql(f"select * from {dbt.this} order by fitted_at desc, fit_id desc limit 1"),
                          session) if dbt.is_incremental else None
    spec = read_frame(dbt.ref("segment_features"), session)
    return run_row(
        features=read_features(dbt.ref("mart_customer_features"), spec, session),
        spec=spec,
        previous_rows=previous,
        config=config_from_dbt(settings),
        policy=segment_policy_from_dbt(settings),
        reference_distribution=reference_reader(session, dbt.this),
        fitted_at=datetime.now(timezone.utc).replace(tzinfo=None),
        threads=threads_from_dbt(settings),
    )
