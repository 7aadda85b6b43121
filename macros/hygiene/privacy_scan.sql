{#- Helpers of the privacy tests (tests/privacy): which built models to scan
    and what counts as a raw email or phone number. -#}

{#- The model nodes of microseg (SQL and Python) that the privacy tests
    scan, as a list of graph nodes. `layers`: 'non_staging' (everything outside
    models/staging) or 'all'. Ephemeral models have no relation and are
    skipped; `exclude` lists model names to leave out. By package name, not
    `project_name` (the root project's): installed as a package, the scans
    still cover microseg's models. -#}
{% macro privacy_scan_models(layers='non_staging', exclude=[]) -%}
    {%- set nodes = [] -%}
    {%- for node in graph.nodes.values() -%}
        {%- if node.resource_type == 'model'
            and node.package_name == 'microseg'
            and node.config.materialized != 'ephemeral'
            and node.name not in exclude
            and (layers == 'all' or 'staging' not in node.fqn[1:-1]) -%}
            {%- do nodes.append(node) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(nodes | sort(attribute='name')) }}
{%- endmacro %}


{#- Columns of the given model nodes as built in the database: a dict from
    model name to a list of (column_name, data_type), empty when the relation
    does not exist. Reads information_schema once. Call inside
    `{% if execute %}`. -#}
{% macro privacy_scan_columns(nodes) -%}
    {%- set found = {} -%}
    {%- for node in nodes -%}
        {%- do found.update({node.name: []}) -%}
    {%- endfor -%}
    {%- if nodes | length > 0 -%}
        {%- set query -%}
            select
                table_catalog,
                table_schema,
                table_name,
                column_name,
                data_type
            from information_schema.columns
            order by table_catalog, table_schema, table_name, ordinal_position
        {%- endset -%}
        {%- set rows = run_query(query).rows -%}
        {%- for node in nodes -%}
            {%- for row in rows -%}
                {%- if row[0] == node.database and row[1] == node.schema and row[2] == (node.alias or node.name) -%}
                    {%- do found[node.name].append((row[3], row[4])) -%}
                {%- endif -%}
            {%- endfor -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(found) }}
{%- endmacro %}


{#- True when a text value looks like an email address (anywhere in it).
    The regex only runs on text holding an `@` (3.9 M event ids: 0.63 s ->
    0.13 s of CPU); null stays null. -#}
{% macro looks_like_email(expr) -%}
    case
        when contains({{ expr }}, '@')
            then regexp_matches({{ expr }}, '[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}')
        when {{ expr }} is not null then false
    end
{%- endmacro %}


{#- True when a text value looks like a phone number: only digits and phone
    punctuation (+ ( ) . / - space), holding 7 to 15 digits (E.164 allows at
    most 15), and not an ISO date or a US ZIP+4 code. Ids with letters
    ('O000001234', 'A00012345') fail the first rule; a 32- or 64-character
    hex hash fails it too unless it is all digits, and then it has more than
    15 digits. An all-digit id of 7 to 15 digits does look like a phone
    number: identifier columns are scanned with looks_like_formatted_phone
    instead (privacy_identifier_columns).
    A case, not `a and b and c`: in a select list DuckDB evaluates every
    operand of `and` on every row, and the digit count and date rules cost
    ten times the first one, which almost every value fails (3.9 M event ids:
    4.7 s -> 0.6 s of CPU). Null stays null, as with `and`. The first `when`
    is the regexp's first character, read as a code point: whitespace (RE2's
    \s: tab, newline, form feed, return, space), `(` to `9` (`( ) * + , - .
    /` and the digits); a value starting with anything else cannot match it,
    and the code point costs a fraction of the regexp call (the PII scan of
    fct_events' ten text columns, 38 M rows: 24-27 -> 16 s of CPU). The first
    comparison, at most 57, is false for letters, so most values stop there;
    no `in (9, 10, 12, 13, 32)`, which DuckDB planned as a mark join per
    column (as in clean_text). The marts' PII scan alone at 1,000,000 persons:
    15.4-16.5 -> 12.7 s (the same rule as four `or`ed ranges: 19.7-20.2 s). -#}
{% macro looks_like_phone(expr, formatted=false) -%}
    case
        {%- set first = 'ascii(' ~ expr ~ ')' %}
        when not (
            {{ first }} <= 57
            and ({{ first }} >= 40 or {{ first }} = 32 or {{ first }} between 9 and 10 or {{ first }} between 12 and 13)
        )
            then false
        when regexp_full_match({{ expr }}, '\s*\+?[0-9()./ -]{7,30}\s*')
            then
                length(regexp_replace({{ expr }}, '[^0-9]', '', 'g')) between 7 and 15
                and not regexp_full_match(trim({{ expr }}), '[0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{5}-[0-9]{4}')
                {%- if formatted %}
                and not regexp_full_match(trim({{ expr }}), '[0-9]+')
                {%- endif %}
        when {{ expr }} is not null then false
    end
{%- endmacro %}


{#- A phone number as people write one: looks_like_phone and not all digits
    (a `+`, a space or punctuation in it). What an identifier column may not
    hold: `+49 30 1234567` is a phone number, `100234567` an order id. -#}
{% macro looks_like_formatted_phone(expr) -%}
    {{ looks_like_phone(expr, formatted=true) }}
{%- endmacro %}


{#- True when `column_name` of model `node` is an identifier (an id that may
    be all digits, like an order or basket id), so the PII scan looks for
    emails and formatted phone numbers in it, not for bare digit runs: the
    column name is in var microseg__privacy_identifier_columns, or the
    column's yml meta says `privacy: identifier`. -#}
{% macro is_privacy_identifier_column(node, column_name) -%}
    {%- set names = var('microseg__privacy_identifier_columns', []) | map('lower') | list -%}
    {%- set column = node.columns.get(column_name) or node.columns.get(column_name | lower) -%}
    {%- set meta = (column.meta if column is not none and column.meta is defined else {}) or {} -%}
    {{ return(column_name | lower in names or meta.get('privacy') == 'identifier') }}
{%- endmacro %}

{#- The findings of a privacy test: `parts` are selects of (model_name,
    column_name, finding, n_values); rows with n_values > 0 fail the test. The
    sentinel row keeps the SQL valid when there is nothing to scan. -#}
{% macro privacy_findings(parts) -%}
with

findings as (
    {%- for part in parts %}
        {{ part }}
        union all
    {%- endfor %}
    select
        '' as model_name,
        '' as column_name,
        'none' as finding,
        cast(0 as bigint) as n_values
)

select * from findings
where n_values > 0
{%- endmacro %}
