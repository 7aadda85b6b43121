# microseg: one command to build the demo, one to run every check.
#   make demo   - venv + demo data (DEMO_PERSONS) + dbt build into data/microseg.duckdb
#   make test   - venv + sqlfluff lint + dbt build on a small generated dataset + pytest
#   make bench  - generate BENCH_PERSONS persons, dbt build, print time / memory / slowest models
#   make cdnow  - propensity benchmark on the real CDNOW data (downloads the lifetimes wheel, no install)
#   make cdnow-value - customer value / churn on CDNOW (39-week split, builds at 2 cutoffs, paired intervals)
#   make check-raw RAW=<dir> - preflight of a raw folder against the raw contract (models/sources.yml)
#   make example-retail - bring-your-own-data example: online-retail export -> mapping -> preflight -> dbt build

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
SEED ?= 42
DEMO_PERSONS ?= 20000
DEMO_DIR ?= data
CI_PERSONS ?= 3000
CI_DIR ?= data/ci
BENCH_PERSONS ?= 1000000

export DBT_PROFILES_DIR := $(CURDIR)
export DBT_SEND_ANONYMOUS_USAGE_STATS := false

.PHONY: help setup demo data build test lint dbt-test pytest bench cdnow cdnow-value value-eval propensity-eval check-raw example-retail lock clean

help:
	@sed -n '1,10p' Makefile

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(BIN)/activate requirements.txt pyproject.toml
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

setup: $(VENV)/.installed

data: setup
	$(BIN)/python -m microseg.generate --persons $(DEMO_PERSONS) --seed $(SEED) --out $(DEMO_DIR)

build: setup
	MICROSEG_RAW_PATH=$(DEMO_DIR)/raw MICROSEG_DUCKDB_PATH=$(DEMO_DIR)/microseg.duckdb $(BIN)/dbt build

demo: data build

# The dbt templater compiles the project and opens a connection: lint needs no data,
# so it gets an in-memory database.
lint: setup
	MICROSEG_DUCKDB_PATH=:memory: $(BIN)/sqlfluff lint models macros tests analyses

# dbt build on a small dataset in its own DuckDB file, then the reviewer summary.
dbt-test: setup
	CI_PERSONS=$(CI_PERSONS) CI_DIR=$(CI_DIR) SEED=$(SEED) BIN=$(BIN) bash scripts/dbt_test.sh

# After `make dbt-test` the shared pytest build reuses data/ci (tests/python/conftest.py), so
# `make test` builds the 3,000-person data set once; --durations lists the slowest tests.
pytest: setup
	$(BIN)/python -m pytest --durations=15

test: lint dbt-test pytest

bench: setup
	$(BIN)/python -m microseg.bench --persons $(BENCH_PERSONS) --seed $(SEED)

# CDNOW: pip download lifetimes==0.11.3 (wheel only, not installed), extract CDNOW_master.txt,
# map it into the raw contract and print the propensity ROC-AUCs at both cutoffs.
CDNOW_DIR ?= data/cdnow
cdnow: setup
	$(BIN)/python -m microseg.propensity.cdnow --out $(CDNOW_DIR)

# Customer value on CDNOW: the classic 39/39-week BTYD split, value/churn builds as of 1997-12-31 and
# 1998-03-31 (3-month value, 91-day churn) with paired bootstrap intervals, and the propensity lead's
# interval when `make cdnow` has left its builds in CDNOW_DIR.
cdnow-value: setup
	$(BIN)/python -m microseg.value.cdnow_value --out $(CDNOW_DIR)

# Value and churn against the generator's truth (after a build with microseg__value_horizon_months: 3).
value-eval: setup
	$(BIN)/python -m microseg.value.truth_eval --truth $(DEMO_DIR)/truth --db $(DEMO_DIR)/microseg.duckdb

# Model vs oracle vs baselines on the demo data (after make demo).
propensity-eval: setup
	$(BIN)/python -m microseg.propensity_eval --truth $(DEMO_DIR)/truth --db $(DEMO_DIR)/microseg.duckdb

# Preflight of a raw folder (default: the demo data) before the first dbt build: per source found/missing,
# files, missing and extra columns, CSV encoding/delimiter/malformed lines, rows, unparseable values (masked).
RAW ?= $(DEMO_DIR)/raw
RAW_FORMAT ?= $(or $(MICROSEG_RAW_FORMAT),parquet)
check-raw: setup
	$(BIN)/python -m microseg.preflight --raw $(RAW) --format $(RAW_FORMAT)

# docs/bring_your_own_data.md: a retailer's export in its own shape (microseg/generate/retail_export.py),
# mapped by examples/retail_export/map_to_contract.py, checked, built; then read the rejects.
RETAIL_DIR ?= data/retail_export
RETAIL_CUSTOMERS ?= 1500
example-retail: setup
	$(BIN)/python -m microseg.generate.retail_export --customers $(RETAIL_CUSTOMERS) --seed $(SEED) --out $(RETAIL_DIR)
	$(BIN)/python examples/retail_export/map_to_contract.py --src $(RETAIL_DIR) --raw $(RETAIL_DIR)/raw
	$(BIN)/python -m microseg.preflight --raw $(RETAIL_DIR)/raw --format parquet
	MICROSEG_RAW_PATH=$(RETAIL_DIR)/raw MICROSEG_DUCKDB_PATH=$(RETAIL_DIR)/microseg.duckdb $(BIN)/dbt build
	$(BIN)/python -c "import duckdb; print(duckdb.connect('$(RETAIL_DIR)/microseg.duckdb', read_only=True).sql( \
	  'select source_table, raw_rows, staged_rows, exact_duplicate_rows, rejected_rows, erased_rows, orphan_rows \
	   from marts.data_quality_summary order by 1'))"

# Re-pin requirements.txt from requirements.in in a throwaway venv.
lock:
	rm -rf /tmp/microseg-lock && $(PYTHON) -m venv /tmp/microseg-lock
	/tmp/microseg-lock/bin/pip install --quiet -r requirements.in
	{ echo "# Generated from requirements.in by 'make lock' (pip freeze in a clean venv). Do not edit by hand."; \
	  /tmp/microseg-lock/bin/pip freeze; } > requirements.txt

clean:
	rm -rf target logs data
