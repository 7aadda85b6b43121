{#- The shared steps of every base_* staging model. A base model turns a raw
    export into one row per distinct raw row with its disposition:

        distinct_raw_rows  ->  typed + check_reason (per source)
            ->  with_key_reject_reason  ->  erasure lookup (per source)
            ->  without_erased_content

    so that each distinct raw row is staged (reject_reason null), rejected
    (reject_reason set) or erased (erasure_request_id set, content removed). -#}


{#- One row per distinct raw row of `source_relation`: the contract columns of
    `table_name` as text, renamed raw_<column>, and exact_duplicate_count, the
    number of exact copies (every raw column equal, nulls equal) dropped beyond
    the first. Copies are neither staged nor rejected, only counted. A group-by
    over every text column: distinct_raw_rows_ctes below does the same for the
    large keyed tables without one. -#}
{% macro distinct_raw_rows(source_relation, table_name) -%}
    select
        {{ select_raw_columns(table_name) }},
        count(*) - 1 as exact_duplicate_count
    from {{ source_relation }}
    group by all
{%- endmacro %}


{#- distinct_raw_rows for a table with a key, written as the CTEs raw_rows,
    repeated_keys, repeated_raw_rows and distinct_raw_rows (the model puts them
    in its WITH list). `key_sql` is the model's expression of its key over the
    raw_* columns, the same text its typed CTE uses.

    A raw row whose key occurs once among the raw rows has no exact copy and
    no key collision: it is distinct as it stands (exact_duplicate_count 0).
    Only the rows of repeated keys (exact copies, collisions, missing keys: a
    few per cent) are grouped over every column, and they are kept apart
    (repeated_raw_rows, materialized), so with_key_reject_reason(key_repeated=
    '_key_repeated') ranks them without reading the raw files again. Keys are
    compared by hash(key): a hash collision only sends a few more rows through
    the group-by. The raw files are read three times in a full build (the key
    counts, the rows of repeated keys, then every row); the group-by over every
    text column of every row that this replaces spilled at 1,000,000 persons
    (docs/decisions.md "Distinct rows by key"). In an incremental run the raw rows are a selection of units, a
    query: computed once (materialized). -#}
{% macro distinct_raw_rows_ctes(source_relation, table_name, key_sql) -%}
    raw_rows as {{ 'materialized' if this is not none and is_incremental() else 'not materialized' }} (
        select {{ select_raw_columns(table_name) }}
        from {{ source_relation }}
    ),

    repeated_keys as materialized (
        select hash({{ key_sql }}) as key_hash
        from raw_rows
        group by key_hash
        having count(*) > 1
    ),

    repeated_raw_rows as materialized (
        select
            raw_rows.*,
            count(*) - 1 as exact_duplicate_count
        from raw_rows
        semi join repeated_keys
            on hash({{ key_sql }}) = repeated_keys.key_hash
        group by all
    ),

    distinct_raw_rows as not materialized (
        select
            raw_rows.*,
            0 as exact_duplicate_count,
            false as _key_repeated
        from raw_rows
        anti join repeated_keys
            on hash({{ key_sql }}) = repeated_keys.key_hash
        union all
        select
            repeated_raw_rows.*,
            true as _key_repeated
        from repeated_raw_rows
    )
{%- endmacro %}


{#- Adds reject_reason to `relation` (a CTE with raw_* columns, the typed key
    column `key` and check_reason, the source's own checks):
      - `missing_reason` ('missing_key') when the key is null;
      - 'duplicate_key' for every distinct row of a key carried by several
        distinct rows except the survivor;
      - check_reason otherwise.
    The survivor of a key collision is a row that passes the checks, then the
    first by `survivor_order` (a SQL order-by list, e.g. 'updated_at desc nulls
    last'), then the lowest row hash: raw file order is not stable in DuckDB,
    so "first" is made deterministic this way. Only the few colliding keys are
    ranked (a sort of the whole table costs far more), and the row hash is only
    computed for their rows. `relation` is read three times: declare its CTE
    `as materialized`, or DuckDB inlines it and computes every typing, PII and
    timestamp expression three times (base_tracking__events at 100,000 persons:
    167 s -> 137 s of CPU). Unless `key_repeated` names the column that
    distinct_raw_rows_ctes adds: then only its rows can collide, the two reads
    that look for collisions filter on it, DuckDB takes them from the small
    repeated_raw_rows instead of the raw files, and the CTE is declared `as not
    materialized` (a materialized CTE of every row spilled at 1,000,000
    persons). That column is not passed on. -#}
{% macro with_key_reject_reason(relation, key, table_name, survivor_order=none, missing_reason='missing_key',
    key_repeated=none) -%}
    {%- set raw_columns = raw_columns(table_name) -%}
    select
        {{ relation }}.*{% if key_repeated %} exclude ({{ key_repeated }}){% endif %},
        case
            when {{ relation }}.{{ key }} is null then '{{ missing_reason }}'
            when
                kept_rows.{{ key }} is not null
                and {{ row_hash(raw_columns, prefix=relation ~ '.raw_') }} <> kept_rows.kept_row_hash
                then 'duplicate_key'
            else {{ relation }}.check_reason
        end as reject_reason
    from {{ relation }}
    left join (
        select
            {{ key }},
            kept_row_hash
        from (
            select
                {{ key }},
                {{ row_hash(raw_columns, prefix='raw_') }} as kept_row_hash,
                row_number() over (
                    partition by {{ key }}
                    order by
                        check_reason is null desc,
                        {%- if survivor_order %}
                            {{ survivor_order }},
                        {%- endif %}
                        {{ row_hash(raw_columns, prefix='raw_') }} asc
                ) as key_rank
            from {{ relation }}
            where
                {%- if key_repeated %}
                    {{ key_repeated }} and
                {%- endif %}
                {{ key }} in (
                    select colliding.{{ key }}
                    from {{ relation }} as colliding
                    where
                        {%- if key_repeated %}
                            colliding.{{ key_repeated }} and
                        {%- endif %}
                        colliding.{{ key }} is not null
                    group by colliding.{{ key }}
                    having count(*) > 1
                )
        ) as ranked_collisions
        where key_rank = 1
    ) as kept_rows
        on {{ relation }}.{{ key }} = kept_rows.{{ key }}
{%- endmacro %}


{#- The rows of `relation` as a base table keeps them: rows without an
    erasure_request_id whole, an erased row as a tombstone holding only
    erasure_request_id and exact_duplicate_count (every other column null), so
    the erased person's data is stored nowhere while the row still counts in
    data_quality_summary, erasure_audit and the reconciliation tests. `keep`
    lists further columns a tombstone keeps: the incremental models' salted
    unit hash and build time (macros/incremental/microseg_incremental.sql).
    One pass over `relation`, columns in its order: every column nulled on an
    erased row, then the kept ones put back in place (`* replace`). A union of
    the erased and the other rows reads `relation` twice, so DuckDB
    materializes the whole CTE first (base_tracking__events at 100,000
    persons: docs/decisions.md "Base tables in one pass").
    `raw_table` (the raw table's name in models/sources.yml): its raw_<column>
    text is kept on rejected rows only, the one place it is read (the
    *_rejected models hand it back); a staged row keeps its typed columns
    alone, so raw PII is not stored twice and the largest tables write half
    the text (docs/decisions.md "Raw text on rejected rows only"). -#}
{% macro without_erased_content(relation, keep=[], raw_table=none) -%}
    {%- set kept = keep + ['erasure_request_id', 'exact_duplicate_count'] -%}
    {%- set raw = raw_columns(raw_table) if raw_table else [] -%}
    select
        * exclude (
            {%- for column in kept %}
                _tombstone_{{ column }}{{ "," if not loop.last }}
            {%- endfor %}
        )
        replace (
            {%- for column in kept %}
                _tombstone_{{ column }} as {{ column }}{{ "," if not loop.last or raw }}
            {%- endfor %}
            {%- for column in raw %}
                case when reject_reason is not null then raw_{{ column }} end as raw_{{ column }}
                {{- "," if not loop.last }}
            {%- endfor %}
        )
    from (
        select
            case when erasure_request_id is null then columns(*) end,
            {%- for column in kept %}
                {{ column }} as _tombstone_{{ column }}{{ "," if not loop.last }}
            {%- endfor %}
        from {{ relation }}
    ) as tombstoned
{%- endmacro %}


{#- The rows of `relation` with erasure_request_id: the erasure request that
    erases the row, or null. `lookups` is a list of (identifier_type, SQL
    expression over the relation's columns) pairs looked up in the suppression
    list stg_privacy__erased_identifiers, e.g. [('crm_id', 'crm_customer_id'),
    ('email_hash', hash_pii('email'))]; the lowest request id among the hits
    wins. Left joins on the small list, which DuckDB builds once and probes
    while streaming the large relation (a correlated lookup de-duplicated
    every looked-up column first). The list is unique per (identifier_type,
    identifier_value), so no row is repeated. -#}
{% macro with_erasure_request_id(relation, lookups) -%}
    select
        {{ relation }}.*,
        least(
            {%- for identifier_type, expr in lookups %}
                erased_{{ loop.index }}.request_id{{ "," if not loop.last }}
            {%- endfor %}
        ) as erasure_request_id
    from {{ relation }}
    {%- for identifier_type, expr in lookups %}
        left join {{ ref('stg_privacy__erased_identifiers') }} as erased_{{ loop.index }}
            on
                erased_{{ loop.index }}.identifier_type = '{{ identifier_type }}'
                and erased_{{ loop.index }}.identifier_value = {{ expr }}
    {%- endfor %}
{%- endmacro %}
