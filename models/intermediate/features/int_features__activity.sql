{#- The activity rule of the micro-segments: per customer, the last day with
    an order, a web/app session or an email flagged as activity (var
    microseg__activity_email_flags: an open or a click), all known by
    int_as_of_date. mart_customer_features keeps the known customers whose
    last activity lies in the var microseg__segment_active_days before it. -#}
{%- set as_of_date = '(select as_of_date from as_of)' -%}
{%- set email_flags = var('microseg__activity_email_flags') -%}
with

as_of as (
    select as_of_date from {{ ref('int_as_of_date') }}
),

orders as (
    {{ behaviour_metrics('orders', as_of_date, [none], only=['last_order_date']) }}
),

sessions as (
    {{ behaviour_metrics('sessions', as_of_date, [none], only=['last_session_date']) }}
),

emails as (
    {%- set email_metrics = [] %}
    {%- for flag in email_flags %}{% do email_metrics.append('last_email_' ~ flag ~ '_date') %}{% endfor %}
    {{ behaviour_metrics('email_campaigns', as_of_date, [none], only=email_metrics) }}
),

activity as (
    select
        customer_key,
        last_order_date as activity_date
    from orders
    union all
    select
        customer_key,
        last_session_date as activity_date
    from sessions
    {%- for flag in email_flags %}
        union all
        select
            customer_key,
            last_email_{{ flag }}_date as activity_date
        from emails
    {%- endfor %}
),

final as (
    select
        customer_key,
        max(activity_date) as last_activity_date
    from activity
    group by customer_key
)

select * from final
