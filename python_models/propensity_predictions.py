"""Scores of the scoring snapshot (features as of as_of_date) with the latest
registered model of the configured target and horizon: calibrated propensity,
raw score, three reasons from the feature contributions (decision paths unless
microseg__propensity_reasons is shap; kept per customer for the evaluation's
feature importance), and the baseline scores. The BG/NBD features
use the training fit stored in the registry (no refit); the BG/NBD baseline is
fitted on the scoring rows. Scored once: propensity_evaluation reads these rows.
propensity_scores (SQL) adds deciles, percentiles and tiers.
"""

from microseg.frames import read_frame
from microseg.propensity.registry import SCORING_ROWS, config_from_dbt, require_model, score_with_model


def model(dbt, session):
    dbt.config(materialized="table", schema="ml")
    config = config_from_dbt(dbt.config.get("propensity"))
    registry = read_frame(dbt.ref("propensity_model_registry"), session)
    # the scoring snapshot only (1,000,000 persons: reading all 2.5 M rows took 8.3 s, these 0.95 M 0.8 s), in
    # the order of the scores (scoring sorts a frame that is not)
    features = read_frame(dbt.ref("propensity_features").filter(SCORING_ROWS).order("customer_key"), session)
    return score_with_model(features, require_model(registry, config), config)
