{#- The privacy scans (tests/privacy/assert_no_pii_outside_staging*.sql and
    assert_no_erased_identifier_in_models*.sql) in parts. A scan over every
    model can only run after the last model, alone at the end of the build;
    a part runs as soon as the models of its `-- depends_on` lines exist and
    scans the models it waits for, so most of the scan runs beside the
    ML chain. The parts of a scan share its models out, none twice:

    - a part with `earlier` (the names of the parts before it) scans the
      models among the ancestors of its own depends_on (itself included)
      that are not among the ancestors of an earlier part's depends_on;
    - the last part (`rest=true`) scans every model no earlier part scans,
      whether it waits for it or not: a model that no part waits for is still
      scanned, and fails as relation_missing when it is built after the scan,
      so its leaf has to be added to a part's depends_on lines
      (tests/python/test_layers.py checks every leaf is listed in one). -#}


{#- The unique_ids of `unique_ids` and all their ancestors, as a dict (breadth
    first over graph.nodes depends_on; sources and seeds end the walk). -#}
{% macro privacy_scan_ancestors(unique_ids) -%}
    {%- set queue = unique_ids | list -%}
    {%- set seen = {} -%}
    {#- no while in Jinja: a loop long enough for the whole graph, idle once the queue is done -#}
    {%- for i in range(graph.nodes | length + unique_ids | length + 1) -%}
        {%- if i < queue | length and queue[i] not in seen -%}
            {%- do seen.update({queue[i]: true}) -%}
            {%- set node = graph.nodes.get(queue[i]) -%}
            {%- if node is not none -%}
                {%- for parent in node.depends_on.nodes -%}
                    {%- if parent not in seen -%}
                        {%- do queue.append(parent) -%}
                    {%- endif -%}
                {%- endfor -%}
            {%- endif -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(seen) }}
{%- endmacro %}


{#- This part's share of `nodes` (see above): `earlier`, the test names of the
    parts before this one; `rest`, true for the last part. The running test is
    `model` (its depends_on lines). -#}
{% macro privacy_scan_share(nodes, earlier=[], rest=false) -%}
    {%- set earlier_ids = [] -%}
    {%- for name in earlier -%}
        {%- set part = graph.nodes.get('test.microseg.' ~ name) -%}
        {%- if part is none -%}
            {{ exceptions.raise_compiler_error("privacy scan part '" ~ name ~ "' (in earlier of "
                ~ model.name ~ ") is not a test of microseg") }}
        {%- endif -%}
        {%- for parent in part.depends_on.nodes -%}
            {%- do earlier_ids.append(parent) -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- set before = privacy_scan_ancestors(earlier_ids) -%}
    {%- set mine = {} if rest else privacy_scan_ancestors(model.depends_on.nodes) -%}
    {%- set share = [] -%}
    {%- for node in nodes -%}
        {%- if node.unique_id not in before and (rest or node.unique_id in mine) -%}
            {%- do share.append(node) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(share) }}
{%- endmacro %}


{#- The finding of a model whose relation is missing (built after the scan, or not at all). -#}
{% macro privacy_relation_missing(node) -%}
    {{ return("select '" ~ node.name ~ "' as model_name, '' as column_name, 'relation_missing' as finding, "
              ~ "cast(1 as bigint) as n_values") }}
{%- endmacro %}


{#- One scan of `node`'s relation for all its `checks`, (column_name, finding,
    condition) each: a select of (model_name, column_name, finding, n_values),
    one row per check, n_values the rows where the condition holds. One scan
    per model, not one per column: a view (as int_events_resolved was, its join)
    was computed once per text column, and the events read ten times.
    `batch`: a row-local scan, which on a daily run reads an incremental
    model's last batch only (macro microseg_batch_rows). -#}
{% macro privacy_column_counts(node, checks, batch=false) -%}
    {%- set counts = [] -%}
    {%- for column_name, finding, condition in checks -%}
        {%- do counts.append("{'column_name': '" ~ column_name ~ "', 'finding': '" ~ finding
            ~ "', 'n_values': count(*) filter (where " ~ condition ~ ")}") -%}
    {%- endfor -%}
    {{ return("select '" ~ node.name ~ "' as model_name, unnest(counts, recursive := true) from (select ["
              ~ counts | join(', ') ~ "] as counts from "
              ~ (microseg_batch_rows(node) if batch else node.relation_name) ~ ")") }}
{%- endmacro %}


{#- No raw email, phone or name in `nodes` (assert_no_pii_outside_staging*):
    every text column is scanned for values that look like an email address
    or a phone number (macros looks_like_email / looks_like_phone); an
    identifier column (var microseg__privacy_identifier_columns or yml meta
    `privacy: identifier`: order, basket, session ids that may be all digits)
    only for emails and phone numbers written as such
    (looks_like_formatted_phone); a column named like a raw name, email or
    phone (first_name, email, phone, ... but not *_hash / *_domain) fails by
    its name alone; a model whose relation is missing fails too. One row per
    offending column with the number of values. On a daily run
    (microseg__test_scope `batch`) an incremental model is scanned in its last
    batch: the rows outside it were scanned when they were written. -#}
{% macro privacy_pii_scan(nodes) -%}
{%- set name_pattern = '^(.*_)?(first_?name|last_?name|full_?name|surname|e_?mail|phone|mobile|telephone)'
    ~ '(_clean|_raw|_normalized)?$' %}
{%- set parts = [] %}
{%- set columns = privacy_scan_columns(nodes) %}
{%- for node in nodes %}
    {%- if columns[node.name] | length == 0 %}
        {%- do parts.append(privacy_relation_missing(node)) %}
    {%- endif %}
    {%- set checks = [] %}
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
            {%- do checks.append((column_name, 'email_or_phone_value', looks_like_email(quoted) ~ ' or ' ~ phone_check)) %}
        {%- elif 'VARCHAR' in data_type | upper %}
            {#- lists, structs and maps of text: an email anywhere in their text form #}
            {%- do checks.append((column_name, 'email_value', looks_like_email('cast(' ~ quoted ~ ' as varchar)'))) %}
        {%- endif %}
    {%- endfor %}
    {%- if checks %}
        {%- do parts.append(privacy_column_counts(node, checks, batch=true)) %}
    {%- endif %}
{%- endfor %}
{{ return(parts) }}
{%- endmacro %}


{#- The models the erased-identifier scan reads (assert_no_erased_identifier_in_models*):
    every model but the requests and the suppression list (base_privacy__* and
    stg_privacy__*, which must hold what to erase) and any model tagged
    `erasure_suppression_list`. -#}
{% macro privacy_erased_scan_models() -%}
    {%- set nodes = [] %}
    {%- for node in privacy_scan_models('all') %}
        {%- if not node.name.startswith('stg_privacy__')
            and not node.name.startswith('base_privacy__')
            and 'erasure_suppression_list' not in (node.tags or []) %}
            {%- do nodes.append(node) %}
        {%- endif %}
    {%- endfor %}
    {{ return(nodes) }}
{%- endmacro %}


{#- No erased identifier in `nodes`: every text column that holds a crm id
    (crm_id, user_id, customer_ref, *crm*id, identifier_value, source_id), an
    email hash (*email_hash*, identifier_value, source_id), a phone hash, an
    anonymous id or an order id is matched against `erased`
    (stg_privacy__erased_identifiers); raw email columns of the rejected models
    (email, customer_ref) are hashed like staging hashes them and matched too.
    A model whose relation is missing fails. One row per offending column with
    the number of values. -#}
{% macro privacy_erased_scan(nodes, erased) -%}
{%- set parts = [] %}
{%- set columns = privacy_scan_columns(nodes) %}
{%- for node in nodes %}
    {%- if columns[node.name] | length == 0 %}
        {%- do parts.append(privacy_relation_missing(node)) %}
    {%- endif %}
    {%- set counts = [] %}
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
            {%- do counts.append((column_name, finding, expr ~ " in (select identifier_value from " ~ erased
                ~ " where identifier_type = '" ~ identifier_type ~ "')")) %}
        {%- endfor %}
    {%- endfor %}
    {%- if counts %}
        {%- do parts.append(privacy_column_counts(node, counts)) %}
    {%- endif %}
{%- endfor %}
{{ return(parts) }}
{%- endmacro %}
