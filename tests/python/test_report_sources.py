"""The report's migration, drift, alert and experiment charts against the real tables the project builds:

- every column those sections read (``COLUMNS`` of microseg.report.history and .experiments) is declared by its
  model's yml and present in the CI build, so renaming or dropping one fails here, not in a marketer's browser;
- on the CI build (one segmentation run) the size bars and the readout intervals carry the tables' numbers;
- (slow) on a copy of the CI build with a second segmentation run two months later, the migration heatmap,
  the movement figures, the drift bars and the alerts carry the numbers of segment_migration, segment_drift
  and resegmentation_alerts as dbt built them.
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
import yaml

from microseg.report import experiments, history
from microseg.report.catalog import Catalog

from conftest import CI_DIR, ci_build_is_fresh

ROOT = Path(__file__).resolve().parents[2]
SOURCES = {**history.COLUMNS, **experiments.COLUMNS}
needs_ci_build = pytest.mark.skipif(not ci_build_is_fresh(), reason="no fresh CI build (make dbt-test)")


def yml_columns() -> dict[str, set[str]]:
    """Model name -> the columns its yml declares, over models/ and python_models/."""
    declared: dict[str, set[str]] = {}
    for path in [*ROOT.glob("models/**/*.yml"), *ROOT.glob("python_models/**/*.yml")]:
        for model in (yaml.safe_load(path.read_text()) or {}).get("models", []) or []:
            declared.setdefault(model["name"], set()).update(c["name"] for c in model.get("columns", []) or [])
    return declared


def missing_columns(sources: dict[str, tuple[str, ...]], present: dict[str, set[str]]) -> dict[str, list[str]]:
    """Per table, the columns the report reads that ``present`` (table or model name -> columns) lacks."""
    gaps = {}
    for table, columns in sources.items():
        have = present.get(table, present.get(table.split(".", 1)[1], set()))
        if lost := [c for c in columns if c not in have]:
            gaps[table] = lost
    return gaps


def test_every_column_the_report_reads_is_declared_by_its_model():
    declared = yml_columns()
    assert missing_columns(SOURCES, declared) == {}
    # the check can fail: a column renamed in the yml is reported
    renamed = {**declared, "segment_drift": declared["segment_drift"] - {"psi"} | {"psi_value"}}
    assert missing_columns(SOURCES, renamed) == {"ml.segment_drift": ["psi"]}


@needs_ci_build
def test_every_column_the_report_reads_is_built():
    with duckdb.connect(str(CI_DIR / "microseg.duckdb"), read_only=True) as con:
        rows = con.sql("select table_schema || '.' || table_name, column_name from information_schema.columns").fetchall()
    built: dict[str, set[str]] = {}
    for table, column in rows:
        built.setdefault(table, set()).add(column)
    assert missing_columns(SOURCES, built) == {}


@pytest.fixture(scope="module")
def ci_catalog(tmp_path_factory):
    db = tmp_path_factory.mktemp("report_sources") / "microseg.duckdb"
    shutil.copy(CI_DIR / "microseg.duckdb", db)
    catalog = Catalog.open(db)
    yield catalog
    catalog.con.close()


@needs_ci_build
def test_ci_build_history_shows_its_one_run(ci_catalog):
    section = history.build(ci_catalog)
    sizes = ci_catalog.df(f"select segment_id, customer_count from {history.RUN_SIZES} order by segment_id")
    assert len(section.charts) == 1  # one run: sizes only, migration and drift say they come later
    bars = section.charts[0].figure.data[0]
    assert list(bars.y) == sizes["customer_count"].tolist()
    assert sum(bars.y) == ci_catalog.scalar("select count(*) from ml.customer_segments")
    assert any("second segmentation run" in n for n in section.notes)


@needs_ci_build
def test_ci_build_readout_chart_carries_the_readout(ci_catalog):
    readout = ci_catalog.df(f"select * from {experiments.READOUT} where conversion_lift_abs is not null "
                            "order by segment_name = '(all)' desc, campaign_id, segment_name")  # fmt: skip
    section = experiments.build(ci_catalog)
    assert not section.skipped and not readout.empty
    points = section.charts[0].figure.data[0]
    assert len(points.x) == min(len(readout), experiments.MAX_CELLS)
    shown = readout.head(experiments.MAX_CELLS)
    assert list(points.x) == pytest.approx(shown["conversion_lift_abs"].tolist())
    assert list(points.error_x.arrayminus) == pytest.approx((shown["conversion_lift_abs"] - shown["conversion_lift_abs_ci_low"]).tolist())
    assert list(points.y) == (shown["campaign_id"] + " / " + shown["segment_name"]).tolist()
    assert [c == experiments.SIGNIFICANT for c in points.marker.color] == shown["is_significant"].tolist()


# --- two runs (slow: one dbt run of the as-of-dependent models, about a minute on two quiet cores) --------------------
LEAVES = ["segment_migration", "segment_run_sizes", "resegmentation_alerts"]
LATER = "2026-08-30"  # the CI data ends on 2026-07-01: the second run sees the same customers two months older


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory) -> Path:
    """A copy of the CI build plus a second segmentation run as of LATER: only the models downstream of the as-of
    date and upstream of the history leaves are run again (no staging, identity, propensity or activation)."""
    if not ci_build_is_fresh():
        pytest.skip("no fresh CI build (make dbt-test)")
    tmp = tmp_path_factory.mktemp("report_two_runs")
    db = tmp / "microseg.duckdb"
    shutil.copy(CI_DIR / "microseg.duckdb", db)
    env = {**os.environ, "MICROSEG_RAW_PATH": str(CI_DIR / "raw"), "MICROSEG_DUCKDB_PATH": str(db),
           "DBT_PROFILES_DIR": str(ROOT), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}  # fmt: skip
    cmd = [str(Path(sys.executable).with_name("dbt")), "run", "--threads", "2", "--project-dir", str(ROOT),
           "--target-path", str(tmp / "target"), "--log-path", str(tmp / "logs"),
           "--vars", json.dumps({"microseg__as_of_date": LATER}),
           "--select", *[f"int_as_of_date+,+{leaf}" for leaf in LEAVES]]  # fmt: skip
    run = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    return db


@pytest.mark.slow
@pytest.mark.dbt
def test_two_runs_migration_drift_and_alerts_match_their_tables(two_runs):
    catalog = Catalog.open(two_runs)
    try:
        section = history.build(catalog)
        runs = catalog.df(f"select fit_id, as_of_date, count(*) as segments from {history.RUN_SIZES} group by all order by 2")
        moves = catalog.df(f"select * from {history.MIGRATION}")
        drift = catalog.df(f"select * from {history.DRIFT} where is_latest and drift_kind in ('feature', 'segment_mix')")
        alerts = catalog.df(f"select reason, subject, severity from {history.ALERTS} where is_latest order by severity, reason, subject")
        members = catalog.df("select as_of_date, count(*) as n from ml.segment_membership_history group by all order by 1")
    finally:
        catalog.con.close()
    assert [f"{d:%Y-%m-%d}" for d in runs["as_of_date"]] == ["2026-07-01", LATER]
    keys = {c.key: c for c in section.charts}
    assert set(keys) == {"history-sizes", "history-migration", "history-drift"}
    # sizes: one line per segment over the two runs; each run's points add up to its members
    traces = keys["history-sizes"].figure.data
    for number, n in enumerate(members["n"], start=1):
        assert sum(y for t in traces for x, y in zip(t.x, t.y) if x.startswith(f"run {number} ")) == n
    # migration: one pair of runs; the heatmap's row sums are the first run's population (plus new customers),
    # its column sums the second run's (plus those who left); the diagonal is the `stayed` movement
    heat = keys["history-migration"].figure.data[0]
    z = heat.z
    total = sum(sum(row) for row in z)
    assert total == moves["customer_count"].sum()
    new_row = list(heat.y).index("new") if "new" in heat.y else None
    left_col = list(heat.x).index("left") if "left" in heat.x else None
    from_population = total - (sum(z[new_row]) if new_row is not None else 0)
    to_population = total - (sum(row[left_col] for row in z) if left_col is not None else 0)
    assert (from_population, to_population) == tuple(members["n"])
    stayed = sum(z[i][list(heat.x).index(label)] for i, label in enumerate(heat.y) if label in heat.x)
    assert stayed == moves.loc[moves["movement"] == "stayed", "customer_count"].sum()
    figures = dict(section.kpis)
    assert figures["stayed"].startswith(f"{stayed:,} (")
    # drift: one bar per feature plus the segment mix, heights = psi, colour = status
    bars = keys["history-drift"].figure.data[0]
    assert len(bars.x) == min(len(drift), history.MAX_FEATURES)
    by_label = dict(zip(drift["subject"].where(drift["drift_kind"] == "feature", "segment mix"), drift["psi"]))
    assert list(bars.y) == pytest.approx([by_label[x] for x in bars.x])
    status = dict(zip(drift["subject"].where(drift["drift_kind"] == "feature", "segment mix"), drift["status"]))
    assert list(bars.marker.color) == [history.STATUS_COLOURS[status[x]] for x in bars.x]
    # alerts: the table of the newest run, or the note that there is none
    table = next((t.frame for t in section.tables if "alerts" in t.title), None)
    if alerts.empty:
        assert table is None and any("No re-segmentation alert" in n for n in section.notes)
    else:
        assert table[["reason", "subject", "severity"]].values.tolist() == alerts.values.tolist()
