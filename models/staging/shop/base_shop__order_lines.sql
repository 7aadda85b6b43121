{#- One row per distinct raw order-line row: the raw text columns (raw_*), the
    number of exact copies dropped, the typed and cleaned columns and the
    reject reason. stg_shop__order_lines (reject_reason null) and
    stg_shop__order_lines_rejected (reject_reason set) are two filters of
    this view, so every distinct raw row lands in exactly one of them, unless
    it is erased: a line of an erased order (base_shop__orders) carries the
    order's erasure_request_id and reaches neither (counted as erased).

    A line must belong to a staged order, so stg_shop__orders is built
    first.

    A view, not a table: it is wide (raw and typed columns), and writing it
    costs more than computing it twice (once per reader). -#}
{{ config(materialized='view') }}

{%- set raw_columns = raw_columns('order_lines') %}

with

source as (
    select * from {{ source('shop', 'order_lines') }}
),

staged_orders as (
    select order_id from {{ ref('stg_shop__orders') }}
),

erased_orders as (
    select
        order_id,
        min(erasure_request_id) as erasure_request_id
    from {{ ref('base_shop__orders') }}
    where erasure_request_id is not null and order_id is not null
    group by order_id
),

raw_rows as (
    select {{ select_raw_columns('order_lines') }}
    from source
),

distinct_raw_rows as (
    -- exact duplicates (every raw column equal, nulls equal) collapse into one
    -- row; the copies beyond the first are counted, neither staged nor rejected
    select
        *,
        count(*) - 1 as exact_duplicate_count
    from raw_rows
    group by all
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

colliding_keys as (
    -- ids carried by more than one distinct row: only these need ranking,
    -- which is far cheaper than sorting the whole table
    select order_line_id
    from checked
    where order_line_id is not null
    group by order_line_id
    having count(*) > 1
),

ranked_collisions as (
    -- among distinct rows sharing a line id keep a row that passes the checks,
    -- then the lowest row_hash (raw file order is not stable in DuckDB)
    select
        order_line_id,
        {{ row_hash(raw_columns, prefix='raw_') }} as row_hash,
        row_number() over (
            partition by order_line_id
            order by
                check_reason is null desc,
                {{ row_hash(raw_columns, prefix='raw_') }} asc
        ) as key_rank
    from checked
    where order_line_id in (select colliding_keys.order_line_id from colliding_keys)
),

kept_rows as (
    select
        order_line_id,
        row_hash as kept_row_hash
    from ranked_collisions
    where key_rank = 1
),

final as (
    select
        checked.*,
        case
            when checked.order_line_id is null then 'missing_key'
            -- the row hash is only computed for the few rows of colliding ids
            when
                kept_rows.order_line_id is not null
                and {{ row_hash(raw_columns, prefix='checked.raw_') }} <> kept_rows.kept_row_hash
                then 'duplicate_key'
            else checked.check_reason
        end as reject_reason,
        erased_orders.erasure_request_id
    from checked
    left join kept_rows on checked.order_line_id = kept_rows.order_line_id
    left join erased_orders on checked.order_id = erased_orders.order_id
)

select * from final
