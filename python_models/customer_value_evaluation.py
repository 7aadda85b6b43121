"""Long metrics table of the value and churn models: cross-validation (stored
with the models) and, when the data covers the windows after as_of_date (a
backtest), a forward evaluation of the scores against what happened.
customer_value_metrics (SQL) types it for BI.
"""

from microseg.frames import read_frame
from microseg.propensity.registry import SCORING_ROWS
from microseg.value.run import evaluation_table, latest_model_row


def model(dbt, session):
    dbt.config(materialized="table", schema="ml")
    latest = dbt.ref("customer_value_model").order("decided_at desc").limit(1)
    model_row = latest_model_row(read_frame(latest, session))
    predictions = read_frame(dbt.ref("customer_value_predictions"), session)
    labels = read_frame(dbt.ref("customer_value_labels").filter(SCORING_ROWS), session)  # the forward evaluation's
    return evaluation_table(model_row, predictions, labels)
