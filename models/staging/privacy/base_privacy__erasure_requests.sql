{#- One row per distinct raw erasure-request row: the raw text columns (raw_*),
    the number of exact copies dropped, the typed and cleaned columns and
    the reject reason. stg_privacy__erasure_requests (reject_reason null)
    and stg_privacy__erasure_requests_rejected (reject_reason set) are two
    filters of this view, so every distinct raw row lands in exactly one of
    them.

    A view, not a table: it is wide (raw and typed columns), and writing it
    costs more than computing it twice (once per reader). -#}
{{ config(materialized='view') }}

{%- set raw_columns = raw_columns('erasure_requests') %}

with

source as (
    select * from {{ source('privacy', 'erasure_requests') }}
),

raw_rows as (
    select {{ select_raw_columns('erasure_requests') }}
    from source
),

distinct_raw_rows as (
    -- exact duplicates (every raw column equal, nulls equal) collapse into one
    -- row; the copies beyond the first are counted, neither staged nor rejected
    select
        *,
        count(*) - 1 as exact_duplicate_count
    from raw_rows
    group by all
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

colliding_keys as (
    -- ids carried by more than one distinct row: only these need ranking,
    -- which is far cheaper than sorting the whole table
    select request_id
    from checked
    where request_id is not null
    group by request_id
    having count(*) > 1
),

ranked_collisions as (
    -- among distinct rows sharing a request id keep a row that passes the
    -- checks, then the first by requested_at, then the lowest row_hash (raw file
    -- order is not stable in DuckDB)
    select
        request_id,
        {{ row_hash(raw_columns, prefix='raw_') }} as row_hash,
        row_number() over (
            partition by request_id
            order by
                check_reason is null desc,
                requested_at asc nulls last,
                {{ row_hash(raw_columns, prefix='raw_') }} asc
        ) as key_rank
    from checked
    where request_id in (select colliding_keys.request_id from colliding_keys)
),

kept_rows as (
    select
        request_id,
        row_hash as kept_row_hash
    from ranked_collisions
    where key_rank = 1
),

final as (
    select
        checked.*,
        case
            when checked.request_id is null then 'missing_key'
            -- the row hash is only computed for the few rows of colliding ids
            when
                kept_rows.request_id is not null
                and {{ row_hash(raw_columns, prefix='checked.raw_') }} <> kept_rows.kept_row_hash
                then 'duplicate_key'
            else checked.check_reason
        end as reject_reason
    from checked
    left join kept_rows on checked.request_id = kept_rows.request_id
)

select * from final
