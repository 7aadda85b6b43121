{#- One row per resolved customer and email campaign: whether the campaign
    was sent, opened, clicked (var microseg__email_event_types), when first,
    and when each was first known (the event had happened and been received,
    and its identifier had been linked to the customer: identity_linked_at),
    for point-in-time cuts. A repeated open is still one opened campaign.
    recipient_id is the CRM id the first recorded send went to (the id the
    email platform assigns its test arms by: experiment_assignments), the
    smallest of those sent at the same second.
    An open or click implies the email was sent: is_sent holds for a campaign
    with any of its events (a send without a recorded sent event), and the
    sent date and known date are those of its first event, so opened and
    clicked campaigns are a subset of sent ones (rates stay <= 1).

    Incremental, the customer as the unit (docs/incremental.md "Sessions and
    email campaigns"): a run rebuilds every campaign row of each customer
    touched since the table's last run (macro microseg_touched_customer_keys:
    relinked by the identity diff, or with an identifier on an event of a
    rebuilt events unit) from all of that customer's events; the pre-hook
    first deletes those customers' rows and the rows of keys no identifier has
    any more. A campaign id, shared by most recipients, cannot narrow the
    events as int_behaviour__sessions' session id does. -#}
-- depends_on: {{ ref('int_customer_identifier_changes') }}
-- depends_on: {{ ref('int_customer_identifiers') }}
-- depends_on: {{ ref('stg_tracking__events') }}
-- depends_on: {{ ref('base_tracking__events') }}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ microseg_delete_rebuilt_rows() }}",
) }}
{%- set email_types = var('microseg__email_event_types') -%}
with

events as (
    select
        customer_key,
        campaign_id,
        event_type,
        event_at,
        user_crm_id,
        greatest(event_at, coalesce(received_at, event_at), identity_linked_at) as known_at
    from {{ ref('int_events_resolved') }}
    where
        customer_key is not null
        and campaign_id is not null
        and event_type in ('{{ email_types.values() | join("', '") }}')  -- noqa: LT05
    {%- if is_incremental() %}
        and customer_key in ({{ microseg_touched_customer_keys() }})
    {%- endif %}
),

final as (
    select
        customer_key,
        campaign_id,
        {%- for flag, event_type in email_types.items() %}
            {%- set hit = 'true' if flag == 'sent' else "event_type = '" ~ event_type ~ "'" %}
            bool_or({{ hit }}) as is_{{ flag }},
            min(event_at) filter (where {{ hit }}) as first_{{ flag }}_at,
            {{ to_business_date('min(event_at) filter (where ' ~ hit ~ ')') }} as first_{{ flag }}_date,
            {{ to_business_date('min(known_at) filter (where ' ~ hit ~ ')') }} as {{ flag }}_known_date,
        {%- endfor %}
        -- ties (one customer's ids sent the campaign at the same second) to the smallest id: the arm
        -- of a customer must not depend on the order the rows happen to be read in
        arg_min(user_crm_id, (event_at, user_crm_id)) filter (
            where event_type = '{{ email_types["sent"] }}' and user_crm_id is not null
        ) as recipient_id,
        count(*) as event_count,
        {{ microseg_processed_at() }} as _processed_at
    from events
    group by customer_key, campaign_id
)

select * from final
