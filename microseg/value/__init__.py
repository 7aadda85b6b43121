"""Customer value (BG/NBD x Gamma-Gamma CLV, LightGBM-adjusted) and churn risk.

gammagamma: the spend-per-purchase model (Fader, Hardie and Lee 2005b);
clv: horizon CLV, the LightGBM value and churn models, their validation;
cdnow_value: the CDNOW calibration / holdout benchmark of the value.
"""
