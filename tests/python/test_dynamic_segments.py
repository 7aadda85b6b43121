"""Memory of segments, drift and retraining on the CI data (3,000 persons), built
with dbt in four runs into one database (marker ``dbt``, several minutes):

1. as of 30 days before the data ends; 2. as of its end (new data state);
3. the same state again (nothing moved); 4. the same date with a planted shift:
every web order moved to the app channel in the raw orders.

Asserts: the membership history accumulates one run per build; the migration
matrix sums to both runs' populations; segments that persist keep their ids
across the two data states; the segment snapshot closes exactly the versions
that changed; PSI between identical runs is ~0 with no alert and a reused
propensity model; the planted shift is an error-level feature_drift alert on
the app channel share, fails the error-threshold test, and retrains the model.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from microseg.generate import generate

from conftest import CI_DIR, PERSONS, ci_build_is_fresh

# several full builds each (minutes): `make test-slow`, not `make test`
pytestmark = [pytest.mark.dbt, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]
LEAVES = ["resegmentation_alerts", "segment_migration", "segment_run_sizes", "propensity_retraining_decisions"]
OWN_MODELS = ["segment_membership_history", "segment_feature_distributions", "segment_drift",
              "resegmentation_alerts", "segment_run_sizes", "segment_migration", "propensity_retraining_decisions"]
# smaller searches keep four builds affordable; every run uses the same settings
VARS = {"microseg__segment_k_max": 8, "microseg__segment_bootstrap_rounds": 2,
        "microseg__propensity_model_mode": "auto", "microseg__propensity_search_candidates": 2,
        "microseg__propensity_cv_folds": 3}
END = "2026-07-01"  # last order date of the CI data (seed 42)
EARLY = "2026-06-01"


class Replay:
    def __init__(self, tmp: Path, raw: Path):
        self.tmp, self.raw, self.db = tmp, raw, tmp / "microseg.duckdb"

    def dbt(self, *args: str, raw: Path | None = None, as_of: str = END, check: bool = True, **extra):
        env = {**os.environ, "MICROSEG_RAW_PATH": str(raw or self.raw), "MICROSEG_DUCKDB_PATH": str(self.db),
               "DBT_PROFILES_DIR": str(ROOT), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
        cmd = [str(Path(sys.executable).with_name("dbt")), *args, "--threads", "2", "--project-dir", str(ROOT),
               "--target-path", str(self.tmp / "target"), "--log-path", str(self.tmp / "logs"),
               "--vars", json.dumps({**VARS, "microseg__as_of_date": as_of, **extra})]
        run = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
        if check:
            assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
        return run

    def build_run(self, as_of: str, raw: Path | None = None, full: bool = False) -> subprocess.CompletedProcess:
        """One run: the models from the as-of date (or, ``full``, from the raw files, as a full refresh: the
        raw files may have been replaced, which stops an incremental run) to the leaves, the snapshots, then
        the tests of the new models (returned, not asserted). The history tables survive the full refresh."""
        select = [f"+{leaf}" for leaf in LEAVES] if full else [f"int_as_of_date+,+{leaf}" for leaf in LEAVES]
        self.dbt("run", "--select", *select, *(("--full-refresh",) if full else ()), raw=raw, as_of=as_of)
        self.dbt("snapshot", raw=raw, as_of=as_of)
        return self.dbt("test", "--select", *OWN_MODELS, "--exclude", "resource_type:unit_test", raw=raw, as_of=as_of,
                        check=False)

    def query(self, sql: str) -> list[tuple]:
        with duckdb.connect(str(self.db), read_only=True) as con:
            return con.sql(sql).fetchall()


@pytest.fixture(scope="module")
def replay(tmp_path_factory) -> Replay:
    tmp = tmp_path_factory.mktemp("dynamic_segments")
    if ci_build_is_fresh():
        r = Replay(tmp, CI_DIR / "raw")
        shutil.copy(CI_DIR / "microseg.duckdb", r.db)
    else:
        # what `make dbt-test` leaves: every model and seed built (the first run's tests scan them all)
        generate(persons=PERSONS, seed=42, out=tmp / "data", progress=False)
        r = Replay(tmp, tmp / "data" / "raw")
        r.dbt("build", "--exclude", "resource_type:unit_test")
    with duckdb.connect(str(r.db)) as con:  # staging and identity kept; the history starts empty
        for table in ("segment_model", "segment_membership_history", "segment_feature_distributions",
                      "propensity_model_registry", "propensity_retraining_decisions"):
            con.execute(f"drop table if exists ml.{table}")
        con.execute("drop schema if exists snapshots cascade")
    raw = r.raw
    r.first = r.build_run(EARLY)
    r.second = r.build_run(END)
    r.counts_after_two = r.query("select count(*), count(distinct fit_id) from ml.segment_membership_history")[0]
    r.migration_two = r.query("select * from marts.segment_migration")
    r.snapshot_two = r.query("select count(*) filter (where dbt_valid_to is not null) from snapshots.snap_customer_segments")
    r.third = r.build_run(END)
    r.alerts_three = r.query("select reason, subject, severity from ml.resegmentation_alerts where is_latest")
    r.drift_three = r.query("select max(psi), count(*) from ml.segment_drift where is_latest")[0]
    r.decision_three = r.query("select decision, reasons from ml.propensity_retraining_decisions "
                               "order by decided_at desc limit 1")[0]
    shifted = tmp / "raw_shift"
    shifted.mkdir()
    for f in raw.iterdir():
        if f.name != "orders.parquet":
            (shifted / f.name).symlink_to(f.resolve())
    with duckdb.connect() as con:
        con.execute(f"copy (select * replace (case when channel = 'web' then 'app' else channel end as channel) "
                    f"from '{raw / 'orders.parquet'}') to '{shifted / 'orders.parquet'}' (format parquet)")
    r.fourth = r.build_run(END, raw=shifted, full=True)
    return r


def test_history_accumulates_one_run_per_build(replay):
    rows, runs = replay.counts_after_two
    first = replay.query("select count(*) from ml.segment_membership_history "
                         "where fit_id = (select min(fit_id) from ml.segment_membership_history)")[0][0]
    assert runs == 2 and rows > first > 0
    assert replay.query("select count(distinct fit_id) from ml.segment_membership_history")[0][0] == 4
    # each run holds exactly the customers segmented in that run
    assert replay.query("select count(distinct as_of_date) from ml.segment_membership_history")[0][0] == 2
    assert replay.first.returncode == 0, replay.first.stdout[-3000:]


def test_migration_matrix_sums_to_both_populations(replay):
    pairs = replay.query("""
        select m.to_fit_id,
               sum(customer_count) filter (where from_segment_id is not null) as from_side,
               sum(customer_count) filter (where to_segment_id is not null) as to_side,
               (select count(*) from ml.segment_membership_history h where h.fit_id = m.from_fit_id) as before,
               (select count(*) from ml.segment_membership_history h where h.fit_id = m.to_fit_id) as after,
               sum(customer_count) filter (where movement = 'new') as new,
               sum(customer_count) filter (where movement = 'left') as left_
        from marts.segment_migration m group by m.to_fit_id, m.from_fit_id order by 1""")
    assert len(pairs) == 3
    for _, from_side, to_side, before, after, new, left in pairs:
        assert (from_side, to_side) == (before, after)
    # 30 days later: customers became active (new); the change is in the data, not a rerun
    _, _, _, before, after, new, left = pairs[0]
    assert new > 0 and after - before == new - (left or 0)


def test_segment_ids_survive_a_new_data_state(replay):
    """Segments found in both data states keep their id: a later segment's
    largest source among the earlier segments is the segment with its own id
    (a fit without id matching numbers its segments afresh from max id + 1,
    so no later id would be an earlier one)."""
    overlap = replay.query("""
        with runs as (select fit_id, row_number() over (order by min(fitted_at)) as n
                      from ml.segment_membership_history group by fit_id),
        a as (select customer_key, segment_id from ml.segment_membership_history join runs using (fit_id) where n = 1),
        b as (select customer_key, segment_id from ml.segment_membership_history join runs using (fit_id) where n = 2),
        pairs as (select b.segment_id as later, a.segment_id as earlier, count(*) as n
                  from a join b using (customer_key) group by all)
        select later, arg_max(earlier, n) as main_source, sum(n) filter (where earlier = later) / sum(n) as kept
        from pairs group by later order by later""")
    earlier_ids = {r[0] for r in replay.query("""select distinct segment_id from ml.segment_membership_history
        where fit_id = (select fit_id from ml.segment_membership_history order by fitted_at limit 1)""")}
    shared = [r for r in overlap if r[0] in earlier_ids]
    # every earlier segment is found again, under its own id (new ones may appear: k can grow)
    assert {r[0] for r in shared} == earlier_ids and len(shared) >= 3
    assert all(later == source for later, source, _ in shared), overlap
    stayed = replay.query("select sum(customer_count) filter (where movement = 'stayed') / "
                          "sum(customer_count) filter (where movement in ('stayed', 'moved')) from marts.segment_migration "
                          "where to_fit_id = (select min(to_fit_id) from marts.segment_migration)")[0][0]
    assert stayed > 0.6


def test_segment_snapshot_closes_exactly_the_changed_versions(replay):
    changed = [r[0] for r in replay.query("""
        with runs as (select fit_id, row_number() over (order by min(fitted_at)) as n
                      from ml.segment_membership_history group by fit_id),
        a as (select * from ml.segment_membership_history join runs using (fit_id) where n = 1),
        b as (select * from ml.segment_membership_history join runs using (fit_id) where n = 2)
        select count(*) from a left join b using (customer_key)
        where b.customer_key is null or a.segment_id != b.segment_id or a.segment_name != b.segment_name""")]
    assert replay.snapshot_two[0][0] == changed[0] > 0


def test_identical_runs_have_zero_psi_no_alert_and_reuse_the_model(replay):
    max_psi, rows = replay.drift_three
    assert rows > 20 and abs(max_psi) < 1e-9
    assert replay.alerts_three == []
    assert replay.third.returncode == 0, replay.third.stdout[-3000:]
    assert replay.decision_three == ("reuse", "within_thresholds")


def test_planted_channel_shift_alerts_fails_the_error_test_and_retrains(replay):
    alerts = replay.query("select reason, subject, severity, metric_value from ml.resegmentation_alerts "
                          "where is_latest and reason = 'feature_drift' and severity = 'error'")
    assert "channel_share_app_smoothed" in {a[1] for a in alerts}, alerts
    assert replay.fourth.returncode != 0 and "segment_drift_psi_below_error" in replay.fourth.stdout
    decision, reasons = replay.query("select decision, reasons from ml.propensity_retraining_decisions "
                                     "order by decided_at desc limit 1")[0]
    assert decision == "retrain" and "feature_drift" in reasons
    assert replay.query("select count(*) from ml.propensity_retraining_decisions")[0][0] == 4
