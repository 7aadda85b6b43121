{#- The raw rows the erasure closure walks (stg_privacy__erasure_seeds,
    stg_privacy__erased_identifiers): every raw row of the source, rejected
    ones included, cleaned with the same macros the base_* staging models use,
    so a value here equals the staged value of the same row. Erased rows must
    never be staged, so the closure cannot read staging: it reads the sources
    itself. Each macro returns one select of distinct rows. -#}


{#- CRM records: the columns identity_identifier_links, identifier_exclusions
    and crm_fuzzy_matches read. -#}
{% macro erasure_raw_crm_records() -%}
    select distinct
        crm_customer_id,
        source_system,
        email_hash,
        phone_hash,
        first_name_clean,
        last_name_clean,
        birth_date,
        year(birth_date) as birth_year,
        city,
        postcode
    from (
        -- the birth date parsed once (its year is read from the parsed date)
        select
            {{ clean_text('cast(crm_id as varchar)') }} as crm_customer_id,
            lower({{ clean_text('cast(source_system as varchar)') }}) as source_system,
            {{ hash_pii(normalize_email('cast(email as varchar)')) }} as email_hash,
            {{ hash_pii(normalize_phone('cast(phone as varchar)')) }} as phone_hash,
            {{ clean_name('cast(first_name as varchar)') }} as first_name_clean,
            {{ clean_name('cast(last_name as varchar)') }} as last_name_clean,
            {{ parse_birth_date('cast(birth_date as varchar)') }} as birth_date,
            {{ title_case('cast(city as varchar)') }} as city,
            {{ clean_text('cast(postcode as varchar)') }} as postcode
        from {{ source('crm', 'crm_customers') }}
    ) as crm_rows
    where crm_customer_id is not null
{%- endmacro %}


{#- Orders: a guest checkout names an email, a customer a crm id (as base_shop__orders). -#}
{% macro erasure_raw_orders() -%}
    select distinct
        order_id,
        case when not contains(customer_ref, '@') then customer_ref end as customer_crm_id,
        case
            when contains(customer_ref, '@')
                then {{ hash_pii(normalize_email('raw_customer_ref')) }}
        end as customer_email_hash
    from (
        -- the customer reference cleaned once, not once per case branch
        select
            {{ clean_text('cast(order_id as varchar)') }} as order_id,
            {{ clean_text('cast(customer_ref as varchar)') }} as customer_ref,
            cast(customer_ref as varchar) as raw_customer_ref
        from {{ source('shop', 'orders') }}
    ) as order_rows
{%- endmacro %}


{#- Events that tie a device or a crm id to something: logins and the events
    after them carry the crm id, purchases the order id. The rows are those
    whose raw user id is not null or whose raw event type contains
    `purchase`: a superset of the rows with a cleaned crm id or a cleaned
    purchase, which are the ones every reader uses (each filters on
    user_crm_id or event_type = 'purchase' itself). Filtering on the cleaned
    values here cost more than a third of the closure at 1M persons: DuckDB
    pushes such a filter below the distinct, onto every raw row (21.7 M).
    Readers use the event type only to find purchases and the order id only
    of a purchase, so the other events keep neither: their rows collapse to
    one per (device, crm id) before the distinct (1,000,000 persons: 7.3 M
    distinct raw rows -> 3.7 M; stg_privacy__erased_identifiers alone 26.2 ->
    17.2-17.6 s, the same 54,711 rows). -#}
{% macro erasure_raw_events() -%}
    select distinct
        anonymous_id,
        user_crm_id,
        event_type,
        order_id
    from (
        select
            {{ clean_text('anonymous_id') }} as anonymous_id,
            {{ clean_text('user_id') }} as user_crm_id,
            lower({{ clean_text('event_type') }}) as event_type,
            {{ clean_text('order_id') }} as order_id
        from (
            -- distinct raw values first, cleaned afterwards: cleaning is a
            -- function of the value, so the cleaned distinct rows are the
            -- same, and the cleaning runs on a third of the rows (a cleaned
            -- 'purchase' is in the raw text)
            select distinct
                cast(anonymous_id as varchar) as anonymous_id,
                cast(user_id as varchar) as user_id,
                case when is_purchase then cast(event_type as varchar) end as event_type,
                case when is_purchase then cast(order_id as varchar) end as order_id
            from (
                select
                    *,
                    contains(lower(cast(event_type as varchar)), 'purchase') as is_purchase
                from {{ source('tracking', 'events') }}
            ) as typed_rows
            where user_id is not null or is_purchase
        ) as raw_values
    ) as event_rows
{%- endmacro %}


{#- The crm ids the events name (user_crm_id of erasure_raw_events), for the
    seeds' "is this id known" check: one column, so the distinct is cheap
    (100,000 persons: stg_privacy__erasure_seeds about 13 -> 6 s of CPU,
    same rows), and taken of the raw values before they are cleaned, as in
    erasure_raw_events (1,000,000 persons: 21.0 M raw ids, 0.9 M distinct). -#}
{% macro erasure_raw_event_crm_ids() -%}
    select distinct {{ clean_text('user_id') }} as user_crm_id
    from (
        select distinct cast(user_id as varchar) as user_id
        from {{ source('tracking', 'events') }}
        where user_id is not null
    ) as raw_values
    where {{ clean_text('user_id') }} is not null
{%- endmacro %}


{#- Email hashes of the third-party enrichment (as base_enrichment__third_party). -#}
{% macro erasure_raw_third_party_emails() -%}
    select distinct {{ hash_pii(normalize_email('cast(email as varchar)')) }} as email_hash
    from {{ source('enrichment', 'third_party') }}
{%- endmacro %}
