{#- The identifiers whose rows staging removes (GDPR art. 17), one row per
    identifier, with the request that asked for it (the lowest request_id when
    several did).

    Every staged erasure request is honoured, whatever its date. Besides the
    requested identifier, the request reaches one hop through the CRM record it
    names (read from the raw export, rejected rows included):
    - an email request erases the CRM records carrying that email, so their crm
      ids are erased too;
    - a crm-id request erases that record's email too, unless a CRM record that
      is not erased also carries it (a household or placeholder email is someone
      else's as well).
    Anything further (a second CRM record of the same person without the same
    email, the person's devices) needs the identity graph; see
    docs/decisions.md.

    Holds crm ids and salted email hashes only, never a raw email: it is the
    suppression list the base models filter on. -#}
with

requests as (
    select * from {{ ref('stg_privacy__erasure_requests') }}
),

crm_records as (
    select distinct
        {{ clean_text('cast(crm_id as varchar)') }} as crm_customer_id,
        {{ hash_pii(normalize_email('cast(email as varchar)')) }} as email_hash
    from {{ source('crm', 'crm_customers') }}
),

requested as (
    select
        case identifier_type when 'email' then 'email_hash' else identifier_type end as identifier_type,
        identifier_hash as identifier_value,
        request_id,
        true as is_requested
    from requests
),

crm_ids_of_requested_emails as (
    select
        'crm_id' as identifier_type,
        crm_records.crm_customer_id as identifier_value,
        requested.request_id,
        false as is_requested
    from requested
    inner join crm_records
        on
            requested.identifier_type = 'email_hash'
            and requested.identifier_value = crm_records.email_hash
    where crm_records.crm_customer_id is not null
),

erased_crm_ids as (
    select
        identifier_value as crm_customer_id,
        request_id
    from requested
    where identifier_type = 'crm_id'
    union all
    select
        identifier_value as crm_customer_id,
        request_id
    from crm_ids_of_requested_emails
),

emails_of_other_records as (
    -- emails that a CRM record which is not erased carries too
    select distinct crm_records.email_hash
    from crm_records
    left join erased_crm_ids on crm_records.crm_customer_id = erased_crm_ids.crm_customer_id
    where
        crm_records.email_hash is not null
        and crm_records.crm_customer_id is not null
        and erased_crm_ids.crm_customer_id is null
),

emails_of_erased_crm_ids as (
    select
        'email_hash' as identifier_type,
        crm_records.email_hash as identifier_value,
        erased_crm_ids.request_id,
        false as is_requested
    from erased_crm_ids
    inner join crm_records on erased_crm_ids.crm_customer_id = crm_records.crm_customer_id
    left join emails_of_other_records on crm_records.email_hash = emails_of_other_records.email_hash
    where
        crm_records.email_hash is not null
        and emails_of_other_records.email_hash is null
),

all_identifiers as (
    select * from requested
    union all
    select * from crm_ids_of_requested_emails
    union all
    select * from emails_of_erased_crm_ids
),

final as (
    select
        identifier_type,
        identifier_value,
        min(request_id) as request_id,
        bool_or(is_requested) as is_requested
    from all_identifiers
    group by identifier_type, identifier_value
)

select * from final
