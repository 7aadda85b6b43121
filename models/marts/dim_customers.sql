{#- One row per customer. Attributes survive from the most recently updated CRM
    record that has a value (arg_max over updated_at, nulls skipped); consent
    comes from the latest consent change. Guest customers (an email seen only on
    orders) have no CRM attributes. -#}
with

identifiers as (
    select * from {{ ref('int_customer_identifiers') }}
),

crm as (
    select * from {{ ref('stg_crm__customers') }}
),

orders as (
    select * from {{ ref('int_orders_resolved') }}
),

customers as (
    select distinct customer_key
    from identifiers
    where identifier_type in ('crm_id', 'email_hash')
),

crm_records as (
    select
        identifiers.customer_key,
        crm.*
    from crm
    inner join identifiers
        on
            identifiers.identifier_type = 'crm_id'
            and crm.crm_customer_id = identifiers.identifier_value
),

golden as (
    select
        customer_key,
        count(*) as crm_record_count,
        string_agg(distinct source_system, ',' order by source_system) as source_systems,
        arg_max(crm_customer_id, updated_at) as primary_crm_customer_id,
        arg_max(email_hash, updated_at) filter (where email_hash is not null) as email_hash,
        arg_max(phone_hash, updated_at) filter (where phone_hash is not null) as phone_hash,
        arg_max(email_domain, updated_at) filter (where email_domain is not null) as email_domain,
        arg_max(birth_year, updated_at) filter (where birth_year is not null) as birth_year,
        arg_max(gender, updated_at) filter (where gender is not null) as gender,
        arg_max(city, updated_at) filter (where city is not null) as city,
        arg_max(region, updated_at) filter (where region is not null) as region,
        arg_max(postcode, updated_at) filter (where postcode is not null) as postcode,
        min(signup_at) as signup_at,
        arg_max(is_marketing_consent, consent_updated_at)
        filter (where is_marketing_consent is not null) as is_marketing_consent,
        max(consent_updated_at) filter (where is_marketing_consent is not null) as consent_updated_at,
        max(updated_at) as updated_at
    from crm_records
    group by customer_key
),

guest_emails as (
    select
        customer_key,
        identifier_value as email_hash
    from identifiers
    where identifier_type = 'email_hash'
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
        coalesce(golden.email_hash, guest_emails.email_hash) as email_hash,
        golden.phone_hash,
        golden.email_domain,
        cast(golden.birth_year as integer) as birth_year,
        golden.gender,
        golden.city,
        golden.region,
        golden.postcode,
        golden.crm_record_count is null as is_guest,
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
    left join guest_emails on customers.customer_key = guest_emails.customer_key
    left join order_summary on customers.customer_key = order_summary.customer_key
)

select * from final
