{#- Recency, frequency and monetary value per purchasing customer as of
    int_as_of_date (measures and quintile scores: int_customer_rfm), with
    tenure and the named segment of the (R, FM) cell from seed rfm_segments. -#}
with

rfm as (
    select * from {{ ref('int_customer_rfm') }}
),

customers as (
    select
        customer_key,
        signup_at
    from {{ ref('int_customers') }}
),

rfm_segments as not materialized (
    select * from {{ ref('rfm_segments') }}
),

final as (
    select
        {{ customer_key_from_uuid('rfm.customer_key') }} as customer_key,
        rfm.as_of_date,
        rfm.first_order_date,
        rfm.last_order_date,
        rfm.recency_days,
        rfm.frequency,
        rfm.monetary_eur,
        rfm.avg_order_value_eur,
        rfm.returns_amount_eur,
        date_diff(
            'day',
            least(rfm.first_order_date, {{ to_business_date('customers.signup_at') }}),
            rfm.as_of_date
        ) as tenure_days,
        rfm.r_score,
        rfm.f_score,
        rfm.m_score,
        rfm.fm_score,
        rfm.rfm_cell,
        rfm_segments.rfm_segment,
        rfm_segments.suggested_action
    from rfm
    left join customers on rfm.customer_key = customers.customer_key
    left join rfm_segments
        on
            rfm.r_score between rfm_segments.r_score_min and rfm_segments.r_score_max
            and rfm.fm_score between rfm_segments.fm_score_min and rfm_segments.fm_score_max
)

select * from final
