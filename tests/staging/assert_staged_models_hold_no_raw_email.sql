{#- No raw email leaves the staging layer in clear: no text column of a staged
    model (the cleaned names aside, which never hold an @) contains an @, and
    every email-derived column is a 64-character sha256 hex digest. Returns the
    offending values. -#}
with

customers as not materialized (
    select * from {{ ref('stg_crm__customers') }}
),

orders as not materialized (
    select * from {{ ref('stg_shop__orders') }}
),

third_party as (
    select * from {{ ref('stg_enrichment__third_party') }}
),

erasure_requests as not materialized (
    select * from {{ ref('stg_privacy__erasure_requests') }}
),

events as (
    select * from {{ ref('stg_tracking__events') }}
),

email_derived_values as (
    select
        'stg_crm__customers.email_hash' as model_column,
        email_hash as column_value
    from customers
    union all
    select
        'stg_crm__customers.phone_hash' as model_column,
        phone_hash as column_value
    from customers
    union all
    select
        'stg_shop__orders.customer_email_hash' as model_column,
        customer_email_hash as column_value
    from orders
    union all
    select
        'stg_enrichment__third_party.email_hash' as model_column,
        email_hash as column_value
    from third_party
    union all
    select
        'stg_privacy__erasure_requests.identifier_hash' as model_column,
        identifier_hash as column_value
    from erasure_requests
    where identifier_type = 'email'
),

other_text_values as (
    select
        'stg_crm__customers' as model_column,
        concat_ws('|', crm_customer_id, first_name_clean, last_name_clean, email_domain, city, region, postcode)
            as column_value
    from customers
    union all
    select
        'stg_shop__orders' as model_column,
        concat_ws('|', order_id, customer_crm_id, channel, payment_method) as column_value
    from orders
    union all
    select
        'stg_tracking__events' as model_column,
        concat_ws('|', event_id, anonymous_id, user_crm_id, session_id, campaign_id, order_id) as column_value
    from events
    union all
    select
        'stg_privacy__erasure_requests' as model_column,
        identifier_hash as column_value
    from erasure_requests
),

final as (
    select * from email_derived_values
    where column_value is not null and not regexp_full_match(column_value, '[0-9a-f]{64}')
    union all
    select * from other_text_values
    where contains(column_value, '@')
)

select * from final
