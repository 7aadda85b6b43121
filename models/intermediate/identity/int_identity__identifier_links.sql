{#- Every deterministic link between a CRM record and an identifier (its email
    hash, its phone hash, each device that logged in as it or bought on an
    order under its crm id), one row per (record, identifier): macro
    identity_identifier_links (macros/identity/identity_edges.sql), the same
    definition the erasure closure walks over raw rows.
    int_identity__excluded_identifiers decides which of them become edges.
    valid_from: when the link became known (int_identity__components). -#}
with

crm as not materialized (
    select * from {{ ref('stg_crm__customers') }}
),

events as not materialized (
    select * from {{ ref('stg_tracking__events') }}
),

orders as (
    select * from {{ ref('stg_shop__orders') }}
),

final as (
    {{ identity_identifier_links('crm', 'events', 'orders', timed=true) }}
)

select * from final
