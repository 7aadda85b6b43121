{#- One row per staged order line with its order's customer, amounts in EUR,
    category, return / discount / outlier flags and dates
    (int_behaviour__order_lines).

    Incremental (docs/incremental.md "Orders and order lines: the order as the
    unit"): a run writes again every line int_behaviour__order_lines wrote
    since this table's last run, and the pre-hook deletes the lines it no
    longer holds. _processed_at is the start of the run that wrote the row. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='order_line_id',
    on_schema_change='fail',
    pre_hook="{{ microseg_delete_gone_rows('order_line_id', ref('int_behaviour__order_lines')) }}",
) }}
with

order_lines as (
    select * from {{ ref('int_behaviour__order_lines') }}
    {%- if is_incremental() %}
        where _processed_at > {{ microseg_fact_watermark() }}
    {%- endif %}
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
        ordered_at,
        {{ microseg_processed_at() }} as _processed_at  -- the run writing the row
    from order_lines
)

select * from final
