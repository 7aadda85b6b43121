{#- One row per (customer, session) of a resolved customer on a session
    platform (var microseg__session_platforms): when it started (UTC and in
    the business time zone, var microseg__business_timezone), its platform
    and device (those of its first event; of the smallest event_id among
    events of that same second), its event counts (var
    microseg__session_event_types), category views, cart and checkout flags,
    and known_at: when its last event had both happened and been received
    and the identifier attributing each event to the customer had been
    linked to it (int_customer_identifiers.linked_at), so point-in-time
    snapshots use only sessions fully known, for that customer, by their date.

    Incremental, the session and the customer as units (docs/incremental.md
    "The customer as the unit"): a run rebuilds every session with an event in
    an events unit rebuilt since the table's last run (new, late, re-delivered)
    and every session of each customer the identity diff changed since then,
    each from all of its events (macro microseg_rebuilt_group_events); the
    pre-hook first deletes those sessions and the rows of keys no identifier
    has any more. _processed_at is the start of the run that wrote the row. -#}
-- depends_on: {{ ref('int_customer_identifier_changes') }}
-- depends_on: {{ ref('int_customer_identifiers') }}
-- depends_on: {{ ref('stg_tracking__events') }}
-- depends_on: {{ ref('base_tracking__events') }}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ microseg_delete_rebuilt_rows('session_id') }}",
) }}
{%- set event_types = var('microseg__session_event_types') -%}
{%- set view_types = var('microseg__view_event_types') -%}
{%- set view_list = "('" ~ view_types | join("', '") ~ "')" -%}
with

events as (
    select *
    {%- if is_incremental() %}
        from ({{ microseg_rebuilt_group_events('session_id') }}) as rebuilt_events
    {%- else %}
        from {{ ref('int_events_resolved') }}
    {%- endif %}
    where
        customer_key is not null
        and session_id is not null
        and platform in ('{{ var("microseg__session_platforms") | join("', '") }}')  -- noqa: LT05
),

sessions as (
    select
        {%- for metric, event_type in event_types.items() %}
            count(*) filter (where event_type = '{{ event_type }}') as {{ metric }},
        {%- endfor %}
        {%- for category in microseg_categories() %}
            count(*) filter (where event_type in {{ view_list }} and category = '{{ category }}')
                as views_{{ category }},
        {%- endfor %}
        customer_key,
        session_id,
        min(event_at) as started_at,
        max(event_at) as ended_at,
        max(greatest(event_at, coalesce(received_at, event_at), identity_linked_at)) as known_at,
        -- both from the same first event; events of the same second by event_id, so a session's
        -- platform does not depend on the order the rows are read in
        arg_min(platform, (event_at, event_id)) as platform,
        arg_min(device, (event_at, event_id)) as device,
        count(*) filter (where event_type in {{ view_list }} and category is not null) as category_views,
        count(*) as event_count
    from events
    group by customer_key, session_id
),

final as (
    select
        customer_key,
        session_id,
        started_at,
        {{ to_business_time('started_at') }} as started_at_local,
        {{ to_business_date('started_at') }} as session_date,
        cast({{ to_business_time('started_at') }} as date) as session_business_date,
        ended_at,
        known_at,
        {{ to_business_date('known_at') }} as known_date,
        platform,
        device,
        event_count,
        {%- for metric in event_types %}
            {{ metric }},
        {%- endfor %}
        category_views,
        {%- for category in microseg_categories() %}
            views_{{ category }},
        {%- endfor %}
        cart_adds > 0 as has_cart_add,
        checkouts > 0 as has_checkout,
        {{ microseg_processed_at() }} as _processed_at
    from sessions
)

select * from final
