"""Unit tests of microseg.identity (connected components), microseg.identity_eval
(pairwise precision / recall) and microseg.pii (hashes equal to staging's)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import jinja2
import numpy as np
import pandas as pd
import pytest
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from microseg.identity import link_times, resolve_components, resolve_components_with_link_times
from microseg.identity_eval import pairwise_quality, recall_ceiling
from microseg.pii import DEFAULT_SALT, hash_emails

ROOT = Path(__file__).resolve().parents[2]


def nodes(*labels: str) -> pd.DataFrame:
    return pd.DataFrame([label.split(":", 1) for label in labels], columns=["source", "source_id"])


def edges(*pairs: tuple[str, str]) -> pd.DataFrame:
    rows = [a.split(":", 1) + b.split(":", 1) for a, b in pairs]
    return pd.DataFrame(rows, columns=["left_source", "left_id", "right_source", "right_id"])


def seeds(out: pd.DataFrame) -> dict[str, str]:
    return dict(zip(out["source"] + ":" + out["source_id"], out["customer_seed"]))


def test_multi_hop_chain_is_one_customer():
    # A ~ email ~ B ~ (fuzzy) C: three CRM records two hops apart
    out = resolve_components(
        nodes("crm_a:A2", "crm_b:B1", "crm_a:A9", "email:e1", "anonymous_id:x"),
        edges(("crm_a:A2", "email:e1"), ("crm_b:B1", "email:e1"), ("crm_b:B1", "crm_a:A9"), ("crm_a:A9", "anonymous_id:x")),
    )
    assert out["customer_seed"].nunique() == 1
    # crm_a ranks before crm_b, then the smallest id
    assert set(out["customer_seed"]) == {"crm_a:A2"}
    assert set(out["component_size"]) == {5}


def test_isolated_nodes_are_their_own_customers():
    out = resolve_components(nodes("email:e2", "anonymous_id:y", "crm_a:A1"), edges())
    assert seeds(out) == {"anonymous_id:y": "anonymous_id:y", "crm_a:A1": "crm_a:A1", "email:e2": "email:e2"}
    assert set(out["component_size"]) == {1}


def test_edge_endpoints_missing_from_nodes_are_added():
    out = resolve_components(nodes("crm_a:A1"), edges(("crm_a:A1", "phone:p1")))
    assert seeds(out) == {"crm_a:A1": "crm_a:A1", "phone:p1": "crm_a:A1"}


def test_representative_prefers_crm_records_over_other_identifiers():
    out = resolve_components(
        nodes("anonymous_id:a", "email:0", "crm_b:B5"),
        edges(("crm_b:B5", "email:0"), ("crm_b:B5", "anonymous_id:a")),
    )
    assert set(out["customer_seed"]) == {"crm_b:B5"}


def test_deterministic_whatever_the_input_order():
    n = nodes(*(f"crm_a:A{i}" for i in range(20)), *(f"email:e{i}" for i in range(10)))
    e = edges(*((f"crm_a:A{i}", f"email:e{i % 10}") for i in range(20)))
    first = resolve_components(n, e)
    second = resolve_components(n.sample(frac=1, random_state=1), e.sample(frac=1, random_state=2))
    pd.testing.assert_frame_equal(first, second)
    assert first["customer_seed"].nunique() == 10
    assert seeds(first)["crm_a:A13"] == "crm_a:A13" and seeds(first)["crm_a:A3"] == "crm_a:A13"


def test_unknown_source_is_rejected():
    with pytest.raises(ValueError, match="unknown identifier sources"):
        resolve_components(nodes("fax:1"), edges())


# --------------------------------------------------------------------------- #
# evaluation
# --------------------------------------------------------------------------- #
TRUTH = pd.DataFrame(
    [
        ("crm_a", "A1", 1),
        ("email", "e1", 1),
        ("anonymous_id", "x1", 1),
        ("crm_a", "A2", 2),
        ("email", "e2", 2),
        ("email", "family", 1),  # shared: left out
        ("email", "family", 2),
    ],
    columns=["source", "source_id", "person_id"],
)


def mapping(rows):
    return pd.DataFrame(rows, columns=["source", "source_id", "customer_key"])


def timed(*rows: tuple[str, str, str | None]) -> pd.DataFrame:
    out = edges(*[(a, b) for a, b, _ in rows])
    return out.assign(valid_from=pd.to_datetime([t for _, _, t in rows], format="ISO8601"))


def linked(node_list: pd.DataFrame, edge_list: pd.DataFrame) -> dict[str, pd.Timestamp]:
    out = resolve_components(node_list, edge_list)
    times = link_times(out, edge_list)
    return dict(zip(out["source"] + ":" + out["source_id"], times))


def test_device_is_linked_only_from_its_login():
    # the device's events before the 2024-03-10 login must not count for A1 before then
    out = linked(
        nodes("crm_a:A1", "email:e1", "anonymous_id:dev"),
        timed(("crm_a:A1", "email:e1", "2024-01-01"), ("crm_a:A1", "anonymous_id:dev", "2024-03-10T12:00:00")),
    )
    assert pd.isna(out["crm_a:A1"])  # the representative: always
    assert out["email:e1"] == pd.Timestamp("2024-01-01")
    assert out["anonymous_id:dev"] == pd.Timestamp("2024-03-10T12:00:00")


def test_link_time_is_the_earliest_path_whose_edges_are_all_known():
    # dev -- e1 (Feb) -- A1 (Jun), and dev -- A1 directly (Apr): via A1 in April
    # B1 joins A1 only by a fuzzy match in May, and its device through B1 (Jan) then too
    out = linked(
        nodes("crm_a:A1", "crm_b:B1", "email:e1", "anonymous_id:dev", "anonymous_id:d2"),
        timed(
            ("anonymous_id:dev", "email:e1", "2024-02-01"),
            ("crm_a:A1", "email:e1", "2024-06-01"),
            ("crm_a:A1", "anonymous_id:dev", "2024-04-01"),
            ("crm_b:B1", "anonymous_id:d2", "2024-01-01"),
            ("crm_b:B1", "crm_a:A1", "2024-05-01"),
        ),
    )
    assert out["anonymous_id:dev"] == pd.Timestamp("2024-04-01")
    assert out["email:e1"] == pd.Timestamp("2024-04-01")  # through dev once dev is linked
    assert out["crm_b:B1"] == pd.Timestamp("2024-05-01")
    assert out["anonymous_id:d2"] == pd.Timestamp("2024-05-01")


def test_untimed_edges_link_always_and_isolated_nodes_stay_null():
    out = linked(
        nodes("crm_a:A1", "phone:p1", "anonymous_id:lone"),
        timed(("crm_a:A1", "phone:p1", None)),
    )
    assert pd.isna(out["phone:p1"]) and pd.isna(out["anonymous_id:lone"])


def test_link_times_do_not_depend_on_edge_order():
    edge_list = timed(
        ("crm_a:A1", "email:e1", "2024-03-01"),
        ("crm_b:B1", "email:e1", "2024-01-01"),
        ("crm_b:B1", "anonymous_id:x", "2024-02-01"),
        ("crm_a:A1", "anonymous_id:x", "2024-05-01"),
    )
    node_list = nodes("crm_a:A1")
    forward = linked(node_list, edge_list)
    backward = linked(node_list, edge_list.iloc[::-1].reset_index(drop=True))
    assert forward == backward
    assert forward["crm_b:B1"] == pd.Timestamp("2024-03-01")


# --------------------------------------------------------------------------- #
# oracles: the straightforward implementations the vectorised ones replaced
# --------------------------------------------------------------------------- #
ORACLE_PRIORITY = {"crm_a": 0, "crm_b": 1, "email": 2, "phone": 3, "anonymous_id": 4}


def oracle_label(source: pd.Series, source_id: pd.Series) -> pd.Series:
    return source.astype(str) + ":" + source_id.astype(str)


def oracle_resolve_components(nodes: pd.DataFrame, edges: pd.DataFrame) -> pd.DataFrame:
    """resolve_components as it was: 'source:source_id' labels, pd.Index.get_indexer."""
    left = edges[["left_source", "left_id"]].set_axis(["source", "source_id"], axis=1)
    right = edges[["right_source", "right_id"]].set_axis(["source", "source_id"], axis=1)
    all_nodes = (
        pd.concat([nodes[["source", "source_id"]], left, right], ignore_index=True)
        .dropna()
        .drop_duplicates()
        .astype({"source": str, "source_id": str})
    )
    unknown = set(all_nodes["source"]) - set(ORACLE_PRIORITY)
    if unknown:
        raise ValueError(f"unknown identifier sources: {sorted(unknown)}")
    all_nodes = (
        all_nodes.assign(priority=all_nodes["source"].map(ORACLE_PRIORITY))
        .sort_values(["priority", "source_id"], kind="stable")
        .reset_index(drop=True)
    )
    labels = oracle_label(all_nodes["source"], all_nodes["source_id"])
    index = pd.Index(labels)
    n = len(index)
    if n == 0:
        return pd.DataFrame(columns=["source", "source_id", "customer_seed", "component_size"])
    a = index.get_indexer(oracle_label(edges["left_source"], edges["left_id"]))
    b = index.get_indexer(oracle_label(edges["right_source"], edges["right_id"]))
    keep = (a >= 0) & (b >= 0)
    graph = coo_matrix((np.ones(int(keep.sum()), dtype=np.int8), (a[keep], b[keep])), shape=(n, n))
    _, component = connected_components(graph, directed=False)
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


def oracle_link_times(components: pd.DataFrame, edges: pd.DataFrame) -> pd.Series:
    """link_times as it was: a union-find over the edges in valid_from order (nulls
    first); when a set holding the representative absorbs one that does not, the
    absorbed members are linked at that edge's time."""
    labels = oracle_label(components["source"], components["source_id"]).to_numpy()
    n = len(labels)
    linked = np.full(n, np.datetime64("NaT"), dtype="datetime64[us]")
    if n == 0 or edges.empty:
        return pd.Series(linked, index=components.index, name="linked_at")
    index = pd.Index(labels)
    has_rep = labels == components["customer_seed"].astype(str).to_numpy()
    order = edges.assign(_t=pd.to_datetime(edges["valid_from"])).sort_values("_t", kind="stable", na_position="first")
    a = index.get_indexer(oracle_label(order["left_source"], order["left_id"]))
    b = index.get_indexer(oracle_label(order["right_source"], order["right_id"]))
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


def random_graph(seed: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Nodes, edges, and the edges plus some whose endpoints are in neither.

    Ids in code point order traps (case, accents, astral characters, ':'), ids
    shared by several sources, duplicate node rows, isolated nodes, null
    endpoints, self-loops, multi-edges (both directions) with other times, tied
    times, null times, and a long chain (a deep spanning tree).
    """
    rng = np.random.default_rng(seed)
    alphabet = ["a", "B", "b", "Z", "é", "e", "0", "9", ":", "😀", "ß", " "]
    sources = list(ORACLE_PRIORITY)

    def ident() -> tuple[str, str]:
        length = int(rng.integers(1, 4))
        return str(rng.choice(sources)), "".join(rng.choice(alphabet, length))

    pool = list(dict.fromkeys(ident() for _ in range(int(rng.integers(40, 120)))))
    chain = [(str(rng.choice(sources)), f"chain{i:03d}") for i in range(int(rng.integers(20, 90)))]
    node_rows = [pool[i] for i in rng.integers(0, len(pool), len(pool))] + chain[::3] + [("email", None), (None, "x")]
    stamps = pd.to_datetime("2024-01-01") + pd.to_timedelta(rng.integers(0, 6, 40), unit="D")  # few: ties
    stamps = list(stamps) + [pd.Timestamp("2024-02-03T04:05:06.789123")]

    def when():
        return None if rng.random() < 0.25 else stamps[int(rng.integers(0, len(stamps)))]

    edge_rows = []
    for _ in range(int(rng.integers(30, 150))):
        x, y = pool[int(rng.integers(0, len(pool)))], pool[int(rng.integers(0, len(pool)))]
        edge_rows.append((*x, *y, when()))
        if rng.random() < 0.2:  # the same pair again, either way round, another time
            edge_rows.append((*(y if rng.random() < 0.5 else x), *(x if rng.random() < 0.5 else y), when()))
    edge_rows += [(*chain[i], *chain[i + 1], when()) for i in range(len(chain) - 1)]
    edge_rows += [(*chain[-1], *pool[0], when()), (*pool[1], *pool[1], when())]
    edge_rows += [("phone", None, *pool[2], when()), (*pool[3], None, "q", when())]
    columns = ["left_source", "left_id", "right_source", "right_id", "valid_from"]
    edge_frame = pd.DataFrame(edge_rows, columns=columns).sample(frac=1, random_state=seed).reset_index(drop=True)
    edge_frame["valid_from"] = pd.to_datetime(edge_frame["valid_from"])
    # stray identifiers, each bridging two pool identifiers: paths that must not count
    stray = [("crm_a", f"stray{i}", *pool[int(j)], when()) for i in range(8) for j in rng.integers(0, len(pool), 2)]
    stray += [("anonymous_id", "stray_x", "email", "stray_y", when())]
    with_stray = pd.concat([edge_frame, pd.DataFrame(stray, columns=columns)], ignore_index=True)
    with_stray["valid_from"] = pd.to_datetime(with_stray["valid_from"])
    return pd.DataFrame(node_rows, columns=["source", "source_id"]), edge_frame, with_stray


@pytest.mark.parametrize("seed", range(8))
def test_resolve_components_equals_the_label_implementation(seed):
    node_list, edge_list, _ = random_graph(seed)
    expected = oracle_resolve_components(node_list, edge_list)
    pd.testing.assert_frame_equal(resolve_components(node_list, edge_list), expected)
    as_objects = resolve_components(node_list.astype(object), edge_list.astype(object))
    pd.testing.assert_frame_equal(as_objects, expected)


@pytest.mark.parametrize("seed", range(8))
def test_link_times_equal_the_union_find(seed):
    node_list, edge_list, with_stray = random_graph(seed)
    components = resolve_components(node_list, edge_list)
    assert components["component_size"].max() > 20  # the chain
    assert pd.to_datetime(edge_list["valid_from"]).isna().any()
    for edge_set in (edge_list, with_stray, edge_list.iloc[::-1].reset_index(drop=True)):
        expected = oracle_link_times(components, edge_set)
        assert expected.notna().sum() > 5 and expected.isna().sum() > 5
        pd.testing.assert_series_equal(link_times(components, edge_set), expected)
    shuffled = components.sample(frac=1, random_state=seed)  # components in any row order, any index
    pd.testing.assert_series_equal(link_times(shuffled, with_stray), oracle_link_times(shuffled, with_stray))
    together = resolve_components_with_link_times(node_list, edge_list)
    pd.testing.assert_frame_equal(together, components.assign(linked_at=oracle_link_times(components, edge_list)))


def test_empty_inputs_as_before():
    no_nodes = nodes()
    no_edges = timed()
    pd.testing.assert_frame_equal(resolve_components(no_nodes, no_edges), oracle_resolve_components(no_nodes, no_edges))
    together = resolve_components_with_link_times(no_nodes, no_edges)
    assert list(together.columns) == ["source", "source_id", "customer_seed", "component_size", "linked_at"]
    assert together.empty
    out = resolve_components_with_link_times(nodes("crm_a:A1", "email:e1"), no_edges)
    assert out["linked_at"].isna().all() and out["linked_at"].dtype == "datetime64[us]"


def test_perfect_map_scores_one():
    m = mapping([("crm_a", "A1", "k1"), ("email", "e1", "k1"), ("anonymous_id", "x1", "k1"), ("crm_a", "A2", "k2"),
                 ("email", "e2", "k2"), ("email", "family", "k1"), ("phone", "p", "k2")])  # fmt: skip
    q = pairwise_quality(TRUTH, m)
    assert (q.precision, q.recall, q.true_pairs) == (1.0, 1.0, 4)
    assert q.identifiers_multi_person == 1 and q.identifiers_evaluated == 5
    assert (q.customers, q.persons) == (2, 2)


def test_over_merge_costs_precision_and_missing_costs_recall():
    merged = mapping([(s, i, "k") for s, i, _ in TRUTH.itertuples(index=False)])
    q = pairwise_quality(TRUTH, merged)
    # 5 evaluated identifiers in one customer: C(5,2) = 10 predicted, 4 true
    assert (q.predicted_pairs, q.true_positive_pairs, q.recall) == (10, 4, 1.0)
    assert q.precision == pytest.approx(0.4)
    partial = mapping([("crm_a", "A1", "k1"), ("email", "e1", "k1"), ("crm_a", "A2", "k2"), ("email", "e2", "k2")])
    q = pairwise_quality(TRUTH, partial)  # x1 missing: a singleton
    assert q.identifiers_missing_from_map == 1
    assert (q.precision, q.recall) == (1.0, pytest.approx(2 / 4))
    assert q.customers == 3


def test_recall_ceiling_splits_unlinkable_identifiers():
    unlinkable = pd.DataFrame([("anonymous_id", "x1")], columns=["source", "source_id"])
    assert recall_ceiling(TRUTH, unlinkable) == pytest.approx(2 / 4)


# --------------------------------------------------------------------------- #
# hashes equal staging's
# --------------------------------------------------------------------------- #
def render_macro_sql(expr: str, salt: str | None) -> str:
    """Render the project's staging macros (hash_pii, normalize_email, clean_text) with jinja."""
    source = "".join((ROOT / "macros" / "staging" / f"{name}.sql").read_text() for name in
                     ("clean_text", "normalize_email", "hash_pii"))  # fmt: skip
    env = jinja2.Environment()
    env.globals["env_var"] = lambda name, default=None: salt if (name == "MICROSEG_PII_SALT" and salt) else default
    return env.from_string(source + "{{ hash_pii(normalize_email(" + repr(expr) + ")) }}").render().strip()


@pytest.mark.parametrize("salt", [None, "another salt with 'quote"])
@pytest.mark.parametrize("email", ["Anna.Schmidt@Example.com", "  anna.schmidt@EXAMPLE.com ", "jörg@müller.de"])
def test_python_email_hash_equals_the_staging_macro(monkeypatch, salt, email):
    if salt is None:
        monkeypatch.delenv("MICROSEG_PII_SALT", raising=False)
    else:
        monkeypatch.setenv("MICROSEG_PII_SALT", salt)
    sql = render_macro_sql("raw_email", salt)
    from_macro = duckdb.connect().execute(f"select {sql} from (select $e as raw_email)", {"e": email}).fetchall()[0][0]
    from_python = hash_emails([email]).to_pylist()[0]
    plain = hashlib.sha256(((salt or DEFAULT_SALT) + email.strip().lower()).encode()).hexdigest()
    assert from_python == from_macro == plain


PLACEHOLDERS = ("", "null", "n/a", "none", "nil", "nan", "undefined", "-", "?")


@pytest.mark.parametrize(
    "raw",
    ["N/A", "  NuLL\t", "\u00a0-\n", "?", "", "   ", "NaN", "UNDEFINED", "None", "nil",  # placeholders
     "n/a2", "--", "nullx", "a-", "?x", "None of", "Nil.", "x?", "c-1", " 42 ", "Ünïcode",  # values
     # longer than any placeholder (clean_text keeps these without a regexp unless an end is whitespace)
     "UNDEFINED  ", "\u00a0\u00a0undefined", "ABCDEFGHIJ", "long value\u00a0", "\x0bE000123456", "E000123456\x0c",
     "\u00e9v\u00e9nement-42",
     # control characters at an end are not whitespace: kept (the regexp path, the fast path's test is > 32)
     "\x01E000123456", "E000123456\x1f", "\x1fundefined\x01", " E000123456", "E000123456 ",
     # the fast path counts bytes and compares first bytes: multi-byte ends and short multi-byte text
     "\u00e9\u00e9\u00e9\u00e9\u00e9", "\u00a1E00012345", "E000123456\u00a1", "\u00a0E000123456", "\u2003E000123456\u2003",
     "!E00012345!", "\u00a0nil\u00a0\u00a0\u00a0",
     # short text with clean ends: a placeholder only if it is one exactly (one regexp, no whitespace classes)
     "web", "C00012345", "NULL", "nUlL", "N/a", "undefined", "Undefined", "nulll", "n/a/", "-?", "--x", "?!", "nan0",
     "\u00e9", "x", "Nil\u00e9", "null\u00a0x", "a\tnull"],
)  # fmt: skip
def test_clean_text_nulls_exactly_the_placeholders(raw):
    source = (ROOT / "macros" / "staging" / "clean_text.sql").read_text()
    sql = jinja2.Environment().from_string(source + "{{ clean_text('raw') }}").render().strip()
    got = duckdb.connect().execute(f"select {sql} from (select $r as raw)", {"r": raw}).fetchall()[0][0]
    stripped = raw.strip(" \t\n\x0b\x0c\r\u00a0")
    assert got == (None if stripped.lower() in PLACEHOLDERS else stripped)


def test_identity_eval_names_a_missing_input_in_one_line(tmp_path, capsys):
    from microseg.identity_eval import main as eval_main

    truth = tmp_path / "truth"
    truth.mkdir()
    assert eval_main(["--truth", str(truth), "--db", str(tmp_path / "x.duckdb")]) == 2
    assert "identity.parquet not found" in capsys.readouterr().err
    for name in ("identity.parquet", "persons.parquet"):
        pd.DataFrame({"person_id": [1]}).to_parquet(truth / name)
    assert eval_main(["--truth", str(truth), "--db", str(tmp_path / "x.duckdb")]) == 2
    assert "x.duckdb not found: run dbt build" in capsys.readouterr().err
    con = duckdb.connect(str(tmp_path / "x.duckdb"))
    con.execute("create schema marts; create table marts.customer_identity_map (customer_key int)")
    con.close()
    assert eval_main(["--truth", str(truth), "--db", str(tmp_path / "x.duckdb")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "has no marts.dim_customers" in err and "Traceback" not in err
