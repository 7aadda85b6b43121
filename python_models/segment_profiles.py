"""Segment profiles: per segment and clustering feature the size, share, mean
and median, the whole base's mean and median, lift and effect size, and the
segment's name, top distinguishing features, traits and recommended action and
channel (seed segment_playbook; microseg.segment_profiles)."""

from microseg.frames import read_frame
from microseg.segment_run import profiles_table


def model(dbt, session):
    dbt.config(materialized="table", schema="ml")
    return profiles_table(
        features=read_frame(dbt.ref("mart_customer_features"), session),
        segments=read_frame(dbt.ref("customer_segments"), session),
        spec=read_frame(dbt.ref("segment_features"), session),
        playbook=read_frame(dbt.ref("segment_playbook"), session),
    )
