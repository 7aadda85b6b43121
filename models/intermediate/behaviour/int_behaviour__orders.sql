{#- One row per order with its customer and its line totals in EUR. Each line
    is rounded to cents before summing, so order totals add up exactly
    (net = sales - returns) instead of drifting by a cent through float sums.
    known_at: when the order was known for its customer, the later of when it
    was placed and when the identifier it was attributed by was linked to the
    customer (int_customer_identifiers.linked_at), for point-in-time cuts.

    Incremental, the order as the unit (docs/incremental.md "Orders and order
    lines: the order as the unit"): a run rebuilds every order touched since
    the table's last run (macro microseg_rebuilt_order_ids) and every order
    with a line int_behaviour__order_lines wrote again in that time (its flag
    moved), from all of its lines. The pre-hook deletes the orders of rebuilt
    base units; delete+insert on order_id replaces the rest. _processed_at is
    the start of the run that wrote the row. -#}
-- depends_on: {{ ref('base_shop__orders') }}
-- depends_on: {{ ref('base_shop__order_lines') }}
-- depends_on: {{ ref('int_customer_identifier_changes') }}
-- depends_on: {{ ref('stg_shop__orders') }}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='order_id',
    on_schema_change='fail',
    pre_hook="{{ microseg_delete_rebuilt_units('order_id', ref('base_shop__orders')) }}",
) }}
with

{%- if is_incremental() %}

    rebuilt_orders as materialized (
        {{ microseg_rebuilt_order_ids() }}
        union
        select rewritten.order_id
        from {{ ref('int_behaviour__order_lines') }} as rewritten
        where rewritten._processed_at > {{ microseg_fact_watermark() }}
    ),
{%- endif %}

orders as (
    select * from {{ ref('int_orders_resolved') }}
    {%- if is_incremental() %}
        where order_id in (select rebuilt_orders.order_id from rebuilt_orders)
    {%- endif %}
),

order_lines as (
    select * from {{ ref('int_behaviour__order_lines') }}
    {%- if is_incremental() %}
        where order_id in (select rebuilt_orders.order_id from rebuilt_orders)
    {%- endif %}
),

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

final as (
    select
        orders.order_id,
        orders.customer_key,
        orders.ordered_at,
        orders.order_date,
        greatest(orders.ordered_at, orders.identity_linked_at) as known_at,
        cast(greatest(orders.ordered_at, orders.identity_linked_at) as date) as known_date,
        cast({{ to_business_time('orders.ordered_at') }} as date) as order_business_date,
        orders.channel,
        orders.payment_method,
        orders.currency,
        cast(coalesce(line_totals.line_count, 0) as bigint) as line_count,
        cast(coalesce(line_totals.item_quantity, 0) as double) as item_quantity,
        cast(coalesce(line_totals.returned_quantity, 0) as double) as returned_quantity,
        cast(coalesce(line_totals.sales_amount_eur, 0) as decimal(18, 2)) as sales_amount_eur,
        cast(coalesce(line_totals.discount_amount_eur, 0) as decimal(18, 2)) as discount_amount_eur,
        cast(coalesce(line_totals.returns_amount_eur, 0) as decimal(18, 2)) as returns_amount_eur,
        cast(coalesce(line_totals.net_revenue_eur, 0) as decimal(18, 2)) as net_revenue_eur,
        coalesce(line_totals.returned_quantity, 0) > 0 as has_return,
        coalesce(line_totals.has_outlier_line, false) as has_outlier_line,
        orders.customer_key is not null as is_customer_resolved,
        {{ microseg_processed_at() }} as _processed_at
    from orders
    left join line_totals on orders.order_id = line_totals.order_id
)

select * from final
