-- A campaign list: high-value customers slipping away (at_risk, cannot_lose) who
-- consented to marketing and still open emails, with what they buy most.
with

rfm as (
    select * from {{ ref('mart_customer_rfm') }}
),

engagement as (
    select * from {{ ref('mart_customer_engagement') }}
),

customers as (
    select * from {{ ref('dim_customers') }}
),

final as (
    select
        rfm.customer_key,
        rfm.rfm_segment,
        rfm.recency_days,
        rfm.frequency,
        rfm.monetary_eur,
        engagement.top_category,
        engagement.preferred_channel,
        engagement.email_open_rate_90d,
        engagement.engagement_score
    from rfm
    inner join customers on rfm.customer_key = customers.customer_key
    inner join engagement on rfm.customer_key = engagement.customer_key
    where
        rfm.rfm_segment in ('at_risk', 'cannot_lose')
        and customers.is_marketing_consent
        and coalesce(engagement.email_open_rate_90d, 0) > 0
)

select * from final
order by monetary_eur desc
