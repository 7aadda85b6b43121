"""Value and churn risk of every customer of the scoring snapshot (as of
as_of_date): BTYD expected purchases, spend per purchase, revenue and
discounted CLV over the value horizon, the LightGBM value, the value in use
and the calibrated churn risk. customer_value (SQL) adds deciles and flags.
"""

from microseg.frames import read_frame, with_text_column
from microseg.propensity.registry import SCORING_ROWS
from microseg.value.clv import config_from_dbt
from microseg.value.run import latest_model_row, score


def model(dbt, session):
    dbt.config(materialized="table", schema="ml")
    config = config_from_dbt(dbt.config.get("value"))
    # the scoring snapshot only: the training snapshots are most of the table (1,000,000 persons: 0.9 of 2.3 M rows)
    features = read_frame(dbt.ref("customer_value_features").filter(SCORING_ROWS).order("customer_key"), session)
    latest = dbt.ref("customer_value_model").order("decided_at desc").limit(1)
    model_row = latest_model_row(read_frame(latest, session))
    scores, btyd_fit = score(features, model_row, config)
    return with_text_column(session, scores, "btyd_fit", btyd_fit)
