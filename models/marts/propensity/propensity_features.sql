{#- Two point-in-time feature snapshots per customer with a sale:
    'training' as of as_of_date - horizon (labelled by propensity_labels with
    what happens in (as_of_date - horizon, as_of_date]) and 'scoring' as of
    as_of_date. Each snapshot reads only data up to its own date
    (macro propensity_customer_features; proven by the singular test
    assert_propensity_features_point_in_time). -#}
with

as_of as (
    select as_of_date from {{ ref('int_as_of_date') }}
),

snapshot_dates as (
    select
        cast(as_of_date - {{ var('microseg__propensity_horizon_days') | int }} as date) as training_date,
        as_of_date as scoring_date
    from as_of
),

orders as (
    select * from {{ ref('fct_orders') }}
),

order_lines as (
    select * from {{ ref('stg_shop__order_lines') }}
),

events as (
    select * from {{ ref('fct_events') }}
),

training as (
    {{ propensity_customer_features('orders', 'order_lines', 'events', '(select training_date from snapshot_dates)') }}
),

scoring as (
    {{ propensity_customer_features('orders', 'order_lines', 'events', '(select scoring_date from snapshot_dates)') }}
),

final as (
    select
        customer_key,
        'training' as snapshot,
        * exclude (customer_key)
    from training
    union all
    select
        customer_key,
        'scoring' as snapshot,
        * exclude (customer_key)
    from scoring
)

select * from final
