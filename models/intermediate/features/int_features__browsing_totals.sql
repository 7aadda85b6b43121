{#- Per customer, browsing and email behaviour in the event window of the
    micro-segments (var microseg__segment_event_window_days, ending on
    int_as_of_date inclusive): session metrics and email campaigns of macro
    behaviour_metrics, suffixed _window; and touchpoints (orders and
    sessions, all history) with their weekend, evening and morning counts. -#}
{%- set as_of_date = '(select as_of_date from as_of)' -%}
{%- set window = var('microseg__segment_event_window_days') -%}
with

as_of as (
    select as_of_date from {{ ref('int_as_of_date') }}
),

sessions as (
    {{ behaviour_metrics('sessions', as_of_date, [window]) }}
),

emails as (
    {{ behaviour_metrics('email_campaigns', as_of_date, [window]) }}
),

touchpoints as (
    {{ behaviour_metrics('touchpoints', as_of_date, [none]) }}
),

customers as (
    select customer_key from sessions
    union
    select customer_key from emails
    union
    select customer_key from touchpoints
),

final as (
    select
        customers.customer_key,
        sessions.* exclude (customer_key),  -- noqa: RF02
        emails.* exclude (customer_key),  -- noqa: RF02
        touchpoints.* exclude (customer_key)  -- noqa: RF02
    from customers
    left join sessions on customers.customer_key = sessions.customer_key
    left join emails on customers.customer_key = emails.customer_key
    left join touchpoints on customers.customer_key = touchpoints.customer_key
)

select * from final
