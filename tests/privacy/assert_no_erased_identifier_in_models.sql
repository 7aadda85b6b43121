{#- An erased person's identifiers appear in no model after the build: every
    model of the project (staging, intermediate, marts, Python) is read from
    the built database, and every text column that holds a crm id (crm_id,
    user_id, customer_ref, *crm*id, identifier_value, source_id) or an email
    hash (*email_hash*, identifier_value, source_id) is matched against
    stg_privacy__erased_identifiers; raw email columns of the rejected models
    (email, customer_ref) are hashed like staging hashes them and matched too.

    Every text column that can hold one of the other identifier types is
    matched too: *phone_hash*, anonymous_id, order_id (and identifier_value /
    source_id for all types).

    Left out: the requests and the suppression list (base_privacy__* and
    stg_privacy__*, which must hold what to erase), and any model tagged
    `erasure_suppression_list` (one that must hold erased identifiers to
    enforce or propagate the erasure and is read by no BI tool). The base_* tables are scanned: an erased row is kept there as
    a tombstone without content. Returns one row per offending column with the
    number of values. -#}
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
{%- set erased = ref('stg_privacy__erased_identifiers') %}
{%- set parts = [] %}
{%- if execute %}
    {%- set candidates = privacy_scan_models('all') %}
    {%- set nodes = [] %}
    {%- for node in candidates %}
        {%- if not node.name.startswith('stg_privacy__')
            and not node.name.startswith('base_privacy__')
            and 'erasure_suppression_list' not in (node.tags or []) %}
            {%- do nodes.append(node) %}
        {%- endif %}
    {%- endfor %}
    {%- set columns = privacy_scan_columns(nodes) %}
    {%- for node in nodes %}
        {%- if columns[node.name] | length == 0 %}
            {%- do parts.append(
                "select '" ~ node.name ~ "' as model_name, '' as column_name, 'relation_missing' as finding, "
                ~ "cast(1 as bigint) as n_values"
            ) %}
        {%- endif %}
        {%- for column_name, data_type in columns[node.name] %}
            {%- set name = column_name | lower %}
            {%- set quoted = '"' ~ column_name ~ '"' %}
            {%- set checks = [] %}
            {%- if data_type | upper == 'VARCHAR' %}
                {%- if name in ['crm_id', 'user_id', 'customer_ref', 'identifier_value', 'source_id']
                    or ('crm' in name and name.endswith('id')) %}
                    {%- do checks.append(('erased_crm_id', quoted, 'crm_id')) %}
                {%- endif %}
                {%- if 'email_hash' in name or name in ['identifier_value', 'source_id'] %}
                    {%- do checks.append(('erased_email_hash', quoted, 'email_hash')) %}
                {%- endif %}
                {%- if 'phone_hash' in name or name in ['identifier_value', 'source_id'] %}
                    {%- do checks.append(('erased_phone_hash', quoted, 'phone_hash')) %}
                {%- endif %}
                {%- if name.endswith('anonymous_id') or name in ['identifier_value', 'source_id'] %}
                    {%- do checks.append(('erased_anonymous_id', quoted, 'anonymous_id')) %}
                {%- endif %}
                {%- if name.endswith('order_id') or name in ['identifier_value', 'source_id'] %}
                    {%- do checks.append(('erased_order_id', quoted, 'order_id')) %}
                {%- endif %}
                {%- if name in ['email', 'customer_ref'] %}
                    {%- do checks.append(('erased_email', hash_pii(normalize_email(quoted)), 'email_hash')) %}
                {%- endif %}
            {%- endif %}
            {%- for finding, expr, identifier_type in checks %}
                {%- do parts.append(
                    "select '" ~ node.name ~ "' as model_name, '" ~ column_name ~ "' as column_name, '"
                    ~ finding ~ "' as finding, count(*) as n_values from " ~ node.relation_name
                    ~ " where " ~ expr ~ " in (select identifier_value from " ~ erased
                    ~ " where identifier_type = '" ~ identifier_type ~ "')"
                ) %}
            {%- endfor %}
        {%- endfor %}
    {%- endfor %}
{%- endif %}

{{ privacy_findings(parts) }}
