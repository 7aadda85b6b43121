"""Unit tests of microseg.identity (connected components), microseg.identity_eval
(pairwise precision / recall) and microseg.pii (hashes equal to staging's)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import jinja2
import pandas as pd
import pytest

from microseg.identity import link_times, resolve_components
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
     "n/a2", "--", "nullx", "a-", "?x", "None of", "Nil.", "x?", "c-1", " 42 ", "Ünïcode"],  # values
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
