"""Propensity model registry: one row per trained model (LightGBM text format).

Whether this run trains is decided by microseg.propensity.retraining.decide_for_run
(microseg__propensity_model_mode): retrain always; reuse_latest when a model
of the target and horizon exists; auto when drift, AUC decay on the latest
matured window or age cross their vars. The run's fit and drift come through
propensity_retraining_inputs, which reads the segmentation models only in modes
auto and reuse_latest (in retrain, training runs beside segmentation). The decision
and its reasons are recorded by propensity_retraining_decisions. Incremental append:
the history survives rebuilds and `--full-refresh` (unless microseg__allow_history_refresh).
"""

from microseg.frames import read_frame
from microseg.propensity.registry import TRAINING_ROWS, config_from_dbt, empty_registry, train_registry_row
from microseg.propensity.retraining import decide_for_run, policy_from_dbt


def model(dbt, session):
    dbt.config(materialized="incremental", incremental_strategy="append", schema="ml")
    settings = dbt.config.get("propensity")
    config, policy = config_from_dbt(settings), policy_from_dbt(settings)
    # training snapshots only: the scoring snapshot (0.95 of 2.5 M rows at 1,000,000 persons) is predictions'
    features = read_frame(dbt.ref("propensity_features").filter(TRAINING_ROWS), session)
    labels = read_frame(dbt.ref("propensity_labels").filter(TRAINING_ROWS), session)
    registry = read_frame(session.sql(f"select * from {dbt.this}"), session) if dbt.is_incremental else None
    run = read_frame(dbt.ref("propensity_retraining_inputs"), session)
    if decide_for_run(registry, features, labels, run, config, policy)["decision"] == "reuse":
        return empty_registry()
    return train_registry_row(features, labels, config)
