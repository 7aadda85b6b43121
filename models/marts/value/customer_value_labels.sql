{#- What happened after every snapshot of customer_value_features: sales
    (EUR, after discount, before returns, orders with an item sold) and
    purchase days in (feature_as_of_date, + value horizon], and whether the
    customer bought in (feature_as_of_date, + microseg__churn_inactive_days].
    A window is complete when the data reaches its end; the scoring snapshot's
    windows lie after as_of_date and are complete only in a backtest (as_of_date
    set earlier). Nothing here feeds a feature. -#}
{%- set value_days = (var('microseg__value_horizon_months') * 365.25 / 12) | round | int %}
{%- set churn_days = var('microseg__churn_inactive_days') | int %}
with

snapshots as (
    select
        customer_key,
        snapshot_kind,
        feature_as_of_date
    from {{ ref('customer_value_features') }}
),

orders as not materialized (
    select * from {{ ref('fct_orders') }}
),

purchases as (
    select
        customer_key,
        order_date,
        sales_amount_eur
    from orders
    where customer_key is not null and item_quantity > 0
),

data_end as (
    select max(order_date) as data_end_date
    from orders
    where order_date <= current_date
),

outcomes as (
    select
        snapshots.customer_key,
        snapshots.snapshot_kind,
        snapshots.feature_as_of_date,
        coalesce(sum(purchases.sales_amount_eur) filter (
            where purchases.order_date <= snapshots.feature_as_of_date + {{ value_days }}
        ), 0) as next_revenue_eur,
        count(distinct purchases.order_date) filter (
            where purchases.order_date <= snapshots.feature_as_of_date + {{ value_days }}
        ) as next_purchase_days,
        count(purchases.order_date) filter (
            where purchases.order_date <= snapshots.feature_as_of_date + {{ churn_days }}
        ) as churn_window_purchases
    from snapshots
    left join purchases
        on
            snapshots.customer_key = purchases.customer_key
            and snapshots.feature_as_of_date < purchases.order_date
    group by snapshots.customer_key, snapshots.snapshot_kind, snapshots.feature_as_of_date
),

final as (
    select
        outcomes.customer_key,
        outcomes.snapshot_kind,
        outcomes.feature_as_of_date,
        cast(outcomes.feature_as_of_date + {{ value_days }} as date) as value_window_end,
        cast(outcomes.feature_as_of_date + {{ churn_days }} as date) as churn_window_end,
        coalesce(data_end.data_end_date >= outcomes.feature_as_of_date + {{ value_days }}, false)
            as is_value_label_complete,
        coalesce(data_end.data_end_date >= outcomes.feature_as_of_date + {{ churn_days }}, false)
            as is_churn_label_complete,
        cast(outcomes.next_revenue_eur as double) as next_revenue_eur,
        outcomes.next_purchase_days,
        outcomes.churn_window_purchases = 0 as is_churned
    from outcomes
    cross join data_end
)

select * from final
