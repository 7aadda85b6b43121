"""The data diff: two tiny builds whose differences are planted, one by one."""

from __future__ import annotations

import re

import duckdb
import pandas as pd
import pytest

from microseg import datadiff, reporting


def _build(path, *, rfm, tiers, segments, auc, calibration, silhouette, identity, extra_table=False):
    con = duckdb.connect(str(path))
    con.sql("create schema marts; create schema ml; create schema raw")
    con.sql("create view raw.orders as select 1 as x")  # run-start view: input, not a model
    con.sql("create table marts.mart_customer_rfm (customer_key varchar, rfm_segment varchar)")
    con.executemany("insert into marts.mart_customer_rfm values (?, ?)", list(rfm.items()))
    con.sql("create table marts.propensity_scores (customer_key varchar, tier varchar)")
    con.executemany("insert into marts.propensity_scores values (?, ?)", list(tiers.items()))
    con.sql("create table ml.customer_segments (customer_key varchar, segment_name varchar)")
    con.executemany("insert into ml.customer_segments values (?, ?)", list(segments.items()))
    con.sql("create table ml.segment_quality (k integer, is_chosen boolean, silhouette double, stability_ari double)")
    con.sql(f"insert into ml.segment_quality values (5, true, {silhouette}, 0.9), (6, false, 0.01, 0.5)")
    con.sql("""create table marts.propensity_model_metrics (evaluation_set varchar, table_name varchar,
               scorer varchar, metric varchar, bucket integer, feature varchar, metric_value double)""")
    rows = [("cross_validation", "summary", "model", "roc_auc", None, None, auc),
            ("cross_validation", "summary", "recency", "roc_auc", None, None, 0.70)]
    for bucket, (n, predicted, observed) in enumerate(calibration, start=1):
        rows += [("cross_validation", "calibration", "model", metric, bucket, None, value)
                 for metric, value in (("n_rows", n), ("mean_predicted", predicted), ("observed_rate", observed))]
    con.executemany("insert into marts.propensity_model_metrics values (?, ?, ?, ?, ?, ?, ?)", rows)
    con.sql("create table marts.customer_identity_map (source varchar, source_id varchar, customer_key varchar)")
    con.executemany("insert into marts.customer_identity_map values (?, ?, ?)", identity)
    if extra_table:
        con.sql("create table marts.new_mart as select 1 as id")
    con.close()
    return path


@pytest.fixture
def builds(tmp_path):
    rfm = {"c1": "Champions", "c2": "Champions", "c3": "At risk", "c4": "Lost"}
    segments = {"c1": "Loyal", "c2": "Bargain", "c3": "Bargain"}
    identity = [("crm_a", "1", "k1"), ("email", "e1", "k1"), ("crm_a", "2", "k2"), ("email", "e2", "k3")]
    base = _build(tmp_path / "base.duckdb", rfm=rfm, tiers={"c1": "high", "c2": "low"}, segments=segments,
                  auc=0.80, calibration=[(100, 0.1, 0.1), (100, 0.5, 0.5)], silhouette=0.30, identity=identity)
    head = _build(tmp_path / "head.duckdb",
                  rfm={**rfm, "c2": "At risk", "c5": "New"},  # c2 moves, c4 stays, c5 is new
                  tiers={"c1": "high", "c2": "medium"}, segments={**segments, "c3": "Loyal"},
                  auc=0.75, calibration=[(100, 0.2, 0.1), (100, 0.5, 0.5)], silhouette=0.35,
                  identity=[("crm_a", "1", "k1"), ("email", "e1", "k1"), ("crm_a", "2", "k2"), ("email", "e2", "k2")],
                  extra_table=True)  # fmt: skip
    truth = tmp_path / "truth"
    truth.mkdir()
    pd.DataFrame({"source": ["crm_a", "email", "crm_a", "email"], "source_id": ["1", "e1", "2", "e2"],
                  "person_id": [1, 1, 2, 2]}).to_parquet(truth / "identity.parquet")  # fmt: skip
    return base, head, truth


def _table_row(markdown: str, first_cell: str) -> list[str]:
    for line in markdown.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if cells and cells[0] == first_cell:
            return cells
    raise AssertionError(f"no row {first_cell!r} in:\n{markdown}")


def test_row_counts_carry_their_sign(builds):
    base, head, _ = builds
    md = datadiff.diff_markdown(base, head)
    assert md.startswith("## What this change did to the data")
    assert _table_row(md, "marts.mart_customer_rfm") == ["marts.mart_customer_rfm", "4", "5", "+1"]
    assert _table_row(md, "marts.new_mart") == ["marts.new_mart", "absent", "1", ""]
    assert "raw.orders" not in md  # run-start views are input
    assert "ml.segment_quality" not in md  # unchanged: counted, not listed


def test_migration_tables_name_who_moved(builds):
    base, head, _ = builds
    md = datadiff.diff_markdown(base, head)
    assert "RFM segment changed**: 1 of 4 in both builds (25.0%); only in base 0, only in head 1." in md
    assert _table_row(md, "Champions") == ["Champions", "At risk", "1"]
    assert _table_row(md, "low") == ["low", "medium", "1"]
    assert _table_row(md, "Bargain") == ["Bargain", "Loyal", "1"]


def test_quality_figures_change_with_sign_and_verdict(builds):
    base, head, truth = builds
    md = datadiff.diff_markdown(base, head, truth)
    assert _table_row(md, "cross_validation model roc_auc") == [
        "cross_validation model roc_auc", "0.8000", "0.7500", "-0.0500", "worse"]  # fmt: skip
    assert _table_row(md, "cross_validation recency roc_auc")[3] == "±0"
    # ECE: base 0; head (100 x |0.2 - 0.1| + 100 x 0) / 200 = 0.05, lower is better
    assert _table_row(md, "cross_validation model expected_calibration_error")[3:] == ["+0.0500", "worse"]
    assert _table_row(md, "silhouette")[3:] == ["+0.0500", "better"]
    # the head merges e2 into k2: recall 1/2 -> 2/2, precision stays 1
    assert _table_row(md, "recall")[1:] == ["0.5000", "1", "+0.5000", "better"]
    assert _table_row(md, "precision")[3] == "±0"


def test_missing_table_is_reported_not_raised(builds, tmp_path):
    base, head, _ = builds
    con = duckdb.connect(str(head))
    con.sql("drop table ml.customer_segments; drop table ml.segment_quality")
    con.close()
    md = datadiff.diff_markdown(base, head)
    assert "micro-segment changed**: ml.customer_segments is not in both builds." in md
    assert _table_row(md, "silhouette")[1:4] == ["0.3000", "–", ""]
    assert datadiff.main(["--base", str(tmp_path / "nope.duckdb"), "--head", str(head)]) == 1


def test_reviewer_summary_includes_the_diff_when_a_base_is_given(builds, tmp_path, monkeypatch):
    base, head, _ = builds
    monkeypatch.delenv("MICROSEG_BASE_DUCKDB", raising=False)
    (tmp_path / "target").mkdir()
    (tmp_path / "target" / "run_results.json").write_text('{"results": []}')
    out = tmp_path / "summary.md"
    assert reporting.main(["--target-dir", str(tmp_path / "target"), "--out", str(out),
                           "--base-db", str(base), "--head-db", str(head)]) == 0  # fmt: skip
    assert "## What this change did to the data" in out.read_text()
    assert reporting.main(["--target-dir", str(tmp_path / "target"), "--out", str(out), "--head-db", str(head)]) == 0
    assert "What this change did" not in out.read_text()


# --- end to end on the CI build: the reviewer summary of scripts/dbt_test.sh with a base build --------------------
# CI never has a base build (main's), so the diff section is checked here on the shared CI build: a copy of it is
# the "base", changed in known ways, and the summary is run as the script runs it, with MICROSEG_BASE_DUCKDB.
MOVED, DROPPED, SILHOUETTE_SHIFT, AUC_SHIFT = 40, 25, 0.05, 0.02


@pytest.mark.dbt
def test_reviewer_summary_diffs_a_changed_copy_of_the_ci_build(dbt_build, tmp_path):
    import os
    import shutil
    import subprocess
    import sys

    base = tmp_path / "base.duckdb"
    shutil.copy(dbt_build.db, base)
    with duckdb.connect(str(base)) as con:
        # the base had 25 fewer RFM customers: the head gains them
        n_rfm = con.execute("select count(*) from marts.mart_customer_rfm").fetchone()[0]
        con.execute(f"delete from marts.mart_customer_rfm where customer_key in "
                f"(select customer_key from marts.mart_customer_rfm order by customer_key limit {DROPPED})")  # fmt: skip
        # 40 customers of the largest segment sat in the smallest one in the base: in the head they moved back
        sizes = con.execute("select segment_name, count(*) as n from ml.customer_segments "
                            "group by all order by n desc, segment_name").fetchall()  # fmt: skip
        (largest, _), (smallest, _) = sizes[0], sizes[-1]
        con.execute("update ml.customer_segments set segment_name = ? where customer_key in (select customer_key from "
                    f"ml.customer_segments where segment_name = ? order by customer_key limit {MOVED})", [smallest, largest])  # fmt: skip
        silhouette = con.execute("select silhouette from ml.segment_quality where is_chosen").fetchone()[0]
        con.execute(f"update ml.segment_quality set silhouette = silhouette + {SILHOUETTE_SHIFT} where is_chosen")
        has_propensity = con.execute("select count(*) from information_schema.tables where table_schema = 'marts' "
                                 "and table_name = 'propensity_model_metrics'").fetchone()[0] == 1  # fmt: skip
        if has_propensity:
            con.execute(f"update marts.propensity_model_metrics set metric_value = metric_value - {AUC_SHIFT} "
                    "where table_name = 'summary' and metric = 'roc_auc' and scorer = 'model'")  # fmt: skip
    target = tmp_path / "target"
    target.mkdir()
    (target / "run_results.json").write_text('{"results": []}')
    out = tmp_path / "summary.md"
    env = {**os.environ, "MICROSEG_BASE_DUCKDB": str(base), "MICROSEG_DUCKDB_PATH": str(dbt_build.db),
           "MICROSEG_DIFF_TRUTH": str(dbt_build.truth)}  # fmt: skip
    run = subprocess.run([sys.executable, "-m", "microseg.reporting", "--target-dir", str(target), "--out", str(out)],
                         env=env, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert run.returncode == 0, run.stderr[-2000:]
    md = out.read_text()
    section = md[md.index("## What this change did to the data"):]
    assert "Not computed" not in section
    # row counts: the changed mart with its signed delta; unchanged models are counted, not listed
    assert _table_row(section, "marts.mart_customer_rfm") == ["marts.mart_customer_rfm", f"{n_rfm - DROPPED:,}",
                                                               f"{n_rfm:,}", f"+{DROPPED}"]  # fmt: skip
    assert "ml.customer_segments" not in [r.split("|")[1].strip() for r in section.splitlines() if r.startswith("| ml.")]
    assert f"only in base 0, only in head {DROPPED}." in section
    # migrated customers: who moved, from where to where
    assert re.search(rf"micro-segment changed\*\*: {MOVED} of [\d,]+ in both builds", section)
    assert _table_row(section, smallest) == [smallest, largest, str(MOVED)]
    assert "propensity tier changed**: 0 of" in section or not has_propensity
    # metric deltas with their signs and verdicts
    assert _table_row(section, "silhouette")[1:] == [f"{silhouette + SILHOUETTE_SHIFT:.4f}", f"{silhouette:.4f}",
                                                     f"{-SILHOUETTE_SHIFT:+.4f}", "worse"]  # fmt: skip
    assert _table_row(section, "precision")[3] == "±0" and _table_row(section, "recall")[3] == "±0"
    if has_propensity:
        auc = [line for line in section.splitlines() if line.startswith("| ") and " model roc_auc |" in line]
        assert auc and all(line.split("|")[4].strip() == f"{AUC_SHIFT:+.4f}" and "better" in line for line in auc)
