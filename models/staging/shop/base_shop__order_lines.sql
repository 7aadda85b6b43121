{#- One row per distinct raw order-line row with its disposition: the raw text
    columns (raw_*), the number of exact copies dropped, the typed and cleaned
    columns and the reject reason. stg_shop__order_lines (reject_reason null) and
    stg_shop__order_lines_rejected (reject_reason set) are two filters of this
    table, so every distinct raw row lands in exactly one of them, unless it is
    erased: a line whose order id is in
    stg_privacy__erased_identifiers is kept as a tombstone (erasure_request_id
    and the duplicate count, nothing else) and reaches neither.

    A line must belong to a staged order, so stg_shop__orders is built
    first.

    A table, not a view: every reader (staged and rejected models, quality
    summary, erasure audit, reconciliation tests) would otherwise recompute
    the de-duplication (docs/benchmarks.md). Steps and tombstones: macros/
    staging/staging_dispositions.sql. -#}
{{ config(materialized='table') }}


with

staged_orders as (
    select order_id from {{ ref('stg_shop__orders') }}
),

distinct_raw_rows as (
    {{ distinct_raw_rows(source('shop', 'order_lines'), 'order_lines') }}
),

typed as (
    select
        *,
        {{ clean_text('raw_order_line_id') }} as order_line_id,
        {{ clean_text('raw_order_id') }} as order_id,
        {{ clean_text('raw_product_category') }} as product_category,
        {{ try_cast_integer('raw_quantity') }} as quantity,
        {{ try_cast_number('raw_unit_price') }} as unit_price,
        -- a blank discount is no discount; a discount that does not parse is
        -- still an invalid number (checked below)
        coalesce({{ try_cast_number('raw_discount_amount') }}, 0) as discount_amount,
        {{ clean_text('raw_discount_amount') }} is not null
        and {{ try_cast_number('raw_discount_amount') }} is null as is_invalid_discount,
        {{ try_cast_number('raw_line_amount') }} as line_amount
    from distinct_raw_rows
),

checked as (
    -- every check except the two key checks, in reason-code order
    select
        typed.*,
        case
            when
                typed.quantity is null
                or typed.unit_price is null
                or typed.line_amount is null
                or typed.is_invalid_discount
                then 'invalid_number'
            when
                (typed.line_amount < 0 and typed.quantity > 0)
                or (typed.line_amount > 0 and typed.quantity < 0)
                then 'amount_sign_mismatch'
            when staged_orders.order_id is null then 'unknown_order'
        end as check_reason
    from typed
    left join staged_orders on typed.order_id = staged_orders.order_id
),

dispositions as (
    {{ with_key_reject_reason('checked', 'order_line_id', 'order_lines') }}
),

final as (
    {{ with_erasure_request_id('dispositions', [('order_id', 'dispositions.order_id')]) }}
)

{{ without_erased_content('final') }}
