{#- All edges of the identity graph, one row per edge: macro identity_edges
    (macros/identity/identity_edges.sql), the one definition the erasure
    closure walks too. A CRM record and an identifier it carries (same_email,
    same_phone, same_device) unless the guard excluded that identifier;
    guest_purchase: an anonymous id and the one guest email of the orders it
    bought; fuzzy_match: CRM records at or above the match threshold. "Same
    CRM id across systems" needs no edge: an order or event that names a CRM
    id points at that record's node itself. int_identity__components turns
    the edges into customers. valid_from: when the edge became known, the
    time int_identity__components links identifiers from. -#}
with

links as (
    select * from {{ ref('int_identity__identifier_links') }}
),

excluded as not materialized (
    select * from {{ ref('int_identity__excluded_identifiers') }}
),

events as (
    select * from {{ ref('stg_tracking__events') }}
),

orders as (
    select * from {{ ref('stg_shop__orders') }}
),

fuzzy_matches as (
    select * from {{ ref('int_identity__fuzzy_matches') }}
),

crm as not materialized (
    select * from {{ ref('stg_crm__customers') }}
),

final as (
    {{ identity_edges('links', 'excluded', 'events', 'orders', fuzzy_matches='fuzzy_matches', timed=true, crm='crm') }}
)

select * from final
