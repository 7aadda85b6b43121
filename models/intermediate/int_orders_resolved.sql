{#- Staged orders with their customer. Orders whose customer reference cannot
    be resolved keep customer_key null (counted, not dropped). Line totals in
    EUR are added in behaviour/int_behaviour__orders, which needs the lines
    (and the lines need this customer). -#}
with

orders as (
    select * from {{ ref('stg_shop__orders') }}
),

identifiers as not materialized (
    select * from {{ ref('int_customer_identifiers') }}
),

final as (
    select
        orders.order_id,
        coalesce(by_crm_id.customer_key, by_email.customer_key) as customer_key,
        case when by_crm_id.customer_key is not null then by_crm_id.linked_at else by_email.linked_at end
            as identity_linked_at,
        orders.ordered_at,
        orders.order_date,
        orders.channel,
        orders.payment_method,
        orders.currency
    from orders
    left join identifiers as by_crm_id
        on
            by_crm_id.identifier_type = 'crm_id'
            and orders.customer_crm_id = by_crm_id.identifier_value
    left join identifiers as by_email
        on
            by_email.identifier_type = 'email_hash'
            and orders.customer_email_hash = by_email.identifier_value
)

select * from final
