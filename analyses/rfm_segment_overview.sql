-- RFM segments at a glance: size, share, value and what to do with each.
-- Compile with `dbt compile --select rfm_segment_overview` and run the SQL in
-- target/compiled/ against the DuckDB file, or paste it into a BI tool.
with

rfm as (
    select * from {{ ref('mart_customer_rfm') }}
),

customers as (
    select
        customer_key,
        is_marketing_consent
    from {{ ref('dim_customers') }}
),

per_segment as (
    select
        rfm.rfm_segment,
        any_value(rfm.suggested_action) as suggested_action,
        count(*) as customers,
        count(*) filter (where customers.is_marketing_consent) as contactable_customers,
        round(avg(rfm.recency_days)) as avg_recency_days,
        round(avg(rfm.frequency), 1) as avg_orders,
        round(avg(rfm.monetary_eur), 2) as avg_net_revenue_eur,
        round(sum(rfm.monetary_eur), 2) as total_net_revenue_eur
    from rfm
    left join customers on rfm.customer_key = customers.customer_key
    group by rfm.rfm_segment
),

final as (
    select
        rfm_segment,
        customers,
        round(100.0 * customers / sum(customers) over (), 1) as pct_customers,
        round(100.0 * total_net_revenue_eur / sum(total_net_revenue_eur) over (), 1) as pct_revenue,
        contactable_customers,
        avg_recency_days,
        avg_orders,
        avg_net_revenue_eur,
        suggested_action
    from per_segment
)

select * from final
order by pct_revenue desc
