"""Drift between consecutive segmentation runs (microseg.drift): PSI of every
clustering feature (on the previous run's quantile bins) and of the segment
mix, with one row per segment's share and PSI term; status ok / warn / error
against microseg__drift_psi_warn / _error. Rebuilt from the history tables."""

from microseg.drift import config_from_dbt, drift_table
from microseg.frames import read_frame


def model(dbt, session):
    dbt.config(materialized="table", schema="ml")
    config = config_from_dbt(dbt.config.get("drift"))
    sizes = dbt.ref("segment_membership_history").aggregate(
        "fit_id, fitted_at, as_of_date, segment_id, count(*) as customer_count",
        "fit_id, fitted_at, as_of_date, segment_id",
    )
    distributions = read_frame(dbt.ref("segment_feature_distributions"), session)
    return drift_table(distributions, read_frame(sizes, session), config)
