{#- Ads platform customer list (Google Customer Match, Meta custom audience):
    one row per audience and exportable member on the ads channel, with the
    match keys in the platforms' normalization: SHA-256 of the trimmed
    lower-cased email and of the phone in E.164 ('+' country code and number).
    No other attribute leaves: a customer list needs none. Also written to
    <microseg__export_path>/ads_platform.<format>. -#}
-- depends_on: {{ ref('export_folder') }}
{{ config(materialized='external', location=activation_export_location('ads_platform')) }}
with

eligible as (
    select * from {{ ref('audience_suppressions') }}
    where is_exportable and channel = 'ads'
),

final as (
    select
        audience_member_key as export_key,
        audience_name,
        email_sha256,
        phone_sha256,
        is_marketing_consent,
        as_of_date
    from eligible
)

select * from final
