{#- One row per staged order line with its order's customer, amounts in EUR,
    category, return / discount / outlier flags and dates
    (int_behaviour__order_lines). -#}
with

order_lines as (
    select * from {{ ref('int_behaviour__order_lines') }}
),

final as (
    select
        order_line_id,
        order_id,
        {{ customer_key_from_uuid('customer_key') }} as customer_key,
        category,
        channel,
        quantity,
        cast(line_amount_eur as decimal(18, 2)) as line_amount_eur,
        cast(discount_amount_eur as decimal(18, 2)) as discount_amount_eur,
        fx_rate_to_eur,
        is_return,
        is_discounted,
        is_amount_outlier,
        order_date,
        order_business_date,
        ordered_at
    from order_lines
)

select * from final
