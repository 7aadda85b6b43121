{#- One row per treatment or control recipient of a sent campaign whose
    conversion window is over by the as-of date (the window of its last send).
    A recipient converts with an order (fct_orders, customer resolved) placed
    in the var microseg__experiment_conversion_window_days days from its own
    send; revenue is the net revenue in EUR of those orders. The global
    holdout is not an arm of a campaign readout. The one definition of a
    campaign conversion: experiment_readout_cells aggregates it, the truth
    evaluation (microseg.activation.truth_eval) reads it per persona. -#}
{%- set window_days = var('microseg__experiment_conversion_window_days') %}
with

assignments as (
    select * from {{ ref('experiment_assignments') }}
    where campaign_kind = 'sent' and arm in ('treatment', 'control')
),

orders as (
    select * from {{ ref('fct_orders') }}
    where customer_key is not null
),

as_of as (
    select * from {{ ref('int_as_of_date') }}
),

complete_campaigns as (
    select assignments.campaign_id
    from assignments
    cross join as_of
    group by assignments.campaign_id, as_of.as_of_date
    having max(assignments.sent_at) + interval {{ window_days }} day <= as_of.as_of_date + interval 1 day
),

outcomes as (
    select
        assignments.assignment_key,
        count(orders.order_id) > 0 as is_converted,
        coalesce(sum(orders.net_revenue_eur), 0) as revenue_eur
    from assignments
    left join orders
        on
            assignments.customer_key = orders.customer_key
            and assignments.sent_at <= orders.ordered_at
            and assignments.sent_at + interval {{ window_days }} day > orders.ordered_at
    group by assignments.assignment_key
),

final as (
    select
        assignments.assignment_key,
        assignments.campaign_id,
        assignments.customer_key,
        assignments.recipient_id,
        assignments.arm,
        assignments.control_share,
        outcomes.is_converted,
        cast(outcomes.revenue_eur as double) as revenue_eur
    from assignments
    inner join complete_campaigns on assignments.campaign_id = complete_campaigns.campaign_id
    inner join outcomes on assignments.assignment_key = outcomes.assignment_key
)

select * from final
