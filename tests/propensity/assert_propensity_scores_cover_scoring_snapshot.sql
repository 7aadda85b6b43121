{#- Every customer of the scoring snapshot is scored exactly once and nobody
    else is: propensity_scores and the scoring rows of propensity_features hold
    the same customer_keys (uniqueness is a generic test on the mart). Returns
    the customers found on one side only. -#}
with

scored as (
    select customer_key from {{ ref('propensity_scores') }}
),

expected as (
    select customer_key from {{ ref('propensity_features') }}
    where snapshot_kind = 'scoring'
),

final as (
    select
        coalesce(scored.customer_key, expected.customer_key) as customer_key,
        case when scored.customer_key is null then 'not scored' else 'scored but not in snapshot' end as finding
    from scored
    full outer join expected on scored.customer_key = expected.customer_key
    where scored.customer_key is null or expected.customer_key is null
)

select * from final
