{#- Email platform sync (one row per audience and contact): the audience's
    exportable members (audience_suppressions: no suppression reason) on the
    email channel, keyed by the SHA-256 of the trimmed lower-cased email the
    platform computes itself, with the attributes its templates and journeys
    branch on (segment, RFM segment, propensity, next best category).
    Also written to <microseg__export_path>/email_platform.<format>. -#}
-- depends_on: {{ ref('export_folder') }}
{{ config(materialized='external', location=activation_export_location('email_platform')) }}
with

eligible as (
    select * from {{ ref('audience_suppressions') }}
    where is_exportable and channel = 'email'
),

members as (
    select * from {{ ref('audience_members') }}
),

next_best as (
    select * from {{ ref('customer_next_best_category') }}
),

final as (
    select
        eligible.audience_member_key as export_key,
        eligible.audience_name,
        eligible.customer_key as external_id,
        eligible.email_sha256,
        eligible.is_marketing_consent,
        members.segment_name,
        members.rfm_segment,
        members.propensity_tier,
        members.propensity_decile,
        next_best.next_best_category,
        eligible.as_of_date
    from eligible
    inner join members on eligible.audience_member_key = members.audience_member_key
    left join next_best on eligible.customer_key = next_best.customer_key
)

select * from final
