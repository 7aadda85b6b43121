{#- CRM sync (e.g. a reverse-ETL upsert onto the contact record): one row per
    audience and exportable member on the crm channel, keyed by the CRM id of
    the customer's primary record, with the segment fields the sales team
    works from and the consent state next to them. Also written to
    <microseg__export_path>/crm.<format>. -#}
-- depends_on: {{ ref('export_folder') }}
{{ config(materialized='external', location=activation_export_location('crm')) }}
with

eligible as (
    select * from {{ ref('audience_suppressions') }}
    where is_exportable and channel = 'crm'
),

members as (
    select * from {{ ref('audience_members') }}
),

final as (
    select
        eligible.audience_member_key as export_key,
        eligible.crm_customer_id,
        eligible.audience_name,
        members.segment_id,
        members.segment_name,
        members.rfm_segment,
        members.propensity,
        members.propensity_tier,
        eligible.is_marketing_consent,
        eligible.as_of_date
    from eligible
    inner join members on eligible.audience_member_key = members.audience_member_key
)

select * from final
