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
    staging/staging_dispositions.sql. Incremental: a run rebuilds only the
    units (keys) with a row in a new raw file or newly erased, each from all
    of its raw rows, and records the files in microseg_load_manifest
    (macros/incremental/microseg_incremental.sql, docs/incremental.md). Lines are
    also rebuilt when their order is (macro microseg_order_lines_of_rebuilt_orders). -#}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='_unit',
    post_hook="{{ microseg_record_load(source('shop', 'order_lines')) }}",
) }}


{%- set order_line_id_sql = clean_text('raw_order_line_id') %}

with

staged_orders as (
    select order_id from {{ ref('stg_shop__orders') }}
),

{{ distinct_raw_rows_ctes(
    microseg_incremental_raw_rows(
        source('shop', 'order_lines'),
        'order_lines',
        'order_line_id',
        [
            ('order_id', 'loaded.order_id'),
        ],
        upstream_units=microseg_order_lines_of_rebuilt_orders(),
    ),
    'order_lines',
    order_line_id_sql,
) }},

typed as (
    select
        *,
        {{ microseg_unit('order_lines', 'order_line_id', prefix='raw_') }} as _unit,
        {{ microseg_processed_at() }} as _processed_at,
        {{ order_line_id_sql }} as order_line_id,
        {{ clean_text('raw_order_id') }} as order_id,
        {{ clean_text('raw_product_category') }} as product_category,
        -- fractional quantities are real (goods sold by weight): a double
        {{ try_cast_number('raw_quantity') }} as quantity,
        {{ try_cast_number('raw_unit_price') }} as unit_price,
        -- a blank discount is no discount; a discount that does not parse is
        -- still an invalid number (checked below)
        coalesce({{ try_cast_number('raw_discount_amount') }}, 0) as discount_amount,
        {{ clean_text('raw_discount_amount') }} is not null
        and {{ try_cast_number('raw_discount_amount') }} is null as is_invalid_discount,
        {{ try_cast_number('raw_line_amount') }} as line_amount
    from distinct_raw_rows
),

contained as (
    -- PII typed into the category label is emptied (flagged): the line stays
    select
        * replace ({{ without_pii('product_category') }} as product_category),
        {{ pii_nulled_columns(['product_category']) }} as pii_nulled_columns
    from typed
),

checked as not materialized (
    -- every check except the two key checks, in reason-code order
    select
        contained.*,
        case
            when
                {{ identifier_has_pii('contained.order_line_id') }}
                or {{ identifier_has_pii('contained.order_id') }}
                then 'pii_in_text'
            when
                contained.quantity is null
                or contained.unit_price is null
                or contained.line_amount is null
                or contained.is_invalid_discount
                then 'invalid_number'
            when
                abs(contained.quantity) > {{ var('microseg__max_quantity') }}
                or greatest(abs(contained.unit_price), abs(contained.line_amount), abs(contained.discount_amount))
                > {{ var('microseg__max_amount') }}
                or {{ any_longer_than(
                    ['contained.order_line_id', 'contained.order_id'], var('microseg__max_text_length')
                ) }}
                then 'out_of_range'
            when
                (contained.line_amount < 0 and contained.quantity > 0)
                or (contained.line_amount > 0 and contained.quantity < 0)
                -- no units, but money moved
                or (contained.quantity = 0 and (contained.line_amount <> 0 or contained.discount_amount <> 0))
                -- a negative discount on a sale raises the price
                or (contained.discount_amount < 0 and contained.quantity > 0)
                or contained.unit_price < 0
                then 'amount_sign_mismatch'
            when staged_orders.order_id is null then 'unknown_order'
        end as check_reason
    from contained
    left join staged_orders on contained.order_id = staged_orders.order_id
),

dispositions as (
    {{ with_key_reject_reason('checked', 'order_line_id', 'order_lines', key_repeated='_key_repeated') }}
),

final as (
    {{ with_erasure_request_id('dispositions', [('order_id', 'dispositions.order_id')]) }}
)

{{ without_erased_content('final', keep=['_unit', '_processed_at'], raw_table='order_lines') }}
