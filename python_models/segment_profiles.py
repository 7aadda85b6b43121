"""Segment profiles: per segment and clustering feature the size, share, mean
and median, the whole base's mean and median, lift and effect size, and the
segment's name, top distinguishing features, traits and recommended action and
channel (seed segment_playbook; microseg.segment_profiles)."""

from microseg.frames import read_frame
from microseg.segment_run import profiles_table, read_features


def model(dbt, session):
    dbt.config(materialized="table", schema="ml")
    spec = read_frame(dbt.ref("segment_features"), session)
    return profiles_table(
        features=read_features(dbt.ref("mart_customer_features"), spec, session),
        segments=read_frame(dbt.ref("customer_segments"), session),
        spec=spec,
        playbook=read_frame(dbt.ref("segment_playbook"), session),
    )
