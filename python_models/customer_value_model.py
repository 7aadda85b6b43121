"""Customer value and churn models, trained once per build: BG/NBD and
Gamma-Gamma fitted on each training snapshot, a LightGBM revenue model
(used for value only when it beats the BTYD value out of fold) and a LightGBM
churn model, with their cross-validation metrics. One row; the models as
LightGBM text (never pickle). Logic: microseg/value/.
"""

from microseg.value.clv import config_from_dbt
from microseg.value.run import train_value_models


def model(dbt, session):
    dbt.config(materialized="table", schema="ml")
    config = config_from_dbt(dbt.config.get("value"))
    features = dbt.ref("customer_value_features").df()
    labels = dbt.ref("customer_value_labels").df()
    return train_value_models(features, labels, config)
