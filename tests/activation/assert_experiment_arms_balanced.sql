{#- Balance check of the assignment: per campaign, the treatment / control
    counts against the designed split (chi-square, 1 degree of freedom: a
    statistic above 10.83 is p < 0.001, a sample-ratio mismatch), and the
    global holdout's share of all customers against its var (binomial z above
    4). A salted md5 bucket is uniform: failing this means the assignment
    code, not chance, is broken. -#}
with

assignments as (
    select * from {{ ref('experiment_assignments') }}
),

customers as (
    select * from {{ ref('dim_customers') }}
),

arms as (
    select
        campaign_id,
        count(*) filter (where arm = 'treatment') as n_treatment,
        count(*) filter (where arm = 'control') as n_control,
        max(control_share) as control_share
    from assignments
    group by campaign_id
),

campaign_checks as (
    select
        campaign_id as checked_unit,
        power(n_treatment - (n_treatment + n_control) * (1 - control_share), 2)
        / ((n_treatment + n_control) * (1 - control_share))
        + power(n_control - (n_treatment + n_control) * control_share, 2)
        / ((n_treatment + n_control) * control_share) as statistic,
        10.83 as critical_value
    from arms
    where n_treatment + n_control > 0
),

holdout as (
    select
        count(*) as n_customers,
        count(*) filter (where {{ is_global_holdout('customer_key') }}) as n_holdout,
        {{ var('microseg__activation_holdout_share') }} as holdout_share
    from customers
),

holdout_check as (
    select
        'global holdout' as checked_unit,
        abs(n_holdout - n_customers * holdout_share) / sqrt(n_customers * holdout_share * (1 - holdout_share))
            as statistic,
        4.0 as critical_value
    from holdout
    where holdout_share > 0
),

checks as (
    select * from campaign_checks
    union all
    select * from holdout_check
)

select * from checks
where statistic > critical_value
