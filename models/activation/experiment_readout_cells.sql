{#- Outcomes per campaign x segment cell and arm, the input of the Python
    readout (experiment_readout). One row per sent campaign (experiment_assignments,
    campaign_kind 'sent') and segment, plus one row per campaign with
    segment_name '(all)'. Treatment and control only: the global holdout is
    not an arm of a campaign readout.

    A recipient converts with an order (fct_orders, customer resolved) placed
    in the var microseg__experiment_conversion_window_days days from its own
    send; revenue is the net revenue in EUR of those orders. A campaign is read
    out only once the window of its last send is over by the as-of date.
    Segment: customer_segments as of the build (customers outside the
    segmented base: 'unsegmented'). -#}
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

segments as (
    select * from {{ ref('customer_segments') }}
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

recipients as (
    select
        assignments.campaign_id,
        coalesce(segments.segment_name, 'unsegmented') as segment_name,
        assignments.arm,
        assignments.control_share,
        outcomes.is_converted,
        cast(outcomes.revenue_eur as double) as revenue_eur
    from assignments
    inner join complete_campaigns on assignments.campaign_id = complete_campaigns.campaign_id
    inner join outcomes on assignments.assignment_key = outcomes.assignment_key
    left join segments on assignments.customer_key = segments.customer_key
),

-- every recipient once in its segment's cell and once in the campaign's '(all)' cell
scoped as (
    select * from recipients
    union all
    select * replace ('(all)' as segment_name) from recipients
),

cells as (
    select
        campaign_id,
        segment_name,
        1 - max(control_share) as treatment_share,
        count(*) filter (where arm = 'treatment') as recipients_treatment,
        count(*) filter (where arm = 'treatment' and is_converted) as conversions_treatment,
        coalesce(sum(revenue_eur) filter (where arm = 'treatment'), 0) as revenue_treatment_eur,
        coalesce(sum(revenue_eur * revenue_eur) filter (where arm = 'treatment'), 0) as revenue_sq_treatment,
        count(*) filter (where arm = 'control') as recipients_control,
        count(*) filter (where arm = 'control' and is_converted) as conversions_control,
        coalesce(sum(revenue_eur) filter (where arm = 'control'), 0) as revenue_control_eur,
        coalesce(sum(revenue_eur * revenue_eur) filter (where arm = 'control'), 0) as revenue_sq_control
    from scoped
    group by campaign_id, segment_name
),

final as (
    select * from cells
)

select * from final
