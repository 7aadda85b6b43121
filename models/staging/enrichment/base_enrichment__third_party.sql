{#- One row per distinct raw third-party row: the raw text columns (raw_*), the
    number of exact copies dropped, the typed and cleaned columns and the
    reject reason. stg_enrichment__third_party (reject_reason null) and
    stg_enrichment__third_party_rejected (reject_reason set) are two filters
    of this view, so every distinct raw row lands in exactly one of them,
    unless it is erased: a row whose email is in
    stg_privacy__erased_identifiers carries erasure_request_id and reaches
    neither (counted as erased).

    The provider keys its rows by email, so the normalized email is the key: a
    row without one is rejected as missing_identifier (in the place of
    missing_key), and two distinct rows for the same normalized email collide
    as duplicate_key.

    A view, not a table: it is wide (raw and typed columns), and writing it
    costs more than computing it twice (once per reader). -#}
{{ config(materialized='view') }}

{%- set raw_columns = raw_columns('third_party') %}
{%- set interests = [
    'interest_sustainability', 'interest_outdoors', 'interest_fashion', 'interest_tech', 'interest_home',
    'interest_deals',
] %}

with

source as (
    select * from {{ source('enrichment', 'third_party') }}
),

erased_identifiers as (
    select * from {{ ref('stg_privacy__erased_identifiers') }}
),

raw_rows as (
    select {{ select_raw_columns('third_party') }}
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
        {{ normalize_email('raw_email') }} as email,
        {%- for interest in interests %}
            {{ try_cast_number('raw_' ~ interest) }} as {{ interest }},
        {%- endfor %}
        lower({{ clean_text('raw_income_band') }}) as income_band,
        {{ try_cast_integer('raw_household_size') }} as household_size,
        {{ to_utc_timestamp('raw_provided_at') }} as provided_at
    from distinct_raw_rows
),

checked as (
    -- every check except the two key checks, in reason-code order
    select
        *,
        case
            when provided_at is null then 'invalid_timestamp'
            -- a blank score or household size is unknown (null); a non-blank
            -- one that does not parse is an invalid number
            when
                ({{ clean_text('raw_household_size') }} is not null and household_size is null)
                {%- for interest in interests %}
                    or ({{ clean_text('raw_' ~ interest) }} is not null and {{ interest }} is null)
                {%- endfor %}
                then 'invalid_number'
            when
                household_size < 1
                or income_band not in ('<25k', '25-50k', '50-75k', '75-100k', '100k+')
                {%- for interest in interests %}
                    or {{ interest }} not between 0 and 1
                {%- endfor %}
                then 'invalid_value'
        end as check_reason
    from typed
),

colliding_keys as (
    -- ids carried by more than one distinct row: only these need ranking,
    -- which is far cheaper than sorting the whole table
    select email
    from checked
    where email is not null
    group by email
    having count(*) > 1
),

ranked_collisions as (
    -- among distinct rows sharing an email keep a row that passes the checks,
    -- then the latest provided_at, then the lowest row_hash
    select
        email,
        {{ row_hash(raw_columns, prefix='raw_') }} as row_hash,
        row_number() over (
            partition by email
            order by
                check_reason is null desc,
                provided_at desc nulls last,
                {{ row_hash(raw_columns, prefix='raw_') }} asc
        ) as key_rank
    from checked
    where email in (select colliding_keys.email from colliding_keys)
),

kept_rows as (
    select
        email,
        row_hash as kept_row_hash
    from ranked_collisions
    where key_rank = 1
),

final as (
    select
        checked.*,
        case
            when checked.email is null then 'missing_identifier'
            -- the row hash is only computed for the few rows of colliding ids
            when
                kept_rows.email is not null
                and {{ row_hash(raw_columns, prefix='checked.raw_') }} <> kept_rows.kept_row_hash
                then 'duplicate_key'
            else checked.check_reason
        end as reject_reason,
        erased_email.request_id as erasure_request_id
    from checked
    left join kept_rows on checked.email = kept_rows.email
    left join erased_identifiers as erased_email
        on
            erased_email.identifier_type = 'email_hash'
            and {{ hash_pii('checked.email') }} = erased_email.identifier_value
)

select * from final
