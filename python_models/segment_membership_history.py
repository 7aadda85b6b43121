"""Membership history: one row per customer and segmentation run (fit_id =
model version, as_of_date) with its segment, membership probability, niche and
net spend at that run. Incremental, append-only, keyed by fit_id (a run is
recorded once); survives --full-refresh unless microseg__allow_history_refresh.
Rows of customers no longer in dim_customers (erased) are deleted by the
post-hook in the yml."""

from microseg.frames import read_frame
from microseg.segment_history import membership_rows


def model(dbt, session):
    dbt.config(materialized="incremental", incremental_strategy="append", schema="ml")
    dbt.ref("dim_customers")  # the erasure post-hook reads it: built first
    recorded = read_frame(session.sql(f"select distinct fit_id from {dbt.this}"), session) \
        if dbt.is_incremental else None
    return membership_rows(
        segments=read_frame(dbt.ref("customer_segments"), session),
        spend=read_frame(dbt.ref("mart_customer_features").project("customer_key, monetary_eur"), session),
        fit=read_frame(dbt.ref("segment_model").project("fit_id, fitted_at"), session),
        recorded=recorded,
    )
