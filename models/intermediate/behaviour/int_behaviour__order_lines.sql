{#- One row per staged order line with its order's customer, channel and
    dates, its amounts in EUR at the rate of the order's currency (seed
    fx_rates), and flags:
    - is_discounted: a discount on the line;
    - is_amount_outlier: the unit amount in EUR on a log scale,
      ln(|line_amount_eur| / |quantity|), lies more than var
      microseg__outlier_robust_z robust z-scores (macro robust_z, with its
      fallback when the MAD is 0) above the median of its category. Flagged,
      never removed. -#}
{%- set outlier_robust_z = var('microseg__outlier_robust_z') %}
with

order_lines as (
    select * from {{ ref('stg_shop__order_lines') }}
),

orders as (
    select * from {{ ref('int_orders_resolved') }}
),

fx_rates as not materialized (
    select * from {{ ref('fx_rates') }}
),

converted as (
    select
        order_lines.order_line_id,
        order_lines.order_id,
        orders.customer_key,
        orders.ordered_at,
        orders.order_date,
        -- known for its customer once placed and its identity link was made (int_behaviour__orders)
        cast(greatest(orders.ordered_at, orders.identity_linked_at) as date) as known_date,
        cast({{ to_business_time('orders.ordered_at') }} as date) as order_business_date,
        orders.channel,
        order_lines.category,
        order_lines.quantity,
        order_lines.unit_price,
        order_lines.discount_amount,
        order_lines.line_amount,
        fx_rates.rate_to_eur as fx_rate_to_eur,
        order_lines.line_amount * fx_rates.rate_to_eur as line_amount_eur,
        order_lines.discount_amount * fx_rates.rate_to_eur as discount_amount_eur,
        order_lines.is_return,
        order_lines.discount_amount > 0 as is_discounted,
        -- prices are right-skewed and comparable only within a category
        case
            when order_lines.line_amount <> 0 and order_lines.quantity <> 0
                then ln(abs(order_lines.line_amount * fx_rates.rate_to_eur) / abs(order_lines.quantity))
        end as log_unit_amount_eur
    from order_lines
    inner join orders on order_lines.order_id = orders.order_id
    inner join fx_rates on orders.currency = fx_rates.currency
),

category_stats as (
    {{ robust_z_stats('converted', ['log_unit_amount_eur'], group_by='category') }}
),

final as (
    select
        converted.* exclude (log_unit_amount_eur),  -- noqa: RF02
        coalesce(
            {{ robust_z('log_unit_amount_eur', 'category_stats', alias='converted') }} > {{ outlier_robust_z }},
            false
        ) as is_amount_outlier
    from converted
    left join category_stats on converted.category = category_stats.category
)

select * from final
