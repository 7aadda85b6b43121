{#- One row per campaign and customer in its population, with the arm:
    'holdout' (global holdout: never treated, any campaign), else 'control'
    when the campaign's salted bucket of the customer falls under its control
    share, else 'treatment'.

    Two kinds of campaign:
    - planned (seed campaigns): the population is the campaign's audience in
      audience_members; control members are suppressed from the exports
      (reason campaign_control), so the split is real;
    - sent: every email campaign found in the events
      (int_behaviour__email_campaigns) not in the seed, population = its
      recipients, control share var microseg__experiment_control_share. Nobody
      was held back when they were sent, so their readout is an A/A test: the
      check that the readout does not invent lift.

    The bucket is md5(experiment salt | campaign_id | customer_key) (macro
    activation_bucket): the same customer gets the same arm in the same
    campaign on every run and rebuild, independently across campaigns and of
    the global holdout's salt. -#}
{%- set salt = var('microseg__experiment_salt') %}
with

campaigns as (
    select * from {{ ref('campaigns') }}
),

members as (
    select * from {{ ref('audience_members') }}
),

email_campaigns as (
    select * from {{ ref('int_behaviour__email_campaigns') }}
),

planned as (
    select
        campaigns.campaign_id,
        'planned' as campaign_kind,
        campaigns.audience_name,
        members.customer_key,
        coalesce(campaigns.control_share, {{ var('microseg__experiment_control_share') }}) as control_share,
        cast(null as timestamp) as sent_at
    from campaigns
    inner join members on campaigns.audience_name = members.audience_name
),

sent as (
    select
        email_campaigns.campaign_id,
        'sent' as campaign_kind,
        cast(null as varchar) as audience_name,
        email_campaigns.customer_key,
        {{ var('microseg__experiment_control_share') }} as control_share,
        email_campaigns.first_sent_at as sent_at
    from email_campaigns
    where
        email_campaigns.is_sent
        and email_campaigns.campaign_id not in (select campaigns.campaign_id from campaigns)
),

populations as (
    select * from planned
    union all
    select * from sent
),

bucketed as (
    select
        *,
        {{ activation_bucket(salt, "campaign_id || '|' || customer_key") }} as assignment_bucket,
        {{ is_global_holdout('customer_key') }} as is_global_holdout
    from populations
),

final as (
    select
        md5(campaign_id || '|' || customer_key) as assignment_key,
        campaign_id,
        customer_key,
        campaign_kind,
        audience_name,
        case
            when is_global_holdout then 'holdout'
            when assignment_bucket < control_share then 'control'
            else 'treatment'
        end as arm,
        cast(control_share as double) as control_share,
        cast(assignment_bucket as double) as assignment_bucket,
        is_global_holdout,
        sent_at
    from bucketed
)

select * from final
