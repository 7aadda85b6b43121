"""Connected components of the identity graph: one customer per component.

Reads every identifier (int_identity__nodes) and every edge
(int_identity__edges); microseg.identity.resolve_components does the graph work
(scipy connected components, multi-hop) and names each component by its
representative identifier. customer_key = md5(customer_seed), in
int_customer_identifiers. linked_at (microseg.identity.link_times): when the
identifier became connected to its representative by edges all known by then.
"""

from microseg.identity import link_times, resolve_components


def model(dbt, session):
    dbt.config(materialized="table", schema="intermediate")
    nodes = dbt.ref("int_identity__nodes").df()
    edges = dbt.ref("int_identity__edges").df()
    components = resolve_components(nodes, edges)
    return components.assign(linked_at=link_times(components, edges))
