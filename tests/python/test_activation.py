"""Activation on the shared CI build (marker dbt): each suppression reason
planted once on a copy of the database, the exports and the change feed
re-run, and the planted customers must be held back, with their reason, and
leave the exports as exits; a leak planted behind the suppression model must
fail the no-leak test; assignments and match keys recomputed independently."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from conftest import duckdb_config, run_dbt

ROOT = Path(__file__).resolve().parents[2]
EXPORTS = ("export_email_platform", "export_ads_platform", "export_crm")
LEAVES = ["+export_changes_latest", "+experiment_readout", "+customer_next_best_category"]

pytestmark = pytest.mark.dbt


def _dbt(args: list[str], work: Path) -> subprocess.CompletedProcess:
    """dbt from ``work`` on work/data/raw into work/microseg.duckdb (conftest.run_dbt: the worker's saved
    parse instead of a full parse per call, about 20 s of CPU each)."""
    return run_dbt(work, *args)


def _ok(run: subprocess.CompletedProcess) -> None:
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]


def _bucket(salt: str, key: str) -> float:
    """activation_bucket, recomputed outside SQL."""
    return int(hashlib.md5(f"{salt}|{key}".encode()).hexdigest()[:8], 16) / 2**32


def _var(name: str):
    import yaml

    return yaml.safe_load((ROOT / "dbt_project.yml").read_text())["vars"][name]


@pytest.fixture(scope="module")
def planted(dbt_build, tmp_path_factory):
    """A private copy of the shared build (activation built if the shared build stopped before it), then one
    exportable member planted per suppression reason and the activation models re-run."""
    work = tmp_path_factory.mktemp("activation")
    (work / "data").symlink_to(dbt_build.workdir / "data", target_is_directory=True)
    shutil.copy(dbt_build.db, work / "microseg.duckdb")
    con = duckdb.connect(str(work / "microseg.duckdb"))
    has = con.execute("select count(*) from information_schema.tables where table_name = 'export_changes'").fetchall()
    con.close()
    if not has[0][0]:
        _ok(_dbt(["build", "--select", *LEAVES, "--exclude", "resource_type:unit_test"], work))
    con = duckdb.connect(str(work / "microseg.duckdb"))
    before = con.sql("select * from activation.audience_suppressions").df()
    exportable = before[before["is_exportable"]]
    email = exportable[exportable["channel"] == "email"].drop_duplicates("customer_key").sort_values("customer_key")
    ads_only = exportable[(exportable["channel"] == "ads") & ~exportable["customer_key"].isin(email["customer_key"])]
    assert len(email) >= 4 and len(ads_only) >= 1, "the demo audiences have exportable email and ads members"
    who = {"erased": email.iloc[0], "no_consent": email.iloc[1], "no_contact": email.iloc[2],
           "frequency_cap": email.iloc[3], "no_contact_ads": ads_only.iloc[0]}  # fmt: skip
    key = {reason: row["customer_key"] for reason, row in who.items()}
    con.execute("insert into staging.stg_privacy__erased_identifiers by name select 'PLANTED' as request_id, "
                "'crm_id' as identifier_type, ? as identifier_value", [who["erased"]["crm_customer_id"]])  # fmt: skip
    con.execute("update marts.dim_customers set is_marketing_consent = false where customer_key = ?",
                [key["no_consent"]])  # fmt: skip
    for k in (key["no_contact"], key["no_contact_ads"]):
        con.execute("update marts.dim_customers set email_hash = null, phone_hash = null where customer_key = ?", [k])
    con.execute("insert into intermediate.int_behaviour__email_campaigns by name select ? as customer_key, "
                "'CPLANT' as campaign_id, true as is_sent, as_of_date as first_sent_date, "
                "cast(as_of_date as timestamp) as first_sent_at from intermediate.int_as_of_date",
                [key["frequency_cap"]])  # fmt: skip
    con.close()
    # the privacy scans are left out: the planted erased crm id is still in dim_customers, which they would report
    run = _dbt(["build", "--select", "export_settings", "export_folder", "audience_suppressions+",
                "--exclude", "resource_type:unit_test", "tag:privacy_scan"], work)  # fmt: skip
    return {"work": work, "before": before, "key": key, "build": run}


def test_each_planted_case_is_suppressed_with_its_reason(planted):
    _ok(planted["build"])  # the build runs the no-leak test: it passed
    con = duckdb.connect(str(planted["work"] / "microseg.duckdb"), read_only=True, config=duckdb_config(planted["work"]))
    after = con.sql("select customer_key, channel, suppression_reason from activation.audience_suppressions").df()
    key = planted["key"]
    expected = {"erased": "erased", "no_consent": "no_consent", "no_contact": "no_contact",
                "frequency_cap": "frequency_cap", "no_contact_ads": "no_contact"}  # fmt: skip
    for case, reason in expected.items():
        rows = after[after["customer_key"] == key[case]]
        channels = {"no_contact_ads": ["ads"], "erased": ["email", "ads", "crm"]}.get(case, ["email"])
        rows = rows[rows["channel"].isin(channels)]
        assert len(rows) and (rows["suppression_reason"] == reason).all(), (case, rows)
    exported = {model: {r[0] for r in con.execute(f"select export_key from activation.{model}").fetchall()}
                for model in EXPORTS}  # fmt: skip
    members = con.sql("select audience_member_key, customer_key from activation.audience_suppressions").df()
    banned = {"erased": EXPORTS, "no_consent": EXPORTS[:2], "no_contact": EXPORTS[:2],
              "frequency_cap": EXPORTS[:1], "no_contact_ads": EXPORTS[1:2]}  # fmt: skip
    for case, models in banned.items():
        keys = set(members.loc[members["customer_key"] == key[case], "audience_member_key"])
        for model in models:
            assert not keys & exported[model], (case, model)
    # the change feed tells the sync tools to remove them: every planted export row of before is an exit now
    exited = {r[0] for r in con.execute(
        "select export_key from activation.export_changes_latest where change_type = 'exited'").fetchall()}  # fmt: skip
    before = planted["before"]
    was_out = before[before["is_exportable"] & before["customer_key"].isin(key.values())]
    now_out = set().union(*exported.values())
    gone = set(was_out["audience_member_key"]) - now_out
    assert gone and gone <= exited
    con.close()


def test_no_leak_test_fails_on_a_leak_behind_the_suppression_model(planted):
    _ok(planted["build"])
    work = planted["work"]
    con = duckdb.connect(str(work / "microseg.duckdb"))
    leaked = con.execute("update activation.audience_suppressions set suppression_reason = null, is_exportable = true "
                         "where suppression_reason = 'no_consent' and channel = 'email'").fetchall()[0][0]  # fmt: skip
    con.close()
    assert leaked > 0
    # the export re-run and the no-leak test in one dbt invocation (one start-up and parse load, not two);
    # indirect selection empty: no other test of the export runs, so the failure is the no-leak test's
    run = _dbt(["build", "--select", "export_email_platform", "assert_no_suppressed_customer_in_exports",
                "--indirect-selection", "empty"], work)  # fmt: skip
    status = {r["unique_id"].split(".")[2]: r["status"]
              for r in json.loads((work / "target" / "run_results.json").read_text())["results"]
              if r["unique_id"].split(".")[0] in ("model", "test")}  # fmt: skip
    assert status == {"export_email_platform": "success", "assert_no_suppressed_customer_in_exports": "fail"}, status
    assert run.returncode != 0 and "assert_no_suppressed_customer_in_exports" in run.stdout
    assert f"Got {leaked} result" in run.stdout, run.stdout[-2000:]


def test_holdout_and_arms_match_an_independent_md5(dbt_build):
    con = duckdb.connect(str(dbt_build.db), read_only=True)
    if not con.execute("select count(*) from information_schema.tables where table_name = 'experiment_assignments'"
                       ).fetchall()[0][0]:  # fmt: skip
        pytest.skip("the shared build stopped before activation (no fresh `make dbt-test`)")
    a = con.sql("select * from activation.experiment_assignments order by assignment_key limit 5000").df()
    s = con.sql("select customer_key, is_global_holdout, suppression_reason from activation.audience_suppressions").df()
    con.close()
    salt, hold_salt = _var("microseg__experiment_salt"), _var("microseg__activation_holdout_salt")
    share = _var("microseg__activation_holdout_share")
    holdout = a["customer_key"].map(lambda k: _bucket(hold_salt, k) < share)
    # sent campaigns hash the CRM id the email went to, planned ones the customer_key
    ids = a["recipient_id"].fillna(a["customer_key"])
    bucket = [_bucket(salt, f"{c}|{k}") for c, k in zip(a["campaign_id"], ids)]
    arm = ["holdout" if h else ("control" if b < cs else "treatment")
           for h, b, cs in zip(holdout, bucket, a["control_share"])]  # fmt: skip
    assert list(a["arm"]) == arm
    assert pd.Series(bucket).sub(a["assignment_bucket"]).abs().max() < 1e-12
    # every holdout member is suppressed (global_holdout, or an earlier reason)
    s_hold = s[s["customer_key"].map(lambda k: _bucket(hold_salt, k) < share)]
    assert s_hold["suppression_reason"].notna().all() and s_hold["is_global_holdout"].all()


def test_ads_match_keys_are_the_platforms_normalization(dbt_build):
    """email_sha256 = sha256(trimmed lower-cased email), phone_sha256 = sha256('+' + digits with country code),
    recomputed from the raw CRM file for the exported customers."""
    con = duckdb.connect(str(dbt_build.db), read_only=True)
    if not con.execute("select count(*) from information_schema.tables where table_name = 'audience_suppressions'"
                       ).fetchall()[0][0]:  # fmt: skip
        pytest.skip("the shared build stopped before activation (no fresh `make dbt-test`)")
    rows = con.sql("""
        select s.email_sha256, s.phone_sha256, m.source_id as crm_id
        from activation.audience_suppressions as s
        inner join marts.customer_identity_map as m
            on s.customer_key = m.customer_key and m.source in ('crm_a', 'crm_b')
        where s.is_exportable and s.channel = 'ads'
    """).df()
    con.close()
    crm = pd.read_parquet(dbt_build.workdir / "data" / "raw" / "crm_customers.parquet").astype("string")
    crm = crm.assign(crm_id=crm["crm_id"].str.strip())
    emails = crm.set_index("crm_id")["email"].dropna().str.strip().str.lower()
    email_keys = {hashlib.sha256(e.encode()).hexdigest() for e in emails}
    checked = rows.dropna(subset=["email_sha256"])
    assert len(checked) > 50
    assert checked["email_sha256"].isin(email_keys).mean() == 1.0
    phones = rows["phone_sha256"].dropna()
    digits = crm["phone"].dropna().str.replace(r"[^0-9]", "", regex=True)
    cc = str(_var("microseg__default_country_code"))
    e164 = digits.map(lambda d: d[2:] if d.startswith("00") else (cc + d[1:] if d.startswith("0") else d))
    phone_keys = {hashlib.sha256(f"+{d}".encode()).hexdigest() for d in e164 if d}
    assert len(phones) > 50 and phones.isin(phone_keys).mean() == 1.0
