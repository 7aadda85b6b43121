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
      recipients, control share var microseg__experiment_control_share. Where
      the platform split nothing, the readout is an A/A test (the check that it
      does not invent lift); the demo generator plants A/B tests in a few of
      them (truth/campaign_uplift.parquet, docs/activation.md).

    The bucket is md5(experiment salt | campaign_id | assignment id) (macro
    activation_bucket): the same customer gets the same arm in the same
    campaign on every run and rebuild, independently across campaigns and of
    the global holdout's salt. The assignment id is the customer_key for a
    planned campaign (the project assigns before anything is sent) and, for a
    sent campaign, the recipient_id: the CRM id the email went to (user id of
    the customer's first send event), the id the email platform knows and
    assigns its test arms by (the demo generator plants its A/B tests so;
    int_behaviour__email_campaigns.recipient_id). -#}
{%- set salt = var('microseg__experiment_salt') %}
with

campaigns as not materialized (
    select * from {{ ref('campaigns') }}
),

members as (
    select * from {{ ref('audience_members') }}
),

email_campaigns as (
    {{ select_with_customer_key_as_text(ref('int_behaviour__email_campaigns')) }}
),

planned as (
    select
        campaigns.campaign_id,
        'planned' as campaign_kind,
        campaigns.audience_name,
        members.customer_key,
        cast(null as varchar) as recipient_id,
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
        email_campaigns.recipient_id,
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

keyed as (
    select
        *,
        coalesce(recipient_id, customer_key) as assignment_id
    from populations
),

bucketed as (
    select
        *,
        {{ activation_bucket(salt, "campaign_id || '|' || assignment_id") }} as assignment_bucket,
        {{ is_global_holdout('customer_key') }} as is_global_holdout
    from keyed
),

final as (
    select
        md5(campaign_id || '|' || customer_key) as assignment_key,
        campaign_id,
        customer_key,
        campaign_kind,
        audience_name,
        recipient_id,
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
