{#- The identifiers reachable from `seeds` (node_type, node_value, request_id)
    over `edges` (node_type, node_value, next_type, next_value), each with the
    request it was reached from: a recursive walk that stops at `stop_nodes`
    (node_type, node_value), the identifiers identity would not follow (shared
    emails, phones, devices). A stop node is neither reached nor followed,
    unless it is a seed. UNION (not UNION ALL) makes the walk end once no new
    (identifier, request) pair appears. Used by stg_privacy__erased_identifiers. -#}
{% macro erasure_walk(seeds, edges, stop_nodes) -%}
    with recursive walk (node_type, node_value, request_id) as (
        select
            node_type,
            node_value,
            request_id
        from {{ seeds }}
        union
        select
            next_edges.next_type as node_type,
            next_edges.next_value as node_value,
            walk.request_id
        from walk
        inner join {{ edges }} as next_edges
            on
                walk.node_type = next_edges.node_type
                and walk.node_value = next_edges.node_value
        left join {{ stop_nodes }} as stop_nodes
            on
                next_edges.next_type = stop_nodes.node_type
                and next_edges.next_value = stop_nodes.node_value
        where stop_nodes.node_value is null
    )

    select
        node_type,
        node_value,
        request_id
    from walk
{%- endmacro %}
