"""Distribution of every clustering feature per segmentation run: binned on
the run's own quantiles (basis own: what the next run is compared with) and on
the previous run's stored bins (basis previous), so segment_drift computes the
PSI without an earlier run's raw values. Incremental, append-only, keyed by
fit_id; survives --full-refresh unless microseg__allow_history_refresh."""

from microseg.drift import config_from_dbt
from microseg.frames import read_frame
from microseg.segment_history import distributions_for_run
from microseg.segment_run import read_features


def model(dbt, session):
    dbt.config(materialized="incremental", incremental_strategy="append", schema="ml")
    config = config_from_dbt(dbt.config.get("drift"))
    stored = read_frame(session.sql(f"select * from {dbt.this}"), session) if dbt.is_incremental else None
    spec = read_frame(dbt.ref("segment_features"), session)
    return distributions_for_run(
        features=read_features(dbt.ref("mart_customer_features"), spec, session),
        spec=spec,
        fit=read_frame(dbt.ref("segment_model").project("fit_id, fitted_at, as_of_date"), session),
        stored=stored,
        bins=config.bins,
    )
