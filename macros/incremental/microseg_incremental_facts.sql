{#- Incremental facts past the base tables (docs/incremental.md "The customer
    as the unit"). A fact rebuilds the rows of the base units rebuilt since its
    own last run and the rows resolved through an identifier the identity diff
    (int_customer_identifier_changes) changed since then. Its last run is its
    rows' latest _processed_at, less microseg__incremental_lookback_hours. -#}


{#- The fact's watermark as a SQL timestamp literal, read once when the model
    or its hook is rendered (both before the pre-hook deletes anything, so
    they agree): the latest _processed_at of {{ this }} less the lookback;
    '-infinity' (everything) when the table is empty. Call only in an
    incremental run. -#}
{% macro microseg_fact_watermark() -%}
    {%- do microseg_check_processed_at() -%}
    {%- set found = run_query('select max(_processed_at) from ' ~ this) -%}
    {%- set latest = found.columns[0].values()[0] if found is not none else none -%}
    {%- if latest is none -%}
        {{ return("timestamp '-infinity'") }}
    {%- endif -%}
    {%- set since = latest - modules.datetime.timedelta(hours=var('microseg__incremental_lookback_hours') | float) -%}
    {{ return("timestamp '" ~ since.strftime('%Y-%m-%d %H:%M:%S.%f') ~ "'") }}
{%- endmacro %}


{#- A fact built before it was incremental has no _processed_at: stop with one
    line before its query runs. -#}
{% macro microseg_check_processed_at() -%}
    {%- set columns = adapter.get_columns_in_relation(this) | map(attribute='name') | list -%}
    {%- if '_processed_at' not in columns -%}
        {{ exceptions.raise_compiler_error(
            this ~ " has no _processed_at column (an earlier microseg built it whole each run; it is"
            ~ " incremental now): run dbt build --full-refresh once (docs/incremental.md)"
        ) }}
    {%- endif -%}
{%- endmacro %}


{#- pre-hook of a fact keyed by a base table's key: delete its rows of every
    base unit rebuilt since the watermark (`units`: a relation of _unit and
    _processed_at; fct_events by event_id and int_event_units, the order
    side by order_id and base_shop__orders). The staged ones come back with
    the batch; a unit that is now rejected, a duplicate or erased stays
    deleted (its base row may no longer hold the key, so the unit is matched
    on the fact's own key). Nothing in a full build. -#}
{% macro microseg_delete_rebuilt_units(key, units) -%}
    {%- if execute and is_incremental() -%}
        delete from {{ this }}
        where {{ microseg_key_unit(key) }} in (
            select rebuilt._unit
            from {{ units }} as rebuilt
            where rebuilt._processed_at > {{ microseg_fact_watermark() }}
        )
    {%- endif -%}
{%- endmacro %}


{#- Condition on the resolved events (int_events_resolved columns) an
    incremental run of fct_events rebuilds: the staged events of the base
    units rebuilt since the watermark (their _processed_at), and every event whose crm id or
    anonymous id the identity diff changed since then (a new identifier, a
    link or merge that moved it to another customer, a new signup date of its
    customer, or an identifier that left the graph). -#}
{% macro microseg_events_to_rebuild() -%}
    {%- set since = microseg_fact_watermark() -%}
    (
        _processed_at > {{ since }}
        or {{ microseg_resolved_through_changed_identifier(microseg_event_identifiers(), since) }}
    )
{%- endmacro %}


{#- Condition on rows with identifier columns (`identifiers_by`: the
    (identifier_type, column) pairs of macro microseg_event_identifiers or
    microseg_order_identifiers; `alias` qualifies the columns): one of them is
    an identifier the identity diff changed since `since`. -#}
{% macro microseg_resolved_through_changed_identifier(identifiers_by, since, alias=none) -%}
    (
        {%- for identifier_type, column in identifiers_by %}
            {{ alias ~ '.' if alias else '' }}{{ column }} in (
                select changed.identifier_value
                from {{ ref('int_customer_identifier_changes') }} as changed
                where changed.identifier_type = '{{ identifier_type }}' and changed.changed_at > {{ since }}
            ){{ " or" if not loop.last }}
        {%- endfor %}
    )
{%- endmacro %}


{#- The events of the base_tracking__events units rebuilt since the
    watermark, staged or rejected, not erased (a relation): what a model
    aggregating events (sessions, email campaigns) rebuilds from. The rejected
    rows count: an event staged by an earlier run whose unit a new copy
    rebuilt (the copy wins, the old row is a duplicate_key reject) leaves the
    session and the customer it was counted in, which only the rejected row
    still names (the CI replay plants such a move to another session and to
    another customer). Erased rows keep no identifier or group: their
    customers lose an identifier (the diff relinks them) or the row is the
    erased person's own. -#}
{% macro microseg_rebuilt_event_rows() -%}
    (
        select *
        from {{ ref('base_tracking__events') }}
        where _processed_at > {{ microseg_fact_watermark() }} and erasure_request_id is null
    )
{%- endmacro %}


{#- A model keyed by customer (int_behaviour__email_campaigns): an
    incremental run rebuilds every row of each customer touched since the
    model's watermark, from all of that customer's events. The touched
    customers (a query of intermediate customer keys): those of the identifiers
    the identity diff changed since then (new, moved, relinked, another signup
    date, and every identifier of a customer that lost one), and those any
    identifier of an event of a base unit rebuilt since then belongs to (macro
    microseg_rebuilt_event_rows; its crm id's customer and its anonymous id's:
    a superset of the customer it resolves to, so a hook can compute it
    without the ephemeral resolution). Rendered once per model and once per
    hook, before the hook deletes anything: both see the same set. -#}
{% macro microseg_touched_customer_keys() -%}
    {%- set rebuilt_rows = microseg_rebuilt_event_rows() -%}
    {{ microseg_relinked_customer_keys() }}
    union
    select known.customer_key
    from {{ ref('int_customer_identifiers') }} as known
    where
        {%- for identifier_type, column in microseg_event_identifiers() %}
            (
                known.identifier_type = '{{ identifier_type }}'
                and known.identifier_value in (
                    select rebuilt.{{ column }}
                    from {{ rebuilt_rows }} as rebuilt
                )
            ){{ " or" if not loop.last }}
        {%- endfor %}
{%- endmacro %}


{#- The customers of every identifier the identity diff changed since the
    watermark (a query of intermediate customer keys): new, moved, relinked,
    another signup date, and every identifier of a customer that lost one. -#}
{% macro microseg_relinked_customer_keys() -%}
    select changed.customer_key
    from {{ ref('int_customer_identifier_changes') }} as changed
    where changed.changed_at > {{ microseg_fact_watermark() }} and changed.customer_key is not null
{%- endmacro %}


{#- A model keyed by customer and a group of events (int_behaviour__sessions:
    customer_key, session_id) rebuilds the groups of the events of every
    events unit rebuilt since its watermark, and every group of a
    relinked customer (above), each from all of its events. The rebuilt
    groups: (customer_key, group_column) of the events of the rebuilt units
    (macro microseg_rebuilt_event_rows, filtered before the identity joins, so
    only the batch's events are resolved). -#}
{% macro microseg_rebuilt_groups(group_column) -%}
    select distinct
        rebuilt.customer_key,
        rebuilt.{{ group_column }}
    from (
        {{ with_resolved_customer(
            microseg_rebuilt_event_rows(), ref('int_customer_identifiers'), microseg_event_identifiers()
        ) }}
    ) as rebuilt
    where rebuilt.customer_key is not null and rebuilt.{{ group_column }} is not null
{%- endmacro %}


{#- pre-hook of a model keyed by customer (int_behaviour__email_campaigns:
    group_column none) or by customer and a group of events
    (int_behaviour__sessions: group_column session_id): delete what the batch
    writes again, every row of a touched customer (macro
    microseg_touched_customer_keys) or the rebuilt groups and every row of a
    relinked customer, and every row whose customer key no identifier has any
    more (merged into another customer, or erased with all its identifiers).
    Nothing in a full build. -#}
{% macro microseg_delete_rebuilt_rows(group_column=none) -%}
    {%- if execute and is_incremental() -%}
        delete from {{ this }}
        where
            {%- if group_column %}
                customer_key in ({{ microseg_relinked_customer_keys() }})
                or (customer_key, {{ group_column }}) in ({{ microseg_rebuilt_groups(group_column) }})
            {%- else %}
                customer_key in ({{ microseg_touched_customer_keys() }})
            {%- endif %}
            or customer_key not in (
                select known.customer_key
                from {{ ref('int_customer_identifiers') }} as known
                where known.customer_key is not null
            )
    {%- endif -%}
{%- endmacro %}


{#- The batch of a model keyed by customer and group (int_events_resolved's
    columns): the resolved events of the rebuilt groups and of the relinked
    customers. The staged events are first narrowed to those of a rebuilt
    group's id or carrying an identifier of a relinked customer, then
    resolved, then kept when their (customer, group) was rebuilt or their
    customer relinked. -#}
{% macro microseg_rebuilt_group_events(group_column) -%}
    with

    rebuilt_groups as materialized (
        {{ microseg_rebuilt_groups(group_column) }}
    ),

    relinked as materialized (
        {{ microseg_relinked_customer_keys() }}
    ),

    relinked_identifiers as materialized (
        select
            known.identifier_type,
            known.identifier_value
        from {{ ref('int_customer_identifiers') }} as known
        where known.customer_key in (select relinked.customer_key from relinked)
    )

    {%- set narrowed %}
        (
            {{ group_column }} in (select rebuilt_groups.{{ group_column }} from rebuilt_groups)
            {%- for identifier_type, column in microseg_event_identifiers() %}
                or {{ column }} in (
                    select relinked_identifiers.identifier_value
                    from relinked_identifiers
                    where relinked_identifiers.identifier_type = '{{ identifier_type }}'
                )
            {%- endfor %}
        )
    {%- endset %}

    select resolved.*
    from (
        {{ resolved_events(ref('stg_tracking__events'), ref('int_customer_identifiers'), narrowed) }}
    ) as resolved
    where
        resolved.customer_key in (select relinked.customer_key from relinked)
        or (resolved.customer_key, resolved.{{ group_column }}) in (
            select rebuilt_groups.customer_key, rebuilt_groups.{{ group_column }} from rebuilt_groups
        )
{%- endmacro %}
