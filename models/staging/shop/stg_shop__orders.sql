{#- The staged orders: the rows of base_shop__orders that pass every check
    and are not erased, the guest email as a salted hash.

    Incremental: a run deletes the orders of every base unit rebuilt since the
    table's last run (macro microseg_delete_rebuilt_units) and appends those
    units' staged rows; _processed_at is the base row's. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ microseg_delete_rebuilt_units('order_id', ref('base_shop__orders')) }}",
) }}
with

orders as (
    select * from {{ ref('base_shop__orders') }}
    where reject_reason is null and erasure_request_id is null
    {%- if is_incremental() %}
        and _processed_at > {{ microseg_fact_watermark() }}
    {%- endif %}
),

final as (
    select
        order_id,
        customer_crm_id,
        {{ hash_pii('customer_email') }} as customer_email_hash,
        ordered_at,
        {{ to_business_date('ordered_at') }} as order_date,
        currency,
        channel,
        payment_method,
        _processed_at
    from orders
)

select * from final
