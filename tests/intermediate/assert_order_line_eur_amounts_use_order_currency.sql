{#- Every staged order line is in int_behaviour__order_lines, converted at
    the seed rate of its own order's currency, and its EUR amounts equal
    amount * rate. Returns the lines that disagree or are missing. -#}
with

order_lines as (
    select * from {{ ref('stg_shop__order_lines') }}
),

converted as (
    select * from {{ ref('int_behaviour__order_lines') }}
),

orders as (
    select * from {{ ref('stg_shop__orders') }}
),

fx_rates as not materialized (
    select * from {{ ref('fx_rates') }}
),

expected as (
    select
        order_lines.order_line_id,
        converted.fx_rate_to_eur,
        converted.line_amount_eur,
        converted.discount_amount_eur,
        fx_rates.rate_to_eur as expected_rate,
        order_lines.line_amount * fx_rates.rate_to_eur as expected_line_amount_eur,
        order_lines.discount_amount * fx_rates.rate_to_eur as expected_discount_amount_eur
    from order_lines
    left join converted on order_lines.order_line_id = converted.order_line_id
    left join orders on order_lines.order_id = orders.order_id
    left join fx_rates on orders.currency = fx_rates.currency
),

final as (
    select * from expected
    where
        expected_rate is null
        or fx_rate_to_eur is null
        or fx_rate_to_eur <> expected_rate
        or abs(line_amount_eur - expected_line_amount_eur) > 1e-9
        or abs(discount_amount_eur - expected_discount_amount_eur) > 1e-9
)

select * from final
