{%- set outlier_robust_z = var('microseg__outlier_robust_z') %}

with

order_lines as (
    select * from {{ ref('base_shop__order_lines') }}
    where reject_reason is null and erasure_request_id is null
),

orders as (
    select * from {{ ref('stg_shop__orders') }}
),

fx_rates as (
    select * from {{ ref('fx_rates') }}
),

category_map as (
    select * from {{ ref('category_map') }}
),

converted as (
    select
        order_lines.order_line_id,
        order_lines.order_id,
        -- a label the seed does not know is kept as 'other', not rejected
        coalesce(category_map.category, 'other') as category,
        order_lines.quantity,
        order_lines.unit_price,
        order_lines.discount_amount,
        order_lines.line_amount,
        fx_rates.rate_to_eur as fx_rate_to_eur,
        order_lines.line_amount * fx_rates.rate_to_eur as line_amount_eur,
        order_lines.discount_amount * fx_rates.rate_to_eur as discount_amount_eur,
        order_lines.quantity < 0 as is_return
    from order_lines
    inner join orders on order_lines.order_id = orders.order_id
    inner join fx_rates on orders.currency = fx_rates.currency
    left join category_map on lower(trim(order_lines.product_category)) = category_map.raw_label
),

log_unit_prices as (
    -- the amount per unit in EUR on a log scale: prices are right-skewed and
    -- comparable only within a category
    select
        *,
        case
            when line_amount_eur <> 0 and quantity <> 0
                then ln(abs(line_amount_eur) / abs(quantity))
        end as log_unit_amount_eur
    from converted
),

category_spread as (
    select
        category,
        median(log_unit_amount_eur) as median_log_unit_amount
    from log_unit_prices
    group by all
),

category_mad as (
    -- median absolute deviation, scaled by 1.4826 to estimate a standard
    -- deviation under normality
    select
        log_unit_prices.category,
        category_spread.median_log_unit_amount,
        1.4826 * median(abs(log_unit_prices.log_unit_amount_eur - category_spread.median_log_unit_amount))
            as mad_log_unit_amount
    from log_unit_prices
    inner join category_spread on log_unit_prices.category = category_spread.category
    group by all
),

flagged_outliers as (
    select
        log_unit_prices.*,
        coalesce(
            (log_unit_prices.log_unit_amount_eur - category_mad.median_log_unit_amount)
            / nullif(category_mad.mad_log_unit_amount, 0) > {{ outlier_robust_z }},
            false
        ) as is_amount_outlier
    from log_unit_prices
    inner join category_mad on log_unit_prices.category = category_mad.category
),

final as (
    select
        order_line_id,
        order_id,
        category,
        quantity,
        unit_price,
        discount_amount,
        line_amount,
        fx_rate_to_eur,
        line_amount_eur,
        discount_amount_eur,
        is_return,
        is_amount_outlier
    from flagged_outliers
)

select * from final
