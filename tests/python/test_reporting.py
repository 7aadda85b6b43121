"""The reviewer summary counts statuses and lists every failing or warning test."""

import json

import pytest

from microseg import reporting


@pytest.fixture
def target_dir(tmp_path):
    manifest = {
        "nodes": {
            "model.microseg.fct_orders": {"resource_type": "model", "name": "fct_orders"},
            "seed.microseg.rfm_segments": {"resource_type": "seed", "name": "rfm_segments"},
            "test.microseg.unique_fct_orders_order_id.abc": {
                "resource_type": "test",
                "name": "unique_fct_orders_order_id",
                "attached_node": "model.microseg.fct_orders",
            },
            "test.microseg.not_null_fct_orders_customer_key.def": {
                "resource_type": "test",
                "name": "not_null_fct_orders_customer_key",
                "attached_node": "model.microseg.fct_orders",
            },
            "test.microseg.assert_rfm_cells.ghi": {
                "resource_type": "test",
                "name": "assert_rfm_cells",
                "depends_on": {"nodes": ["seed.microseg.rfm_segments"]},
            },
        },
        "unit_tests": {
            "unit_test.microseg.mart_customer_rfm.test_scores": {
                "resource_type": "unit_test",
                "name": "test_scores",
                "model": "mart_customer_rfm",
            }
        },
    }
    run_results = {
        "results": [
            {"unique_id": "model.microseg.fct_orders", "status": "success", "failures": None},
            {"unique_id": "seed.microseg.rfm_segments", "status": "success", "failures": None},
            {"unique_id": "test.microseg.unique_fct_orders_order_id.abc", "status": "pass", "failures": 0},
            {
                "unique_id": "test.microseg.not_null_fct_orders_customer_key.def",
                "status": "warn",
                "failures": 17,
                "message": "Got 17 results, configured to warn if != 0",
            },
            {"unique_id": "test.microseg.assert_rfm_cells.ghi", "status": "fail", "failures": 2},
            {"unique_id": "unit_test.microseg.mart_customer_rfm.test_scores", "status": "error", "failures": None},
        ]
    }
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    (tmp_path / "run_results.json").write_text(json.dumps(run_results))
    return tmp_path


def test_counts_per_resource_type(target_dir):
    counts = reporting.count_by_type(reporting.load_results(target_dir))
    assert counts["model"]["pass"] == 1
    assert counts["test"] == {"pass": 1, "warn": 1, "fail": 1}
    assert counts["unit_test"]["error"] == 1
    assert counts["total"]["pass"] == 3
    assert sum(counts["total"].values()) == 6


def test_markdown_lists_flagged_tests_with_model_and_rows(target_dir):
    markdown = reporting.render_markdown(reporting.load_results(target_dir))
    assert markdown.startswith("## dbt build results: FAILED")
    assert "| warn | not_null_fct_orders_customer_key | fct_orders | 17 |" in markdown
    assert "| fail | assert_rfm_cells | rfm_segments | 2 |" in markdown
    assert "| error | test_scores | mart_customer_rfm |" in markdown
    assert "unique_fct_orders_order_id" not in markdown  # passing tests are not listed
    # errors first, then failures, then warnings
    flagged_statuses = [line.split("|")[1].strip() for line in markdown.splitlines() if line.startswith("| ")][-3:]
    assert flagged_statuses == ["error", "fail", "warn"]


def test_clean_run_says_passed(target_dir):
    results = [r for r in reporting.load_results(target_dir) if r.status == "pass"]
    markdown = reporting.render_markdown(results)
    assert "passed" in markdown.splitlines()[0] and "FAILED" not in markdown
    assert "No failing, erroring or warning nodes." in markdown


def test_main_writes_file_and_fails_cleanly_without_results(target_dir, tmp_path, capsys):
    out = tmp_path / "summary.md"
    assert reporting.main(["--target-dir", str(target_dir), "--out", str(out)]) == 0
    assert out.read_text().startswith("## dbt build results")
    assert reporting.main(["--target-dir", str(tmp_path / "missing")]) == 1
    assert "run dbt first" in capsys.readouterr().err


def test_a_failing_column_rules_test_lists_the_broken_rules(tmp_path):
    """One test checks many rules of a model: the summary names the ones that broke, with their rows."""
    import duckdb

    db = tmp_path / "build.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("create table m as select * from (values (1, 'female'), (-2, 'x'), (-3, 'male')) t(age, gender)")
    compiled = ("select * from (select unnest([case when age < 0 then 'age accepted_range: age >= 0' end, "
                "case when gender not in ('female', 'male') then 'gender accepted_values: female, male' end]) "
                "as failed_rule, * from m) where failed_rule is not null")  # fmt: skip
    uid = "test.microseg.column_rules__m.abc"
    manifest = {"nodes": {uid: {"resource_type": "test", "name": "column_rules__m", "compiled_code": compiled,
                                "test_metadata": {"name": "column_rules"}}}}  # fmt: skip
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    (tmp_path / "run_results.json").write_text(json.dumps({"results": [
        {"unique_id": uid, "status": "fail", "failures": 3, "message": "Got 3 results, configured to fail if != 0"}]}))  # fmt: skip
    results = reporting.explain_rule_failures(tmp_path, str(db), reporting.load_results(tmp_path))
    assert results[0].message == ("broken rules: age accepted_range: age >= 0 (2 rows); "
                                  "gender accepted_values: female, male (1 rows)")  # fmt: skip
    assert "age accepted_range: age >= 0 (2 rows)" in reporting.render_markdown(results)
