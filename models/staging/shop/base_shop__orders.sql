{#- One row per distinct raw order row with its disposition: the raw text
    columns (raw_*), the number of exact copies dropped, the typed and cleaned
    columns and the reject reason. stg_shop__orders (reject_reason null) and
    stg_shop__orders_rejected (reject_reason set) are two filters of this
    table, so every distinct raw row lands in exactly one of them, unless it is
    erased: a row whose order id, customer crm id or customer email is in
    stg_privacy__erased_identifiers is kept as a tombstone (erasure_request_id
    and the duplicate count, nothing else) and reaches neither.

    A table, not a view: every reader (staged and rejected models, quality
    summary, erasure audit, reconciliation tests) would otherwise recompute
    the de-duplication (docs/benchmarks.md). Steps and tombstones: macros/
    staging/staging_dispositions.sql. Incremental: a run rebuilds only the
    units (keys) with a row in a new raw file or newly erased, each from all
    of its raw rows, and records the files in microseg_load_manifest
    (macros/incremental/microseg_incremental.sql, docs/incremental.md). -#}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='_unit',
    post_hook="{{ microseg_record_load(source('shop', 'orders')) }}",
) }}


{%- set order_id_sql = clean_text('raw_order_id') %}

with

fx_rates as not materialized (
    select * from {{ ref('fx_rates') }}
),

{{ distinct_raw_rows_ctes(
    microseg_incremental_raw_rows(
        source('shop', 'orders'),
        'orders',
        'order_id',
        [
            ('order_id', 'loaded.order_id'),
            ('crm_id', 'loaded.customer_crm_id'),
            ('email_hash', hash_pii('loaded.customer_email')),
        ],
    ),
    'orders',
    order_id_sql,
) }},

typed as (
    select
        *,
        {{ microseg_unit('orders', 'order_id', prefix='raw_') }} as _unit,
        {{ microseg_processed_at() }} as _processed_at,
        {{ order_id_sql }} as order_id,
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

contained as (
    -- PII typed into a free-text attribute is emptied (flagged), not kept
    select
        * replace (
            {{ without_pii('channel') }} as channel,
            {{ without_pii('payment_method') }} as payment_method
        ),
        {{ pii_nulled_columns(['channel', 'payment_method']) }} as pii_nulled_columns
    from typed
),

checked as not materialized (
    -- every check except the two key checks, in reason-code order
    select
        contained.*,
        case
            when
                {{ identifier_has_pii('contained.order_id') }}
                or {{ identifier_has_pii('contained.customer_crm_id') }}
                then 'pii_in_text'
            when {{ timestamp_reason('contained.raw_ordered_at', 'contained.ordered_at') }} is not null
                then {{ timestamp_reason('contained.raw_ordered_at', 'contained.ordered_at') }}
            when
                {{ any_longer_than(
                    ['contained.order_id', 'contained.customer_crm_id', 'contained.customer_email'],
                    var('microseg__max_text_length')
                ) }}
                then 'out_of_range'
            when fx_rates.currency is null then 'invalid_value'
        end as check_reason
    from contained
    left join fx_rates on contained.currency = fx_rates.currency
),

dispositions as (
    {{ with_key_reject_reason(
        'checked',
        'order_id',
        'orders',
        survivor_order='ordered_at asc nulls last',
        key_repeated='_key_repeated'
    ) }}
),

final as (
    {{ with_erasure_request_id('dispositions', [
            ('order_id', 'dispositions.order_id'),
            ('crm_id', 'dispositions.customer_crm_id'),
            ('email_hash', hash_pii('dispositions.customer_email')),
        ]) }}
)

{{ without_erased_content('final', keep=['_unit', '_processed_at'], raw_table='orders') }}
