{#- Outcomes per campaign x segment cell and arm, the input of the Python
    readout (experiment_readout). One row per sent campaign (experiment_assignments,
    campaign_kind 'sent') and segment, plus one row per campaign with
    segment_name '(all)'. Treatment and control only: the global holdout is
    not an arm of a campaign readout.

    Conversion and revenue per recipient: experiment_outcomes (an order within
    the conversion window of its own send; campaigns whose window is over).
    Segment: customer_segments as of the build (customers outside the
    segmented base: 'unsegmented'). -#}
with

outcomes as (
    select * from {{ ref('experiment_outcomes') }}
),

segments as (
    select * from {{ ref('customer_segments') }}
),

recipients as (
    select
        outcomes.campaign_id,
        coalesce(segments.segment_name, 'unsegmented') as segment_name,
        outcomes.arm,
        outcomes.control_share,
        outcomes.is_converted,
        outcomes.revenue_eur
    from outcomes
    left join segments on outcomes.customer_key = segments.customer_key
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
