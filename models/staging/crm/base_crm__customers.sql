{#- One row per distinct raw CRM row with its disposition (macros in
    macros/staging/staging_dispositions.sql): the raw text columns (raw_*), the
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
        {{ title_case('raw_city') }} as city,
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

checked as (
    -- every check except the two key checks, in reason-code order
    select
        *,
        case
            when signup_at is null then 'invalid_timestamp'
            when source_system is null or source_system not in ('crm_a', 'crm_b') then 'invalid_value'
            when
                email is null
                and phone is null
                and first_name_clean is null
                and last_name_clean is null
                then 'missing_identifier'
        end as check_reason
    from typed
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

{{ without_erased_content('final') }}
