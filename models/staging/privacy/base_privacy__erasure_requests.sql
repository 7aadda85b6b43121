{#- One row per distinct raw erasure-request row: the raw text columns (raw_*),
    the number of exact copies dropped, the typed and cleaned columns and
    the reject reason. stg_privacy__erasure_requests (reject_reason null)
    and stg_privacy__erasure_requests_rejected (reject_reason set) are two
    filters of this table, so every distinct raw row lands in exactly one of
    them.

    A table, not a view: every reader (staged and rejected models, quality
    summary, erasure audit, reconciliation tests) would otherwise recompute
    the de-duplication (docs/benchmarks.md). Steps and tombstones: macros/
    staging/staging_dispositions.sql. -#}
{{ config(materialized='table') }}


with

distinct_raw_rows as (
    {{ distinct_raw_rows(source('privacy', 'erasure_requests'), 'erasure_requests') }}
),

typed as (
    select
        *,
        {{ clean_text('raw_request_id') }} as request_id,
        lower({{ clean_text('raw_identifier_type') }}) as identifier_type,
        -- an email is normalized like every other email (and hashed in
        -- staging); a crm id is kept as it is
        case lower({{ clean_text('raw_identifier_type') }})
            when 'email' then {{ normalize_email('raw_identifier_value') }}
            else {{ clean_text('raw_identifier_value') }}
        end as identifier_value,
        {{ to_utc_timestamp('raw_requested_at') }} as requested_at
    from distinct_raw_rows
),

checked as (
    -- every check except the two key checks, in reason-code order
    select
        *,
        case
            when requested_at is null then 'invalid_timestamp'
            when identifier_type is null or identifier_type not in ('email', 'crm_id') then 'invalid_value'
            when identifier_value is null then 'missing_identifier'
        end as check_reason
    from typed
),

final as (
    {{ with_key_reject_reason(
        'checked',
        'request_id',
        'erasure_requests',
        survivor_order='requested_at asc nulls last'
    ) }}
)

select * from final
