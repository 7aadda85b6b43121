"""Long metrics table of the model in use: its cross-validation evaluation
against the baselines (stored at training time), a forward evaluation of the
current scores when the data covers their label window, and feature importance
(gain; mean |contribution| from the contributions rows of propensity_predictions).
Nothing is scored here. propensity_model_metrics (SQL) types it for BI.
"""

from microseg.frames import read_frame
from microseg.propensity.registry import (
    EVALUATION_PREDICTION_COLUMNS,
    SCORING_ROWS,
    config_from_dbt,
    evaluation_table,
    require_model,
)


def model(dbt, session):
    dbt.config(materialized="table", schema="ml")
    config = config_from_dbt(dbt.config.get("propensity"))
    model_row = require_model(read_frame(dbt.ref("propensity_model_registry"), session), config)
    predictions = read_frame(dbt.ref("propensity_predictions").project(", ".join(EVALUATION_PREDICTION_COLUMNS)),
                             session)
    # the contributions as one Arrow list column, not a numpy array per row in pandas
    contributions = dbt.ref("propensity_predictions").project("feature_contributions").to_arrow_table().column(0)
    labels = read_frame(dbt.ref("propensity_labels").filter(SCORING_ROWS), session)  # the forward evaluation's
    return evaluation_table(model_row, predictions, labels, contributions)
