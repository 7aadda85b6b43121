-- The single-pass floor of the SQL layer (issue 11): read each large raw file
-- once, drop exact duplicates, cast, and compute per-customer RFM and 30/90-day
-- engagement. It does none of what makes microseg microseg (identity, erasure,
-- rejects, tests, ML); it says what one scan of the same data costs on this
-- machine, so every stage of the benchmark comes with a ratio to it.
-- The table placeholders (orders, order_lines, events in braces) become read_parquet of the raw files.
with

orders as (
    select distinct
        order_id,
        customer_ref,
        try_cast(ordered_at as timestamptz) as ordered_at
    from {orders}
),

lines as (
    select distinct
        order_line_id,
        order_id,
        try_cast(line_amount as double) as line_amount
    from {order_lines}
),

order_totals as (
    select
        orders.customer_ref,
        orders.order_id,
        cast(max(orders.ordered_at) as date) as order_date,
        sum(lines.line_amount) as amount
    from orders
    inner join lines on orders.order_id = lines.order_id
    group by orders.customer_ref, orders.order_id
),

as_of as (
    select max(order_date) as as_of_date from order_totals
),

rfm as (
    select
        customer_ref,
        date_diff('day', max(order_date), any_value(as_of.as_of_date)) as recency_days,
        count(*) as frequency,
        sum(amount) as monetary
    from order_totals
    cross join as_of
    group by customer_ref
),

events as (
    select distinct
        event_id,
        event_type,
        user_id,
        session_id,
        cast(try_cast(event_at as timestamptz) as date) as event_date
    from {events}
),

engagement as (
    select
        events.user_id,
        count(distinct events.session_id) filter (where events.event_date > as_of.as_of_date - 30) as sessions_30d,
        count(distinct events.session_id) filter (where events.event_date > as_of.as_of_date - 90) as sessions_90d,
        count(*) filter (where events.event_type = 'product_view' and events.event_date > as_of.as_of_date - 90)
            as product_views_90d,
        count(*) filter (where events.event_type = 'email_open' and events.event_date > as_of.as_of_date - 90)
            as email_opens_90d
    from events
    cross join as_of
    where events.user_id is not null
    group by events.user_id
)

select
    count(*) as customers,
    sum(rfm.frequency) as orders,
    sum(engagement.sessions_90d) as sessions_90d
from rfm
full outer join engagement on rfm.customer_ref = engagement.user_id
