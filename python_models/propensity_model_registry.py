"""Propensity model registry: one row per trained model (LightGBM text format).

Whether this run trains is decided by microseg.propensity.retraining.decide
(microseg__propensity_model_mode): retrain always; reuse_latest when a model
of the target and horizon exists; auto when drift, AUC decay on the latest
matured window or age cross their vars. The decision and its reasons are
recorded by propensity_retraining_decisions. Incremental append: the history
survives rebuilds and `--full-refresh` (unless microseg__allow_history_refresh).
"""

from microseg.propensity.registry import config_from_dbt, empty_registry, train_registry_row
from microseg.propensity.retraining import decide, models_before, policy_from_dbt


def model(dbt, session):
    dbt.config(materialized="incremental", incremental_strategy="append", schema="ml")
    settings = dbt.config.get("propensity")
    config, policy = config_from_dbt(settings), policy_from_dbt(settings)
    features = dbt.ref("propensity_features").df()
    labels = dbt.ref("propensity_labels").df()
    fit = dbt.ref("segment_model").order("fitted_at desc, fit_id desc").limit(1).df().iloc[0]
    registry = session.sql(f"select * from {dbt.this}").df() if dbt.is_incremental else None
    drift = dbt.ref("segment_drift").project("fitted_at, drift_kind, psi").df()
    decision = decide(models_before(registry, fit["fitted_at"]), features, labels, drift, config, policy,
                      fit["as_of_date"])
    if decision["decision"] == "reuse":
        return empty_registry()
    return train_registry_row(features, labels, config)
