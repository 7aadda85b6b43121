{#- One row per customer of the scoring snapshot: calibrated propensity of the
    target within the horizon after as_of_date, its decile and percentile
    (10 / 100 = most likely; ties share a bucket), the tier from var
    microseg__propensity_tier_thresholds, and the three features that moved
    this customer's score most (contributions in log-odds,
    microseg__propensity_reasons). -#}
{%- set thresholds = var('microseg__propensity_tier_thresholds') %}
with

predictions as (
    select * from {{ ref('propensity_predictions') }}
),

ranked as (
    select
        *,
        rank() over (order by propensity) as score_rank,
        count(*) over () as n_scored
    from predictions
),

final as (
    select
        customer_key,
        cast(propensity as double) as propensity,
        cast(1 + floor(10.0 * (score_rank - 1) / n_scored) as integer) as decile,
        cast(1 + floor(100.0 * (score_rank - 1) / n_scored) as integer) as percentile,
        case
            when propensity >= {{ thresholds['high'] }} then 'high'
            when propensity >= {{ thresholds['medium'] }} then 'medium'
            else 'low'
        end as tier,
        reason_1,
        reason_2,
        reason_3,
        model_id,
        cast(as_of_date as date) as as_of_date
    from ranked
)

select * from final
