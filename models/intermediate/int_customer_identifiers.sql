{#- Deterministic identity (issue 2): a CRM record belongs to the customer of its
    email hash, or to itself when it has no email; a guest order's email hash is a
    customer of its own unless a CRM record shares it; an anonymous id belongs to
    the CRM id it logged in as most often. The identity-resolution stage replaces
    this model with a full identity graph. -#}
with

crm as (
    select
        crm_customer_id,
        email_hash
    from {{ ref('stg_crm__customers') }}
),

guest_orders as (
    select distinct customer_email_hash as email_hash
    from {{ ref('stg_shop__orders') }}
    where customer_email_hash is not null
),

logins as (
    select
        anonymous_id,
        user_crm_id
    from {{ ref('stg_tracking__events') }}
    where anonymous_id is not null and user_crm_id is not null
),

crm_keys as (
    select
        'crm_id' as identifier_type,
        crm_customer_id as identifier_value,
        coalesce('email:' || email_hash, 'crm:' || crm_customer_id) as identity_seed
    from crm
),

email_keys as (
    select distinct
        'email_hash' as identifier_type,
        email_hash as identifier_value,
        'email:' || email_hash as identity_seed
    from crm
    where email_hash is not null
    union
    select
        'email_hash' as identifier_type,
        email_hash as identifier_value,
        'email:' || email_hash as identity_seed
    from guest_orders
),

anonymous_votes as (
    select
        anonymous_id,
        user_crm_id,
        count(*) as n_events
    from logins
    group by all
),

anonymous_owner as (
    select
        anonymous_votes.anonymous_id,
        crm_keys.identity_seed
    from anonymous_votes
    inner join crm_keys on anonymous_votes.user_crm_id = crm_keys.identifier_value
    qualify row_number() over (
        partition by anonymous_votes.anonymous_id
        order by anonymous_votes.n_events desc, anonymous_votes.user_crm_id asc
    ) = 1
),

anonymous_keys as (
    select
        'anonymous_id' as identifier_type,
        anonymous_id as identifier_value,
        identity_seed
    from anonymous_owner
),

all_keys as (
    select * from crm_keys
    union all
    select * from email_keys
    union all
    select * from anonymous_keys
),

final as (
    select
        identifier_type,
        identifier_value,
        md5(identity_seed) as customer_key
    from all_keys
)

select * from final
