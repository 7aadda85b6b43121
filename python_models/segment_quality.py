"""Model selection for the micro-segments: K-Means for every k in
[microseg__segment_k_min, microseg__segment_k_max] on PCA scores of the
clustering features (seed segment_features), with silhouette (on a sample),
Davies-Bouldin and Calinski-Harabasz; the chosen k (best silhouette among the k
whose smallest segment reaches the minimum size) and its bootstrap stability.
customer_segments fits with the k chosen here (microseg.segment_run)."""

from microseg.segment_run import config_from_vars, quality_table


def model(dbt, session):
    dbt.config(materialized="table", schema="marts")
    # dbt vars reach a Python model through config keys set in _segments__models.yml;
    # dbt parses dbt.config.get() statically, so each key is spelled out (no loop)
    settings = {
        "microseg__segment_k_min": dbt.config.get("microseg__segment_k_min"),
        "microseg__segment_k_max": dbt.config.get("microseg__segment_k_max"),
        "microseg__segment_min_share": dbt.config.get("microseg__segment_min_share"),
        "microseg__segment_min_size": dbt.config.get("microseg__segment_min_size"),
        "microseg__segment_pca_variance_share": dbt.config.get("microseg__segment_pca_variance_share"),
        "microseg__segment_core_threshold": dbt.config.get("microseg__segment_core_threshold"),
        "microseg__segment_random_state": dbt.config.get("microseg__segment_random_state"),
        "microseg__segment_fit_sample": dbt.config.get("microseg__segment_fit_sample"),
        "microseg__segment_silhouette_sample": dbt.config.get("microseg__segment_silhouette_sample"),
        "microseg__segment_silhouette_metric": dbt.config.get("microseg__segment_silhouette_metric"),
        "microseg__segment_bootstrap_rounds": dbt.config.get("microseg__segment_bootstrap_rounds"),
        "microseg__segment_id_max_distance": dbt.config.get("microseg__segment_id_max_distance"),
    }
    config = config_from_vars(settings)
    features = dbt.ref("mart_customer_features").df()
    spec = dbt.ref("segment_features").df()
    return quality_table(features, spec, config)
