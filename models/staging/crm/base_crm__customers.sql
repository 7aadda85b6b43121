{#- One row per distinct raw CRM row with its disposition (macros in
    macros/staging/staging_dispositions.sql): the raw text columns (raw_*, on rejected rows only), the
    number of exact copies dropped, the typed and cleaned columns and the
    reject reason. stg_crm__customers (reject_reason null) and
    stg_crm__customers_rejected (reject_reason set) are two filters of this
    table, so every distinct raw row lands in exactly one of them, unless it is
    erased: a row whose crm id, email or phone is in
    stg_privacy__erased_identifiers is kept as a tombstone (erasure_request_id
    and the duplicate count, nothing else) and reaches neither.

    A table: the staged and rejected models, the identity graph, the quality
    summary, the erasure audit and the reconciliation tests all read it, and
    recomputing the de-duplication for each of them cost more than writing it
    once (docs/benchmarks.md). -#}
{{ config(materialized='table') }}

with

distinct_raw_rows as (
    {{ distinct_raw_rows(source('crm', 'crm_customers'), 'crm_customers') }}
),

typed as (
    select
        *,
        {{ clean_text('raw_crm_id') }} as crm_customer_id,
        lower({{ clean_text('raw_source_system') }}) as source_system,
        {{ normalize_email('raw_email') }} as email,
        {{ normalize_phone('raw_phone') }} as phone,
        {{ clean_name('raw_first_name') }} as first_name_clean,
        {{ clean_name('raw_last_name') }} as last_name_clean,
        nullif(split_part({{ normalize_email('raw_email') }}, '@', 2), '') as email_domain,
        -- crm_b writes DD/MM/YYYY; ISO is tried first for both systems
        {{ parse_birth_date('raw_birth_date') }} as birth_date,
        case lower({{ clean_text('raw_gender') }})
            when 'f' then 'female'
            when 'female' then 'female'
            when 'm' then 'male'
            when 'male' then 'male'
            when 'x' then 'diverse'
            when 'diverse' then 'diverse'
        end as gender,
        {{ title_case(clean_text('raw_city')) }} as city,
        {{ clean_text('raw_region') }} as region,
        {{ clean_text('raw_postcode') }} as postcode,
        {{ to_utc_timestamp('raw_signup_at') }} as signup_at,
        case lower({{ clean_text('raw_marketing_consent') }})
            when 'true' then true
            when 'y' then true
            when 'yes' then true
            when '1' then true
            when 'false' then false
            when 'n' then false
            when 'no' then false
            when '0' then false
        end as is_marketing_consent,
        {{ to_utc_timestamp('raw_consent_updated_at') }} as consent_updated_at,
        {{ to_utc_timestamp('raw_updated_at') }} as updated_at
    from distinct_raw_rows
),

contained as (
    -- PII typed into a free-text attribute is emptied, not kept: these columns
    -- leave staging in clear (dim_customers); pii_nulled_columns flags the row
    select
        * replace (
            {{ without_pii('city') }} as city,
            {{ without_pii('region') }} as region,
            {{ without_pii('postcode') }} as postcode,
            case
                -- a domain, not whatever followed an @ (a phone number, a second address)
                when regexp_full_match(email_domain, '[\p{L}0-9-]+(\.[\p{L}0-9-]+)*\.\p{L}{2,}') then email_domain
            end as email_domain
        ),
        {{ pii_nulled_columns(['city', 'region', 'postcode']) }} as pii_nulled_columns
    from typed
),

checked as materialized (
    -- every check except the two key checks, in reason-code order; a record
    -- with only an id and a signup time is a customer (no identifier needed)
    select
        *,
        case
            when
                {{ identifier_has_pii('crm_customer_id') }}
                or {{ identifier_has_pii('first_name_clean', names_too=true) }}
                or {{ identifier_has_pii('last_name_clean', names_too=true) }}
                then 'pii_in_text'
            when {{ timestamp_reason('raw_signup_at', 'signup_at') }} is not null
                then {{ timestamp_reason('raw_signup_at', 'signup_at') }}
            when {{ timestamp_reason('raw_updated_at', 'updated_at', required=false) }} is not null
                then {{ timestamp_reason('raw_updated_at', 'updated_at', required=false) }}
            when {{ timestamp_reason('raw_consent_updated_at', 'consent_updated_at', required=false) }} is not null
                then {{ timestamp_reason('raw_consent_updated_at', 'consent_updated_at', required=false) }}
            when {{ birth_date_reason('raw_birth_date', 'birth_date') }} is not null
                then {{ birth_date_reason('raw_birth_date', 'birth_date') }}
            when
                {{ any_longer_than(['first_name_clean', 'last_name_clean', 'city'], var('microseg__max_name_length')) }}
                or {{ any_longer_than(
                    ['crm_customer_id', 'email', 'region', 'postcode'], var('microseg__max_text_length')
                ) }}
                then 'out_of_range'
            when source_system is null or source_system not in ('crm_a', 'crm_b') then 'invalid_value'
        end as check_reason
    from contained
),

dispositions as (
    {{ with_key_reject_reason(
        'checked',
        'crm_customer_id',
        'crm_customers',
        survivor_order='updated_at desc nulls last'
    ) }}
),

final as (
    {{ with_erasure_request_id('dispositions', [
            ('crm_id', 'dispositions.crm_customer_id'),
            ('email_hash', hash_pii('dispositions.email')),
            ('phone_hash', hash_pii('dispositions.phone')),
        ]) }}
)

{{ without_erased_content('final', raw_table='crm_customers') }}
