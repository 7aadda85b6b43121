"""Damaged raw files (microseg.damage) through dbt: file-level damage stops the build in one line.

A copy of the small generated data set of test_damaged_inputs.py (conftest.clean_raw) per
file-level class (a missing required column, a zero-byte file, a CSV line with a stray field)
must stop the build with one clear line naming the file (and the column), no traceback and no
planted email in the output or dbt.log. A German spreadsheet export (`;`, decimal commas)
stops after staging on the reject share, with the source, its share and top reasons in one line.
Split from test_damaged_inputs.py so that the row-damage build and these runs go to different
pytest-xdist workers; the two CSV runs here share one parse (conftest.run_dbt).
"""

from __future__ import annotations

import re

import pytest

from conftest import run_dbt_on_raw as run_dbt
from microseg.damage import FILE_DAMAGES, PII_EMAIL, plant_file_damage, plant_german_export

pytestmark = pytest.mark.dbt


@pytest.fixture(scope="module")
def file_damage_runs(clean_raw, tmp_path_factory) -> dict[str, tuple[str, str]]:
    """One dbt build of the raw readers per file-damage folder: folder name ->
    (dbt's stdout + stderr, dbt.log)."""
    runs = {}
    for name, raw in plant_file_damage(clean_raw, tmp_path_factory.mktemp("damage_files")).items():
        workdir = tmp_path_factory.mktemp(f"damage_{name}")
        raw_format = "csv" if any(raw.glob("*.csv")) else "parquet"
        run = run_dbt(workdir, raw, workdir / "microseg.duckdb", "build", "--select", "+base_crm__customers",
                      "+base_shop__orders", "--indirect-selection", "cautious", "--exclude", "resource_type:unit_test",
                      raw_format=raw_format)  # fmt: skip
        assert run.returncode != 0, name
        runs[name] = (run.stdout + run.stderr, (workdir / "logs" / "dbt.log").read_text(errors="replace"))
    return runs


@pytest.mark.parametrize("name", list(FILE_DAMAGES))
def test_file_damage_stops_with_one_clear_line(file_damage_runs, name):
    what, folder, file_name, column = FILE_DAMAGES[name]
    output, log = file_damage_runs[folder]
    assert "Traceback" not in output, what
    # the file itself (name and extension) and the column are named on one line
    lines = [line for line in output.splitlines() if f"{file_name}." in line and (not column or column in line)]
    assert lines, (what, output[-3000:])
    assert PII_EMAIL not in output and PII_EMAIL not in log, what


@pytest.fixture(scope="module")
def german_export_run(clean_raw, tmp_path_factory):
    """Staging of the whole folder written as a German spreadsheet export."""
    workdir = tmp_path_factory.mktemp("damage_german")
    raw = plant_german_export(clean_raw, workdir / "raw")
    return run_dbt(workdir, raw, workdir / "microseg.duckdb", "build", "--select", "+stg_shop__order_lines",
                   "+stg_shop__order_lines_rejected", "--indirect-selection", "cautious", "--exclude",
                   "resource_type:unit_test", raw_format="csv")  # fmt: skip


def test_german_export_stops_on_its_reject_share_in_one_line(german_export_run):
    """`;`-delimited with decimal commas: the file is read (DuckDB sniffs the
    delimiter), nearly every order line is rejected as invalid_number, and the
    build stops with one line naming the source, its share and top reasons."""
    run = german_export_run
    output = run.stdout + run.stderr
    assert run.returncode != 0 and "Traceback" not in output
    lines = [line for line in output.splitlines() if "source order_lines:" in line]
    assert len(lines) == 1, output[-3000:]
    found = re.search(r"(\d+\.\d)% of (\d+) raw rows rejected .*top reasons: invalid_number (\d+)", lines[0])
    assert found, lines[0]
    share, raw_rows, invalid = float(found[1]), int(found[2]), int(found[3])
    assert share > 90 and invalid > 0.9 * raw_rows, lines[0]
    assert "microseg__max_reject_share 0.5" in lines[0]
    # the other sources are below the share: only order_lines is named
    assert "source orders:" not in output and "source crm_customers:" not in output
