"""Shared fixtures: one generated data set and one dbt build for the tests that
run dbt against the generator's truth (marker ``dbt``), instead of one
generate-and-build per test module."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from microseg.generate import generate

ROOT = Path(__file__).resolve().parents[2]
PERSONS = 3000


@dataclass(frozen=True)
class DbtBuild:
    """A generated data set (truth/, raw/) and the DuckDB file dbt built from it."""

    workdir: Path
    truth: Path
    db: Path

    def dbt(self, *args: str) -> None:
        """Run a dbt command on this build; fail the test with dbt's output if it fails."""
        env = {
            **os.environ,
            "MICROSEG_RAW_PATH": str(self.workdir / "data" / "raw"),
            "MICROSEG_DUCKDB_PATH": str(self.db),
            "DBT_PROFILES_DIR": str(ROOT),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        }
        dbt = Path(sys.executable).with_name("dbt")
        common = ["--target-path", str(self.workdir / "target"), "--log-path", str(self.workdir / "logs"),
                  "--project-dir", str(ROOT)]  # fmt: skip
        run = subprocess.run([str(dbt), *args, *common], cwd=ROOT, env=env, capture_output=True, text=True)
        assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]


@pytest.fixture(scope="session")
def dbt_build(tmp_path_factory) -> DbtBuild:
    """PERSONS generated persons (seed 42) built up to the identity map, the
    segment profiles and the quality marts (erasure_audit, data_quality_summary). Cautious indirect selection: only tests whose parents are
    all built run (a relationship from fct_orders is not)."""
    tmp = tmp_path_factory.mktemp("dbt_build")
    generate(persons=PERSONS, seed=42, out=tmp / "data", progress=False)
    build = DbtBuild(workdir=tmp, truth=tmp / "data" / "truth", db=tmp / "microseg.duckdb")
    build.dbt("build", "--select", "+customer_identity_map", "+dim_customers", "+segment_profiles", "segment_quality",
              "+erasure_audit", "+data_quality_summary",
              "--indirect-selection", "cautious", "--exclude", "resource_type:unit_test")  # fmt: skip
    return build
