{#- One row per audience member (audience_members) with every reason it may
    not leave on its audience's channel, and the first of them
    (suppression_reason, null = exportable). Reasons, in this order:
    - erased: one of the customer's identifiers is on the erasure list
      (stg_privacy__erased_identifiers). Staging already drops erased persons;
      this re-check guards exports against anything the ML tables still hold;
    - no_consent: email and ads need the latest marketing consent statement to
      be a yes (dim_customers; unknown is no). The CRM channel only writes
      segment fields onto records the company holds, so consent is carried as
      a column there, not required;
    - no_contact: email needs an email match key, ads an email or phone match
      key (int_activation__contact_match_keys), crm a CRM id;
    - global_holdout: the customer is in the global holdout (any channel);
    - frequency_cap: email only, an email campaign was sent to the customer in
      the var microseg__activation_frequency_cap_days days up to the as-of date;
    - campaign_control: the member is in the control arm of the planned
      campaign (seed campaigns) that targets this audience. -#}
{%- set cap_days = var('microseg__activation_frequency_cap_days') %}
with

members as (
    select * from {{ ref('audience_members') }}
),

customers as (
    select * from {{ ref('dim_customers') }}
),

identity_map as (
    select * from {{ ref('customer_identity_map') }}
),

erased_identifiers as (
    select * from {{ ref('stg_privacy__erased_identifiers') }}
),

match_keys as not materialized (
    select * from {{ ref('int_activation__contact_match_keys') }}
),

email_campaigns as (
    {{ select_with_customer_key_as_text(ref('int_behaviour__email_campaigns')) }}
),

assignments as (
    select * from {{ ref('experiment_assignments') }}
),

as_of as (
    select * from {{ ref('int_as_of_date') }}
),

erased_customers as (
    select distinct identity_map.customer_key
    from identity_map
    inner join erased_identifiers
        on
            identity_map.source_id = erased_identifiers.identifier_value
            and erased_identifiers.identifier_type = case
                when identity_map.source in ('crm_a', 'crm_b') then 'crm_id'
                when identity_map.source = 'email' then 'email_hash'
                when identity_map.source = 'phone' then 'phone_hash'
                else identity_map.source
            end
),

recently_contacted as (
    select distinct email_campaigns.customer_key
    from email_campaigns
    cross join as_of
    where
        email_campaigns.is_sent
        and email_campaigns.first_sent_date > as_of.as_of_date - {{ cap_days }}
        and email_campaigns.first_sent_date <= as_of.as_of_date
),

campaign_control as (
    select
        audience_name,
        customer_key,
        campaign_id
    from assignments
    where campaign_kind = 'planned' and arm = 'control'
),

flagged as (
    select
        members.audience_member_key,
        members.audience_name,
        members.customer_key,
        members.channel,
        customers.primary_crm_customer_id as crm_customer_id,
        email_keys.match_key_sha256 as email_sha256,
        phone_keys.match_key_sha256 as phone_sha256,
        coalesce(customers.is_marketing_consent, false) as is_marketing_consent,
        customers.customer_key is null or erased_customers.customer_key is not null as is_erased,
        members.channel in ('email', 'ads') and not coalesce(customers.is_marketing_consent, false) as lacks_consent,
        case members.channel
            when 'email' then email_keys.match_key_sha256 is null
            when 'ads' then email_keys.match_key_sha256 is null and phone_keys.match_key_sha256 is null
            when 'crm' then customers.primary_crm_customer_id is null
        end as lacks_contact,
        {{ is_global_holdout('members.customer_key') }} as is_global_holdout,
        members.channel = 'email' and recently_contacted.customer_key is not null as is_frequency_capped,
        campaign_control.campaign_id as control_campaign_id,
        members.as_of_date
    from members
    left join customers on members.customer_key = customers.customer_key
    left join erased_customers on members.customer_key = erased_customers.customer_key
    left join match_keys as email_keys
        on customers.email_hash = email_keys.contact_hash and email_keys.contact_type = 'email'
    left join match_keys as phone_keys
        on customers.phone_hash = phone_keys.contact_hash and phone_keys.contact_type = 'phone'
    left join recently_contacted on members.customer_key = recently_contacted.customer_key
    left join campaign_control
        on
            members.audience_name = campaign_control.audience_name
            and members.customer_key = campaign_control.customer_key
),

reasoned as (
    select
        audience_member_key,
        audience_name,
        customer_key,
        channel,
        case
            when is_erased then 'erased'
            when lacks_consent then 'no_consent'
            when lacks_contact then 'no_contact'
            when is_global_holdout then 'global_holdout'
            when is_frequency_capped then 'frequency_cap'
            when control_campaign_id is not null then 'campaign_control'
        end as suppression_reason,
        is_erased,
        lacks_consent,
        lacks_contact,
        is_global_holdout,
        is_frequency_capped,
        control_campaign_id,
        crm_customer_id,
        email_sha256,
        phone_sha256,
        is_marketing_consent,
        as_of_date
    from flagged
),

final as (
    select
        audience_member_key,
        audience_name,
        customer_key,
        channel,
        suppression_reason,
        suppression_reason is null as is_exportable,
        is_erased,
        lacks_consent,
        lacks_contact,
        is_global_holdout,
        is_frequency_capped,
        control_campaign_id,
        crm_customer_id,
        email_sha256,
        phone_sha256,
        is_marketing_consent,
        as_of_date
    from reasoned
)

select * from final
