{#- One row per staged order with its customer and line totals in EUR
    (int_behaviour__orders), the customer key as text.

    Incremental (docs/incremental.md "Orders and order lines: the order as the
    unit"): a run writes again every order int_behaviour__orders wrote since
    this table's last run, and the pre-hook deletes the orders it no longer
    holds. _processed_at is the start of the run that wrote the row. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='order_id',
    on_schema_change='fail',
    pre_hook="{{ microseg_delete_gone_rows('order_id', ref('int_behaviour__orders')) }}",
) }}
with

orders as (
    select * from {{ ref('int_behaviour__orders') }}
    {%- if is_incremental() %}
        where _processed_at > {{ microseg_fact_watermark() }}
    {%- endif %}
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
        is_customer_resolved,
        {{ microseg_processed_at() }} as _processed_at  -- the run writing the row
    from orders
)

select * from final
