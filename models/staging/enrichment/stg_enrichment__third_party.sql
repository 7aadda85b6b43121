with

third_party as (
    select * from {{ ref('base_enrichment__third_party') }}
    where reject_reason is null and erasure_request_id is null
),

final as (
    select
        {{ hash_pii('email') }} as email_hash,
        interest_sustainability,
        interest_outdoors,
        interest_fashion,
        interest_tech,
        interest_home,
        interest_deals,
        income_band,
        household_size,
        provided_at
    from third_party
)

select * from final
