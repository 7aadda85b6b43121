{#- Per customer, all purchases known by int_as_of_date: order counts per
    channel (var microseg__channels), sales, discount and return amounts, line
    counts and spend per category (var microseg__categories), discounted and
    returned lines (macro behaviour_metrics), and the mean and spread of the
    gaps in days between consecutive orders with a sale. -#}
{%- set as_of_date = '(select as_of_date from as_of)' -%}
with

as_of as (
    select as_of_date from {{ ref('int_as_of_date') }}
),

orders as not materialized (
    select * from {{ ref('int_behaviour__orders') }}
),

order_totals as (
    {{ behaviour_metrics('orders', as_of_date, [none]) }}
),

line_totals as (
    {{ behaviour_metrics('order_lines', as_of_date, [none]) }}
),

sale_orders as (
    select
        orders.customer_key,
        date_diff(
            'day', lag(orders.order_date) over (partition by orders.customer_key order by orders.order_date),
            orders.order_date
        ) as gap_days
    from orders
    cross join as_of
    where
        orders.customer_key is not null
        and orders.sales_amount_eur > 0
        and orders.order_date <= as_of.as_of_date
),

order_gaps as (
    select
        customer_key,
        avg(gap_days) as gap_mean_days,
        stddev_samp(gap_days) as gap_sd_days
    from sale_orders
    where gap_days is not null
    group by customer_key
),

final as (
    select
        order_totals.*,
        line_totals.* exclude (customer_key),  -- noqa: RF02
        order_gaps.gap_mean_days,
        order_gaps.gap_sd_days
    from order_totals
    left join line_totals on order_totals.customer_key = line_totals.customer_key
    left join order_gaps on order_totals.customer_key = order_gaps.customer_key
)

select * from final
