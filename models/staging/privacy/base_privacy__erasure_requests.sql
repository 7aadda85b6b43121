{#- One row per distinct raw erasure-request row: the raw text columns (raw_*),
    the number of exact copies dropped, the typed and cleaned columns and
    the reject reason. stg_privacy__erasure_requests (reject_reason null)
    and stg_privacy__erasure_requests_rejected (reject_reason set) are two
    filters of this table, so every distinct raw row lands in exactly one of
    them.

    A request is never rejected for a secondary field (macros/identity/
    erasure_requests.sql): the type is read from any spelling or from the
    value, a time that does not parse stays null, a blank request_id gets one
    made from the row ('unnamed-' and the row hash's first 12 characters), and
    a request_id naming several identifiers keeps them all (the key is the
    request and its identifier). Rejected are only a row without any usable
    identifier (missing_identifier: still a request, which erasure_audit
    shows as invalid and fails the build) and a second row naming the same
    identifier under the same request id (duplicate_key: the identifier is
    erased by the row kept).

    A table, not a view: every reader (staged and rejected models, quality
    summary, erasure audit, reconciliation tests) would otherwise recompute
    the de-duplication (docs/benchmarks.md). Steps and tombstones: macros/
    staging/staging_dispositions.sql. -#}
{{ config(materialized='table') }}


with

distinct_raw_rows as (
    {{ distinct_raw_rows(source('privacy', 'erasure_requests'), 'erasure_requests') }}
),

cleaned as (
    select
        *,
        coalesce(
            {{ clean_text('raw_request_id') }},
            'unnamed-' || left({{ row_hash(raw_columns('erasure_requests'), prefix='raw_') }}, 12)
        ) as request_id,
        {{ erasure_clean_identifier('raw_identifier_value') }} as identifier_clean,
        {{ erasure_requested_at('raw_requested_at') }} as requested_at
    from distinct_raw_rows
),

typed as (
    select
        * exclude (identifier_clean),
        {{ erasure_identifier_type('raw_identifier_type', 'identifier_clean') }} as identifier_type,
        -- an email or phone is normalized like every other (and hashed in
        -- staging); a crm id keeps its case: stg_privacy__erasure_seeds
        -- matches it to the data's spelling
        case {{ erasure_identifier_type('raw_identifier_type', 'identifier_clean') }}
            when 'email' then lower(identifier_clean)
            when 'phone' then {{ normalize_phone('identifier_clean') }}
            else identifier_clean
        end as identifier_value
    from cleaned
),

checked as materialized (
    select
        *,
        request_id || '|' || coalesce(identifier_type, '') || '|' || coalesce(identifier_value, '') as request_key,
        case
            when identifier_value is null then 'missing_identifier'
        end as check_reason
    from typed
),

final as (
    {{ with_key_reject_reason(
        'checked',
        'request_key',
        'erasure_requests',
        survivor_order='requested_at asc nulls last'
    ) }}
)

select * from final
