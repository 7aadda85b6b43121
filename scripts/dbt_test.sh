#!/usr/bin/env bash
# dbt build (models, seeds, unit and data tests) on a small generated dataset in its
# own DuckDB file, then print and write the reviewer summary. Exits non-zero when
# dbt reports an error or a failing test; the summary is written either way.
# After a green build it writes $CI_DIR/build_ok.json: pytest's shared build
# (tests/python/conftest.py) then reuses this database instead of building again.
# CI_GENERATE=0: the data set is already there (`make checks` generates it first, for the package build
# that runs beside this one).
set -uo pipefail
BIN=${BIN:-.venv/bin}
CI_DIR=${CI_DIR:-data/ci}
CI_PERSONS=${CI_PERSONS:-3000}
SEED=${SEED:-42}
CI_GENERATE=${CI_GENERATE:-1}

rm -f "$CI_DIR/build_ok.json"
if [ "$CI_GENERATE" != 0 ] || [ ! -f "$CI_DIR/raw/orders.parquet" ]; then
  "$BIN/python" -m microseg.generate --persons "$CI_PERSONS" --seed "$SEED" --out "$CI_DIR" --no-progress || exit 1
fi
rm -f "$CI_DIR/microseg.duckdb"
export MICROSEG_RAW_PATH="$CI_DIR/raw" MICROSEG_DUCKDB_PATH="$CI_DIR/microseg.duckdb"
# The export models' files at an absolute path: pytest copies this database and runs dbt on the copy from
# other folders (tests/python/conftest.py), where a relative path would not find them.
export MICROSEG_EXPORT_PATH="${MICROSEG_EXPORT_PATH:-$PWD/$CI_DIR/exports}"
"$BIN/dbt" build
status=$?
# With MICROSEG_BASE_DUCKDB (a base build of the same data, e.g. main's) the summary adds the data diff.
"$BIN/python" -m microseg.reporting --target-dir target --out target/dbt_results_summary.md --truth "$CI_DIR/truth"
if [ "$status" -eq 0 ]; then
  printf '{"persons": %s, "seed": %s}\n' "$CI_PERSONS" "$SEED" > "$CI_DIR/build_ok.json"
fi
exit $status
