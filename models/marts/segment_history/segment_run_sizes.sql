{#- Size and share of every segment in every segmentation run (customers and
    net spend), from segment_membership_history: the segment mix over time. -#}
with

history as (
    select * from {{ ref('segment_membership_history') }}
),

per_segment as (
    select
        fit_id,
        fitted_at,
        as_of_date,
        segment_id,
        min(segment_name) as segment_name,
        count(*) as customer_count,
        coalesce(sum(monetary_eur), 0) as monetary_eur
    from history
    group by fit_id, fitted_at, as_of_date, segment_id
),

final as (
    select
        fit_id,
        cast(segment_id as bigint) as segment_id,
        cast(fitted_at as timestamp) as fitted_at,
        cast(as_of_date as date) as as_of_date,
        cast(dense_rank() over (order by fitted_at, fit_id) as bigint) as run_number,
        segment_name,
        cast(customer_count as bigint) as customer_count,
        cast(customer_count / sum(customer_count) over (partition by fit_id) as double) as customer_share,
        cast(monetary_eur as double) as monetary_eur,
        cast(
            monetary_eur / nullif(sum(monetary_eur) over (partition by fit_id), 0) as double
        ) as monetary_share
    from per_segment
)

select * from final
