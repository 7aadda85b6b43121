"""Connected components of the identity graph (called by the dbt Python model
python_models/int_identity__components.py).

Nodes are identifiers ``(source, source_id)``: CRM records (crm_a, crm_b), salted
email and phone hashes, anonymous ids. Edges say two identifiers belong to the
same person (shared email or phone, a login, a fuzzy CRM match). Every connected
component is one customer, however many hops apart its members are.

A component is named by its *representative*: the member that sorts first by
source priority (CRM records before emails, phones and anonymous ids), then by
source_id. It depends only on the component's members, so the customer key
(md5 of the representative, computed in SQL) is the same on every rebuild of
the same data, and prefers the most stable identifier a customer has.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

#: order in which a component's members are considered for its representative
SOURCE_PRIORITY: dict[str, int] = {"crm_a": 0, "crm_b": 1, "email": 2, "phone": 3, "anonymous_id": 4}


def node_label(source: pd.Series, source_id: pd.Series) -> pd.Series:
    """'source:source_id', the text a customer key is hashed from."""
    return source.astype(str) + ":" + source_id.astype(str)


def resolve_components(nodes: pd.DataFrame, edges: pd.DataFrame) -> pd.DataFrame:
    """Group identifiers into customers.

    nodes: columns source, source_id (one row per identifier; duplicates are fine).
    edges: columns left_source, left_id, right_source, right_id. An edge endpoint
    that is not in ``nodes`` is added as a node.

    Returns one row per distinct identifier: source, source_id, customer_seed
    (the representative's 'source:source_id'), component_size (identifiers in the
    component), sorted by source, source_id. Deterministic: row order of the
    inputs does not matter.
    """
    left = edges[["left_source", "left_id"]].set_axis(["source", "source_id"], axis=1)
    right = edges[["right_source", "right_id"]].set_axis(["source", "source_id"], axis=1)
    all_nodes = (
        pd.concat([nodes[["source", "source_id"]], left, right], ignore_index=True)
        .dropna()
        .drop_duplicates()
        .astype({"source": str, "source_id": str})
    )
    unknown = set(all_nodes["source"]) - set(SOURCE_PRIORITY)
    if unknown:
        raise ValueError(f"unknown identifier sources: {sorted(unknown)}")
    # sorting by (priority, source_id) makes position 0 of each component its representative
    all_nodes = (
        all_nodes.assign(priority=all_nodes["source"].map(SOURCE_PRIORITY))
        .sort_values(["priority", "source_id"], kind="stable")
        .reset_index(drop=True)
    )
    labels = node_label(all_nodes["source"], all_nodes["source_id"])
    index = pd.Index(labels)
    n = len(index)
    if n == 0:
        return pd.DataFrame(columns=["source", "source_id", "customer_seed", "component_size"])
    a = index.get_indexer(node_label(edges["left_source"], edges["left_id"]))
    b = index.get_indexer(node_label(edges["right_source"], edges["right_id"]))
    keep = (a >= 0) & (b >= 0)
    graph = coo_matrix((np.ones(int(keep.sum()), dtype=np.int8), (a[keep], b[keep])), shape=(n, n))
    _, component = connected_components(graph, directed=False)
    # nodes are sorted by (priority, source_id): the first node of a component is its representative
    first = pd.Series(np.arange(n)).groupby(component).transform("min").to_numpy()
    sizes = np.bincount(component)
    out = pd.DataFrame(
        {
            "source": all_nodes["source"].to_numpy(),
            "source_id": all_nodes["source_id"].to_numpy(),
            "customer_seed": labels.to_numpy()[first],
            "component_size": sizes[component].astype(np.int64),
        }
    )
    return out.sort_values(["source", "source_id"], kind="stable").reset_index(drop=True)


def link_times(components: pd.DataFrame, edges: pd.DataFrame) -> pd.Series:
    """When each identifier joined its customer: its ``linked_at``.

    components: the output of :func:`resolve_components` (source, source_id,
    customer_seed). edges: left_source, left_id, right_source, right_id,
    valid_from (when the edge became known; null means always known).

    An identifier's linked_at is the earliest time at which it is connected
    to its component's representative through edges all known by then: a
    union-find over the edges in valid_from order (nulls first), merging the
    smaller member list into the larger; when a set holding the
    representative absorbs one that does not, the absorbed members are linked
    at that edge's time. The representative itself, and identifiers linked
    only by always-known edges, get NaT ("always"). A row attributed to a
    customer through an identifier is known for that customer no earlier than
    its linked_at. Returns a datetime Series aligned with ``components``.
    """
    labels = node_label(components["source"], components["source_id"]).to_numpy()
    n = len(labels)
    linked = np.full(n, np.datetime64("NaT"), dtype="datetime64[us]")
    if n == 0 or edges.empty:
        return pd.Series(linked, index=components.index, name="linked_at")
    index = pd.Index(labels)
    has_rep = labels == components["customer_seed"].astype(str).to_numpy()
    order = edges.assign(_t=pd.to_datetime(edges["valid_from"])).sort_values("_t", kind="stable", na_position="first")
    a = index.get_indexer(node_label(order["left_source"], order["left_id"]))
    b = index.get_indexer(node_label(order["right_source"], order["right_id"]))
    times = order["_t"].to_numpy(dtype="datetime64[us]")
    root = np.arange(n)
    members: list[list[int] | None] = [[i] for i in range(n)]
    for x, y, t in zip(a.tolist(), b.tolist(), times):
        if x < 0 or y < 0:
            continue
        rx, ry = root[x], root[y]
        if rx == ry:
            continue
        if len(members[rx]) < len(members[ry]):
            rx, ry = ry, rx
        if has_rep[rx] != has_rep[ry]:
            absorbed = members[ry] if has_rep[rx] else members[rx]
            linked[absorbed] = t
        small = members[ry]
        root[small] = rx
        members[rx].extend(small)
        members[ry] = None
        has_rep[rx] = has_rep[rx] or has_rep[ry]
    return pd.Series(linked, index=components.index, name="linked_at")
