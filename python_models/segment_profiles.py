"""Segment profiles: per segment and clustering feature the size, share, mean
and median, the whole base's mean and median, lift and effect size, and the
segment's name, top distinguishing features, traits and recommended action and
channel (seed segment_playbook; microseg.segment_profiles)."""

from microseg.segment_run import profiles_table


def model(dbt, session):
    dbt.config(materialized="table", schema="ml")
    return profiles_table(
        features=dbt.ref("mart_customer_features").df(),
        segments=dbt.ref("customer_segments").df(),
        spec=dbt.ref("segment_features").df(),
        playbook=dbt.ref("segment_playbook").df(),
    )
