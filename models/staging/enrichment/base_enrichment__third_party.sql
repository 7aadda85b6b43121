{#- One row per distinct raw third-party row with its disposition: the raw text
    columns (raw_*), the number of exact copies dropped, the typed and cleaned
    columns and the reject reason. stg_enrichment__third_party (reject_reason null) and
    stg_enrichment__third_party_rejected (reject_reason set) are two filters of this
    table, so every distinct raw row lands in exactly one of them, unless it is
    erased: a row whose email is in
    stg_privacy__erased_identifiers is kept as a tombstone (erasure_request_id
    and the duplicate count, nothing else) and reaches neither.

    The provider keys its rows by email, so the normalized email is the key: a
    row without one is rejected as missing_identifier (in the place of
    missing_key), and two distinct rows for the same normalized email collide
    as duplicate_key.

    A table, not a view: every reader (staged and rejected models, quality
    summary, erasure audit, reconciliation tests) would otherwise recompute
    the de-duplication (docs/benchmarks.md). Steps and tombstones: macros/
    staging/staging_dispositions.sql. -#}
{{ config(materialized='table') }}


{%- set interests = [
    'interest_sustainability', 'interest_outdoors', 'interest_fashion', 'interest_tech', 'interest_home',
    'interest_deals',
] %}

with

distinct_raw_rows as (
    {{ distinct_raw_rows(source('enrichment', 'third_party'), 'third_party') }}
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

checked as materialized (
    -- every check except the two key checks, in reason-code order
    select
        *,
        case
            when {{ timestamp_reason('raw_provided_at', 'provided_at') }} is not null
                then {{ timestamp_reason('raw_provided_at', 'provided_at') }}
            -- a blank score or household size is unknown (null); a non-blank
            -- one that does not parse is an invalid number
            when
                ({{ clean_text('raw_household_size') }} is not null and household_size is null)
                {%- for interest in interests %}
                    or ({{ clean_text('raw_' ~ interest) }} is not null and {{ interest }} is null)
                {%- endfor %}
                then 'invalid_number'
            when
                household_size > 100
                or {{ any_longer_than(['email'], var('microseg__max_text_length')) }}
                then 'out_of_range'
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

dispositions as (
    {{ with_key_reject_reason(
        'checked',
        'email',
        'third_party',
        survivor_order='provided_at desc nulls last',
        missing_reason='missing_identifier'
    ) }}
),

final as (
    {{ with_erasure_request_id('dispositions', [('email_hash', hash_pii('dispositions.email'))]) }}
)

{{ without_erased_content('final', raw_table='third_party') }}
