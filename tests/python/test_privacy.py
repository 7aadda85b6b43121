"""Privacy checks on built databases.

On the shared pytest build (conftest ``dbt_build``: 3,000 generated persons):
- every identifier a request names (read from the raw erasure_requests file,
  independently of dbt) appears in no table outside the suppression list, in
  clear or hashed;
- erasure is counted and reconciled (erasure_audit, data_quality_summary) and
  reaches the whole person against the generator's truth, nobody else;
- the dbt privacy tests can fail: a raw email / phone and an erased crm id
  planted in a mart make them fail (run on a copy).

On a build of damaged requests (the same raw data, erasure_requests.parquet
overwritten with planted cases): requests written the way people write them
(`E-Mail`, a lower-case padded crm id, a tab, a zero-width space, `mailto:`,
angle brackets, quotes, a date that does not parse, no request id) erase
their person from the marts; a request that matches nothing, or names nothing,
fails the build naming its request id, and only warns with
microseg__erasure_unmatched_severity: warn.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from conftest import duckdb_config, run_dbt
from microseg.identity_eval import erasure_completeness, evaluate_erasure

ROOT = Path(__file__).resolve().parents[2]
SALT = os.environ.get("MICROSEG_PII_SALT", "microseg-demo-salt")
# the requests and the suppression list must hold what to erase; base_* tables
# keep erased rows as tombstones without content, so they are scanned
EXCLUDED_PREFIXES = ("stg_privacy__", "base_privacy__")

pytestmark = pytest.mark.dbt


def _email_hash(email: str) -> str:
    return hashlib.sha256((SALT + email).encode()).hexdigest()


def _valid_requests(raw: Path) -> pd.DataFrame:
    """Erasure requests with an id, a known type and a value, one per id (the generator writes no other kind)."""
    req = pd.read_parquet(raw / "erasure_requests.parquet").astype("string")
    req["request_id"] = req["request_id"].str.strip()
    req["identifier_type"] = req["identifier_type"].str.strip().str.lower()
    req["identifier_value"] = req["identifier_value"].str.strip()
    ok = (
        req["request_id"].fillna("").ne("")
        & req["identifier_type"].isin(["email", "crm_id"])
        & req["identifier_value"].fillna("").ne("")
    )
    valid = req[ok].drop_duplicates(["request_id", "identifier_type", "identifier_value"])
    return valid[~valid["request_id"].duplicated(keep=False)]


def _text_columns(con) -> list[tuple[str, str, str]]:
    rows = con.execute(
        """
        select c.table_schema, c.table_name, c.column_name
        from information_schema.columns as c
        inner join information_schema.tables as t
            on c.table_catalog = t.table_catalog and c.table_schema = t.table_schema and c.table_name = t.table_name
        where c.data_type = 'VARCHAR' and t.table_type = 'BASE TABLE'
        order by 1, 2, 3
        """
    ).fetchall()
    return [r for r in rows if not r[1].startswith(EXCLUDED_PREFIXES)]


def test_erased_identifiers_appear_in_no_table(dbt_build):
    requests = _valid_requests(dbt_build.workdir / "data" / "raw")
    assert len(requests) > 0, "the generator always writes some erasure requests"
    crm_ids = requests.loc[requests["identifier_type"] == "crm_id", "identifier_value"].tolist()
    emails = requests.loc[requests["identifier_type"] == "email", "identifier_value"].str.lower().tolist()
    targets = pd.DataFrame({"value": crm_ids + emails + [_email_hash(e) for e in emails]})

    con = duckdb.connect(str(dbt_build.db), read_only=True)
    con.register("targets", targets)
    columns = _text_columns(con)
    assert any(t == "fct_orders" for _, t, _ in columns), "the scan must reach the marts"
    hits = []
    for schema, table, column in columns:
        n = con.execute(
            f'select count(*) from "{schema}"."{table}" '
            f'where "{column}" in (select value from targets) '
            f'or lower(trim("{column}")) in (select value from targets)'
        ).fetchone()[0]
        if n:
            hits.append((schema, table, column, n))
    con.close()
    assert hits == [], f"erased identifiers still present: {hits}"


def test_erasure_is_counted_and_reconciled(dbt_build):
    con = duckdb.connect(str(dbt_build.db), read_only=True)
    audit = con.execute(
        "select count(*), sum(erased_rows), count(*) filter (where status = 'applied') from marts.erasure_audit"
    ).fetchone()
    staged_requests = con.execute("select count(distinct request_id) from staging.stg_privacy__erasure_requests")
    assert audit[0] == staged_requests.fetchone()[0] == audit[2], "every generated request is staged and applied"
    assert audit[1] > 0, "the demo requests name people who have data"
    summary = con.execute("select sum(erased_rows), sum(unaccounted_rows) from marts.data_quality_summary").fetchone()
    con.close()
    assert summary == (audit[1], 0)


def test_erased_persons_other_identifiers_are_gone(dbt_build):
    """Ground truth: every identifier of a person whose email or crm id a
    request names (their other CRM records, emails and devices) is gone from
    the map, and nobody else lost one. The erasure walks identity's own edges,
    so it misses what identity's recall misses; on this 3,000-person build
    nothing is left (docs/decisions.md)."""
    r = evaluate_erasure(dbt_build.truth, dbt_build.db)
    identifiers = sum(c["identifiers"] for c in r["by_source"].values())
    assert r["persons"] > 0, "the generator always writes requests that name persons"
    assert identifiers > 2 * r["persons"], "erased persons have several identifiers"
    assert r["left_linkable"] == 0, r["by_source"]
    assert r["over_erased_identifiers"] == 0, r


def _dbt(args: list[str], raw: Path, workdir: Path, target: Path | None = None) -> subprocess.CompletedProcess:
    """dbt from ``workdir`` on ``raw`` into workdir/microseg.duckdb: conftest.run_dbt."""
    return run_dbt(workdir, *args, raw=raw, target=target, timeout=900)


def test_privacy_tests_fail_on_planted_pii_and_erased_ids(dbt_build, tmp_path):
    work = tmp_path / "t"
    work.mkdir()
    db_copy = work / "microseg.duckdb"
    shutil.copy(dbt_build.db, db_copy)
    con = duckdb.connect(str(db_copy))
    erased = con.execute(
        "select min(identifier_value) from staging.stg_privacy__erased_identifiers where identifier_type = 'crm_id'"
    ).fetchone()[0]
    assert erased is not None
    first = "(select min(customer_key) from marts.dim_customers)"
    con.execute(f"update marts.dim_customers set city = 'Anna.Schmidt@example.com' where customer_key = {first}")
    con.execute(f"update marts.dim_customers set postcode = '+49 30 1234567' where customer_key = {first}")
    con.execute(f"update marts.dim_customers set primary_crm_customer_id = '{erased}' where customer_key = {first}")
    con.close()

    tests = ["assert_no_pii_outside_staging", "assert_no_erased_identifier_in_models"]
    _dbt(["test", "--select", *tests], dbt_build.workdir / "data" / "raw", work)
    target = work / "target"
    results = {r["unique_id"].split(".")[2]: r for r in json.loads((target / "run_results.json").read_text())["results"]}
    assert {results[t]["status"] for t in tests} == {"fail"}
    # which findings: the queries dbt ran, run again on the copy; the shared build
    # stops before the ML models, whose missing relations are findings too, left aside
    con = duckdb.connect(str(db_copy), read_only=True, config=duckdb_config(work))
    findings = {}
    for test in tests:
        sql = (target / "compiled" / "microseg" / "tests" / "privacy" / f"{test}.sql").read_text()
        findings[test] = set(
            con.execute(f"select model_name, column_name from ({sql}) where finding <> 'relation_missing'").fetchall()
        )
    con.close()
    assert findings["assert_no_pii_outside_staging"] == {("dim_customers", "city"), ("dim_customers", "postcode")}
    assert findings["assert_no_erased_identifier_in_models"] == {("dim_customers", "primary_crm_customer_id")}


# --- damaged requests ---------------------------------------------------------

DIRTY = "\u200b"  # zero-width space


def _planted_persons(raw: Path, truth: Path, taken: set[str], n: int) -> pd.DataFrame:
    """n crm_a records (crm id, normalized email, person) of distinct persons no
    generated request names, whose email and crm id belong to that person only."""
    identity = pd.read_parquet(truth / "identity.parquet")
    per_id = identity.groupby(["source", "source_id"])["person_id"].transform("nunique")
    single = identity[per_id == 1]
    crm = pd.read_parquet(raw / "crm_customers.parquet").astype("string")
    crm = crm[(crm["source_system"].str.strip() == "crm_a") & crm["email"].notna() & crm["crm_id"].notna()]
    crm = crm.assign(crm_id=crm["crm_id"].str.strip(), email=crm["email"].str.strip().str.lower())
    crm = crm[~crm["crm_id"].isin(taken) & ~crm["email"].isin(taken)].drop_duplicates("crm_id", keep=False)
    crm = crm.assign(email_hash=crm["email"].map(_email_hash))
    crm = crm.merge(single[single["source"] == "crm_a"][["source_id", "person_id"]], left_on="crm_id",
                    right_on="source_id")  # fmt: skip
    crm = crm[crm["email_hash"].isin(single.loc[single["source"] == "email", "source_id"])]
    crm = crm[crm["crm_id"].str.match(r"^[A-Z]\d+$")].drop_duplicates("person_id").sort_values("crm_id")
    return crm.head(n)[["crm_id", "email", "email_hash", "person_id"]].reset_index(drop=True)


@pytest.fixture(scope="module")
def damaged(dbt_build, tmp_path_factory):
    """A copy of the shared build's raw data whose erasure requests are the
    generated ones plus planted damaged ones, built with severity warn."""
    work = tmp_path_factory.mktemp("damaged_requests")
    raw = work / "raw"
    shutil.copytree(dbt_build.workdir / "data" / "raw", raw)
    requests = pd.read_parquet(raw / "erasure_requests.parquet").astype("string")
    taken = set(requests["identifier_value"].str.strip()) | set(requests["identifier_value"].str.strip().str.lower())
    p = _planted_persons(raw, dbt_build.truth, taken, 6)
    assert len(p) == 6, "the generator always writes enough single-person crm_a records"
    crm, mail = p["crm_id"], p["email"]
    planted = pd.DataFrame(
        [
            ("P1", "crm id", f"  {crm[0].lower()} ", "not a date"),
            ("P2", "E-Mail", f"\t{mail[1].upper()}{DIRTY}\n", "2026-03-10T00:00:00Z"),
            ("P3", "EMAIL", f"mailto:<{mail[2]}>", "10.03.2026"),
            ("P4", "e_mail", f'"{mail[3]}"', None),
            ("", "customer_id", f"'{crm[4]}'", "2026-03-10"),
            ("P6", "Crm", f"{DIRTY}{crm[5]}\u00a0", "yesterday"),
            ("PX-UNMATCHED", "email", "nobody@nowhere.invalid", "2026-03-10T00:00:00Z"),
            ("PX-INVALID", "email", f" {DIRTY}\t", "2026-03-10T00:00:00Z"),
        ],
        columns=["request_id", "identifier_type", "identifier_value", "requested_at"],
    )
    pd.concat([requests, planted], ignore_index=True).to_parquet(raw / "erasure_requests.parquet", index=False)
    db = work / "microseg.duckdb"
    selection = ["+customer_identity_map", "+dim_customers", "+erasure_audit", "+fct_orders"]
    run = _dbt(
        ["build", "--select", *selection, "--indirect-selection", "cautious", "--exclude", "resource_type:unit_test",
         "--vars", "{microseg__erasure_unmatched_severity: warn}"],
        raw, work,
    )  # fmt: skip
    return {"persons": p, "db": db, "raw": raw, "work": work, "build": run, "truth": dbt_build.truth}


def test_damaged_requests_build_passes_with_warn(damaged):
    run = damaged["build"]
    assert run.returncode == 0, run.stdout[-4000:]
    results = json.loads((damaged["work"] / "target" / "run_results.json").read_text())["results"]
    status = {r["unique_id"].split(".")[2]: r["status"] for r in results}
    assert status["assert_erasure_requests_applied"] == "warn"


def test_damaged_requests_audit_status(damaged):
    with duckdb.connect(str(damaged["db"]), read_only=True, config=duckdb_config(damaged["work"])) as con:
        audit = dict(con.execute("select request_id, status from marts.erasure_audit").fetchall())
        removed = dict(con.execute("select request_id, erased_rows from marts.erasure_audit").fetchall())
    unnamed = [r for r in audit if r.startswith("unnamed-")]
    assert len(unnamed) == 1, "a request without an id is kept under an id made from its row"
    for request_id in ["P1", "P2", "P3", "P4", "P6", *unnamed]:
        assert audit[request_id] == "applied", (request_id, audit[request_id])
        assert removed[request_id] > 0, request_id
    assert audit["PX-UNMATCHED"] == "unmatched"
    assert audit["PX-INVALID"] == "invalid"


def test_damaged_requests_erase_their_persons(damaged):
    """Each normalizable request erases its whole person (truth), nobody else."""
    p = damaged["persons"]
    with duckdb.connect(str(damaged["db"]), read_only=True, config=duckdb_config(damaged["work"])) as con:
        mapping = con.sql(
            """select map.source, map.source_id, map.customer_key, customers.is_anonymous
               from marts.customer_identity_map as map
               inner join marts.dim_customers as customers on map.customer_key = customers.customer_key"""
        ).df()
        suppressed = con.sql("select identifier_type, identifier_value from staging.stg_privacy__erased_identifiers").df()
        # the generated requests (R...) as staged, the planted ones in truth's spelling
        generated = con.sql(
            "select identifier_type, identifier_hash from staging.stg_privacy__erasure_requests "
            "where request_id like 'R%'"
        ).df()
        orders_left = con.execute(
            "select count(*) from marts.fct_orders as orders inner join marts.customer_identity_map as map "
            "on orders.customer_key = map.customer_key where map.source_id in (select unnest(?))",
            [p["crm_id"].tolist() + p["email_hash"].tolist()],
        ).fetchone()[0]
    planted = pd.DataFrame(
        {"identifier_type": ["crm_id", "email", "email", "email", "crm_id", "crm_id"],
         "identifier_hash": [p["crm_id"][0], p["email_hash"][1], p["email_hash"][2], p["email_hash"][3],
                             p["crm_id"][4], p["crm_id"][5]]}
    )  # fmt: skip
    requests = pd.concat([generated, planted], ignore_index=True)
    truth = pd.read_parquet(damaged["truth"] / "identity.parquet")
    r = erasure_completeness(truth, requests, mapping, suppressed)
    only_generated = erasure_completeness(truth, generated, mapping, suppressed)
    assert r["persons"] == only_generated["persons"] + 6
    assert r["left_linkable"] == 0, r["by_source"]
    assert r["over_erased_identifiers"] == 0, r
    assert orders_left == 0


def test_damaged_requests_fail_the_build_naming_the_request(damaged):
    run = _dbt(["test", "--select", "assert_erasure_requests_applied"], damaged["raw"], damaged["work"],
               target=damaged["work"] / "target_error")  # fmt: skip
    assert run.returncode != 0
    assert "PX-UNMATCHED (unmatched)" in run.stdout and "PX-INVALID (invalid)" in run.stdout, run.stdout[-3000:]
