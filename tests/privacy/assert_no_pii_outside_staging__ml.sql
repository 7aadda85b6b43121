{#- No raw email, phone or name outside staging (macro privacy_pii_scan). Part 2 of 3: the ML models and
    marts (segmentation, value, propensity) part 1 leaves. A part scans the models its depends_on lines
    wait for that no earlier part scans (macros/hygiene/privacy_scan_parts.sql). A new leaf model goes
    into the depends_on lines of one part of each scan (tests/python/test_layers.py checks it). Returns
    one row per offending column with the number of values. -#}
-- depends_on: {{ ref('segment_centroid_history') }}
-- depends_on: {{ ref('segment_profiles') }}
-- depends_on: {{ ref('segment_quality') }}
-- depends_on: {{ ref('segment_run_sizes') }}
-- depends_on: {{ ref('segment_migration') }}
-- depends_on: {{ ref('mart_segment_sizes') }}
-- depends_on: {{ ref('resegmentation_alerts') }}
-- depends_on: {{ ref('segment_churn_profiles') }}
-- depends_on: {{ ref('propensity_model_metrics') }}
-- depends_on: {{ ref('propensity_scores') }}
-- depends_on: {{ ref('propensity_retraining_decisions') }}
-- depends_on: {{ ref('customer_value') }}
-- depends_on: {{ ref('customer_value_metrics') }}
-- depends_on: {{ ref('first_purchase_scores') }}
{{ config(tags=['privacy_scan']) }}
{%- set scope = privacy_scan_models('non_staging') if execute else [] %}
{%- set share = privacy_scan_share(scope, earlier=['assert_no_pii_outside_staging__marts']) if execute else [] %}
{%- set parts = privacy_pii_scan(share) if execute else [] %}

{{ privacy_findings(parts) }}
