{#- The suppression list (GDPR art. 17): every identifier of a person who asked
    to be erased, one row per identifier, with the request that reached it (the
    lowest request_id when several did). The base_* models look every row up
    here and keep an erased row only as a tombstone.

    The person is found by macro erasure_closure (identity's own links,
    exclusions and guarded edges, a walk, fuzzy CRM matches, a second walk)
    over every raw row, rejected ones included (erasure_raw.sql); this model
    adds every order of a reached crm id or guest email or bought from a
    reached device.
    Crm ids, order ids, anonymous ids and salted hashes only. It is the only
    model that holds erased identifiers, and must: the build filters on it. -#}
{%- set max_hops = var('microseg__erasure_max_hops') %}
with

seeds as (
    select
        request_id,
        identifier_type as node_type,
        identifier_value as node_value
    from {{ ref('stg_privacy__erasure_seeds') }}
),

crm_records as materialized (
    {{ erasure_raw_crm_records() }}
),

raw_orders as materialized (
    {{ erasure_raw_orders() }}
),

raw_events as materialized (
    {{ erasure_raw_events() }}
),

walked as materialized (
    {{ erasure_closure('seeds', 'crm_records', 'raw_events', 'raw_orders', max_hops) }}
),

erased_orders as (
    -- an order goes with its customer (crm id or guest email) or its buying device.
    -- One equi-join per customer kind, not one join on an `or` of both: DuckDB
    -- runs an `or` condition as a nested-loop join, every order against every
    -- walked identifier (100,000 persons: 5.7 of 38 s of CPU, growing with the
    -- square of the data). Each join also filters the orders or events by an IN
    -- list of the walked identifiers: without it DuckDB, which has no statistics
    -- on the CTEs, built its hash table on the 6.5 M orders rather than on the
    -- few thousand walked identifiers (1,000,000 persons: see macro erasure_walk)
    {%- for node_type, column in [('crm_id', 'customer_crm_id'), ('email_hash', 'customer_email_hash')] %}
        select
            'order_id' as node_type,
            raw_orders.order_id as node_value,
            walked.request_id,
            walked.hops
        from raw_orders
        inner join walked
            on walked.node_type = '{{ node_type }}' and raw_orders.{{ column }} = walked.node_value
        where
            raw_orders.order_id is not null
            and raw_orders.{{ column }} in (
                select walked_ids.node_value
                from walked as walked_ids
                where walked_ids.node_type = '{{ node_type }}'
            )
        union all
    {%- endfor %}
    select
        'order_id' as node_type,
        raw_events.order_id as node_value,
        walked.request_id,
        walked.hops
    from raw_events
    inner join walked
        on walked.node_type = 'anonymous_id' and raw_events.anonymous_id = walked.node_value
    where
        raw_events.event_type = 'purchase'
        and raw_events.order_id is not null
        and raw_events.anonymous_id in (
            select walked_ids.node_value
            from walked as walked_ids
            where walked_ids.node_type = 'anonymous_id'
        )
),

final as (
    select
        everything.node_type as identifier_type,
        everything.node_value as identifier_value,
        min(everything.request_id) as request_id,
        bool_or(seeds.node_value is not null) as is_requested,
        min(everything.hops) as hops
    from (
        select * from walked
        union all
        select * from erased_orders
    ) as everything
    left join seeds
        on
            everything.node_type = seeds.node_type
            and everything.node_value = seeds.node_value
            and everything.request_id = seeds.request_id
    group by everything.node_type, everything.node_value
)

select * from final
