"""Centroids of every stored segmentation fit (segment_model, append-only):
per fit, segment and clustering feature the segment mean of the transformed,
unscaled feature, with the fit time and as_of_date. Rebuilt from segment_model,
so it keeps the whole history as long as segment_model does."""

from microseg.frames import read_frame
from microseg.segment_run import centroid_history_table


def model(dbt, session):
    dbt.config(materialized="table", schema="ml")
    fits = dbt.ref("segment_model").project("fit_id, fitted_at, as_of_date, centroids, segment_sizes")
    return centroid_history_table(read_frame(fits, session))
