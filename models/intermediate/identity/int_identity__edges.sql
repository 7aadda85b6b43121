{#- All edges of the identity graph, one row per edge: a CRM record and an
    identifier it carries (same_email, same_phone; same_device: an anonymous id
    that logged in as it or bought on an order under its id) unless the guard
    excluded that identifier; guest_purchase: an anonymous id and the one guest
    email of the orders it bought (a device buying under several guest emails
    links none); fuzzy_match: CRM records at or above the match threshold. "Same CRM id across systems" needs no edge: an order or event
    that names a CRM id points at that record's node itself.
    int_identity__components turns the edges into customers. -#}
with

links as (
    select * from {{ ref('int_identity__identifier_links') }}
),

excluded as (
    select
        identifier_source,
        identifier_id
    from {{ ref('int_identity__excluded_identifiers') }}
),

events as (
    select
        anonymous_id,
        order_id
    from {{ ref('stg_tracking__events') }}
    where event_type = 'purchase' and anonymous_id is not null and order_id is not null
),

guest_orders as (
    select
        order_id,
        customer_email_hash
    from {{ ref('stg_shop__orders') }}
    where customer_email_hash is not null
),

fuzzy_matches as (
    select * from {{ ref('int_identity__fuzzy_matches') }}
    where is_match
),

deterministic_edges as (
    select
        links.record_source as left_source,
        links.record_id as left_id,
        links.identifier_source as right_source,
        links.identifier_id as right_id,
        case links.identifier_source
            when 'email' then 'same_email'
            when 'phone' then 'same_phone'
            when 'anonymous_id' then 'same_device'
        end as edge_type,
        cast(null as double) as match_score
    from links
    left join excluded
        on
            links.identifier_source = excluded.identifier_source
            and links.identifier_id = excluded.identifier_id
    where excluded.identifier_id is null
),

guest_purchases as (
    select
        events.anonymous_id,
        min(guest_orders.customer_email_hash) as email_hash
    from events
    inner join guest_orders on events.order_id = guest_orders.order_id
    group by events.anonymous_id
    having count(distinct guest_orders.customer_email_hash) = 1
),

guest_purchase_edges as (
    select
        'anonymous_id' as left_source,
        guest_purchases.anonymous_id as left_id,
        'email' as right_source,
        guest_purchases.email_hash as right_id,
        'guest_purchase' as edge_type,
        cast(null as double) as match_score
    from guest_purchases
    left join excluded as excluded_device
        on
            excluded_device.identifier_source = 'anonymous_id'
            and guest_purchases.anonymous_id = excluded_device.identifier_id
    left join excluded as excluded_email
        on
            excluded_email.identifier_source = 'email'
            and guest_purchases.email_hash = excluded_email.identifier_id
    where excluded_device.identifier_id is null and excluded_email.identifier_id is null
),

fuzzy_edges as (
    select
        left_source,
        left_id,
        right_source,
        right_id,
        'fuzzy_match' as edge_type,
        cast(match_score as double) as match_score
    from fuzzy_matches
),

final as (
    select * from deterministic_edges
    union all
    select * from guest_purchase_edges
    union all
    select * from fuzzy_edges
)

select * from final
