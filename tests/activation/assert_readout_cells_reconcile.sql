{#- Every recipient of a read-out campaign's treatment and control arms is in
    exactly one segment cell: per campaign and arm, the segment cells add up
    to the '(all)' row, and the '(all)' row counts the assignments. -#}
with

cells as not materialized (
    select * from {{ ref('experiment_readout_cells') }}
),

assignments as (
    select * from {{ ref('experiment_assignments') }}
    where campaign_kind = 'sent'
),

segment_sums as (
    select
        campaign_id,
        sum(recipients_treatment) as recipients_treatment,
        sum(recipients_control) as recipients_control,
        sum(conversions_treatment) as conversions_treatment,
        sum(conversions_control) as conversions_control
    from cells
    where segment_name != '(all)'
    group by campaign_id
),

assigned as (
    select
        campaign_id,
        count(*) filter (where arm = 'treatment') as recipients_treatment,
        count(*) filter (where arm = 'control') as recipients_control
    from assignments
    group by campaign_id
)

select totals.campaign_id
from cells as totals
inner join segment_sums on totals.campaign_id = segment_sums.campaign_id
inner join assigned on totals.campaign_id = assigned.campaign_id
where
    totals.segment_name = '(all)'
    and (
        totals.recipients_treatment != segment_sums.recipients_treatment
        or totals.recipients_control != segment_sums.recipients_control
        or totals.conversions_treatment != segment_sums.conversions_treatment
        or totals.conversions_control != segment_sums.conversions_control
        or totals.recipients_treatment != assigned.recipients_treatment
        or totals.recipients_control != assigned.recipients_control
    )
