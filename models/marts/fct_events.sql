{#- One row per staged event. is_before_signup marks events of a known customer
    that happened before that customer's earliest CRM signup (clock skew or
    pre-registration browsing stitched through a later login).

    Incremental (docs/incremental.md "The customer as the unit"): a run
    rebuilds the events of every unit base_tracking__events rebuilt since this
    table's last run (new, late, re-delivered, newly rejected or erased
    events) and every event whose crm id or anonymous id changed in the
    identity diff since then (int_customer_identifier_changes: a new link, a
    merge, another signup date), each from its staged row. The pre-hook first
    deletes the rows of those base units, so an event that is no longer
    staged goes; delete+insert on event_id replaces the rest. _processed_at is
    the start of the run that wrote the row. `--full-refresh` gives the same
    rows (the replay asserts it); the seeds and vars it reads (category_map,
    microseg__late_event_hours, microseg__business_timezone) need one when
    they change, as the staging layer does. -#}
-- depends_on: {{ ref('int_event_units') }}
-- depends_on: {{ ref('int_customer_identifier_changes') }}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='event_id',
    on_schema_change='fail',
    pre_hook="{{ microseg_delete_rebuilt_units('event_id', ref('int_event_units')) }}",
) }}

with

events as (
    select * from {{ ref('int_events_resolved') }}
    {%- if is_incremental() %}
        where {{ microseg_events_to_rebuild() }}
    {%- endif %}
),

customers as (
    select
        customer_key,
        signup_at
    from {{ ref('int_customers') }}
),

final as (
    select
        events.event_id,
        {{ customer_key_from_uuid('events.customer_key') }} as customer_key,
        events.event_type,
        events.event_at,
        {{ to_business_date('events.event_at') }} as event_date,
        events.received_at,
        events.platform,
        events.device,
        events.category,
        events.session_id,
        events.anonymous_id,
        events.campaign_id,
        events.order_id,
        events.is_late_arriving,
        coalesce(events.event_at < customers.signup_at, false) as is_before_signup,
        events.customer_key is not null as is_customer_resolved,
        {{ microseg_processed_at() }} as _processed_at  -- the run writing the row, not the base unit's
    from events
    left join customers on events.customer_key = customers.customer_key
)

select * from final
