"""First-purchase propensity of customers who browse or read emails but have
never bought: LightGBM on their behaviour, trained on the snapshot a horizon
before as_of_date, with out-of-fold (and, in a backtest, forward) ROC-AUC of
the model and of a cart-adds-then-recency baseline. Logic:
microseg/value/first_purchase.py.
"""

from microseg.frames import read_frame
from microseg.value.clv import config_from_dbt
from microseg.value.first_purchase import score_first_purchase


def model(dbt, session):
    dbt.config(materialized="table", schema="ml")
    config = config_from_dbt(dbt.config.get("value"))
    snapshots = read_frame(dbt.ref("first_purchase_snapshots"), session)
    return score_first_purchase(snapshots, config)
