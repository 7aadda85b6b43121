{#- Every identifier seen in any source, one row per (source, source_id), in the
    vocabulary of customer_identity_map and the generator's truth: CRM records
    (crm_a, crm_b), salted email hashes (CRM, guest orders, enrichment), salted
    phone hashes (CRM) and anonymous ids (events). A CRM id that only appears as
    a reference (an order or event pointing at a record that does not exist) is
    not an identity and stays unresolved. Erasure requests are not a source:
    an erased identifier must appear in no model (staging has already removed
    it from the others). -#}
with

crm as (
    select
        crm_customer_id,
        source_system,
        email_hash,
        phone_hash
    from {{ ref('stg_crm__customers') }}
),

orders as (
    select customer_email_hash from {{ ref('stg_shop__orders') }}
),

third_party as (
    select email_hash from {{ ref('stg_enrichment__third_party') }}
),

events as (
    select anonymous_id from {{ ref('stg_tracking__events') }}
),

sightings as (
    select
        source_system as source,
        crm_customer_id as source_id,
        'crm' as seen_in
    from crm
    union all
    select
        'email' as source,
        email_hash as source_id,
        'crm' as seen_in
    from crm
    where email_hash is not null
    union all
    select
        'phone' as source,
        phone_hash as source_id,
        'crm' as seen_in
    from crm
    where phone_hash is not null
    union all
    select distinct
        'email' as source,
        customer_email_hash as source_id,
        'orders' as seen_in
    from orders
    where customer_email_hash is not null
    union all
    select distinct
        'email' as source,
        email_hash as source_id,
        'third_party' as seen_in
    from third_party
    where email_hash is not null
    union all
    select distinct
        'anonymous_id' as source,
        anonymous_id as source_id,
        'events' as seen_in
    from events
    where anonymous_id is not null
),

final as (
    select
        source,
        source_id,
        string_agg(distinct seen_in, ',' order by seen_in) as seen_in
    from sightings
    group by source, source_id
)

select * from final
