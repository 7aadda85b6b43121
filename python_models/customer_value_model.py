"""Customer value and churn models, one row per run (incremental, append-only):
BG/NBD and Gamma-Gamma fitted on each training snapshot, a LightGBM revenue
model (used for value only when it beats the BTYD value out of fold) and a
LightGBM churn model, with their cross-validation metrics; or, in
microseg__value_model_mode reuse_latest / auto, the latest stored models reused
(microseg.model_reuse: decision, reasons and figures on the row). The models as
LightGBM text (never pickle). Logic: microseg/value/. History survives
--full-refresh unless microseg__allow_history_refresh.
"""

from datetime import datetime, timezone

from microseg.frames import read_frame
from microseg.model_reuse import value_policy_from_dbt
from microseg.value.clv import config_from_dbt
from microseg.value.run import TRAINING_LABEL_COLUMNS, value_model_row


def model(dbt, session):
    dbt.config(materialized="incremental", incremental_strategy="append", schema="ml")
    settings = dbt.config.get("value")
    # the latest trained_at is the model in use (a reuse stores it again): also reads a pre-upgrade table
    stored = read_frame(session.sql(f"select * from {dbt.this} order by trained_at desc limit 1"), session) \
        if dbt.is_incremental else None
    # in snapshot and customer order: each snapshot is then a slice of the frame, not a copy (microseg.value.run)
    features = read_frame(dbt.ref("customer_value_features").order("snapshot_kind, customer_key"), session)
    labels = read_frame(dbt.ref("customer_value_labels").project(TRAINING_LABEL_COLUMNS), session)
    return value_model_row(features, labels,
                           config_from_dbt(settings), value_policy_from_dbt(settings), stored,
                           datetime.now(timezone.utc).replace(tzinfo=None))
