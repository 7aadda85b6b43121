{#- No identifier of an erased person in any model but the suppression list (macro privacy_erased_scan).
    Part 3 of 3: every model parts 1 and 2 leave (activation, exports, and any model no part waits for,
    which fails as relation_missing when it is built after this test). A part scans the models its
    depends_on lines wait for that no earlier part scans (macros/hygiene/privacy_scan_parts.sql). A new
    leaf model goes into the depends_on lines of one part of each scan (tests/python/test_layers.py
    checks it). Returns one row per offending column with the number of values. -#}
-- depends_on: {{ ref('export_changes_latest') }}
-- depends_on: {{ ref('experiment_readout') }}
-- depends_on: {{ ref('customer_next_best_category') }}
{{ config(tags=['privacy_scan']) }}
{%- set erased = ref('stg_privacy__erased_identifiers') %}
{%- set scope = privacy_erased_scan_models() if execute else [] %}
{%- set share = privacy_scan_share(
    scope,
    earlier=[
        'assert_no_erased_identifier_in_models__marts',
        'assert_no_erased_identifier_in_models__ml',
    ],
    rest=true,
) if execute else [] %}
{%- set parts = privacy_erased_scan(share, erased) if execute else [] %}

{{ privacy_findings(parts) }}
