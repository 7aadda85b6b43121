{#- The staged order lines: the rows of base_shop__order_lines that pass every
    check and are not erased, with the category label mapped through seed
    category_map. Amounts stay in the order's currency: the conversion to EUR
    needs the order (another source table) and the outlier flag needs every
    line of a category, so both live in int_behaviour__order_lines.

    Incremental: a run deletes the lines of every base unit rebuilt since the
    table's last run (macro microseg_delete_rebuilt_units) and appends those
    units' staged rows; _processed_at is the base row's. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ microseg_delete_rebuilt_units('order_line_id', ref('base_shop__order_lines')) }}",
) }}
with

order_lines as (
    select * from {{ ref('base_shop__order_lines') }}
    where reject_reason is null and erasure_request_id is null
    {%- if is_incremental() %}
        and _processed_at > {{ microseg_fact_watermark() }}
    {%- endif %}
),

category_map as not materialized (
    select * from {{ ref('category_map') }}
),

final as (
    select
        order_lines.order_line_id,
        order_lines.order_id,
        -- a label the seed does not know is kept as 'other', not rejected
        coalesce(category_map.category, 'other') as category,
        order_lines.quantity,
        order_lines.unit_price,
        order_lines.discount_amount,
        order_lines.line_amount,
        order_lines.quantity < 0 as is_return,
        order_lines._processed_at
    from order_lines
    left join category_map on lower(trim(order_lines.product_category)) = category_map.raw_label
)

select * from final
