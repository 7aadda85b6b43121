{#- No raw email, phone or name outside staging (macro privacy_pii_scan). Part 1 of 3: the models up to
    the marts (staging where scanned, intermediate, marts, the feature marts) and the three ML fits
    (segment_model, propensity_model_registry, customer_value_model). It waits for the fits so that dbt,
    which runs ready nodes by graph depth, never puts this scan before them: it runs beside the short
    chains after them. A part scans the models its depends_on lines wait for that no earlier part scans
    (macros/hygiene/privacy_scan_parts.sql). A new leaf model goes into the depends_on lines of one part
    of each scan (tests/python/test_layers.py checks it). Returns one row per offending column with the
    number of values. -#}
-- depends_on: {{ ref('data_quality_summary') }}
-- depends_on: {{ ref('erasure_audit') }}
-- depends_on: {{ ref('metricflow_time_spine') }}
-- depends_on: {{ ref('int_customer_hygiene') }}
-- depends_on: {{ ref('mart_customer_engagement') }}
-- depends_on: {{ ref('mart_customer_rfm') }}
-- depends_on: {{ ref('dim_customers') }}
-- depends_on: {{ ref('customer_identity_map') }}
-- depends_on: {{ ref('fct_orders') }}
-- depends_on: {{ ref('fct_order_lines') }}
-- depends_on: {{ ref('fct_events') }}
-- depends_on: {{ ref('mart_customer_features') }}
-- depends_on: {{ ref('propensity_features') }}
-- depends_on: {{ ref('propensity_labels') }}
-- depends_on: {{ ref('segment_model') }}
-- depends_on: {{ ref('propensity_model_registry') }}
-- depends_on: {{ ref('customer_value_model') }}
{{ config(tags=['privacy_scan']) }}
{%- set scope = privacy_scan_models('non_staging') if execute else [] %}
{%- set share = privacy_scan_share(scope, earlier=[]) if execute else [] %}
{%- set parts = privacy_pii_scan(share) if execute else [] %}

{{ privacy_findings(parts) }}
