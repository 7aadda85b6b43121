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

The text work (distinct identifiers, their order, which identifier each edge
endpoint is) is one query in an in-memory DuckDB over the frames' Arrow
columns; the graph work is scipy on integer node numbers. Identifiers compare
as text (``str``), ordered by code point as in Python and pandas.
"""

from __future__ import annotations

from typing import NamedTuple

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import breadth_first_order, connected_components, minimum_spanning_tree

#: order in which a component's members are considered for its representative
SOURCE_PRIORITY: dict[str, int] = {"crm_a": 0, "crm_b": 1, "email": 2, "phone": 3, "anonymous_id": 4}

COLUMNS = ["source", "source_id", "customer_seed", "component_size"]


def node_label(source: pd.Series, source_id: pd.Series) -> pd.Series:
    """'source:source_id', the text a customer key is hashed from."""
    return source.astype(str) + ":" + source_id.astype(str)


def _text(values: pd.Series) -> list[pa.Array]:
    """A column as Arrow text chunks (nulls stay null), not copied when it is text already."""
    if not isinstance(values.dtype, pd.StringDtype):
        values = values.astype(str)
    array = pa.array(values)
    chunks = array.chunks if isinstance(array, pa.ChunkedArray) else [array]
    return [chunk.cast(pa.large_string()) for chunk in chunks]


class _Numbered(NamedTuple):
    """Identifiers numbered by :func:`_number_identifiers`."""

    node_of_row: np.ndarray  # node of each row of the columns, one after the other; -1: source or id null
    code: np.ndarray  # per node: its source's priority (5, 6, ... for sources not in SOURCE_PRIORITY)
    source_id: pd.Series  # per node
    names: list[str]  # source name of each code


def _number_identifiers(columns: list[tuple[pd.Series, pd.Series]], check_sources: bool) -> _Numbered:
    """Number the distinct identifiers (source, source_id) of some columns, in
    (priority, source_id) order: node 0 sorts first.

    Sources are compared as text, source_ids as text by code point (as sorted()
    and pandas sort). With check_sources, a source not in SOURCE_PRIORITY
    raises ValueError (rows whose source_id is null do not count).
    """
    source = pa.chunked_array([c for s, _ in columns for c in _text(s)], type=pa.large_string())
    source_id = pa.chunked_array([c for _, i in columns for c in _text(i)], type=pa.large_string())
    encoded = pc.dictionary_encode(source).combine_chunks()
    index = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    valid = (index >= 0) & pc.is_valid(source_id).to_numpy(zero_copy_only=False)
    seen = [str(name) for name in encoded.dictionary.to_pylist()]
    present = np.bincount(index[valid], minlength=len(seen)) > 0
    unknown = sorted({name for name, p in zip(seen, present) if p} - set(SOURCE_PRIORITY))
    if check_sources and unknown:
        raise ValueError(f"unknown identifier sources: {unknown}")
    names = sorted(SOURCE_PRIORITY, key=SOURCE_PRIORITY.__getitem__) + unknown
    code_of = {name: code for code, name in enumerate(names)}
    code_of_seen = np.array([code_of.get(name, -1) for name in seen] + [-1], dtype=np.int64)
    row_code = np.where(valid, code_of_seen[index], -1)
    rows = pa.table(
        {
            "i": pa.array(np.arange(len(index), dtype=np.int64)),
            "code": pa.array(row_code.astype(np.int32), mask=row_code < 0),
            "source_id": source_id,
        }
    )
    with duckdb.connect() as con:
        con.register("identifier_rows", rows)
        con.execute("create temp view known as select * from identifier_rows where code is not null")
        con.execute(
            "create temp table nodes as select code, source_id, row_number() over (order by code, source_id) - 1"
            " as node from (select distinct code, source_id from known)"
        )
        pairs = con.sql("select i, node from known join nodes using (code, source_id)").fetchnumpy()
        found = con.sql("select code, source_id from nodes order by node").to_arrow_table()
    node_of_row = np.full(len(index), -1, dtype=np.int64)
    node_of_row[np.asarray(pairs["i"], dtype=np.int64)] = np.asarray(pairs["node"], dtype=np.int64)
    return _Numbered(
        node_of_row,
        found.column("code").to_numpy().astype(np.int64),
        found.column("source_id").to_pandas(),
        names,
    )


def _components(nodes: pd.DataFrame, edges: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    """resolve_components, plus what link_times needs in the numbering of the nodes.

    Returns the components frame, out_order (the node of each of its rows), the
    edge endpoints' nodes a, b (-1: null) and whether each node is its
    component's representative.
    """
    numbered = _number_identifiers(
        [
            (nodes["source"], nodes["source_id"]),
            (edges["left_source"], edges["left_id"]),
            (edges["right_source"], edges["right_id"]),
        ],
        check_sources=True,
    )
    n, k, m = len(numbered.code), len(nodes), len(edges)
    a, b = numbered.node_of_row[k : k + m], numbered.node_of_row[k + m :]
    if n == 0:
        return pd.DataFrame(columns=COLUMNS), np.zeros(0, dtype=np.int64), np.stack([a, b]), np.zeros(0, dtype=bool)
    keep = (a >= 0) & (b >= 0)
    graph = coo_matrix((np.ones(int(keep.sum()), dtype=np.int8), (a[keep], b[keep])), shape=(n, n))
    n_components, component = connected_components(graph, directed=False)
    # nodes are numbered in (priority, source_id) order: a component's first node is its representative
    first = np.full(n_components, n, dtype=np.int64)
    np.minimum.at(first, component, np.arange(n))
    representative = np.zeros(n, dtype=bool)
    representative[first] = True
    sizes = np.bincount(component)
    names = pd.Series(numbered.names, dtype=str)
    seed = node_label(
        names.take(numbered.code[first]).reset_index(drop=True),
        numbered.source_id.take(first).reset_index(drop=True),
    )
    # output order: (source, source_id); the nodes of a source are in source_id order
    alphabetical = np.argsort(np.argsort(np.array(numbered.names, dtype=object), kind="stable"))
    out_order = np.argsort(alphabetical[numbered.code], kind="stable")
    out_component = component[out_order]
    out = pd.DataFrame(
        {
            "source": names.take(numbered.code[out_order]).reset_index(drop=True),
            "source_id": numbered.source_id.take(out_order).reset_index(drop=True),
            "customer_seed": seed.take(out_component).reset_index(drop=True),
            "component_size": sizes[out_component].astype(np.int64),
        }
    )
    return out, out_order, np.stack([a, b]), representative


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
    return _components(nodes, edges)[0]


def _bottleneck_times(
    n: int, a: np.ndarray, b: np.ndarray, times: np.ndarray, representative: np.ndarray
) -> np.ndarray:
    """linked_at of n nodes: the minimax edge time on a path to a representative.

    a, b: edge endpoints (node numbers; -1: not a node, the edge is ignored);
    times: datetime64[us] per edge (NaT: always known); representative: bool
    per node. NaT for representatives, for nodes linked by always-known edges
    only and for nodes with no path to a representative.
    """
    linked = np.full(n, np.datetime64("NaT"), dtype="datetime64[us]")
    keep = (a >= 0) & (b >= 0) & (a != b)
    a, b, times = a[keep], b[keep], times[keep]
    untimed = np.isnat(times)
    # weights must be > 0 (scipy drops zeros): 1 = always known, 2 + the time's rank otherwise
    distinct, rank = np.unique(times[~untimed], return_inverse=True)
    weight = np.ones(len(times), dtype=np.int64)
    weight[~untimed] = 2 + rank.reshape(-1)
    # a virtual node n, joined to every representative by an always-known edge
    reps = np.flatnonzero(representative)
    lo = np.concatenate([np.minimum(a, b), reps])
    hi = np.concatenate([np.maximum(a, b), np.full(len(reps), n)])
    weight = np.concatenate([weight, np.ones(len(reps), dtype=np.int64)])
    # scipy would add up the weights of repeated (i, j): keep each pair's lightest edge
    pair, pairs = pd.factorize(lo * (n + 1) + hi)
    lightest = np.full(len(pairs), np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(lightest, pair, weight)
    lo, hi = np.divmod(np.asarray(pairs, dtype=np.int64), n + 1)
    graph = coo_matrix((lightest.astype(np.float64), (lo, hi)), shape=(n + 1, n + 1)).tocsr()
    # the path between two nodes of a minimum spanning tree is a minimax path
    tree = minimum_spanning_tree(graph).tocoo()
    _, parent = breadth_first_order(tree, n, directed=False, return_predecessors=True)
    # a tree edge is the up-edge of the endpoint whose parent is the other endpoint
    child = np.where(parent[tree.row] == tree.col, tree.row, tree.col)
    bottleneck = np.zeros(n + 1, dtype=np.int64)
    bottleneck[child] = tree.data.astype(np.int64)
    reached = parent >= 0
    reached[n] = True
    # pointer jumping: bottleneck[i] is the heaviest edge between i and ancestor[i]
    ancestor = np.where(reached, parent, np.arange(n + 1))
    ancestor[n] = n
    while True:
        above = ancestor[ancestor]
        if np.array_equal(above, ancestor):
            break
        bottleneck = np.maximum(bottleneck, bottleneck[ancestor])
        ancestor = above
    timed = reached[:n] & (bottleneck[:n] >= 2)
    linked[timed] = distinct[bottleneck[:n][timed] - 2]
    return linked


def _edge_times(edges: pd.DataFrame) -> np.ndarray:
    return pd.to_datetime(edges["valid_from"]).to_numpy(dtype="datetime64[us]")


def link_times(components: pd.DataFrame, edges: pd.DataFrame) -> pd.Series:
    """When each identifier joined its customer: its ``linked_at``.

    components: the output of :func:`resolve_components` (source, source_id,
    customer_seed). edges: left_source, left_id, right_source, right_id,
    valid_from (when the edge became known; null means always known).

    An identifier's linked_at is the earliest time at which it is connected
    to its component's representative through edges all known by then: over
    the paths from it to a representative, the smallest latest edge time (a
    minimax path; null counts as before any time). That is when a union-find
    over the edges in valid_from order would join it to the representative's
    set. Computed as the heaviest edge on the path, in a minimum spanning tree
    (weights: the times' ranks), to a virtual node joined to every
    representative by an always-known edge. The representative itself, and
    identifiers linked only by always-known edges, get NaT ("always"), as do
    identifiers no edge links to a representative. Edge endpoints that are not
    in ``components`` are ignored. A row attributed to a customer through an
    identifier is known for that customer no earlier than its linked_at.
    Returns a datetime Series aligned with ``components``.
    """
    n = len(components)
    if n == 0 or edges.empty:
        linked = np.full(n, np.datetime64("NaT"), dtype="datetime64[us]")
        return pd.Series(linked, index=components.index, name="linked_at")
    numbered = _number_identifiers(
        [
            (components["source"], components["source_id"]),
            (edges["left_source"], edges["left_id"]),
            (edges["right_source"], edges["right_id"]),
        ],
        check_sources=False,
    )
    own = numbered.node_of_row[:n]
    listed = own[own >= 0]
    if np.bincount(listed, minlength=1).max(initial=0) > 1:
        raise ValueError("components list an identifier more than once")
    # nodes that are not a row of components (edge endpoints only) are left out
    row_of_node = np.full(len(numbered.code) + 1, -1, dtype=np.int64)  # [-1]: a null endpoint
    row_of_node[listed] = np.flatnonzero(own >= 0)
    endpoint = row_of_node[numbered.node_of_row[n:]]
    m = len(edges)
    labels = node_label(components["source"], components["source_id"])
    representative = (labels == components["customer_seed"].astype(str)).to_numpy(dtype=bool, na_value=False)
    linked = _bottleneck_times(n, endpoint[:m], endpoint[m:], _edge_times(edges), representative)
    return pd.Series(linked, index=components.index, name="linked_at")


def resolve_components_with_link_times(nodes: pd.DataFrame, edges: pd.DataFrame) -> pd.DataFrame:
    """``resolve_components(nodes, edges)`` with a column linked_at, ``link_times``
    of it and ``edges``: the identifiers are numbered once for both."""
    out, out_order, (a, b), representative = _components(nodes, edges)
    if len(out) == 0 or edges.empty:
        linked = np.full(len(out), np.datetime64("NaT"), dtype="datetime64[us]")
    else:
        linked = _bottleneck_times(len(out), a, b, _edge_times(edges), representative)[out_order]
    return out.assign(linked_at=pd.Series(linked, index=out.index, name="linked_at"))
