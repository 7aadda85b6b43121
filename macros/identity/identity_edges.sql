{#- The one definition of the identity graph's deterministic links and edges,
    shared by identity resolution (models/intermediate/identity, over staged
    rows) and the erasure closure (stg_privacy__erased_identifiers, over every
    raw row, rejected ones included). Both pass relations or CTE names; the
    rules below are written once (docs/decisions.md, "One edge definition"). -#}


{#- Every deterministic link between a CRM record and an identifier, one row
    per (record, identifier) for distinct inputs: the record's email hash, its
    phone hash, and each anonymous id seen with the record's crm id as user id
    (the login event and the events after it in the session) or that sent the
    purchase event of an order placed under the record's crm id.

    `crm`: crm_customer_id, source_system, email_hash, phone_hash;
    `events`: anonymous_id, user_crm_id, event_type, order_id;
    `orders`: order_id, customer_crm_id.
    Output: record_source, record_id, identifier_source (email, phone,
    anonymous_id), identifier_id, valid_from. Only crm ids that are records link a device:
    an event naming a crm id nobody has is no evidence of a person.

    valid_from is when the link became known (null unless `timed`, then crm
    also needs signup_at, updated_at; events event_at, received_at; orders
    ordered_at): an email or phone at the later of the record's signup and
    last update (it may have been changed then), a device at its first login
    as the record or purchase under it (the event's received time). The
    erasure closure walks without time. -#}
{% macro identity_identifier_links(crm, events, orders, timed=false) -%}
with

link_crm as (
    select
        crm_customer_id,
        source_system,
        email_hash,
        phone_hash,
        {%- if timed %}
            greatest(signup_at, updated_at) as known_at
        {%- else %}
            cast(null as timestamp) as known_at
        {%- endif %}
    from {{ crm }}
    where crm_customer_id is not null
),

link_events as (
    select
        anonymous_id,
        user_crm_id,
        event_type,
        order_id,
        {{ identity_event_known_at(timed) }} as known_at
    from {{ events }}
    where anonymous_id is not null
),

link_orders as (
    select
        order_id,
        customer_crm_id,
        {{ 'ordered_at' if timed else 'cast(null as timestamp)' }} as known_at
    from {{ orders }}
    where customer_crm_id is not null
),

-- the crm id a device used: logged in as it, or bought on an order placed under it
device_crm_ids as (
    select
        anonymous_id,
        crm_customer_id,
        min(known_at) as known_at
    from (
        select
            anonymous_id,
            user_crm_id as crm_customer_id,
            known_at
        from link_events
        where user_crm_id is not null
        union all
        select
            link_events.anonymous_id,
            link_orders.customer_crm_id as crm_customer_id,
            greatest(link_events.known_at, link_orders.known_at) as known_at
        from link_events
        inner join link_orders on link_events.order_id = link_orders.order_id
        where link_events.event_type = 'purchase'
    ) as device_uses
    group by anonymous_id, crm_customer_id
),

links as (
    select
        source_system as record_source,
        crm_customer_id as record_id,
        'email' as identifier_source,
        email_hash as identifier_id,
        known_at as valid_from
    from link_crm
    where email_hash is not null
    union all
    select
        source_system as record_source,
        crm_customer_id as record_id,
        'phone' as identifier_source,
        phone_hash as identifier_id,
        known_at as valid_from
    from link_crm
    where phone_hash is not null
    union all
    select
        link_crm.source_system as record_source,
        link_crm.crm_customer_id as record_id,
        'anonymous_id' as identifier_source,
        device_crm_ids.anonymous_id as identifier_id,
        device_crm_ids.known_at as valid_from
    from device_crm_ids
    inner join link_crm on device_crm_ids.crm_customer_id = link_crm.crm_customer_id
)

select
    record_source,
    record_id,
    identifier_source,
    identifier_id,
    min(valid_from) as valid_from
from links
group by record_source, record_id, identifier_source, identifier_id
{%- endmacro %}


{#- When an event was known: it had happened and been received (null unless `timed`). -#}
{% macro identity_event_known_at(timed=true) -%}
    {%- if timed -%}
        greatest(event_at, coalesce(received_at, event_at))
    {%- else -%}
        cast(null as timestamp)
    {%- endif -%}
{%- endmacro %}


{#- The edges of the identity graph, one row per edge:
    - same_email / same_phone / same_device: a link of
      identity_identifier_links whose identifier the guard (`excluded`:
      identifier_source, identifier_id) did not exclude;
    - guest_purchase: an anonymous id and the one guest email of the orders it
      bought. The guest-email guard: a device that bought under several guest
      emails links none of them (a shared family tablet, a shop kiosk), nor
      does an excluded device or email;
    - fuzzy_match: with `fuzzy_matches` (left_source, left_id, right_source,
      right_id, match_score, is_match), the pairs at or above the threshold.

    `events`: anonymous_id, event_type, order_id; `orders`: order_id,
    customer_email_hash (the normalized guest email's hash).
    Output: left_source, left_id, right_source, right_id, edge_type,
    match_score (null for deterministic edges), valid_from: when the edge
    became known, null unless `timed` (then links carry valid_from, events
    event_at and received_at, orders ordered_at, and `crm` (crm_customer_id,
    signup_at, updated_at) times the fuzzy matches): a link's valid_from, a
    guest purchase's first purchase event and order both known, a fuzzy
    match the later of its two records' times. -#}
{% macro identity_edges(links, excluded, events, orders, fuzzy_matches=none, timed=false, crm=none) -%}
with

edge_links as (
    select * from {{ links }}
),

edge_excluded as (
    select
        identifier_source,
        identifier_id
    from {{ excluded }}
),

purchase_events as (
    select
        anonymous_id,
        order_id,
        {{ identity_event_known_at(timed) }} as known_at
    from {{ events }}
    where event_type = 'purchase' and anonymous_id is not null and order_id is not null
),

guest_orders as (
    select
        order_id,
        customer_email_hash,
        {{ 'ordered_at' if timed else 'cast(null as timestamp)' }} as known_at
    from {{ orders }}
    where order_id is not null and customer_email_hash is not null
),

deterministic_edges as (
    select
        edge_links.record_source as left_source,
        edge_links.record_id as left_id,
        edge_links.identifier_source as right_source,
        edge_links.identifier_id as right_id,
        case edge_links.identifier_source
            when 'email' then 'same_email'
            when 'phone' then 'same_phone'
            when 'anonymous_id' then 'same_device'
        end as edge_type,
        cast(null as double) as match_score,
        {{ 'edge_links.valid_from' if timed else 'cast(null as timestamp)' }} as valid_from
    from edge_links
    left join edge_excluded
        on
            edge_links.identifier_source = edge_excluded.identifier_source
            and edge_links.identifier_id = edge_excluded.identifier_id
    where edge_excluded.identifier_id is null
),

guest_purchases as (
    select
        purchase_events.anonymous_id,
        min(guest_orders.customer_email_hash) as email_hash,
        min(greatest(purchase_events.known_at, guest_orders.known_at)) as valid_from
    from purchase_events
    inner join guest_orders on purchase_events.order_id = guest_orders.order_id
    group by purchase_events.anonymous_id
    having count(distinct guest_orders.customer_email_hash) = 1
),

guest_purchase_edges as (
    select
        'anonymous_id' as left_source,
        guest_purchases.anonymous_id as left_id,
        'email' as right_source,
        guest_purchases.email_hash as right_id,
        'guest_purchase' as edge_type,
        cast(null as double) as match_score,
        guest_purchases.valid_from
    from guest_purchases
    left join edge_excluded as excluded_device
        on
            excluded_device.identifier_source = 'anonymous_id'
            and guest_purchases.anonymous_id = excluded_device.identifier_id
    left join edge_excluded as excluded_email
        on
            excluded_email.identifier_source = 'email'
            and guest_purchases.email_hash = excluded_email.identifier_id
    where excluded_device.identifier_id is null and excluded_email.identifier_id is null
),

edges as (
    select * from deterministic_edges
    union all
    select * from guest_purchase_edges
    {%- if fuzzy_matches %}
        union all
        select
            fuzzy.left_source,
            fuzzy.left_id,
            fuzzy.right_source,
            fuzzy.right_id,
            'fuzzy_match' as edge_type,
            cast(fuzzy.match_score as double) as match_score,
            {%- if timed %}
                greatest(left_crm.signup_at, left_crm.updated_at, right_crm.signup_at, right_crm.updated_at)
                    as valid_from
            {%- else %}
                cast(null as timestamp) as valid_from
            {%- endif %}
        from {{ fuzzy_matches }} as fuzzy
        {%- if timed %}
            left join {{ crm }} as left_crm on fuzzy.left_id = left_crm.crm_customer_id
            left join {{ crm }} as right_crm on fuzzy.right_id = right_crm.crm_customer_id
        {%- endif %}
        where fuzzy.is_match
    {%- endif %}
)

select * from edges
{%- endmacro %}
