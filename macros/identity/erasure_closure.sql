{#- Every identifier an erasure request reaches (node_type, node_value,
    request_id, hops), found with identity's own definitions
    (identity_identifier_links, identifier_exclusions, identity_edges with both
    guards) over the raw rows `crm_records`, `raw_events` and `raw_orders`
    (macros erasure_raw_*), from `seeds` (request_id, node_type, node_value):
    1. a walk (macro erasure_walk, at most `max_hops` steps) from each
       request's identifier; a requested email or phone reaches the records
       carrying it even when the guard excluded it, since those records hold
       it and are erased anyway;
    2. fuzzy CRM matches of the reached records (macro crm_fuzzy_matches),
       then a second walk from the matched records not yet reached.
    Crm ids, anonymous ids and salted email and phone hashes; the orders they
    own are the caller's (stg_privacy__erased_identifiers). -#}
{% macro erasure_closure(seeds, crm_records, raw_events, raw_orders, max_hops) -%}
    with

    -- CTEs read more than once are materialized (else recomputed at each walk step)
    links as materialized (
        select distinct
            record_id,
            identifier_source,
            identifier_id,
            'crm' as record_source
        from ({{ identity_identifier_links(crm_records, raw_events, raw_orders) }}) as raw_links
    ),

    excluded as materialized (
        {{ identifier_exclusions('links', crm_records) }}
    ),

    graph_edges as materialized (
        {{ identity_edges('links', 'excluded', raw_events, raw_orders) }}
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
        inner join {{ seeds }} as seeds on links.identifier_id = seeds.node_value
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
        {{ erasure_walk(seeds, 'edges', max_hops) }}
    ),

    reached_crm_ids as materialized (
        select distinct node_value as crm_customer_id
        from first_walk
        where node_type = 'crm_id'
    ),

    fuzzy_matches as materialized (
        {{ crm_fuzzy_matches(crm_records, 'reached_crm_ids') }}
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
    )

    select * from first_walk
    union all
    select * from second_walk
{%- endmacro %}
