{#- The golden record (read by dim_customers, and by intermediate models that
    must not read a mart, e.g. int_customer_hygiene): one row per customer_key of the identity graph
    (int_customer_identifiers), including guests known only by an email and
    anonymous visitors known only by device ids.

    Survivorship, per attribute, over the customer's CRM records ranked by
    trust (crm_a, the web-shop CRM the customer maintains, before crm_b, the
    store/loyalty CRM keyed in at the till) and then by recency (updated_at,
    latest first), nulls skipped:
    - contact (email_hash with its email_domain, phone_hash): the best-ranked
      record whose value is not an identifier the giant-component guard
      excluded (a placeholder or a family address), else the best-ranked one;
    - profile (birth_year, gender) and address (city, region, postcode, taken
      together from one record): the best-ranked record with a value;
    - consent: the latest statement whatever the source (the newest consent is
      the one in force; opposite statements at the same instant: no consent);
      signup_at: the earliest signup; updated_at: the latest.
    Guests take the smallest email hash of their component. -#}
with

identifiers as not materialized (
    select * from {{ ref('int_customer_identifiers') }}
),

crm as (
    select * from {{ ref('stg_crm__customers') }}
),

excluded as (
    select
        identifier_source,
        identifier_id
    from {{ ref('int_identity__excluded_identifiers') }}
),

orders as (
    select * from {{ ref('int_orders_resolved') }}
),

customers as (
    select
        customer_key,
        bool_or(identifier_type = 'crm_id') as has_crm_record,
        min(identifier_value) filter (where identifier_type = 'email_hash') as any_email_hash
    from identifiers
    group by customer_key
),

crm_records as (
    select
        identifiers.customer_key,
        crm.*,
        row_number() over (
            partition by identifiers.customer_key
            order by
                case crm.source_system when 'crm_a' then 1 else 2 end asc,
                crm.updated_at desc nulls last,
                crm.crm_customer_id asc
        ) as trust_rank
    from crm
    inner join identifiers
        on
            identifiers.identifier_type = 'crm_id'
            and crm.crm_customer_id = identifiers.identifier_value
),

-- contact values the guard excluded rank after every usable one
ranked_contacts as (
    select
        crm_records.*,
        crm_records.trust_rank + case when excluded_email.identifier_id is null then 0 else 1000000 end
            as email_rank,
        crm_records.trust_rank + case when excluded_phone.identifier_id is null then 0 else 1000000 end
            as phone_rank
    from crm_records
    left join excluded as excluded_email
        on
            excluded_email.identifier_source = 'email'
            and crm_records.email_hash = excluded_email.identifier_id
    left join excluded as excluded_phone
        on
            excluded_phone.identifier_source = 'phone'
            and crm_records.phone_hash = excluded_phone.identifier_id
),

golden as (
    select
        customer_key,
        count(*) as crm_record_count,
        string_agg(distinct source_system, ',' order by source_system) as source_systems,
        arg_min(crm_customer_id, trust_rank) as primary_crm_customer_id,
        arg_min(email_hash, email_rank) filter (where email_hash is not null) as email_hash,
        arg_min(email_domain, email_rank) filter (where email_hash is not null) as email_domain,
        arg_min(phone_hash, phone_rank) filter (where phone_hash is not null) as phone_hash,
        arg_min(birth_year, trust_rank) filter (where birth_year is not null) as birth_year,
        arg_min(gender, trust_rank) filter (where gender is not null) as gender,
        arg_min(city, trust_rank) filter (where city is not null) as city,
        arg_min(region, trust_rank) filter (where city is not null) as region,
        arg_min(postcode, trust_rank) filter (where city is not null) as postcode,
        min(signup_at) as signup_at,
        -- the latest statement; two records stating opposite consents at the same instant: withdrawal
        -- wins (no marketing on a consent in doubt, and the same answer on every build)
        arg_max(
            is_marketing_consent,
            case when consent_updated_at is not null then (consent_updated_at, not is_marketing_consent) end
        ) filter (where is_marketing_consent is not null) as is_marketing_consent,
        max(consent_updated_at) filter (where is_marketing_consent is not null) as consent_updated_at,
        max(updated_at) as updated_at
    from ranked_contacts
    group by customer_key
),

order_summary as (
    select
        customer_key,
        min(ordered_at) as first_order_at,
        max(ordered_at) as last_order_at,
        count(*) as lifetime_order_count
    from orders
    where customer_key is not null
    group by customer_key
),

final as (
    select
        customers.customer_key,
        golden.primary_crm_customer_id,
        cast(coalesce(golden.crm_record_count, 0) as bigint) as crm_record_count,
        golden.source_systems,
        coalesce(golden.email_hash, customers.any_email_hash) as email_hash,
        golden.phone_hash,
        golden.email_domain,
        cast(golden.birth_year as integer) as birth_year,
        golden.gender,
        golden.city,
        golden.region,
        golden.postcode,
        not customers.has_crm_record as is_guest,
        not customers.has_crm_record and customers.any_email_hash is null as is_anonymous,
        coalesce(golden.is_marketing_consent, false) as is_marketing_consent,
        golden.is_marketing_consent is null as is_consent_unknown,
        cast(coalesce(order_summary.lifetime_order_count, 0) as bigint) as lifetime_order_count,
        golden.signup_at,
        golden.consent_updated_at,
        order_summary.first_order_at,
        order_summary.last_order_at,
        golden.updated_at
    from customers
    left join golden on customers.customer_key = golden.customer_key
    left join order_summary on customers.customer_key = order_summary.customer_key
)

select * from final
