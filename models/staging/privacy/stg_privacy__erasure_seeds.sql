{#- Where each staged erasure request starts: the identifier it names, spelled
    as the raw data spells it, and whether the data holds it at all. One row
    per staged request identifier.

    An email or phone request matches by its salted hash (the request was
    normalized like every email or phone, base_privacy__erasure_requests)
    against raw CRM, guest orders and enrichment (phones: CRM). A crm id matches a crm
    id seen in any raw CRM record, order or event when the two are equal
    ignoring case: staging keeps crm ids as written (trimmed), so a request
    typed in lower case must be turned into the data's spelling before the
    base models can look it up. A request that matches nothing keeps its own
    spelling, is_matched false, and fails the build through erasure_audit
    (test assert_erasure_requests_applied). -#}
with

requests as not materialized (
    select * from {{ ref('stg_privacy__erasure_requests') }}
),

crm_records as materialized (
    {{ erasure_raw_crm_records() }}
),

raw_orders as materialized (
    {{ erasure_raw_orders() }}
),

event_crm_ids as (
    {{ erasure_raw_event_crm_ids() }}
),

third_party_emails as (
    {{ erasure_raw_third_party_emails() }}
),

known_crm_ids as (
    select crm_customer_id from crm_records
    union
    select customer_crm_id as crm_customer_id from raw_orders
    where customer_crm_id is not null
    union
    select user_crm_id as crm_customer_id from event_crm_ids
),

known_email_hashes as (
    select email_hash from crm_records
    where email_hash is not null
    union
    select customer_email_hash as email_hash from raw_orders
    where customer_email_hash is not null
    union
    select email_hash from third_party_emails
    where email_hash is not null
),

known_phone_hashes as (
    select distinct phone_hash from crm_records
    where phone_hash is not null
),

crm_seeds as (
    select
        requests.request_id,
        'crm_id' as identifier_type,
        coalesce(known_crm_ids.crm_customer_id, requests.identifier_hash) as identifier_value,
        known_crm_ids.crm_customer_id is not null as is_matched
    from requests
    left join known_crm_ids
        on upper(requests.identifier_hash) = upper(known_crm_ids.crm_customer_id)
    where requests.identifier_type = 'crm_id'
),

email_seeds as (
    select
        requests.request_id,
        'email_hash' as identifier_type,
        requests.identifier_hash as identifier_value,
        known_email_hashes.email_hash is not null as is_matched
    from requests
    left join known_email_hashes on requests.identifier_hash = known_email_hashes.email_hash
    where requests.identifier_type = 'email'
),

phone_seeds as (
    select
        requests.request_id,
        'phone_hash' as identifier_type,
        requests.identifier_hash as identifier_value,
        known_phone_hashes.phone_hash is not null as is_matched
    from requests
    left join known_phone_hashes on requests.identifier_hash = known_phone_hashes.phone_hash
    where requests.identifier_type = 'phone'
),

final as (
    select * from crm_seeds
    union all
    select * from email_seeds
    union all
    select * from phone_seeds
)

select * from final
