{#- One row per erasure request and identifier it names (a request id naming
    several identifiers has a row for each). -#}
with

erasure_requests as (
    select * from {{ ref('base_privacy__erasure_requests') }}
    where reject_reason is null
),

final as (
    select
        request_id,
        identifier_type,
        case
            when identifier_type in ('email', 'phone') then {{ hash_pii('identifier_value') }}
            else identifier_value
        end as identifier_hash,
        requested_at
    from erasure_requests
)

select * from final
