{#- The suppression list (GDPR art. 17): every identifier of a person who asked
    to be erased, one row per identifier, with the request that reached it (the
    lowest request_id when several did). The base_* models look every row up
    here and keep an erased row only as a tombstone.

    The person is found with identity's own definitions (macros/identity:
    identity_identifier_links, identifier_exclusions, identity_edges with both
    guards) over every raw row, rejected ones included (erasure_raw.sql):
    1. a walk (macro erasure_walk, at most var microseg__erasure_max_hops
       steps) from each request's identifier (stg_privacy__erasure_seeds); a
       requested identifier reaches the records carrying it even when the
       guard excluded it, since those records hold it and are erased anyway;
    2. fuzzy CRM matches of the reached records (macro crm_fuzzy_matches),
       then a second walk from the matched records not yet reached;
    3. every order of a reached crm id or guest email or bought from a reached device.
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

-- CTEs read more than once are materialized (else recomputed at each walk step)
links as materialized (
    select distinct
        record_id,
        identifier_source,
        identifier_id,
        'crm' as record_source
    from ({{ identity_identifier_links('crm_records', 'raw_events', 'raw_orders') }}) as raw_links
),

excluded as materialized (
    {{ identifier_exclusions('links', 'crm_records') }}
),

graph_edges as materialized (
    {{ identity_edges('links', 'excluded', 'raw_events', 'raw_orders') }}
),

one_way_edges as materialized (
    -- identity's (source, id) vocabulary in the suppression list's
    select
        case edge_type when 'guest_purchase' then 'anonymous_id' else 'crm_id' end as node_type,
        left_id as node_value,
        case right_source
            when 'email' then 'email_hash'
            when 'phone' then 'phone_hash'
            else 'anonymous_id'
        end as next_type,
        right_id as next_value
    from graph_edges
),

seed_links as (
    -- a requested email or phone reaches the records carrying it, guard or not
    select
        seeds.node_type,
        seeds.node_value,
        'crm_id' as next_type,
        links.record_id as next_value
    from links
    inner join seeds on links.identifier_id = seeds.node_value
    where
        (links.identifier_source = 'email' and seeds.node_type = 'email_hash')
        or (links.identifier_source = 'phone' and seeds.node_type = 'phone_hash')
),

edges as materialized (
    select * from one_way_edges
    union all
    select
        next_type as node_type,
        next_value as node_value,
        node_type as next_type,
        node_value as next_value
    from one_way_edges
    union all
    select * from seed_links
),

first_walk as materialized (
    {{ erasure_walk('seeds', 'edges', max_hops) }}
),

reached_crm_ids as materialized (
    select distinct node_value as crm_customer_id
    from first_walk
    where node_type = 'crm_id'
),

fuzzy_matches as materialized (
    {{ crm_fuzzy_matches('crm_records', 'reached_crm_ids') }}
),

fuzzy_seeds as materialized (
    -- a record that fuzzy-matches a reached record is the same person; only
    -- records the first walk has not reached walk again
    select
        'crm_id' as node_type,
        case
            when fuzzy_matches.left_id = first_walk.node_value then fuzzy_matches.right_id
            else fuzzy_matches.left_id
        end as node_value,
        first_walk.request_id
    from fuzzy_matches
    inner join first_walk
        on
            first_walk.node_type = 'crm_id'
            and first_walk.node_value in (fuzzy_matches.left_id, fuzzy_matches.right_id)
    where fuzzy_matches.is_match
),

second_walk_seeds as materialized (
    select distinct fuzzy_seeds.*
    from fuzzy_seeds
    anti join first_walk
        on
            fuzzy_seeds.node_type = first_walk.node_type
            and fuzzy_seeds.node_value = first_walk.node_value
            and fuzzy_seeds.request_id = first_walk.request_id
),

second_walk as materialized (
    {{ erasure_walk('second_walk_seeds', 'edges', max_hops, known='first_walk') }}
),

walked as materialized (
    select * from first_walk
    union all
    select * from second_walk
),

erased_orders as (
    -- an order goes with its customer (crm id or guest email) or its buying device.
    -- One equi-join per customer kind, not one join on an `or` of both: DuckDB
    -- runs an `or` condition as a nested-loop join, every order against every
    -- walked identifier (100,000 persons: 5.7 of 38 s of CPU, growing with the
    -- square of the data)
    {%- for node_type, column in [('crm_id', 'customer_crm_id'), ('email_hash', 'customer_email_hash')] %}
        select
            'order_id' as node_type,
            raw_orders.order_id as node_value,
            walked.request_id,
            walked.hops
        from raw_orders
        inner join walked
            on walked.node_type = '{{ node_type }}' and raw_orders.{{ column }} = walked.node_value
        where raw_orders.order_id is not null
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
    where raw_events.event_type = 'purchase' and raw_events.order_id is not null
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
