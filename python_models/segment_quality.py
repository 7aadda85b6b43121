"""Model selection of the micro-segments, read from the latest fit in
segment_model (no second fit): one row per k tried with silhouette,
Davies-Bouldin, Calinski-Harabasz and the size check of the very K-Means model
customer_segments applies; the chosen k, its bootstrap stability and the PCA
figures."""

from microseg.frames import read_frame
from microseg.segment_run import quality_table


def model(dbt, session):
    dbt.config(materialized="table", schema="ml")
    latest = dbt.ref("segment_model").order("fitted_at desc, fit_id desc").limit(1)
    return quality_table(read_frame(latest, session))
