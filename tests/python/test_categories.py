"""Categories are data, rates never exceed 1: a copy of the project whose seed
category_map lists 40 canonical categories, built with dbt on 300 generated
persons whose email sends were all lost (opens and clicks without a recorded
send). The build runs the marts' [0, 1] tests on every rate / share / affinity
column; the features must have one affinity column per category of the seed
and the recipe must expand its pattern row to them (marker ``dbt``)."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from microseg.generate import generate
from microseg.segment_run import read_features, recipe

ROOT = Path(__file__).resolve().parents[2]
PROJECT_PARTS = ["dbt_project.yml", "profiles.yml", "models", "macros", "seeds", "python_models", "analyses", "tests"]
EXTRA_DEPARTMENTS = [f"aisle_{n:02d}" for n in range(1, 31)]  # 10 demo categories + 30 = 40

pytestmark = pytest.mark.dbt


def _project(tmp: Path) -> Path:
    """The project copied with 30 more departments in seed category_map."""
    project = tmp / "project"
    project.mkdir()
    for part in PROJECT_PARTS:
        source = ROOT / part
        if source.is_dir():
            shutil.copytree(source, project / part, ignore=shutil.ignore_patterns("python", "__pycache__"))
        else:
            shutil.copy(source, project / part)
    seed = project / "seeds" / "category_map.csv"
    rows = list(csv.reader(seed.read_text().splitlines())) + [[d, d] for d in EXTRA_DEPARTMENTS]
    with seed.open("w", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)
    return project


def _drop_email_sends(raw: Path) -> int:
    """Remove every email_sent event from the raw events: opens and clicks without a send."""
    events = raw / "events.parquet"
    con = duckdb.connect()
    sends = con.sql(f"select count(*) from '{events}' where event_type = 'email_sent'").fetchall()[0][0]
    kept = raw / "events_kept.parquet"
    con.sql(f"copy (select * from '{events}' where event_type <> 'email_sent') to '{kept}' (format parquet)")
    con.close()
    kept.replace(events)
    return sends


@pytest.fixture(scope="module")
def forty(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("categories")
    project = _project(tmp)
    generate(persons=300, seed=7, out=tmp / "data", progress=False)
    assert _drop_email_sends(tmp / "data" / "raw") > 0
    db = tmp / "microseg.duckdb"
    env = {**os.environ, "MICROSEG_RAW_PATH": str(tmp / "data" / "raw"), "MICROSEG_DUCKDB_PATH": str(db),
           "DBT_PROFILES_DIR": str(project), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    dbt = Path(sys.executable).with_name("dbt")
    run = subprocess.run(
        [str(dbt), "build", "--select", "+mart_customer_features", "--threads", "2", "--indirect-selection", "cautious",
         "--exclude", "resource_type:unit_test", "--vars", "{microseg__propensity_target: 'category_purchase:aisle_07'}",
         "--project-dir", str(project), "--target-path", str(tmp / "target"), "--log-path", str(tmp / "logs")],
        cwd=project, env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    return db


def _columns(db: Path, table: str) -> list[str]:
    with duckdb.connect(str(db), read_only=True) as con:
        return [r[0] for r in con.sql(f"describe marts.{table}").fetchall()]


@pytest.mark.slow  # its own 40-department build (42 s): make test-slow, for the CI budget
def test_forty_departments_give_forty_affinity_columns(forty):
    features = _columns(forty, "mart_customer_features")
    affinities = [c for c in features if c.startswith("category_affinity_")]
    assert len(affinities) == 40 + 1  # the seed's 40 categories plus other
    assert {f"category_affinity_{d}" for d in EXTRA_DEPARTMENTS} <= set(affinities)
    shares = [c for c in _columns(forty, "mart_customer_engagement") if c.startswith("category_share_")]
    assert len(shares) == 41
    spec = pd.read_csv(ROOT / "seeds" / "segment_features.csv")
    columns, _ = recipe(spec, features)
    assert [c for c in columns if c.startswith("category_affinity_")] == [a for a in affinities if a != "category_affinity_other"]


@pytest.mark.slow  # its own 40-department build (42 s): make test-slow, for the CI budget
def test_rates_stay_in_unit_range_without_sends(forty):
    """The dbt tests passed (fixture); check the outcome directly too: opens exist, no rate exceeds 1."""
    with duckdb.connect(str(forty), read_only=True) as con:
        opened, worst = con.sql(
            "select sum(emails_opened_90d), max(greatest(email_open_rate_90d, email_click_rate_90d))"
            " from marts.mart_customer_engagement").fetchall()[0]
        worst_smoothed = con.sql(
            "select max(greatest(email_open_rate_smoothed, email_click_rate_smoothed)) from marts.mart_customer_features"
        ).fetchall()[0][0]
    assert opened > 0
    assert worst <= 1 and worst_smoothed <= 1


def test_recipe_pattern_rows():
    spec = pd.DataFrame({"feature": ["frequency", "category_affinity_*", "category_affinity_other"],
                         "transform": ["log1p", "none", "drop"]})
    available = ["customer_key", "frequency", "category_affinity_b", "category_affinity_a", "category_affinity_other"]
    assert recipe(spec, available) == (["frequency", "category_affinity_b", "category_affinity_a"], ["frequency"])
    with pytest.raises(ValueError, match="category_affinity_\\*"):
        recipe(spec, ["frequency"])


def test_segmentation_models_read_only_their_columns_in_table_order():
    """read_features: customer_key, as_of_date and the recipe's columns, in the table's order; a dropped
    pattern column and every other feature stay in the database; recipe on the narrow frame is unchanged."""
    spec = pd.DataFrame({"feature": ["frequency", "category_affinity_*", "category_affinity_other"],
                         "transform": ["log1p", "none", "drop"]})
    with duckdb.connect() as con:
        con.execute("""create table f as select 'c1' as customer_key, 3 as sessions_30d, 0.2 as category_affinity_b,
                       date '2026-07-01' as as_of_date, 0.5 as category_affinity_other, 2 as frequency,
                       0.3 as "category_affinity_a", 'x' as segment_hint""")
        frame = read_features(con.table("f"), spec, con)
    assert list(frame.columns) == ["customer_key", "category_affinity_b", "as_of_date", "frequency",
                                   "category_affinity_a"]
    assert recipe(spec, list(frame.columns)) == (["frequency", "category_affinity_b", "category_affinity_a"],
                                                 ["frequency"])
