{#- Migration matrix between consecutive segmentation runs: per pair of runs
    (ordered by fitted_at) and per (from segment, to segment) the customers and
    their net spend. from_segment_id is null for customers new in the later run,
    to_segment_id null for customers who left it (no longer active, or erased);
    so the rows of a pair sum to the earlier run's population on the from side
    and to the later run's on the to side (singular test). -#}
with

history as not materialized (
    select * from {{ ref('segment_membership_history') }}
),

runs as (
    select distinct
        fit_id,
        fitted_at,
        as_of_date
    from history
),

pairs as (
    select
        lag(fit_id) over (order by fitted_at, fit_id) as from_fit_id,
        lag(as_of_date) over (order by fitted_at, fit_id) as from_as_of_date,
        fit_id as to_fit_id,
        as_of_date as to_as_of_date
    from runs
),

consecutive as (
    select * from pairs
    where from_fit_id is not null
),

before_members as (
    select
        consecutive.to_fit_id,
        history.customer_key,
        history.segment_id,
        history.monetary_eur
    from consecutive
    inner join history on consecutive.from_fit_id = history.fit_id
),

after_members as (
    select
        consecutive.to_fit_id,
        history.customer_key,
        history.segment_id,
        history.monetary_eur
    from consecutive
    inner join history on consecutive.to_fit_id = history.fit_id
),

moves as (
    select
        coalesce(before_members.to_fit_id, after_members.to_fit_id) as to_fit_id,
        before_members.segment_id as from_segment_id,
        after_members.segment_id as to_segment_id,
        before_members.monetary_eur as from_monetary_eur,
        after_members.monetary_eur as to_monetary_eur
    from before_members
    full outer join after_members
        on
            before_members.to_fit_id = after_members.to_fit_id
            and before_members.customer_key = after_members.customer_key
),

matrix as (
    select
        to_fit_id,
        from_segment_id,
        to_segment_id,
        count(*) as customer_count,
        coalesce(sum(from_monetary_eur), 0) as from_monetary_eur,
        coalesce(sum(to_monetary_eur), 0) as to_monetary_eur
    from moves
    group by to_fit_id, from_segment_id, to_segment_id
),

final as (
    select
        consecutive.from_fit_id,
        consecutive.to_fit_id,
        cast(matrix.from_segment_id as bigint) as from_segment_id,
        cast(matrix.to_segment_id as bigint) as to_segment_id,
        cast(consecutive.from_as_of_date as date) as from_as_of_date,
        cast(consecutive.to_as_of_date as date) as to_as_of_date,
        case
            when matrix.from_segment_id is null then 'new'
            when matrix.to_segment_id is null then 'left'
            when matrix.from_segment_id = matrix.to_segment_id then 'stayed'
            else 'moved'
        end as movement,
        cast(matrix.customer_count as bigint) as customer_count,
        cast(matrix.from_monetary_eur as double) as from_monetary_eur,
        cast(matrix.to_monetary_eur as double) as to_monetary_eur
    from matrix
    inner join consecutive on matrix.to_fit_id = consecutive.to_fit_id
)

select * from final
