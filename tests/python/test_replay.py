"""Replay of a daily schedule (``make replay``, microseg.incremental.run_replay).

1. The SQL-layer replay (marker ``replay``, ``make test-slow``; 145 s on one worker): 1,000 persons as
   3 drops of 7 days, the SQL layer built drop by drop and as a full refresh; every table of
   the marts schema it builds must be equal row for row. CI runs the smaller one of
   tests/python/test_replay_ci.py.
2. A planted shift (marker ``slow``): 1,500 persons as 3 drops of 90 days, every
   drop a whole scheduled run (``dbt run``, snapshot, ``dbt test``: segments, history, drift); the last drop moves the
   web shop to the app (``--shift channel_to_app``). The step without the shift
   raises no error-level alert; the shifted step raises an error-level
   feature_drift alert and fails the drift error test. A quarter, not a month: the clustering features
   cover a year of sessions and every order, so one shifted month moved them by a PSI of 0.14 at most (a
   warning, which is what a month of it is); one shifted quarter gives 1.8 on the app session share and 0.5 on
   the phone share, while the plain quarter before stays below 0.19 (docs/decisions.md).
"""

from __future__ import annotations

import json

import pytest

from microseg.incremental import SQL_LAYER, compare_all_marts, print_replay, run_replay


@pytest.mark.replay
@pytest.mark.dbt
def test_small_replay_equals_a_full_refresh(tmp_path, capsys):
    # the SQL layer without its data tests: equality needs the marts, not the checks (make dbt-test runs them)
    result = run_replay(tmp_path / "data", persons=1000, drops=3, drop_days=7, seed=42, select_args=tuple(SQL_LAYER),
                        tests=False)  # fmt: skip
    compared = {t: c for t, c in result["compare"].items() if not c["skipped"]}
    assert {"marts.fct_orders", "marts.dim_customers", "marts.mart_customer_rfm"} <= set(compared)
    for table, c in compared.items():
        assert c["rows"][0] == c["rows"][1], table
        assert (c["only_in_a"], c["only_in_b"]) == (0, 0), table
    assert print_replay(result)
    assert "replay: chain == full refresh" in capsys.readouterr().out
    # the comparison can fail: a row removed from one side is found
    import duckdb

    with duckdb.connect(str(tmp_path / "data" / "full.duckdb")) as con:
        con.execute("delete from marts.fct_orders where order_id = (select min(order_id) from marts.fct_orders)")
    broken = compare_all_marts(tmp_path / "data" / "chain.duckdb", tmp_path / "data" / "full.duckdb")
    assert broken["marts.fct_orders"]["only_in_a"] == 1 and broken["marts.dim_customers"]["only_in_a"] == 0


def test_a_replay_without_a_full_refresh_claims_no_equality(capsys):
    """--no-full-refresh builds the chain only: the report says nothing was compared (it printed "chain ==
    full refresh" and a full refresh of 0.0 s); with the full refresh an unequal table still fails."""
    step = {"drop": 1, "seconds": 1.0, "failed_tests": [], "model_seconds": {}}
    chain_only = {"steps": [step], "full_refresh": False, "full": 0.0, "full_failed_tests": [], "shift": None,
                  "compare": {}, "migration": [], "alerts": []}
    assert print_replay(chain_only)
    out = capsys.readouterr().out
    assert "chain == full refresh" not in out and "0.0 s" not in out
    assert "not compared with a full refresh (--no-full-refresh)" in out
    differ = {"skipped": False, "rows": [3, 2], "only_in_a": 1, "only_in_b": 0}
    compared = {**chain_only, "full_refresh": True, "full": 2.0, "compare": {"marts.fct_orders": differ}}
    assert not print_replay(compared)
    assert "replay: chain and full refresh DIFFER" in capsys.readouterr().out


@pytest.mark.slow
@pytest.mark.dbt
def test_planted_shift_is_an_error_alert_and_a_plain_step_is_not(tmp_path):
    result = run_replay(tmp_path / "data", persons=1500, drops=3, drop_days=90, seed=42, shift="channel_to_app",
                        full_refresh=False)  # fmt: skip
    truth = json.loads((tmp_path / "data" / "truth" / "shift.json").read_text())
    assert (truth["kind"], truth["from_drop"]) == ("channel_to_app", 3) and truth["rows_changed"]["orders"] > 0
    dates = sorted({a[0] for a in result["alerts"]})
    errors = [a for a in result["alerts"] if a[1] == "error"]
    plain_step, shifted_step = result["steps"][1], result["steps"][2]
    # drop 2 (no shift): no error alert, the drift error test passes
    assert not [a for a in errors if a[0] < max(dates)], errors
    assert not any("segment_drift_psi_below_error" in t for t in plain_step["failed_tests"])
    # drop 3 (web shop moved to the app): error-level feature drift on a channel or app feature
    shifted = [a for a in errors if a[0] == max(dates)]
    assert shifted and {a[2] for a in shifted} == {"feature_drift"}, result["alerts"]
    assert {a[3] for a in shifted} & {"channel_share_app_smoothed", "app_session_share_smoothed",
                                      "device_share_mobile_smoothed"}, shifted  # fmt: skip
    assert any("segment_drift_psi_below_error" in t for t in shifted_step["failed_tests"])
