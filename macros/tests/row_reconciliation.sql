{#- Row accounting of a staging model against its raw source:

        raw rows = staged rows + exact duplicates + rejected rows + erased rows

    The exact-duplicate count is computed here, independently of the staging
    SQL, straight from the raw relation: count(*) minus the number of distinct
    whole rows (`select distinct *`, nulls compare equal) less the load
    metadata the raw view adds (_source_file, _loaded_at): a row delivered
    again in a later file is an exact copy, as staging counts it. Whole rows
    are counted by a pair of DuckDB's 64-bit hashes of the columns as text,
    one of them salted (128 bits: null and '' differ, as in row_hash):
    1,000,000 persons' 38.7 M raw events 37.9 s with `select distinct *`,
    25.1 s with an md5 over the JSON array of the columns, 12 s with the
    pair, the same count each time (docs/decisions.md). The test
    therefore fails when staging loses rows, invents rows, or mis-counts
    duplicates. It
    returns one row with the numbers and the difference when they do not add
    up, nothing otherwise.

    Arguments: source_relation (the raw source), rejected_model (the twin
    *_rejected model), and optionally erased_model with erased_where: the
    distinct raw rows removed for an erasure request are counted as
    `select count(*) from erased_model where erased_where` (the base view of
    the source, `erasure_request_id is not null`). Exact copies of an erased
    row stay counted as duplicates. -#}
{% test row_reconciliation(model, source_relation, rejected_model, erased_model=none, erased_where='true') %}

with raw_rows as (
    select count(*) as raw_rows
    from {{ source_relation }}
),

{%- set contract_columns = adapter.get_columns_in_relation(source_relation) | map(attribute='name')
    | reject('in', ['_source_file', '_loaded_at']) | list if execute else [] %}

distinct_raw_rows as (
    {%- if contract_columns %}
        {%- set columns_as_text %}
            {%- for column in contract_columns %}
                cast({{ adapter.quote(column) }} as varchar){{ "," if not loop.last }}
            {%- endfor %}
        {%- endset %}
        select count(distinct (hash({{ columns_as_text }}), hash('microseg', {{ columns_as_text }})))
            as distinct_raw_rows
        from {{ source_relation }}
    {%- else %}
        select count(*) as distinct_raw_rows
        from (select distinct * exclude (_source_file, _loaded_at) from {{ source_relation }}) as distinct_rows
    {%- endif %}
),

staged_rows as (
    select count(*) as staged_rows
    from {{ model }}
),

rejected_rows as (
    select count(*) as rejected_rows
    from {{ rejected_model }}
),

erased_rows as (
    {%- if erased_model is not none %}
        select count(*) as erased_rows
        from {{ erased_model }}
        where {{ erased_where }}
    {%- else %}
        select 0 as erased_rows
    {%- endif %}
),

accounting as (
    select
        raw_rows.raw_rows,
        staged_rows.staged_rows,
        raw_rows.raw_rows - distinct_raw_rows.distinct_raw_rows as exact_duplicate_rows,
        rejected_rows.rejected_rows,
        erased_rows.erased_rows,
        raw_rows.raw_rows
        - staged_rows.staged_rows
        - (raw_rows.raw_rows - distinct_raw_rows.distinct_raw_rows)
        - rejected_rows.rejected_rows
        - erased_rows.erased_rows as unaccounted_rows
    from raw_rows
    cross join distinct_raw_rows
    cross join staged_rows
    cross join rejected_rows
    cross join erased_rows
)

select *
from accounting
where unaccounted_rows <> 0
{% endtest %}
