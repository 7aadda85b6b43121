{#- One row per resolved customer and email campaign: whether the campaign
    was sent, opened, clicked (var microseg__email_event_types), when first,
    and when each was first known (the event had happened and been received,
    and its identifier had been linked to the customer: identity_linked_at),
    for point-in-time cuts. A repeated open is still one opened campaign. -#}
{%- set email_types = var('microseg__email_event_types') -%}
with

events as (
    select
        customer_key,
        campaign_id,
        event_type,
        event_at,
        greatest(event_at, coalesce(received_at, event_at), identity_linked_at) as known_at
    from {{ ref('int_events_resolved') }}
    where
        customer_key is not null
        and campaign_id is not null
        and event_type in ('{{ email_types.values() | join("', '") }}')  -- noqa: LT05
),

final as (
    select
        customer_key,
        campaign_id,
        {%- for flag, event_type in email_types.items() %}
            bool_or(event_type = '{{ event_type }}') as is_{{ flag }},
            min(event_at) filter (where event_type = '{{ event_type }}') as first_{{ flag }}_at,
            cast(min(event_at) filter (where event_type = '{{ event_type }}') as date) as first_{{ flag }}_date,
            cast(min(known_at) filter (where event_type = '{{ event_type }}') as date) as {{ flag }}_known_date,
        {%- endfor %}
        count(*) as event_count
    from events
    group by customer_key, campaign_id
)

select * from final
