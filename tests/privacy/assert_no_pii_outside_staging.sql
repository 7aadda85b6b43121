{#- No raw email, phone or name outside staging (macro privacy_pii_scan). Part 3 of 3: every model parts
    1 and 2 leave (activation, exports, and any model no part waits for, which fails as relation_missing
    when it is built after this test). A part scans the models its depends_on lines wait for that no
    earlier part scans (macros/hygiene/privacy_scan_parts.sql). A new leaf model goes into the
    depends_on lines of one part of each scan (tests/python/test_layers.py checks it). Returns one row
    per offending column with the number of values. -#}
-- depends_on: {{ ref('export_changes_latest') }}
-- depends_on: {{ ref('experiment_readout') }}
-- depends_on: {{ ref('customer_next_best_category') }}
{{ config(tags=['privacy_scan']) }}
{%- set scope = privacy_scan_models('non_staging') if execute else [] %}
{%- set share = privacy_scan_share(
    scope,
    earlier=[
        'assert_no_pii_outside_staging__marts',
        'assert_no_pii_outside_staging__ml',
    ],
    rest=true,
) if execute else [] %}
{%- set parts = privacy_pii_scan(share) if execute else [] %}

{{ privacy_findings(parts) }}
