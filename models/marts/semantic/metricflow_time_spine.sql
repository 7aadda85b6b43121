{#- One row per day: the time spine MetricFlow joins metrics to (cumulative
    and offset metrics, days without rows). Built with DuckDB's
    generate_series, not dbt_utils.date_spine (the dbt hub is unreachable).
    From microseg__min_valid_date (staging rejects anything earlier) to the
    end of the year five years after the run: fixed per run, ~13k rows. -#}
with

days as (
    select cast(day_ts as date) as date_day
    from generate_series(
        cast('{{ var("microseg__min_valid_date") }}' as timestamp),
        cast(date_trunc('year', current_date) + interval 6 year - interval 1 day as timestamp),
        interval 1 day
    ) as spine (day_ts)
),

final as (
    select date_day
    from days
)

select * from final
