with

customers as (
    select * from {{ ref('base_crm__customers') }}
    where reject_reason is null and erasure_request_id is null
),

final as (
    select
        crm_customer_id,
        source_system,
        {{ hash_pii('email') }} as email_hash,
        {{ hash_pii('phone') }} as phone_hash,
        -- unsalted: the match keys ad platforms compute themselves (activation exports only)
        sha256(email) as email_sha256,
        sha256('+' || phone) as phone_sha256,
        {{ hash_pii('first_name_clean') }} as first_name_hash,
        {{ hash_pii('last_name_clean') }} as last_name_hash,
        first_name_clean,
        last_name_clean,
        email_domain,
        birth_date,
        year(birth_date) as birth_year,
        gender,
        city,
        region,
        postcode,
        signup_at,
        is_marketing_consent,
        consent_updated_at,
        updated_at
    from customers
)

select * from final
