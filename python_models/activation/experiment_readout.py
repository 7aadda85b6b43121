"""Experiment readout per campaign x segment: conversion and revenue per
recipient in each arm, absolute and relative lift with 95% intervals,
two-proportion z-test p-value, Benjamini-Hochberg q-value across the segment
cells, sample-ratio-mismatch check, minimum detectable effect and an
underpowered flag (microseg.activation). Cells: experiment_readout_cells."""

from microseg.activation.readout import readout_table, settings_from_dbt


def model(dbt, session):
    dbt.config(materialized="table")
    settings = settings_from_dbt(dbt.config.get("experiments"))
    cells = dbt.ref("experiment_readout_cells").df()
    return readout_table(cells, settings)
