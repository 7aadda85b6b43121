{#- One row per customer with a purchase as of as_of_date: expected value over
    microseg__value_horizon_months and churn risk (ml.customer_value_predictions),
    value deciles (10 = highest; ties ordered by customer_key so every decile
    has its share), the decile of past spend, and the flags marketers ask for:
    lapsed (no purchase for microseg__churn_inactive_days), lapsed high value
    (lapsed and past-spend decile >= microseg__value_high_value_decile) and at
    risk high value (not yet lapsed, high past spend or expected value, churn
    risk >= microseg__churn_risk_threshold: the ones to act on before they lapse). -#}
{%- set churn_days = var('microseg__churn_inactive_days') | int %}
{%- set high_decile = var('microseg__value_high_value_decile') | int %}
with

predictions as (
    select * from {{ ref('customer_value_predictions') }}
),

ranked as (
    select
        *,
        cast(ntile(10) over (order by value_eur, customer_key) as integer) as value_decile,
        cast(ntile(10) over (order by monetary_eur, customer_key) as integer) as past_spend_decile
    from predictions
),

final as (
    select
        customer_key,
        as_of_date,
        value_source,
        cast(value_eur as double) as value_eur,
        value_decile,
        cast(btyd_clv_eur as double) as btyd_clv_eur,
        cast(model_clv_eur as double) as model_clv_eur,
        cast(btyd_expected_purchases as double) as expected_purchases,
        cast(btyd_expected_spend_eur as double) as expected_spend_per_purchase_eur,
        cast(btyd_expected_revenue_eur as double) as btyd_expected_revenue_eur,
        cast(model_expected_revenue_eur as double) as model_expected_revenue_eur,
        cast(btyd_p_alive as double) as p_alive,
        cast(churn_risk as double) as churn_risk,
        cast(monetary_eur as double) as past_spend_eur,
        past_spend_decile,
        cast(recency_days as integer) as recency_days,
        recency_days > {{ churn_days }} as is_lapsed,
        recency_days > {{ churn_days }} and past_spend_decile >= {{ high_decile }} as is_lapsed_high_value,
        recency_days <= {{ churn_days }}
        and (past_spend_decile >= {{ high_decile }} or value_decile >= {{ high_decile }})
        and churn_risk >= {{ var('microseg__churn_risk_threshold') }} as is_at_risk_high_value
    from ranked
)

select * from final
