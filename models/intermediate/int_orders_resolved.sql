{#- Orders with their customer and line totals in EUR. Orders whose customer
    reference cannot be resolved keep customer_key null (counted, not dropped). -#}
with

orders as (
    select * from {{ ref('stg_shop__orders') }}
),

order_lines as (
    select * from {{ ref('stg_shop__order_lines') }}
),

identifiers as (
    select * from {{ ref('int_customer_identifiers') }}
),

-- Each line is rounded to cents in EUR before summing, so order totals add up exactly
-- (net = sales - returns) instead of drifting by a cent through float sums.
lines_in_cents as (
    select
        order_id,
        quantity,
        is_return,
        is_amount_outlier,
        cast(line_amount_eur as decimal(18, 2)) as line_amount_eur,
        cast(discount_amount_eur as decimal(18, 2)) as discount_amount_eur
    from order_lines
),

line_totals as (
    select
        order_id,
        count(*) as line_count,
        coalesce(sum(quantity) filter (where not is_return), 0) as item_quantity,
        coalesce(-sum(quantity) filter (where is_return), 0) as returned_quantity,
        coalesce(sum(line_amount_eur) filter (where not is_return), 0) as sales_amount_eur,
        coalesce(sum(discount_amount_eur) filter (where not is_return), 0) as discount_amount_eur,
        coalesce(-sum(line_amount_eur) filter (where is_return), 0) as returns_amount_eur,
        coalesce(sum(line_amount_eur), 0) as net_revenue_eur,
        bool_or(is_amount_outlier) as has_outlier_line
    from lines_in_cents
    group by order_id
),

resolved as (
    select
        orders.*,
        coalesce(by_crm_id.customer_key, by_email.customer_key) as customer_key
    from orders
    left join identifiers as by_crm_id
        on
            by_crm_id.identifier_type = 'crm_id'
            and orders.customer_crm_id = by_crm_id.identifier_value
    left join identifiers as by_email
        on
            by_email.identifier_type = 'email_hash'
            and orders.customer_email_hash = by_email.identifier_value
),

final as (
    select
        resolved.order_id,
        resolved.customer_key,
        resolved.ordered_at,
        resolved.order_date,
        resolved.channel,
        resolved.payment_method,
        resolved.currency,
        cast(coalesce(line_totals.line_count, 0) as bigint) as line_count,
        cast(coalesce(line_totals.item_quantity, 0) as bigint) as item_quantity,
        cast(coalesce(line_totals.returned_quantity, 0) as bigint) as returned_quantity,
        cast(coalesce(line_totals.sales_amount_eur, 0) as decimal(18, 2)) as sales_amount_eur,
        cast(coalesce(line_totals.discount_amount_eur, 0) as decimal(18, 2)) as discount_amount_eur,
        cast(coalesce(line_totals.returns_amount_eur, 0) as decimal(18, 2)) as returns_amount_eur,
        cast(coalesce(line_totals.net_revenue_eur, 0) as decimal(18, 2)) as net_revenue_eur,
        coalesce(line_totals.returned_quantity, 0) > 0 as has_return,
        coalesce(line_totals.has_outlier_line, false) as has_outlier_line,
        resolved.customer_key is not null as is_customer_resolved
    from resolved
    left join line_totals on resolved.order_id = line_totals.order_id
)

select * from final
