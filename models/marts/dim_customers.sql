{#- The golden record, one row per customer_key: survivorship, guests and
    anonymous visitors are documented in int_customers, which intermediate
    models read (an intermediate model never reads a mart). -#}
with

customers as (
    select * from {{ ref('int_customers') }}
),

final as (
    select
        {{ customer_key_from_uuid('customer_key') }} as customer_key,
        primary_crm_customer_id,
        crm_record_count,
        source_systems,
        email_hash,
        phone_hash,
        email_domain,
        birth_year,
        gender,
        city,
        region,
        postcode,
        is_guest,
        is_anonymous,
        is_marketing_consent,
        is_consent_unknown,
        lifetime_order_count,
        signup_at,
        consent_updated_at,
        first_order_at,
        last_order_at,
        updated_at
    from customers
)

select * from final
