"""The benchmark measures child processes and ranks dbt nodes by time."""

import json
import sys

from microseg import bench


def test_run_measured_reports_exit_code_and_memory():
    ok = bench.run_measured([sys.executable, "-c", "x = bytearray(50 * 2**20)"])
    assert ok.returncode == 0
    assert ok.peak_rss_mib >= 50  # the child's own peak, not the parent's
    assert ok.wall_seconds > 0
    failed = bench.run_measured([sys.executable, "-c", "raise SystemExit(3)"])
    assert failed.returncode == 3


def test_slowest_nodes_sorted_and_truncated(tmp_path):
    run_results = {
        "results": [
            {"unique_id": "model.a", "status": "success", "execution_time": 1.5},
            {"unique_id": "model.b", "status": "success", "execution_time": 9.0},
            {"unique_id": "test.c", "status": "fail", "execution_time": 3.0},
        ]
    }
    path = tmp_path / "run_results.json"
    path.write_text(json.dumps(run_results))
    assert bench.slowest_nodes(path, top=2) == [("model.b", "success", 9.0), ("test.c", "fail", 3.0)]


def test_stage_table_groups_nodes_into_stages_with_span_and_memory():
    def node(kind, name, path):
        return {"resource_type": kind, "name": name, "original_file_path": path}

    manifest = {"nodes": {
        "model.stg": node("model", "stg_shop__orders", "models/staging/shop/stg_shop__orders.sql"),
        "model.erase": node("model", "stg_privacy__erased_identifiers", "models/staging/privacy/x.sql"),
        "model.reg": node("model", "propensity_model_registry", "python_models/propensity_model_registry.py"),
        "model.pred": node("model", "propensity_predictions", "python_models/propensity_predictions.py"),
        "test.t": node("test", "not_null_x", "models/staging/shop/_shop__models.yml"),
    }}

    def result(uid, start, end):
        stamp = lambda s: f"2026-01-01T00:00:{s:02d}Z"  # noqa: E731
        return {"unique_id": uid, "execution_time": end - start,
                "timing": [{"name": "execute", "started_at": stamp(start), "completed_at": stamp(end)}]}

    run_results = {"results": [result("model.stg", 0, 4), result("model.erase", 4, 6), result("model.reg", 6, 16),
                               result("model.pred", 16, 20), result("test.t", 1, 2)]}
    sampler = bench.RssSampler(pid=0)
    base = bench._epoch("2026-01-01T00:00:00Z")
    sampler.samples = [(base + 3, 100.0), (base + 10, 900.0), (base + 18, 300.0)]
    table = {row["stage"]: row for row in bench.stage_table(run_results, manifest, sampler)}
    assert set(table) == {"staging", "identity and erasure", "training", "scoring", "tests"}
    assert table["training"]["wall_seconds"] == 10 and table["training"]["peak_rss_mib"] == 900.0
    assert table["staging"]["peak_rss_mib"] == 100.0
    assert table["scoring"]["thread_seconds"] == 4
    # the node that ran during the 900 MiB sample first; a node without a sample (test.t) left out
    assert bench.memory_peaks(run_results, sampler, top=2) == [("model.reg", 900.0, 10.0), ("model.pred", 300.0, 4.0)]


def test_floor_query_reads_every_large_table_once(tmp_path):
    import pandas as pd

    raw = tmp_path / "raw"
    (raw / "events").mkdir(parents=True)
    pd.DataFrame({"order_id": ["1"], "customer_ref": ["c"], "ordered_at": ["2026-01-01T10:00:00Z"]}).to_parquet(raw / "orders.parquet")
    pd.DataFrame({"order_line_id": ["1", "1"], "order_id": ["1", "1"], "line_amount": ["9.5", "9.5"]}).to_parquet(raw / "order_lines.parquet")
    pd.DataFrame({"event_id": ["e"], "event_type": ["product_view"], "user_id": ["c"], "session_id": ["s"],
                  "event_at": ["2026-01-01T09:00:00Z"]}).to_parquet(raw / "events" / "part-1.parquet")
    sql = bench.floor_query(raw)
    assert sql.count("read_parquet(") == 3 and "part-1.parquet" in sql
    import duckdb

    assert duckdb.sql(sql).fetchall() == [(1, 1, 1)]  # the duplicate line counted once, one customer


def test_duckdb_memory_limit_has_one_default_with_the_profiles(monkeypatch):
    """The benchmark and the generator open DuckDB themselves with the limit a dbt run gets: the profiles'
    default for MICROSEG_MEMORY_LIMIT is microseg.DEFAULT_MEMORY_LIMIT (the generator once read 6GB while
    the profile read 4GB), and a set variable wins."""
    import re
    from pathlib import Path

    import microseg

    root = Path(__file__).resolve().parents[2]
    for profile in (root / "profiles.yml", root / "integration_tests" / "profiles.yml"):
        defaults = re.findall(r"env_var\('MICROSEG_MEMORY_LIMIT', '([^']*)'\)", profile.read_text())
        assert defaults == [microseg.DEFAULT_MEMORY_LIMIT], profile
    monkeypatch.delenv("MICROSEG_MEMORY_LIMIT", raising=False)
    assert microseg.duckdb_memory_limit() == microseg.DEFAULT_MEMORY_LIMIT
    monkeypatch.setenv("MICROSEG_MEMORY_LIMIT", "2GB")
    assert microseg.duckdb_memory_limit() == "2GB"
