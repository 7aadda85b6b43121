-- mart_customer_rfm must agree with an independent recomputation from fct_orders:
-- same customers, same frequency and monetary value, nothing after as_of_date.
with

as_of as (
    select as_of_date from {{ ref('int_as_of_date') }}
),

expected as (
    select
        orders.customer_key,
        count(*) filter (where orders.sales_amount_eur > 0) as frequency,
        sum(orders.net_revenue_eur) as monetary_eur
    from {{ ref('fct_orders') }} as orders
    cross join as_of
    where orders.customer_key is not null and orders.order_date <= as_of.as_of_date
    group by orders.customer_key
    having count(*) filter (where orders.sales_amount_eur > 0) > 0
),

actual as (
    select
        customer_key,
        frequency,
        monetary_eur
    from {{ ref('mart_customer_rfm') }}
)

select
    coalesce(expected.customer_key, actual.customer_key) as customer_key,
    expected.frequency as expected_frequency,
    actual.frequency as actual_frequency,
    expected.monetary_eur as expected_monetary_eur,
    actual.monetary_eur as actual_monetary_eur
from expected
full outer join actual on expected.customer_key = actual.customer_key
where
    expected.customer_key is null
    or actual.customer_key is null
    or expected.frequency != actual.frequency
    or expected.monetary_eur != actual.monetary_eur
