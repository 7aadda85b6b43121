"""Propensity model registry: one row per trained model (LightGBM text format).

microseg__propensity_model_mode = retrain trains on the training snapshot and
appends a row; reuse_latest appends nothing when a model of the same target
and horizon is registered (and trains one when there is none). Incremental
append: the history survives rebuilds and `--full-refresh` (unless
microseg__allow_history_refresh is true).
"""

from microseg.propensity.registry import config_from_dbt, empty_registry, latest_model, train_registry_row


def model(dbt, session):
    dbt.config(materialized="incremental", incremental_strategy="append", schema="ml")
    config = config_from_dbt(dbt.config.get("propensity"))
    features = dbt.ref("propensity_features").df()
    labels = dbt.ref("propensity_labels").df()
    if config.reuse_latest and dbt.is_incremental:
        if latest_model(session.sql(f"select * from {dbt.this}").df(), config) is not None:
            return empty_registry()
    return train_registry_row(features, labels, config)
