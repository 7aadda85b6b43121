{#- The identifiers reachable from `seeds` (node_type, node_value, request_id)
    over `edges` (node_type, node_value, next_type, next_value, both
    directions), each with the request it was reached from and the number of
    hops: a breadth-first walk. The erasure closure passes edges the
    identity guard has already filtered (macro identity_edges); with
    `stop_nodes` (node_type, node_value) those are neither reached nor
    followed either, unless they are seeds. With `known` (node_type, node_value, request_id: identifiers an
    earlier walk reached) the walk does not enter those again.

    Unrolled into `max_hops` steps rather than a recursive CTE: each step
    joins only the previous step's new identifiers (a few thousand) against
    the edges, which DuckDB streams; a recursive CTE rebuilt a hash table over
    every edge at each iteration and ran out of memory at 1M persons. A plain
    join of a step with the edges did the same: with no statistics on either
    CTE, DuckDB estimated billions of frontier rows and built the hash table
    on the 7.5 M edges at every step, empty steps included; the edges are
    therefore first filtered by an IN list of the frontier, which DuckDB
    builds on the frontier (1,000,000 persons, stg_privacy__erased_identifiers:
    the walk's joins 15.5 -> 1.9 s of CPU, the model 63.9 -> 53.1 s, same rows). The
    model's `hops` column shows how far the walk went; a test fails when the
    last step still found something (raise var microseg__erasure_max_hops). -#}
{% macro erasure_walk(seeds, edges, max_hops, stop_nodes=none, known=none) -%}
    with

    hop_0 as materialized (
        select distinct
            node_type,
            node_value,
            request_id,
            0 as hops
        from {{ seeds }}
    ),

    reached_0 as materialized (
        select * from hop_0
    ),
    {%- for hop in range(1, max_hops + 1) %}

        hop_{{ hop }} as materialized (
            select distinct
                next_edges.next_type as node_type,
                next_edges.next_value as node_value,
                frontier.request_id,
                {{ hop }} as hops
            from hop_{{ hop - 1 }} as frontier
            inner join (
                -- the edges leaving the frontier, found by an IN list so that the frontier is
                -- the hash table and the edges stream past it (see above)
                select edge_rows.*
                from {{ edges }} as edge_rows
                where (edge_rows.node_type, edge_rows.node_value) in (
                    select in_frontier.node_type, in_frontier.node_value
                    from hop_{{ hop - 1 }} as in_frontier
                )
            ) as next_edges
                on
                    frontier.node_type = next_edges.node_type
                    and frontier.node_value = next_edges.node_value
            {%- if stop_nodes %}
                left join {{ stop_nodes }} as stop_nodes
                    on
                        next_edges.next_type = stop_nodes.node_type
                        and next_edges.next_value = stop_nodes.node_value
            {%- endif %}
            left join reached_{{ hop - 1 }} as reached
                on
                    next_edges.next_type = reached.node_type
                    and next_edges.next_value = reached.node_value
                    and frontier.request_id = reached.request_id
            {%- if known %}
                left join {{ known }} as known
                    on
                        next_edges.next_type = known.node_type
                        and next_edges.next_value = known.node_value
                        and frontier.request_id = known.request_id
            {%- endif %}
            where
                reached.node_value is null
                {%- if stop_nodes %}
                    and stop_nodes.node_value is null
                {%- endif %}
                {%- if known %}
                    and known.node_value is null
                {%- endif %}
        ),

        reached_{{ hop }} as materialized (
            select * from reached_{{ hop - 1 }}
            union all
            select * from hop_{{ hop }}
        ),
    {%- endfor %}

    walked as (
        select * from reached_{{ max_hops }}
    )

    select
        node_type,
        node_value,
        request_id,
        min(hops) as hops
    from walked
    group by node_type, node_value, request_id
{%- endmacro %}
