{#- Events with their customer: the logged-in CRM id first, else the customer the
    anonymous id logged in as (so pre-login browsing counts for that customer).
    Unresolvable events keep customer_key null.

    Ephemeral: fct_events writes the result once; a table here would write
    the largest relation of the project a second time. It was a view, which
    every reader recomputed just the same, and which the privacy scans and its
    own key tests computed three more times (1,000,000 persons: 33.6 s of the
    PII scan alone, the unique test 13.9 s; docs/decisions.md "Resolved events
    are ephemeral"). -#}
{{ config(materialized='ephemeral') }}
with

events as (
    select * from {{ ref('stg_tracking__events') }}
),

identifiers as not materialized (
    select * from {{ ref('int_customer_identifiers') }}
),

final as (
    select
        events.event_id,
        coalesce(by_crm_id.customer_key, by_anonymous_id.customer_key) as customer_key,
        case when by_crm_id.customer_key is not null then by_crm_id.linked_at else by_anonymous_id.linked_at end
            as identity_linked_at,
        events.event_type,
        events.event_at,
        events.received_at,
        events.anonymous_id,
        events.user_crm_id,
        events.session_id,
        events.platform,
        events.device,
        events.category,
        events.campaign_id,
        events.order_id,
        events.is_late_arriving,
        events._processed_at
    from events
    left join identifiers as by_crm_id
        on
            by_crm_id.identifier_type = 'crm_id'
            and events.user_crm_id = by_crm_id.identifier_value
    left join identifiers as by_anonymous_id
        on
            by_anonymous_id.identifier_type = 'anonymous_id'
            and events.anonymous_id = by_anonymous_id.identifier_value
)

select * from final
