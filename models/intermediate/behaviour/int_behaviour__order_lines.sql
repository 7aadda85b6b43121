{#- One row per staged order line with its order's customer, channel and
    dates, its amounts in EUR at the rate of the order's currency (seed
    fx_rates), and flags:
    - is_discounted: a discount on the line;
    - is_amount_outlier: the unit amount in EUR on a log scale,
      ln(|line_amount_eur| / |quantity|), lies more than var
      microseg__outlier_robust_z robust z-scores (macro robust_z, with its
      fallback when the MAD is 0) above the median of its category. Flagged,
      never removed.

    Incremental, the order as the unit (docs/incremental.md "Orders and order
    lines: the order as the unit"): a run rebuilds every line of each order
    touched since the table's last run (macro microseg_rebuilt_order_ids: a
    new, late, changed, rejected or erased order or line, or an identifier of
    its customer changed). The category statistics of the outlier flag are
    those of every line after the run (the batch and the lines kept), so a
    kept line whose flag they move is written again with it: the same flags a
    full refresh gives. The pre-hook deletes the lines of the orders whose
    base unit was rebuilt; delete+insert on order_line_id replaces the rest.
    _processed_at is the start of the run that wrote the row. -#}
-- depends_on: {{ ref('base_shop__orders') }}
-- depends_on: {{ ref('base_shop__order_lines') }}
-- depends_on: {{ ref('int_customer_identifier_changes') }}
-- depends_on: {{ ref('stg_shop__orders') }}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='order_line_id',
    on_schema_change='fail',
    pre_hook="{{ microseg_delete_rebuilt_units('order_id', ref('base_shop__orders')) }}",
) }}
{%- set outlier_robust_z = var('microseg__outlier_robust_z') %}
with

{%- if is_incremental() %}

    rebuilt_orders as materialized (
        {{ microseg_rebuilt_order_ids() }}
    ),
{%- endif %}

order_lines as (
    select * from {{ ref('stg_shop__order_lines') }}
    {%- if is_incremental() %}
        where order_id in (select rebuilt_orders.order_id from rebuilt_orders)
    {%- endif %}
),

orders as (
    select * from {{ ref('int_orders_resolved') }}
    {%- if is_incremental() %}
        where order_id in (select rebuilt_orders.order_id from rebuilt_orders)
    {%- endif %}
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
        {{ log_unit_amount('order_lines.line_amount * fx_rates.rate_to_eur', 'order_lines.quantity') }}
            as log_unit_amount_eur
    from order_lines
    inner join orders on order_lines.order_id = orders.order_id
    inner join fx_rates on orders.currency = fx_rates.currency
),

{%- if is_incremental() %}

    kept_amounts as (
        -- the lines the run keeps, for the category statistics
        select
            kept.category,
            {{ log_unit_amount('kept.line_amount_eur', 'kept.quantity') }} as log_unit_amount_eur
        from {{ this }} as kept
        where kept.order_line_id not in (select converted.order_line_id from converted)
    ),

    amounts as (
        select
            converted.category,
            converted.log_unit_amount_eur
        from converted
        union all
        select
            kept_amounts.category,
            kept_amounts.log_unit_amount_eur
        from kept_amounts
    ),
{%- endif %}

category_stats as (
    {{ robust_z_stats('amounts' if is_incremental() else 'converted', ['log_unit_amount_eur'], group_by='category') }}
),

final as (
    select
        converted.* exclude (log_unit_amount_eur),  -- noqa: RF02
        coalesce(
            {{ robust_z('log_unit_amount_eur', 'category_stats', alias='converted') }} > {{ outlier_robust_z }},
            false
        ) as is_amount_outlier,
        {{ microseg_processed_at() }} as _processed_at
    from converted
    left join category_stats on converted.category = category_stats.category
    {%- if is_incremental() %}
        -- a kept line whose flag the statistics moved, written again with it
        union all by name
        select
            kept.* exclude (log_unit_amount_eur) replace (
                not kept.is_amount_outlier as is_amount_outlier,
                {{ microseg_processed_at() }} as _processed_at
            )
        from (
            select
                *,
                {{ log_unit_amount('line_amount_eur', 'quantity') }} as log_unit_amount_eur
            from {{ this }}
            where order_line_id not in (select converted.order_line_id from converted)
        ) as kept
        left join category_stats on kept.category = category_stats.category
        where
            kept.is_amount_outlier <> coalesce(
                {{ robust_z('log_unit_amount_eur', 'category_stats', alias='kept') }} > {{ outlier_robust_z }},
                false
            )
    {%- endif %}
)

select * from final
