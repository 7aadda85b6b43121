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
