{#- One row per staged event. is_before_signup marks events of a known customer
    that happened before that customer's earliest CRM signup (clock skew or
    pre-registration browsing stitched through a later login). -#}
with

events as (
    select * from {{ ref('int_events_resolved') }}
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
        events.customer_key is not null as is_customer_resolved
    from events
    left join customers on events.customer_key = customers.customer_key
)

select * from final
