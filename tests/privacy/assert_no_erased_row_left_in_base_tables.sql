{#- No kept (non-tombstone) row of an incremental base table carries an
    identifier on the suppression list. A full build looks every row up, so
    this holds by construction there; an incremental run must turn rows loaded
    by earlier runs into tombstones when a later erasure request (or new data
    extending an old request) reaches them (docs/incremental.md). Returns one
    row per base table with rows left, and their count (no identifier). -#}
with

events as (
    select * exclude (erasure_request_id) from {{ ref('base_tracking__events') }}
    where erasure_request_id is null
),

orders as (
    select * exclude (erasure_request_id) from {{ ref('base_shop__orders') }}
    where erasure_request_id is null
),

order_lines as (
    select * exclude (erasure_request_id) from {{ ref('base_shop__order_lines') }}
    where erasure_request_id is null
),

events_looked_up as (
    {{ with_erasure_request_id('events', [
            ('crm_id', 'events.user_crm_id'),
            ('anonymous_id', 'events.anonymous_id'),
            ('order_id', 'events.order_id'),
        ]) }}
),

orders_looked_up as (
    {{ with_erasure_request_id('orders', [
            ('order_id', 'orders.order_id'),
            ('crm_id', 'orders.customer_crm_id'),
            ('email_hash', hash_pii('orders.customer_email')),
        ]) }}
),

order_lines_looked_up as (
    {{ with_erasure_request_id('order_lines', [('order_id', 'order_lines.order_id')]) }}
),

final as (
    select
        'base_tracking__events' as model_name,
        count(*) as erased_rows_left
    from events_looked_up
    where erasure_request_id is not null
    union all
    select
        'base_shop__orders' as model_name,
        count(*) as erased_rows_left
    from orders_looked_up
    where erasure_request_id is not null
    union all
    select
        'base_shop__order_lines' as model_name,
        count(*) as erased_rows_left
    from order_lines_looked_up
    where erasure_request_id is not null
)

select * from final
where erased_rows_left > 0
