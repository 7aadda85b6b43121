{#- One row per distinct raw CRM row: the raw text columns (raw_*), the number
    of exact copies dropped, the typed and cleaned columns and the reject
    reason. stg_crm__customers (reject_reason null) and
    stg_crm__customers_rejected (reject_reason set) are two filters of this
    view, so every distinct raw row lands in exactly one of them, unless it is
    erased: a row whose crm id or email is in stg_privacy__erased_identifiers
    carries erasure_request_id and reaches neither (counted as erased).

    A view, not a table: it is wide (raw and typed columns), and writing it
    costs more than computing it twice (once per reader). -#}
{{ config(materialized='view') }}

{%- set raw_columns = raw_columns('crm_customers') %}

with

source as (
    select * from {{ source('crm', 'crm_customers') }}
),

erased_identifiers as (
    select * from {{ ref('stg_privacy__erased_identifiers') }}
),

raw_rows as (
    select {{ select_raw_columns('crm_customers') }}
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
        {{ clean_text('raw_crm_id') }} as crm_customer_id,
        lower({{ clean_text('raw_source_system') }}) as source_system,
        {{ normalize_email('raw_email') }} as email,
        {{ normalize_phone('raw_phone') }} as phone,
        {{ clean_name('raw_first_name') }} as first_name_clean,
        {{ clean_name('raw_last_name') }} as last_name_clean,
        -- crm_b writes DD/MM/YYYY; ISO is tried first for both systems
        coalesce(
            try_cast({{ clean_text('raw_birth_date') }} as date),
            try_strptime({{ clean_text('raw_birth_date') }}, '%d/%m/%Y')::date
        ) as birth_date,
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

colliding_keys as (
    -- ids carried by more than one distinct row: only these need ranking,
    -- which is far cheaper than sorting the whole table
    select crm_customer_id
    from checked
    where crm_customer_id is not null
    group by crm_customer_id
    having count(*) > 1
),

ranked_collisions as (
    -- among distinct rows sharing a crm id keep a row that passes the checks,
    -- then the latest updated_at, then the lowest row_hash (raw file order is
    -- not stable in DuckDB, so "first" is made deterministic this way)
    select
        crm_customer_id,
        {{ row_hash(raw_columns, prefix='raw_') }} as row_hash,
        row_number() over (
            partition by crm_customer_id
            order by
                check_reason is null desc,
                updated_at desc nulls last,
                {{ row_hash(raw_columns, prefix='raw_') }} asc
        ) as key_rank
    from checked
    where crm_customer_id in (select colliding_keys.crm_customer_id from colliding_keys)
),

kept_rows as (
    select
        crm_customer_id,
        row_hash as kept_row_hash
    from ranked_collisions
    where key_rank = 1
),

final as (
    select
        checked.*,
        case
            when checked.crm_customer_id is null then 'missing_key'
            -- the row hash is only computed for the few rows of colliding ids
            when
                kept_rows.crm_customer_id is not null
                and {{ row_hash(raw_columns, prefix='checked.raw_') }} <> kept_rows.kept_row_hash
                then 'duplicate_key'
            else checked.check_reason
        end as reject_reason,
        least(erased_crm_id.request_id, erased_email.request_id) as erasure_request_id
    from checked
    left join kept_rows on checked.crm_customer_id = kept_rows.crm_customer_id
    left join erased_identifiers as erased_crm_id
        on
            erased_crm_id.identifier_type = 'crm_id'
            and checked.crm_customer_id = erased_crm_id.identifier_value
    left join erased_identifiers as erased_email
        on
            erased_email.identifier_type = 'email_hash'
            and {{ hash_pii('checked.email') }} = erased_email.identifier_value
)

select * from final
