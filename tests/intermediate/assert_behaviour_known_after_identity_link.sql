{#- No behaviour row is known for its customer before the identity link that
    attributed it to that customer was made. Recomputed here from staging and
    int_customer_identifiers (linked_at), independently of the resolved
    models: an event belongs to the customer of its crm id, else of its
    anonymous id; an order to the customer of its crm id, else of its guest
    email. A session known (known_at) before the latest link of its events, an
    order or order line known before its link, an email flag known before the
    earliest link of its events is a leak: an anonymous device's early events,
    or a guest email's orders, would count in a point-in-time snapshot taken
    before the login or the CRM record that tied them to the customer.
    Together with assert_propensity_features_point_in_time (features read
    only rows known by the snapshot date) this proves no feature uses an
    identity link made after its as-of date. Returns the leaking rows. -#}
with

identifiers as not materialized (
    select * from {{ ref('int_customer_identifiers') }}
),

events as (
    select
        events.session_id,
        events.campaign_id,
        events.event_type,
        coalesce(by_crm_id.customer_key, by_device.customer_key) as customer_key,
        case when by_crm_id.customer_key is not null then by_crm_id.linked_at else by_device.linked_at end
            as linked_at
    from {{ ref('stg_tracking__events') }} as events
    left join identifiers as by_crm_id
        on by_crm_id.identifier_type = 'crm_id' and events.user_crm_id = by_crm_id.identifier_value
    left join identifiers as by_device
        on by_device.identifier_type = 'anonymous_id' and events.anonymous_id = by_device.identifier_value
),

orders as (
    select
        orders.order_id,
        case when by_crm_id.customer_key is not null then by_crm_id.linked_at else by_email.linked_at end
            as linked_at
    from {{ ref('stg_shop__orders') }} as orders
    left join identifiers as by_crm_id
        on by_crm_id.identifier_type = 'crm_id' and orders.customer_crm_id = by_crm_id.identifier_value
    left join identifiers as by_email
        on by_email.identifier_type = 'email_hash' and orders.customer_email_hash = by_email.identifier_value
),

session_links as (
    select
        customer_key,
        session_id,
        max(linked_at) as linked_at
    from events
    where customer_key is not null and session_id is not null
    group by customer_key, session_id
),

email_links as (
    select
        customer_key,
        campaign_id,
        event_type,
        -- an identifier without a link time (a CRM record whose signup is unknown) is linked from the start
        case when count(*) = count(linked_at) then min(linked_at) end as linked_at
    from events
    where customer_key is not null and campaign_id is not null
    group by customer_key, campaign_id, event_type
),

leaks as (
    select
        'session' as row_kind,
        sessions.session_id as row_id,
        cast(sessions.known_at as varchar) as known_on,
        session_links.linked_at
    from {{ ref('int_behaviour__sessions') }} as sessions
    inner join session_links
        on sessions.customer_key = session_links.customer_key and sessions.session_id = session_links.session_id
    where sessions.known_at < session_links.linked_at
    union all
    select
        'order' as row_kind,
        behaviour_orders.order_id as row_id,
        cast(behaviour_orders.known_date as varchar) as known_on,
        orders.linked_at
    from {{ ref('int_behaviour__orders') }} as behaviour_orders
    inner join orders on behaviour_orders.order_id = orders.order_id
    where behaviour_orders.known_date < cast(orders.linked_at as date)
    union all
    select
        'order_line' as row_kind,
        behaviour_lines.order_line_id as row_id,
        cast(behaviour_lines.known_date as varchar) as known_on,
        orders.linked_at
    from {{ ref('int_behaviour__order_lines') }} as behaviour_lines
    inner join orders on behaviour_lines.order_id = orders.order_id
    where behaviour_lines.known_date < cast(orders.linked_at as date)
    {%- for flag, event_type in var('microseg__email_event_types').items() %}
        union all
        select
            'email_{{ flag }}' as row_kind,
            campaigns.campaign_id as row_id,
            cast(campaigns.{{ flag }}_known_date as varchar) as known_on,
            email_links.linked_at
        from {{ ref('int_behaviour__email_campaigns') }} as campaigns
        inner join email_links
            on
                campaigns.customer_key = email_links.customer_key
                and campaigns.campaign_id = email_links.campaign_id
                and email_links.event_type = '{{ event_type }}'
        where campaigns.{{ flag }}_known_date < cast(email_links.linked_at as date)
    {%- endfor %}
)

select * from leaks
