{#- No export row may belong to a suppressed member, checked two ways: through
    audience_suppressions (the row must exist and be exportable) and directly
    against the facts each reason stands for, recomputed here (erasure list,
    consent in dim_customers, global holdout bucket, the control arm of a
    planned campaign), so a broken suppression model cannot hide its own
    leak. Returns one row per offending export row with the problem. -#}
with

exports as (
    select
        'email_platform' as destination,
        export_key,
        'email' as channel
    from {{ ref('export_email_platform') }}
    union all
    select
        'ads_platform' as destination,
        export_key,
        'ads' as channel
    from {{ ref('export_ads_platform') }}
    union all
    select
        'crm' as destination,
        export_key,
        'crm' as channel
    from {{ ref('export_crm') }}
),

members as (
    select * from {{ ref('audience_members') }}
),

suppressions as (
    select * from {{ ref('audience_suppressions') }}
),

customers as (
    select * from {{ ref('dim_customers') }}
),

erased_customers as (
    select distinct identity_map.customer_key
    from {{ ref('customer_identity_map') }} as identity_map
    inner join {{ ref('stg_privacy__erased_identifiers') }} as erased
        on identity_map.source_id = erased.identifier_value
),

controls as (
    select * from {{ ref('experiment_assignments') }}
    where campaign_kind = 'planned' and arm = 'control'
),

checked as (
    select
        exports.destination,
        exports.export_key,
        case
            when members.customer_key is null then 'not an audience member'
            when suppressions.audience_member_key is null then 'no suppression row'
            when not suppressions.is_exportable then 'suppressed: ' || suppressions.suppression_reason
            when customers.customer_key is null then 'customer gone from dim_customers'
            when erased_customers.customer_key is not null then 'erased'
            when exports.channel != 'crm' and not coalesce(customers.is_marketing_consent, false)
                then 'no marketing consent'
            when {{ is_global_holdout('members.customer_key') }} then 'global holdout'
            when controls.customer_key is not null then 'control arm of ' || controls.campaign_id
        end as problem
    from exports
    left join members on exports.export_key = members.audience_member_key
    left join suppressions on exports.export_key = suppressions.audience_member_key
    left join customers on members.customer_key = customers.customer_key
    left join erased_customers on members.customer_key = erased_customers.customer_key
    left join controls
        on
            members.audience_name = controls.audience_name
            and members.customer_key = controls.customer_key
)

select * from checked
where problem is not null
