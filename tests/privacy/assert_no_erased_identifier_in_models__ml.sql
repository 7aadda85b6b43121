{#- No identifier of an erased person in any model but the suppression list (macro privacy_erased_scan).
    Part 2 of 3: the ML models and marts (segmentation, value, propensity) part 1 leaves. A part scans
    the models its depends_on lines wait for that no earlier part scans
    (macros/hygiene/privacy_scan_parts.sql). A new leaf model goes into the depends_on lines of one part
    of each scan (tests/python/test_layers.py checks it). Returns one row per offending column with the
    number of values. -#}
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
{%- set erased = ref('stg_privacy__erased_identifiers') %}
{%- set scope = privacy_erased_scan_models() if execute else [] %}
{%- set share = privacy_scan_share(
    scope,
    earlier=[
        'assert_no_erased_identifier_in_models__marts',
    ],
) if execute else [] %}
{%- set parts = privacy_erased_scan(share, erased) if execute else [] %}

{{ privacy_findings(parts) }}
