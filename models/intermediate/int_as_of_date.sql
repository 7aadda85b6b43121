{#- One row: the date every "as of" mart is computed for. The var wins; otherwise
    the last order date in the data, ignoring dates after today (a clock-skewed
    export must not move every customer's recency into the future). -#}
with

orders as (
    select order_date from {{ ref('stg_shop__orders') }}
),

last_order as (
    select max(order_date) as last_order_date
    from orders
    where order_date <= current_date
),

final as (
    select
        {% if var('microseg__as_of_date') -%}
            cast('{{ var("microseg__as_of_date") }}' as date)
        {%- else -%}
            coalesce(last_order.last_order_date, current_date)
        {%- endif %} as as_of_date,
        {{ "'var'" if var('microseg__as_of_date') else "'last_order_date'" }} as as_of_date_source
    from last_order
)

select * from final
