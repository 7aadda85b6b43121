"""Micro-segments: one row per active customer (mart_customer_features) with
its segment, Gaussian-mixture membership probability, niche and PCA
coordinates, from the latest fit in segment_model applied as stored (transform
and predict, no refit); segment names from the profile and seed segment_playbook."""

from microseg.frames import read_frame
from microseg.segment_run import read_features, segments_table


def model(dbt, session):
    dbt.config(materialized="table", schema="ml")
    spec = read_frame(dbt.ref("segment_features"), session)
    return segments_table(
        features=read_features(dbt.ref("mart_customer_features"), spec, session),
        spec=spec,
        playbook=read_frame(dbt.ref("segment_playbook"), session),
        model_rows=read_frame(dbt.ref("segment_model").order("fitted_at desc, fit_id desc").limit(1), session),
    )
