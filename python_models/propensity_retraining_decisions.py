"""Why the propensity model was retrained or reused, one row per run (segmentation fit), appended: mode,
decision, reasons (no_model, model_age, auc_decay, feature_drift, within_thresholds, mode_*), the figures
behind them and the model in use. Recomputed with microseg.propensity.retraining.decide from the inputs the
registry decided with (models registered before the run's fit), so it records exactly that decision."""

from datetime import datetime, timezone

from microseg.frames import read_frame
from microseg.propensity.registry import TRAINING_ROWS, config_from_dbt, require_model
from microseg.propensity.retraining import DECISION_SCHEMA, decide, decision_row, models_before, policy_from_dbt


def model(dbt, session):
    dbt.config(materialized="incremental", incremental_strategy="append", schema="ml")
    settings = dbt.config.get("propensity")
    config, policy = config_from_dbt(settings), policy_from_dbt(settings)
    fit = read_frame(dbt.ref("segment_model").order("fitted_at desc, fit_id desc").limit(1), session).iloc[0]
    if dbt.is_incremental and session.execute(f"select count(*) from {dbt.this} where fit_id = ?",
                                              [fit["fit_id"]]).fetchall()[0][0]:
        return DECISION_SCHEMA.empty_table()
    registry = read_frame(dbt.ref("propensity_model_registry"), session)
    drift = read_frame(dbt.ref("segment_drift").project("fitted_at, drift_kind, psi"), session)
    # the matured window is a training snapshot; modes retrain and reuse_latest read none of them
    rows = TRAINING_ROWS if policy.mode == "auto" else "false"
    features = read_frame(dbt.ref("propensity_features").filter(rows), session)
    labels = read_frame(dbt.ref("propensity_labels").filter(rows), session)
    decision = decide(models_before(registry, fit["fitted_at"]), features, labels, drift, config, policy,
                      fit["as_of_date"])
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    return decision_row(decision, fit["fit_id"], now, require_model(registry, config)["model_id"])
