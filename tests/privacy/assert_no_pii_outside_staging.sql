{#- No raw email, phone or name outside staging. Every model of the project
    (SQL and Python) that is not under models/staging is read from the built
    database:
    - every text column is scanned for values that look like an email address
      or a phone number (macros looks_like_email / looks_like_phone); an
      identifier column (var microseg__privacy_identifier_columns or yml
      meta `privacy: identifier`: order, basket, session ids that may be all
      digits) only for emails and phone numbers written as such
      (looks_like_formatted_phone);
    - a column named like a raw name, email or phone (first_name, email,
      phone, ... but not *_hash / *_domain) fails by its name alone: clear
      names cannot be told from other words by pattern.
    A model whose relation is missing fails too (a model built after this test
    would otherwise escape it): add a leaf model to the depends_on list below.
    Returns one row per offending column with the number of values. -#}
-- depends_on: {{ ref('data_quality_summary') }}
-- depends_on: {{ ref('erasure_audit') }}
-- depends_on: {{ ref('int_customer_hygiene') }}
-- depends_on: {{ ref('mart_customer_engagement') }}
-- depends_on: {{ ref('segment_centroid_history') }}
-- depends_on: {{ ref('segment_profiles') }}
-- depends_on: {{ ref('propensity_model_metrics') }}
-- depends_on: {{ ref('propensity_scores') }}
-- depends_on: {{ ref('mart_segment_sizes') }}
-- depends_on: {{ ref('metricflow_time_spine') }}
-- depends_on: {{ ref('export_changes_latest') }}
-- depends_on: {{ ref('experiment_readout') }}
-- depends_on: {{ ref('customer_next_best_category') }}
-- depends_on: {{ ref('propensity_retraining_decisions') }}
-- depends_on: {{ ref('resegmentation_alerts') }}
-- depends_on: {{ ref('segment_migration') }}
-- depends_on: {{ ref('segment_quality') }}
-- depends_on: {{ ref('segment_run_sizes') }}
-- depends_on: {{ ref('customer_value') }}
-- depends_on: {{ ref('customer_value_metrics') }}
-- depends_on: {{ ref('segment_churn_profiles') }}
-- depends_on: {{ ref('first_purchase_scores') }}
{%- set name_pattern = '^(.*_)?(first_?name|last_?name|full_?name|surname|e_?mail|phone|mobile|telephone)'
    ~ '(_clean|_raw|_normalized)?$' %}
{%- set parts = [] %}
{%- if execute %}
    {%- set nodes = privacy_scan_models('non_staging') %}
    {%- set columns = privacy_scan_columns(nodes) %}
    {%- for node in nodes %}
        {%- if columns[node.name] | length == 0 %}
            {%- do parts.append(
                "select '" ~ node.name ~ "' as model_name, '' as column_name, 'relation_missing' as finding, "
                ~ "cast(1 as bigint) as n_values"
            ) %}
        {%- endif %}
        {%- for column_name, data_type in columns[node.name] %}
            {%- set quoted = '"' ~ column_name ~ '"' %}
            {%- if modules.re.match(name_pattern, column_name | lower) %}
                {%- do parts.append(
                    "select '" ~ node.name ~ "' as model_name, '" ~ column_name ~ "' as column_name, "
                    ~ "'pii_column_name' as finding, cast(1 as bigint) as n_values"
                ) %}
            {%- endif %}
            {%- if data_type | upper == 'VARCHAR' %}
                {%- set phone_check = looks_like_formatted_phone(quoted) if is_privacy_identifier_column(node, column_name)
                    else looks_like_phone(quoted) %}
                {%- do parts.append(
                    "select '" ~ node.name ~ "' as model_name, '" ~ column_name ~ "' as column_name, "
                    ~ "'email_or_phone_value' as finding, count(*) as n_values from " ~ node.relation_name
                    ~ " where " ~ looks_like_email(quoted) ~ " or " ~ phone_check
                ) %}
            {%- elif 'VARCHAR' in data_type | upper %}
                {#- lists, structs and maps of text: an email anywhere in their text form #}
                {%- do parts.append(
                    "select '" ~ node.name ~ "' as model_name, '" ~ column_name ~ "' as column_name, "
                    ~ "'email_value' as finding, count(*) as n_values from " ~ node.relation_name
                    ~ " where " ~ looks_like_email('cast(' ~ quoted ~ ' as varchar)')
                ) %}
            {%- endif %}
        {%- endfor %}
    {%- endfor %}
{%- endif %}

{{ privacy_findings(parts) }}
