{#- Salted contact hash -> the unsalted SHA-256 match key of the same
    normalized value, for the activation exports: ad platforms (Google Customer
    Match, Meta custom audiences) and email platforms match on SHA-256 of the
    trimmed lower-cased email and of the E.164 phone, which they compute
    themselves, so the project's salted hashes cannot match. One row per salted
    hash (contact_type email or phone); the marts keep using the salted hash,
    only the exports translate it here. Erased persons are already gone from
    stg_crm__customers. -#}
with

crm_customers as not materialized (
    select * from {{ ref('stg_crm__customers') }}
),

contacts as (
    select
        'email' as contact_type,
        email_hash as contact_hash,
        email_sha256 as match_key_sha256
    from crm_customers
    where email_hash is not null

    union all

    select
        'phone' as contact_type,
        phone_hash as contact_hash,
        phone_sha256 as match_key_sha256
    from crm_customers
    where phone_hash is not null
),

final as (
    select distinct
        contact_type,
        contact_hash,
        match_key_sha256
    from contacts
)

select * from final
