{#- One row per distinct raw order row: the raw text columns (raw_*), the number
    of exact copies dropped, the typed and cleaned columns and the reject
    reason. stg_shop__orders (reject_reason null) and
    stg_shop__orders_rejected (reject_reason set) are two filters of this
    view, so every distinct raw row lands in exactly one of them, unless it is
    erased: a row whose customer crm id or email is in
    stg_privacy__erased_identifiers carries erasure_request_id and reaches
    neither (counted as erased).

    A view, not a table: it is wide (raw and typed columns), and writing it
    costs more than computing it twice (once per reader). -#}
{{ config(materialized='view') }}

{%- set raw_columns = raw_columns('orders') %}

with

source as (
    select * from {{ source('shop', 'orders') }}
),

fx_rates as (
    select * from {{ ref('fx_rates') }}
),

erased_identifiers as (
    select * from {{ ref('stg_privacy__erased_identifiers') }}
),

raw_rows as (
    select {{ select_raw_columns('orders') }}
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
        {{ clean_text('raw_order_id') }} as order_id,
        -- a guest checkout references the order by email, a customer by crm id
        case
            when not contains({{ clean_text('raw_customer_ref') }}, '@')
                then {{ clean_text('raw_customer_ref') }}
        end as customer_crm_id,
        case
            when contains({{ clean_text('raw_customer_ref') }}, '@')
                then {{ normalize_email('raw_customer_ref') }}
        end as customer_email,
        {{ to_utc_timestamp('raw_ordered_at') }} as ordered_at,
        upper({{ clean_text('raw_currency') }}) as currency,
        lower({{ clean_text('raw_channel') }}) as channel,
        lower({{ clean_text('raw_payment_method') }}) as payment_method
    from distinct_raw_rows
),

checked as (
    -- every check except the two key checks, in reason-code order
    select
        typed.*,
        case
            when typed.ordered_at is null then 'invalid_timestamp'
            when fx_rates.currency is null then 'invalid_value'
        end as check_reason
    from typed
    left join fx_rates on typed.currency = fx_rates.currency
),

colliding_keys as (
    -- ids carried by more than one distinct row: only these need ranking,
    -- which is far cheaper than sorting the whole table
    select order_id
    from checked
    where order_id is not null
    group by order_id
    having count(*) > 1
),

ranked_collisions as (
    -- among distinct rows sharing an order id keep a row that passes the
    -- checks, then the first by ordered_at, then the lowest row_hash (raw file
    -- order is not stable in DuckDB)
    select
        order_id,
        {{ row_hash(raw_columns, prefix='raw_') }} as row_hash,
        row_number() over (
            partition by order_id
            order by
                check_reason is null desc,
                ordered_at asc nulls last,
                {{ row_hash(raw_columns, prefix='raw_') }} asc
        ) as key_rank
    from checked
    where order_id in (select colliding_keys.order_id from colliding_keys)
),

kept_rows as (
    select
        order_id,
        row_hash as kept_row_hash
    from ranked_collisions
    where key_rank = 1
),

final as (
    select
        checked.*,
        case
            when checked.order_id is null then 'missing_key'
            -- the row hash is only computed for the few rows of colliding ids
            when
                kept_rows.order_id is not null
                and {{ row_hash(raw_columns, prefix='checked.raw_') }} <> kept_rows.kept_row_hash
                then 'duplicate_key'
            else checked.check_reason
        end as reject_reason,
        least(erased_crm_id.request_id, erased_email.request_id) as erasure_request_id
    from checked
    left join kept_rows on checked.order_id = kept_rows.order_id
    left join erased_identifiers as erased_crm_id
        on
            erased_crm_id.identifier_type = 'crm_id'
            and checked.customer_crm_id = erased_crm_id.identifier_value
    left join erased_identifiers as erased_email
        on
            erased_email.identifier_type = 'email_hash'
            and {{ hash_pii('checked.customer_email') }} = erased_email.identifier_value
)

select * from final
