{#- Every deterministic link between a CRM record and an identifier: the
    record's email hash, its phone hash, and each anonymous id seen with the
    record's CRM id as user id (the login event and the events after it in the
    session) or that sent the purchase event of an order placed under the
    record's CRM id. One row per (record, identifier).
    int_identity__excluded_identifiers decides which of them become edges. -#}
with

crm as (
    select
        crm_customer_id,
        source_system,
        email_hash,
        phone_hash
    from {{ ref('stg_crm__customers') }}
),

events as (
    select
        anonymous_id,
        user_crm_id,
        event_type,
        order_id
    from {{ ref('stg_tracking__events') }}
    where anonymous_id is not null
),

orders as (
    select
        order_id,
        customer_crm_id
    from {{ ref('stg_shop__orders') }}
    where customer_crm_id is not null
),

-- the CRM id a device used: logged in as it, or bought on an order placed under it
device_crm_ids as (
    select
        anonymous_id,
        user_crm_id as crm_customer_id
    from events
    where user_crm_id is not null
    union
    select
        events.anonymous_id,
        orders.customer_crm_id as crm_customer_id
    from events
    inner join orders on events.order_id = orders.order_id
    where events.event_type = 'purchase'
),

email_links as (
    select
        source_system as record_source,
        crm_customer_id as record_id,
        'email' as identifier_source,
        email_hash as identifier_id
    from crm
    where email_hash is not null
),

phone_links as (
    select
        source_system as record_source,
        crm_customer_id as record_id,
        'phone' as identifier_source,
        phone_hash as identifier_id
    from crm
    where phone_hash is not null
),

device_links as (
    select
        crm.source_system as record_source,
        crm.crm_customer_id as record_id,
        'anonymous_id' as identifier_source,
        device_crm_ids.anonymous_id as identifier_id
    from device_crm_ids
    inner join crm on device_crm_ids.crm_customer_id = crm.crm_customer_id
),

final as (
    select * from email_links
    union all
    select * from phone_links
    union all
    select * from device_links
)

select * from final
