{#- Point-in-time feature snapshots per customer with a purchase: 'training'
    snapshots as of as_of_date - k * horizon for k = 1 ..
    microseg__propensity_training_snapshots (labelled by propensity_labels
    with what happens in the horizon after each), and one 'scoring' snapshot
    as of as_of_date. Each snapshot reads only behaviour rows known by its own
    date (macro propensity_customer_features over the behaviour layer; proven
    by the singular test assert_propensity_features_point_in_time). The
    behaviour imports are materialized copies: they spill, where the
    snapshots' windows and aggregations over inlined reads ran out of memory
    at 1,000,000 persons (docs/decisions.md). -#}
{%- set horizon = var('microseg__propensity_horizon_days') | int %}
{%- set n_training = var('microseg__propensity_training_snapshots') | int %}
with

as_of as (
    select as_of_date from {{ ref('int_as_of_date') }}
),

snapshot_dates as (
    select
        {%- for k in range(1, n_training + 1) %}
            cast(as_of_date - {{ k * horizon }} as date) as training_date_{{ k }},
        {%- endfor %}
        as_of_date as scoring_date
    from as_of
),

orders as materialized (
    select * from {{ ref('int_behaviour__orders') }}
),

order_lines as materialized (
    select * from {{ ref('int_behaviour__order_lines') }}
),

sessions as materialized (
    select * from {{ ref('int_behaviour__sessions') }}
),

email_campaigns as materialized (
    select * from {{ ref('int_behaviour__email_campaigns') }}
),

{#- raw events only for an event target's own history -#}
{%- if propensity_target().kind == 'event' %}
    events as materialized (
        select * from {{ ref('fct_events') }}
    ),
{%- endif %}

{%- for k in range(1, n_training + 1) %}

    training_{{ k }} as (
    {{ propensity_customer_features(
        'orders', 'order_lines', 'sessions', 'email_campaigns', 'events',
        '(select training_date_' ~ k ~ ' from snapshot_dates)') }}
    ),
{%- endfor %}

scoring as (
    {{ propensity_customer_features(
        'orders', 'order_lines', 'sessions', 'email_campaigns', 'events',
        '(select scoring_date from snapshot_dates)') }}
),

final as (
    {%- for k in range(1, n_training + 1) %}
        select
            customer_key,
            'training' as snapshot_kind,
            * exclude (customer_key)
        from training_{{ k }}
        union all
    {%- endfor %}
    select
        customer_key,
        'scoring' as snapshot_kind,
        * exclude (customer_key)
    from scoring
)

select * from final
