{#- Recency, frequency and monetary value per purchasing customer as of
    int_as_of_date, defined once for mart_customer_rfm and
    int_customer_hygiene. Orders after the as-of date are ignored; frequency
    counts orders with a sale (an order holding only returns does not count);
    monetary value is net of returns and discounts, in EUR. Scores are
    quintiles (5 = most recent / most frequent / highest spend; ties share a
    score). -#}
with

as_of as (
    select as_of_date from {{ ref('int_as_of_date') }}
),

orders as (
    select * from {{ ref('int_behaviour__orders') }}
),

orders_as_of as (
    select orders.*
    from orders
    cross join as_of
    where
        orders.customer_key is not null
        and orders.order_date <= as_of.as_of_date
),

per_customer as (
    select
        customer_key,
        min(order_date) filter (where sales_amount_eur > 0) as first_order_date,
        max(order_date) filter (where sales_amount_eur > 0) as last_order_date,
        count(*) filter (where sales_amount_eur > 0) as frequency,
        sum(net_revenue_eur) as monetary_eur,
        sum(returns_amount_eur) as returns_amount_eur
    from orders_as_of
    group by customer_key
),

measured as (
    select
        per_customer.customer_key,
        as_of.as_of_date,
        per_customer.first_order_date,
        per_customer.last_order_date,
        date_diff('day', per_customer.last_order_date, as_of.as_of_date) as recency_days,
        cast(per_customer.frequency as bigint) as frequency,
        cast(per_customer.monetary_eur as decimal(18, 2)) as monetary_eur,
        cast(per_customer.monetary_eur / per_customer.frequency as decimal(18, 2)) as avg_order_value_eur,
        cast(per_customer.returns_amount_eur as decimal(18, 2)) as returns_amount_eur
    from per_customer
    cross join as_of
    where per_customer.frequency > 0
),

scored as (
    select
        *,
        {{ quintile_score('recency_days', descending=true) }} as r_score,
        {{ quintile_score('frequency') }} as f_score,
        {{ quintile_score('monetary_eur') }} as m_score
    from measured
),

final as (
    select
        *,
        cast(round((f_score + m_score) / 2.0) as integer) as fm_score,
        cast(r_score as varchar) || cast(f_score as varchar) || cast(m_score as varchar) as rfm_cell
    from scored
)

select * from final
