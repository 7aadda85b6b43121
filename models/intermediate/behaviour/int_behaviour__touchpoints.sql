{#- Every touchpoint with a clock: orders and sessions of resolved customers,
    with the business-time wall clock (var microseg__business_timezone) the
    weekend, evening and morning shares read, and the date it was known. A
    view: a cheap union of two tables, read by the macros of behaviour_metrics. -#}
{{ config(materialized='view') }}
with

orders as (
    select * from {{ ref('int_behaviour__orders') }}
    where customer_key is not null
),

sessions as (
    select * from {{ ref('int_behaviour__sessions') }}
),

unioned as (
    select
        customer_key,
        'order' as touchpoint_type,
        order_id as touchpoint_id,
        ordered_at as touched_at,
        order_date as touch_date,
        known_date
    from orders
    union all
    select
        customer_key,
        'session' as touchpoint_type,
        session_id as touchpoint_id,
        started_at as touched_at,
        session_date as touch_date,
        known_date
    from sessions
),

final as (
    select
        customer_key,
        touchpoint_type,
        touchpoint_id,
        touched_at,
        {{ to_business_time('touched_at') }} as touched_at_local,
        touch_date,
        known_date,
        hour({{ to_business_time('touched_at') }}) as local_hour,
        isodow({{ to_business_time('touched_at') }}) in (6, 7) as is_weekend
    from unioned
)

select * from final
