"""The offline report (microseg.report) on a tiny hand-made DuckDB file: each section's figures carry
the numbers of the tables they read, missing tables skip a section with a note, and the page holds
no URL a browser would fetch."""

from __future__ import annotations

import re
from datetime import date, datetime

import duckdb
import numpy as np
import pandas as pd
import pytest
from plotly.offline import get_plotlyjs

from microseg.report import (build_sections, experiments, history, identity, niches, propensity, quality, rfm, segments,
                             write_report)  # fmt: skip
from microseg.report.__main__ import main as report_main
from microseg.report.catalog import Catalog
from microseg.report.page import render

AS_OF = date(2026, 6, 30)


def _put(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame) -> None:
    con.execute(f"create schema if not exists {table.split('.')[0]}")
    con.register("frame", frame)
    con.execute(f"create table {table} as select * from frame")
    con.unregister("frame")


def quality_tables(con) -> None:
    _put(con, "marts.data_quality_summary", pd.DataFrame({
        "source_table": ["orders", "crm_customers"], "staged_model": ["stg_shop__orders", "stg_crm__customers"],
        "raw_rows": [100, 50], "staged_rows": [90, 45], "exact_duplicate_rows": [4, 1], "rejected_rows": [5, 3],
        "erased_rows": [1, 1], "unaccounted_rows": [0, 0], "rejected_missing_key": [2, 0],
        "rejected_invalid_timestamp": [3, 1], "rejected_duplicate_key": [0, 2], "rejected_pii_in_text": [0, 0],
        "orphan_rows": [1, None], "rejected_share": [0.05, 0.06]}))  # fmt: skip
    _put(con, "marts.erasure_audit", pd.DataFrame({
        "request_id": ["R1", "R2", "R3"], "status": ["applied", "applied", "unmatched"],
        "erased_crm_rows": [1, 0, 0], "erased_order_rows": [1, 0, 0], "erased_event_rows": [0, 3, 0],
        "erased_rows": [2, 3, 0]}))  # fmt: skip


def identity_tables(con) -> None:
    # customer a: two CRM records merged (crm_a + crm_b); b: one CRM record; c: known only by a device
    _put(con, "marts.customer_identity_map", pd.DataFrame({
        "source": ["crm_a", "crm_b", "email", "crm_a", "email", "phone", "anonymous_id"],
        "source_id": ["A1", "B1", "e1", "A2", "e2", "p2", "anon1"],
        "customer_key": ["a", "a", "a", "b", "b", "b", "c"]}))  # fmt: skip


def rfm_tables(con) -> None:
    rows = [("k1", 5, 5, "champions"), ("k2", 5, 5, "champions"), ("k3", 1, 1, "lost"), ("k4", 3, 4, "loyal")]
    _put(con, "marts.mart_customer_rfm", pd.DataFrame({
        "customer_key": [r[0] for r in rows], "as_of_date": [AS_OF] * 4, "r_score": [r[1] for r in rows],
        "fm_score": [r[2] for r in rows], "rfm_segment": [r[3] for r in rows], "monetary_eur": [500.0, 300.0, 10.0, 200.0],
        "recency_days": [3, 5, 400, 60], "suggested_action": ["Reward", "Reward", "Ignore", "Upsell"]}))  # fmt: skip


def segment_tables(con, niche: bool = True) -> None:
    rng = np.random.default_rng(0)
    n = 60
    _put(con, "ml.customer_segments", pd.DataFrame({
        "customer_key": [f"c{i:03d}" for i in range(n)], "segment_id": [1 + i % 2 for i in range(n)],
        "segment_name": ["Big spenders" if i % 2 == 0 else "Bargain hunters" for i in range(n)],
        "membership_probability": rng.uniform(0.5, 1, n), "is_core_member": [True] * n,
        "niche_id": [(0 if i < 10 else -1) if niche else None for i in range(n)],
        "pc1": rng.normal(size=n), "pc2": rng.normal(size=n), "as_of_date": [AS_OF] * n}))  # fmt: skip
    profile = []
    for segment_id, name, lifts in ((1, "Big spenders", {"monetary_eur": 8.0, "frequency": 1.1}),
                                    (2, "Bargain hunters", {"monetary_eur": 0.5, "frequency": 0.9})):  # fmt: skip
        for feature, lift in lifts.items():
            profile.append({"segment_id": segment_id, "segment_name": name, "customer_count": 30, "customer_share": 0.5,
                            "feature": feature, "lift": lift, "traits": "high_value" if segment_id == 1 else "deal_seeking",
                            "top_features": f"{feature} (+1.0 sd)", "recommended_action": f"action {segment_id}",
                            "recommended_channel": "email", "as_of_date": AS_OF})  # fmt: skip
    _put(con, "ml.segment_profiles", pd.DataFrame(profile))
    # two runs of the segment history (marts.segment_run_sizes): segment 2 grows
    _put(con, "marts.segment_run_sizes", pd.DataFrame({
        "fit_id": ["f1", "f1", "f2", "f2"], "segment_id": [1, 2, 1, 2],
        "fitted_at": [datetime(2026, 7, 1), datetime(2026, 7, 1), datetime(2026, 7, 2), datetime(2026, 7, 2)],
        "as_of_date": [date(2026, 5, 31)] * 2 + [AS_OF] * 2, "run_number": [1, 1, 2, 2],
        "segment_name": ["Big spenders", "Bargain hunters"] * 2, "customer_count": [30, 30, 28, 32],
        "customer_share": [0.5, 0.5, 28 / 60, 32 / 60]}))  # fmt: skip


def propensity_tables(con) -> None:
    rows = []
    for evaluation_set, auc in (("cross_validation", 0.70), ("forward", 0.80)):
        for scorer, shift in (("recency", -0.1), ("model", 0.0)):
            rows.append((evaluation_set, "summary", scorer, "roc_auc", None, None, auc + shift))
            for decile in range(1, 11):
                rows += [(evaluation_set, "deciles", scorer, "n_rows", decile, None, 100.0),
                         (evaluation_set, "deciles", scorer, "n_positives", decile, None, float(decile * 5)),
                         (evaluation_set, "deciles", scorer, "positive_rate", decile, None, decile * 0.05),
                         (evaluation_set, "deciles", scorer, "lift", decile, None, decile * 0.05 / 0.275)]  # fmt: skip
        for bucket in range(1, 4):
            rows += [(evaluation_set, "calibration", "model", "mean_predicted", bucket, None, bucket * 0.2),
                     (evaluation_set, "calibration", "model", "observed_rate", bucket, None, bucket * 0.2 + 0.01)]  # fmt: skip
    rows += [("scoring", "feature_importance", "model", "mean_abs_contribution", None, f, v)
             for f, v in (("recency_days", 0.5), ("frequency", 0.2))]  # fmt: skip
    frame = pd.DataFrame(rows, columns=["evaluation_set", "table_name", "scorer", "metric", "bucket", "feature", "metric_value"])
    frame.insert(0, "model_id", "prop-20260701T000000-b")
    old = frame.assign(model_id="prop-20260601T000000-a", metric_value=0.0)  # an older model: must not be shown
    _put(con, "marts.propensity_model_metrics", pd.concat([old, frame], ignore_index=True))
    _put(con, "marts.propensity_scores", pd.DataFrame({
        "customer_key": ["k1", "k2", "k3", "k4"], "propensity": [0.9, 0.7, 0.1, 0.3],
        "tier": ["high", "high", "low", "medium"], "model_id": ["prop-20260701T000000-b"] * 4}))  # fmt: skip


@pytest.fixture()
def tiny_db(tmp_path):
    """A DuckDB file with a few rows in every table the report reads."""
    path = tmp_path / "tiny.duckdb"
    con = duckdb.connect(str(path))
    for build in (quality_tables, identity_tables, rfm_tables, segment_tables, propensity_tables):
        build(con)
    con.close()
    return path


@pytest.fixture()
def catalog(tiny_db):
    cat = Catalog.open(tiny_db)
    yield cat
    cat.con.close()


@pytest.fixture()
def memory_catalog():
    """An empty in-memory database: tests add only the tables they need."""
    con = duckdb.connect()
    yield con, lambda: Catalog.from_connection(con)
    con.close()


def chart(section, key):
    return next(c for c in section.charts if c.key == key)


def test_quality_funnel_shares_reconcile_with_raw_rows(catalog):
    section = quality.build(catalog)
    funnel = chart(section, "quality-funnel").figure
    per_source = {}
    for trace in funnel.data:
        for source, share, count in zip(trace.y, trace.x, trace.customdata, strict=True):
            per_source.setdefault(source, []).append((share, count))
    assert {s: round(sum(v[0] for v in values), 9) for s, values in per_source.items()} == {"orders": 1.0, "crm_customers": 1.0}
    assert sum(count for count, in [(c,) for _, c in per_source["orders"]]) == 100
    reasons = quality.rejection_reasons(catalog.df("select * from marts.data_quality_summary"))
    # zero counts (pii in text) are dropped; every rejected row has its reason
    assert set(reasons["reason"]) == {"missing key", "invalid timestamp", "duplicate key"}
    assert reasons.groupby("source_table")["rows"].sum().to_dict() == {"orders": 5, "crm_customers": 3}
    erasure = chart(section, "quality-erasure").figure
    applied = next(t for t in erasure.data if t.name.startswith("applied"))
    assert dict(zip(applied.x, applied.y, strict=True)) == {"crm": 1, "order": 1, "event": 3}
    assert ("erasure requests", "2 applied, 1 unmatched") in section.kpis


def test_identity_counts_merged_crm_records(catalog):
    merges = identity.crm_records_per_customer(catalog)
    assert dict(zip(merges["crm_records"], merges["customers"], strict=True)) == {0: 1, 1: 1, 2: 1}
    section = identity.build(catalog)
    assert dict(section.kpis)["customers merged from 2+ CRM records"] == "1"
    assert dict(section.kpis)["identifiers per customer"] == "2.33"


def test_rfm_grid_puts_each_customer_in_its_named_cell(catalog):
    counts, labels = rfm.grid(rfm.rfm_cells(catalog))
    assert counts[4, 4] == 2 and counts[0, 0] == 1 and counts[2, 3] == 1 and counts.sum() == 4
    assert labels[4, 4].startswith("champions") and labels[2, 3].startswith("loyal") and labels[0, 1] == ""


def test_segment_map_is_a_capped_stable_sample(catalog):
    first = segments.map_sample(catalog, 25)
    assert len(first) == 25
    assert first["customer_key"].tolist() == segments.map_sample(catalog, 25)["customer_key"].tolist()
    section = segments.build(catalog, sample=25)
    assert chart(section, "segments-map").trace_points() == 25


def test_profile_heatmap_sorts_by_distinction_and_clips_colour(catalog):
    matrix = segments.lift_matrix(catalog)
    assert list(matrix.columns) == ["monetary_eur", "frequency"]  # |log2 8| > |log2 1.1|
    heat = segments.heatmap_chart(matrix).figure.data[0]
    assert np.nanmax(heat.z) == segments.MAX_LOG2_LIFT  # 8x is drawn as 4x ...
    assert np.nanmax(heat.customdata) == 8.0  # ... and hovered as 8x
    table = segments.build(catalog).tables[0].frame
    assert table["playbook action"].tolist() == ["action 1", "action 2"]


def test_niches_chart_or_note(catalog, memory_catalog):
    section = niches.build(catalog)
    # niche 0 holds customers of both segments: one bar per segment
    assert chart(section, "niches-sizes").trace_points() == 2 and dict(section.kpis)["customers in a niche"] == "10"
    con, make = memory_catalog
    segment_tables(con, niche=False)
    empty = niches.build(make())
    assert not empty.charts and "No niche" in empty.notes[0]


def test_propensity_prefers_forward_newest_model_and_orders_scorers(catalog):
    section = propensity.build(catalog)
    assert "'forward'" in section.notes[0] and "prop-20260701T000000-b" in section.notes[0]
    deciles = chart(section, "propensity-deciles").figure
    assert [t.name for t in deciles.data] == ["model (LightGBM)", "baseline: recency"]
    model_bars = next(t for t in deciles.data if t.name == "model (LightGBM)")
    assert list(model_bars.y) == pytest.approx([d * 0.05 for d in range(1, 11)])
    assert dict(section.kpis)["ROC-AUC (forward)"] == "0.800"
    assert dict(section.kpis)["expected buyers"] == "2"  # 0.9 + 0.7 + 0.1 + 0.3
    summary = section.tables[0].frame
    assert summary["scorer"].tolist() == ["model", "recency"]
    importance = chart(section, "propensity-importance").figure.data[0]
    assert list(importance.y) == ["frequency", "recency_days"]  # largest at the top of a horizontal bar chart


def history_tables(con) -> None:
    """Migration, drift and alerts of run f2 against f1 (an older pair f0 -> f1 must not be shown)."""
    _put(con, "marts.segment_migration", pd.DataFrame({
        "from_fit_id": ["f0", "f1", "f1", "f1", "f1", "f1"], "to_fit_id": ["f1", "f2", "f2", "f2", "f2", "f2"],
        "from_segment_id": pd.array([1, 1, 1, 2, None, 2], dtype="Int64"),
        "to_segment_id": pd.array([1, 1, 2, 2, 2, None], dtype="Int64"),
        "from_as_of_date": [date(2026, 4, 30)] + [date(2026, 5, 31)] * 5, "to_as_of_date": [date(2026, 5, 31)] + [AS_OF] * 5,
        "movement": ["stayed", "stayed", "moved", "stayed", "new", "left"], "customer_count": [99, 25, 5, 26, 1, 4],
        "from_monetary_eur": [0.0] * 6, "to_monetary_eur": [0.0] * 6}))  # fmt: skip
    drift = pd.DataFrame({
        "fit_id": "f2", "fitted_at": datetime(2026, 7, 2), "as_of_date": AS_OF, "previous_fit_id": "f1",
        "previous_as_of_date": date(2026, 5, 31), "drift_kind": ["feature", "feature", "segment_mix", "segment_share"],
        "subject": ["recency_days", "frequency", "all", "1"], "psi": [0.3, 0.02, 0.05, 0.01],
        "previous_share": [None, None, None, 0.5], "current_share": [None, None, None, 28 / 60],
        "status": ["error", "ok", "ok", "ok"], "is_latest": True})  # fmt: skip
    _put(con, "ml.segment_drift", drift)
    _put(con, "ml.resegmentation_alerts", pd.DataFrame({
        "fit_id": ["f2"], "as_of_date": [AS_OF], "previous_fit_id": ["f1"], "previous_as_of_date": [date(2026, 5, 31)],
        "reason": ["feature_drift"], "subject": ["recency_days"], "severity": ["error"], "metric_value": [0.3],
        "threshold": [0.25], "message": ["recency_days drifted"], "is_latest": [True]}))  # fmt: skip


def test_history_reads_sizes_migration_drift_and_alerts(memory_catalog):
    con, make = memory_catalog
    segment_tables(con)
    history_tables(con)
    section = history.build(make())
    sizes = chart(section, "history-sizes").figure.data
    assert [t.name for t in sizes] == ["Big spenders #1", "Bargain hunters #2"] and list(sizes[1].y) == [30, 32]
    migration = chart(section, "history-migration").figure.data[0]
    # newest pair only; rows: earlier run (new last), columns: later run (left last)
    assert list(migration.y) == ["segment 1", "segment 2", "new"] and list(migration.x) == ["segment 1", "segment 2", "left"]
    assert migration.z.tolist() == [[25, 5, 0], [0, 26, 4], [0, 1, 0]]
    assert dict(section.kpis)["stayed"] == "51 (84%)" and dict(section.kpis)["left"] == "4 (7%)"
    drift = chart(section, "history-drift").figure.data[0]
    assert list(drift.x) == ["recency_days", "segment mix", "frequency"]  # segment_share rows are not features
    assert drift.marker.color[0] == history.STATUS_COLOURS["error"]
    alerts = next(t for t in section.tables if "alerts" in t.title).frame
    assert alerts[["reason", "subject", "severity"]].values.tolist() == [["feature_drift", "recency_days", "error"]]


def test_history_with_one_run_says_migration_and_drift_come_later(memory_catalog):
    con, make = memory_catalog
    segment_tables(con)
    con.execute("delete from marts.segment_run_sizes where run_number = 2")
    section = history.build(make())
    assert chart(section, "history-sizes").title == "Segment sizes (one run so far)"
    assert [c.key for c in section.charts] == ["history-sizes"]
    assert any("second segmentation run" in n for n in section.notes)


def readout_frame() -> pd.DataFrame:
    return pd.DataFrame({
        "campaign_id": ["spring", "spring", "spring"], "segment_name": ["Bargain hunters", "(all)", "Big spenders"],
        "recipients_treatment": [400, 800, 400], "recipients_control": [100, 200, 100],
        "conversion_rate_treatment": [0.11, 0.13, 0.15], "conversion_rate_control": [0.10, 0.10, 0.10],
        "conversion_lift_abs": [0.01, 0.03, 0.05], "conversion_lift_abs_ci_low": [-0.02, 0.01, 0.02],
        "conversion_lift_abs_ci_high": [0.04, 0.05, 0.08], "conversion_q_value": [0.5, 0.01, 0.001],
        "is_significant": [False, True, True], "is_underpowered": [True, False, False],
        "has_sample_ratio_mismatch": [False, False, False], "revenue_lift_eur": [0.5, 1.0, 2.0]})  # fmt: skip


def test_experiment_readout_interval_chart(memory_catalog):
    con, make = memory_catalog
    _put(con, "activation.experiment_readout", readout_frame())
    section = experiments.build(make())
    points = section.charts[0].figure.data[0]
    # the campaign's (all) row first, then its segments
    assert list(points.y) == ["spring / (all)", "spring / Bargain hunters", "spring / Big spenders"]
    assert list(points.error_x.arrayminus) == pytest.approx([0.02, 0.03, 0.03])
    assert points.marker.color == ("#d62728", "#1f77b4", "#d62728")  # is_significant, not the interval alone
    assert dict(section.kpis) == {"cells read out": "3", "significant": "2", "underpowered": "1"}


def test_a_readout_missing_a_column_is_skipped_not_guessed(memory_catalog):
    con, make = memory_catalog
    _put(con, "activation.experiment_readout", readout_frame().drop(columns="is_significant"))
    section = experiments.build(make())
    assert section.skipped and "activation.experiment_readout" in section.notes[0]


def test_missing_tables_skip_sections_with_a_note(memory_catalog):
    con, make = memory_catalog
    sections = build_sections(make())
    assert all(s.skipped and s.notes and not s.charts for s in sections)
    page = render(sections, "t", "s")
    assert page.count('data-skipped="true"') == len(sections)


def test_page_is_self_contained(tiny_db, tmp_path):
    result = write_report(tiny_db, tmp_path / "report.html")
    page = result.path.read_text()
    assert page.count(get_plotlyjs()) == 1
    own = page.replace(get_plotlyjs(), "")  # the library's own strings name plotly.com; it never fetches them
    rendered = [s for s in result.sections if s.charts]
    assert {s.key for s in rendered} >= {"quality", "identity", "rfm", "segments", "niches", "propensity", "history"}
    assert next(s for s in result.sections if s.key == "experiments").skipped
    # Plotly's library is inlined, not linked; nothing is loaded from elsewhere
    assert "<script src" not in own and "<link" not in own and "@import" not in own and "url(" not in own
    assert re.search(r"https?://", own) is None
    assert "Content-Security-Policy" in page
    charts = re.findall(r'data-chart="([^"]+)" data-points="(\d+)"', page)
    assert len(charts) == sum(len(s.charts) for s in result.sections) and all(int(n) > 0 for _, n in charts)


def test_cli_writes_the_report_and_names_a_missing_file(tiny_db, tmp_path, capsys):
    assert report_main(["--duckdb", str(tiny_db), "--out", str(tmp_path / "r.html")]) == 0
    assert (tmp_path / "r.html").stat().st_size > 1_000_000  # Plotly inlined
    assert report_main(["--duckdb", str(tmp_path / "absent.duckdb"), "--out", str(tmp_path / "x.html")]) == 2
    err = capsys.readouterr().err
    assert "absent.duckdb" in err and "Traceback" not in err


def test_same_database_gives_the_same_bytes(tiny_db, tmp_path):
    first = write_report(tiny_db, tmp_path / "a.html").path.read_bytes()
    assert first == write_report(tiny_db, tmp_path / "b.html").path.read_bytes()
