{#- Mean sales (EUR, after discount, before returns) per purchase day after a
    customer's first purchase day, as known on `as_of` (a SQL date expression):
    the Gamma-Gamma model's mbar over its x = repeat purchase days. Same order
    filter as macro propensity_customer_features (an order with an item sold,
    dated and known on or before `as_of`). Customers without a repeat purchase
    day are absent. -#}
{% macro value_repeat_spend(orders, as_of) -%}
    with

    purchase_days as (
        select
            customer_key,
            order_date,
            sum(sales_amount_eur) as day_sales_eur,
            row_number() over (partition by customer_key order by order_date) as day_number
        from {{ orders }}
        where
            customer_key is not null
            and item_quantity > 0
            and order_date <= cast({{ as_of }} as date)
            and known_date <= cast({{ as_of }} as date)
        group by customer_key, order_date
    )

    select
        customer_key,
        cast(avg(day_sales_eur) as double) as repeat_spend_mean_eur
    from purchase_days
    where day_number > 1
    group by customer_key
{%- endmacro %}
