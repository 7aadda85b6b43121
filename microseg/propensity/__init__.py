"""Propensity scoring: point-in-time training, LightGBM with cross-validation,
calibration and per-row reasons, BG/NBD and RFM baselines, evaluation, and the
CDNOW benchmark. The dbt Python models in python_models/propensity_* call
:mod:`microseg.propensity.registry`."""
