{#- Every customer of two consecutive runs is in exactly one cell of their
    migration matrix: per pair, the from side sums to the earlier run's
    population and the to side to the later run's (segment_membership_history),
    customers and net spend alike. Returns each pair and side that does not add up. -#}
with

migration as not materialized (
    select * from {{ ref('segment_migration') }}
),

history as (
    select * from {{ ref('segment_membership_history') }}
),

population as (
    select
        fit_id,
        count(*) as customers,
        coalesce(sum(monetary_eur), 0) as monetary_eur
    from history
    group by fit_id
),

sides as (
    select
        from_fit_id as fit_id,
        'from' as side,
        sum(customer_count) filter (where from_segment_id is not null) as customers,
        sum(from_monetary_eur) as monetary_eur
    from migration
    group by from_fit_id
    union all
    select
        to_fit_id as fit_id,
        'to' as side,
        sum(customer_count) filter (where to_segment_id is not null) as customers,
        sum(to_monetary_eur) as monetary_eur
    from migration
    group by to_fit_id
),

final as (
    select
        sides.fit_id,
        sides.side,
        sides.customers,
        population.customers as population
    from sides
    left join population on sides.fit_id = population.fit_id
    where
        population.customers is null
        or sides.customers != population.customers
        or abs(sides.monetary_eur - population.monetary_eur) > 0.01 * (1 + abs(population.monetary_eur))
)

select * from final
