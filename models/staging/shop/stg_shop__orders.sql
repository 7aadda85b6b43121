with

orders as (
    select * from {{ ref('base_shop__orders') }}
    where reject_reason is null and erasure_request_id is null
),

final as (
    select
        order_id,
        customer_crm_id,
        {{ hash_pii('customer_email') }} as customer_email_hash,
        ordered_at,
        {{ to_business_date('ordered_at') }} as order_date,
        currency,
        channel,
        payment_method
    from orders
)

select * from final
