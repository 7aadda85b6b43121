"""Re-segmentation alerts (microseg.drift.alerts_table): one row per reason a
run calls for a look at the segments, against the run before it: feature
drift, segment-mix drift, a segment's size moving beyond
microseg__drift_segment_size_change, bootstrap stability falling below
microseg__segment_stability_floor, a new dense niche. Empty when nothing moved."""

from microseg.drift import alerts_table, config_from_dbt
from microseg.frames import read_frame


def model(dbt, session):
    dbt.config(materialized="table", schema="ml")
    config = config_from_dbt(dbt.config.get("drift"))
    runs = dbt.ref("segment_model").project(
        "fit_id, fitted_at, as_of_date, "
        "cast(json_extract(model_state, '$.quality.stability_ari') as double) as stability_ari")
    recorded = dbt.ref("segment_membership_history").project("fit_id").distinct()
    niche_members = dbt.ref("segment_membership_history").filter("niche_id is not null").project(
        "fit_id, customer_key, niche_id")
    return alerts_table(
        drift=read_frame(dbt.ref("segment_drift"), session),
        runs=read_frame(runs.join(recorded, "fit_id"), session),
        niche_members=read_frame(niche_members, session),
        config=config,
    )
