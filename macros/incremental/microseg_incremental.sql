{#- Incremental base models (docs/incremental.md, docs/decisions.md).

    A base model is rebuilt one *unit* at a time: the rows of one key (event
    id, order id, order line id; a row without a key is its own unit, by its
    row hash). A unit is rebuilt from ALL raw rows that carry it, old and new,
    so de-duplication, key collisions and survivors come out exactly as in a
    full build, and rebuilding a unit twice changes nothing. A unit is rebuilt
    when
      - one of its rows is in a file the model has not processed (a file, with
        its modification time, that microseg_load_manifest has no row of for
        this model): new data, late events, new versions;
      - one of its loaded rows is now on the suppression list (a new erasure
        request, or an old one reaching further through new data): the rows
        become tombstones;
      - a unit it depends on upstream was rebuilt since this model's last run
        minus microseg__incremental_lookback_hours (order lines on their order).
    The model is materialized incremental, strategy delete+insert on _unit.
    `--full-refresh` builds every unit from every file: same rows. -#}


{#- The unit of a raw row: a salted md5 of the cleaned key, or of the whole
    row when the key is missing. Salted and hashed because a tombstone keeps
    it (so a rebuild replaces the tombstone) and must not keep the key. The
    128 bits as a UHUGEINT (md5_number), not 32 hex digits: a table writes 16
    bytes a row that it cannot compress instead of 32 characters it tries to
    (base_tracking__events alone at 1,000,000 persons: 150.7 -> 140.9 s of
    CPU; docs/decisions.md "The incremental unit is a number"). -#}
{% macro microseg_unit(table_name, key, prefix='') -%}
    {{ microseg_key_unit(
        'coalesce(' ~ clean_text(prefix ~ key) ~ ", '#' || " ~ row_hash(raw_columns(table_name), prefix=prefix) ~ ')'
    ) }}
{%- endmacro %}


{#- The unit of a cleaned key (SQL text expression): what microseg_unit gives
    the raw rows of that key, so a fact can find the rows of a rebuilt base
    unit by its own key column (fct_events by event_id). -#}
{% macro microseg_key_unit(expr) -%}
    {%- set salt = env_var('MICROSEG_PII_SALT', 'microseg-demo-salt') | replace("'", "''") -%}
    md5_number('{{ salt }}' || {{ expr }})
{%- endmacro %}


{#- The manifest relation (created by microseg_load_manifest_ddl at run start). -#}
{% macro microseg_manifest_relation() -%}
    {{ return(api.Relation.create(database=target.database, schema='staging', identifier='microseg_load_manifest')) }}
{%- endmacro %}


{#- on-run-start: the manifest survives every build and every full refresh. -#}
{% macro microseg_load_manifest_ddl() -%}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {%- set manifest = microseg_manifest_relation() -%}
    create schema if not exists {{ manifest.without_identifier() }};
    create table if not exists {{ manifest }} (
        run_id varchar,
        model_name varchar,
        source_file varchar,
        loaded_at timestamp,
        rows_read bigint,
        processed_at timestamp,
        is_full_refresh boolean,
        units_rebuilt bigint
    )
{%- endmacro %}


{% macro microseg_processed_at() -%}
    timestamp '{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}'
{%- endmacro %}


{#- True for a raw row (of `source_relation`, columns _source_file and
    _loaded_at) whose file this model has not processed yet. -#}
{% macro microseg_is_new_raw_row(alias) -%}
    not exists (
        select 1
        from {{ microseg_manifest_relation() }} as manifest
        where
            manifest.model_name = '{{ this.identifier }}'
            and manifest.source_file = {{ alias }}._source_file
            and manifest.loaded_at is not distinct from {{ alias }}._loaded_at
    )
{%- endmacro %}


{#- The raw rows this run builds from: all of `source_relation` in a full
    build; in an incremental run the rows of the units to rebuild (see the top
    of this file). `erasure_lookups` are (identifier_type, expression over the
    loaded row `loaded`) pairs as in with_erasure_request_id; `upstream_units`
    is an optional query returning unit values rebuilt upstream. -#}
{% macro microseg_incremental_raw_rows(source_relation, table_name, key, erasure_lookups, upstream_units=none) -%}
    {#- a unit test compiles the model without a `this`: a full build of its given rows -#}
    {%- if this is none or not is_incremental() -%}
        {{ return(source_relation) }}
    {%- endif -%}
    {%- do microseg_check_unit_type() -%}
    (
        with

        loaded as (
            select * exclude (erasure_request_id) from {{ this }}
            where erasure_request_id is null
        ),

        newly_erased as (
            {{ with_erasure_request_id('loaded', erasure_lookups) }}
        ),

        units as (
            select {{ microseg_unit(table_name, key, prefix='fresh.') }} as unit
            from {{ source_relation }} as fresh
            where {{ microseg_is_new_raw_row('fresh') }}
            union
            select newly_erased._unit as unit
            from newly_erased
            where newly_erased.erasure_request_id is not null
            {%- if upstream_units %}
                union
                {{ upstream_units }}
            {%- endif %}
        )

        select src.*
        from {{ source_relation }} as src
        where {{ microseg_unit(table_name, key, prefix='src.') }} in (select units.unit from units)
    )
{%- endmacro %}


{#- An incremental run over a table built before the unit became a number
    (its _unit is text) would compare text with numbers on delete+insert:
    stop with one line instead, before the model's query runs. -#}
{% macro microseg_check_unit_type() -%}
    {%- set found = adapter.get_columns_in_relation(this) | selectattr('name', 'equalto', '_unit')
        | map(attribute='dtype') | list -%}
    {%- set found_type = (found | first | default('')) | upper -%}
    {%- if found_type != 'UHUGEINT' -%}
        {%- set what = "has a _unit column of type " ~ found_type if found_type else "has no _unit column" -%}
        {{ exceptions.raise_compiler_error(
            this ~ " " ~ what ~ " (an earlier microseg wrote text; units are"
            ~ " UHUGEINT now): run dbt build --full-refresh once (docs/incremental.md)"
        ) }}
    {%- endif -%}
{%- endmacro %}


{#- post-hook: one manifest row per raw file the run read for the first
    time (every file in a full build), with the run's figures. -#}
{% macro microseg_record_load(source_relation) -%}
    {%- set full = not is_incremental() -%}
    insert into {{ microseg_manifest_relation() }}
    select
        '{{ invocation_id }}' as run_id,
        '{{ this.identifier }}' as model_name,
        raw_rows._source_file as source_file,
        max(raw_rows._loaded_at) as loaded_at,
        count(*) as rows_read,
        {{ microseg_processed_at() }} as processed_at,
        {{ full }} as is_full_refresh,
        (
            select count(distinct rebuilt._unit) from {{ this }} as rebuilt
            where rebuilt._processed_at = {{ microseg_processed_at() }}
        ) as units_rebuilt
    from {{ source_relation }} as raw_rows
    {%- if not full %}
        where {{ microseg_is_new_raw_row('raw_rows') }}
    {%- endif %}
    group by raw_rows._source_file
{%- endmacro %}


{#- Upstream units of base_shop__order_lines: the lines (units) of every order
    rebuilt in base_shop__orders since this model's last build, less
    microseg__incremental_lookback_hours. An order that arrives after its
    lines turns them from unknown_order into staged lines; an order that
    becomes a duplicate or a reject turns them back. -#}
{% macro microseg_order_lines_of_rebuilt_orders() -%}
    {#- not ref(): a unit test of the lines would need it as a given input; the
        lines model runs after base_shop__orders through stg_shop__orders -#}
    {%- if this is none -%}
        {{ return('') }}
    {%- endif -%}
    {%- set orders = api.Relation.create(database=this.database, schema=this.schema, identifier='base_shop__orders') -%}
    select {{ microseg_unit('order_lines', 'order_line_id', prefix='lines.') }}
    from {{ source('shop', 'order_lines') }} as lines
    where {{ clean_text('lines.order_id') }} in (
        select rebuilt.order_id
        from {{ orders }} as rebuilt
        where rebuilt._processed_at > (
            select max(built._processed_at) - to_hours({{ var('microseg__incremental_lookback_hours') }})
            from {{ this }} as built
        )
    )
{%- endmacro %}
