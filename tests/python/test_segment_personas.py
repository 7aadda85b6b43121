"""Segments against the generator's planted personas: generate a small data
set, run dbt up to the segmentation and compare (microseg.segment_eval). Runs
dbt in a subprocess (marker ``dbt``; ``pytest -m "not dbt"`` skips it)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from microseg.generate import generate
from microseg.segment_eval import evaluate, format_report

ROOT = Path(__file__).resolve().parents[2]
PERSONS = 3000

pytestmark = pytest.mark.dbt


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, Path]:
    tmp = tmp_path_factory.mktemp("segments")
    generate(persons=PERSONS, seed=42, out=tmp / "data", progress=False)
    db = tmp / "microseg.duckdb"
    env = {
        **os.environ,
        "MICROSEG_RAW_PATH": str(tmp / "data" / "raw"),
        "MICROSEG_DUCKDB_PATH": str(db),
        "DBT_PROFILES_DIR": str(ROOT),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    dbt = Path(sys.executable).with_name("dbt")
    common = ["--target-path", str(tmp / "target"), "--log-path", str(tmp / "logs"), "--project-dir", str(ROOT)]
    cmd = [str(dbt), "build", "--select", "+segment_profiles", "+customer_identity_map", "--indirect-selection",
           "cautious", "--exclude", "resource_type:unit_test", *common]  # fmt: skip
    run = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    # a second run on the same data must keep every segment id
    rerun = [str(dbt), "run", "--select", "customer_segments", "segment_centroid_history", *common]
    first = _ids(db)
    run = subprocess.run(rerun, cwd=ROOT, env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    return tmp / "data" / "truth", db, first


def _ids(db: Path) -> dict[str, int]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return dict(con.sql("select customer_key, segment_id from marts.customer_segments").fetchall())
    finally:
        con.close()


def test_segments_beat_the_classic_rfm_recipe(built):
    truth, db, _ = built
    r = evaluate(truth, db)
    print(format_report(r, {}))
    assert r["customers_evaluated"] >= 0.95 * r["customers_segmented"]
    assert r["ari_model"] >= 0.4
    assert r["ari_model"] >= r["ari_classic_rfm_kmeans5"] + 0.15


def test_segments_recover_the_personas(built):
    """Issue 4 target: ARI >= 0.7 with k chosen by the (cosine) silhouette."""
    truth, db, _ = built
    assert evaluate(truth, db)["ari_model"] >= 0.7


def test_segment_ids_survive_a_rebuild(built):
    _, db, first = built
    assert _ids(db) == first
