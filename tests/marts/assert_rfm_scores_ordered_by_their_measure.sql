-- Scores must follow their measure: a customer with strictly lower recency (more
-- recent) never has a lower r_score; strictly higher frequency or monetary value
-- never has a lower f_score or m_score. Checked on the score bands' bounds.
with

rfm as not materialized (
    select * from {{ ref('mart_customer_rfm') }}
),

bands as (
    select
        'recency' as measure,
        r_score as score,
        -max(recency_days) as band_low,
        -min(recency_days) as band_high
    from rfm
    group by r_score
    union all
    select
        'frequency' as measure,
        f_score as score,
        min(frequency) as band_low,
        max(frequency) as band_high
    from rfm
    group by f_score
    union all
    select
        'monetary' as measure,
        m_score as score,
        min(monetary_eur) as band_low,
        max(monetary_eur) as band_high
    from rfm
    group by m_score
),

violations as (
    select
        lower_band.measure,
        lower_band.score as lower_score,
        higher_band.score as higher_score,
        lower_band.band_high as lower_band_high,
        higher_band.band_low as higher_band_low
    from bands as lower_band
    inner join bands as higher_band
        on
            lower_band.measure = higher_band.measure
            and lower_band.score < higher_band.score
    -- a lower score band must lie entirely below every higher score band
    where lower_band.band_high >= higher_band.band_low
)

select * from violations
