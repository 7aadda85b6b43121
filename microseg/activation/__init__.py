"""Activation: the statistics of experiment readouts (stats) and the readout
table the dbt Python model experiment_readout returns (readout)."""

from microseg.activation.readout import readout_table
from microseg.activation.stats import (
    benjamini_hochberg,
    mean_difference,
    minimum_detectable_effect,
    sample_ratio_mismatch,
    two_proportion_test,
)

__all__ = [
    "benjamini_hochberg",
    "mean_difference",
    "minimum_detectable_effect",
    "readout_table",
    "sample_ratio_mismatch",
    "two_proportion_test",
]
