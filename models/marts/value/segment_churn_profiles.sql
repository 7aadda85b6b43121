{#- Churn and value per micro-segment, next to segment_profiles: so lapsing
    high-value customers can be found by segment before they lapse. One row
    per segment of customer_segments: its size, the customers with a churn
    score (customer_value: a purchase by as_of_date), their mean churn risk,
    the share at high risk (churn_risk >= microseg__churn_risk_threshold), the
    at-risk high-value and lapsed high-value counts (customer_value's flags,
    defined there once) and the mean value. -#}
{%- set threshold = var('microseg__churn_risk_threshold') %}
with

segments as (
    select * from {{ ref('customer_segments') }}
),

customer_value as not materialized (
    select * from {{ ref('customer_value') }}
),

per_segment as (
    select
        s.segment_id,
        any_value(s.segment_name) as segment_name,
        max(s.as_of_date) as as_of_date,
        count(*) as customer_count,
        count(v.churn_risk) as scored_customer_count,
        avg(v.churn_risk) as mean_churn_risk,
        avg(cast(v.churn_risk >= {{ threshold }} as double)) as high_churn_risk_share,
        count(*) filter (where v.is_at_risk_high_value) as at_risk_high_value_count,
        count(*) filter (where v.is_lapsed_high_value) as lapsed_high_value_count,
        avg(v.value_eur) as mean_value_eur
    from segments as s
    left join customer_value as v on s.customer_key = v.customer_key
    group by s.segment_id
),

final as (
    select
        cast(segment_id as integer) as segment_id,
        cast(segment_name as varchar) as segment_name,
        cast(as_of_date as date) as as_of_date,
        cast(customer_count as bigint) as customer_count,
        cast(scored_customer_count as bigint) as scored_customer_count,
        cast(mean_churn_risk as double) as mean_churn_risk,
        cast(high_churn_risk_share as double) as high_churn_risk_share,
        cast(at_risk_high_value_count as bigint) as at_risk_high_value_count,
        cast(lapsed_high_value_count as bigint) as lapsed_high_value_count,
        cast(mean_value_eur as double) as mean_value_eur
    from per_segment
)

select * from final
