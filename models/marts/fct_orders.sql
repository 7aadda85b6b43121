with

orders as (
    select * from {{ ref('int_behaviour__orders') }}
),

final as (
    select
        order_id,
        {{ customer_key_from_uuid('customer_key') }} as customer_key,
        ordered_at,
        order_date,
        channel,
        payment_method,
        currency,
        line_count,
        item_quantity,
        returned_quantity,
        sales_amount_eur,
        discount_amount_eur,
        returns_amount_eur,
        net_revenue_eur,
        has_return,
        has_outlier_line,
        is_customer_resolved
    from orders
)

select * from final
