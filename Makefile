# microseg: one command to build the demo, one to run every check.
#   make demo   - venv + demo data (DEMO_PERSONS) + dbt build into data/microseg.duckdb
#   make test   - venv + sqlfluff lint + dbt build on a small generated dataset + docs site + pytest + package build
#   make bench  - generate BENCH_PERSONS persons, dbt build, print time / memory / slowest models
#   make cdnow  - propensity benchmark on the real CDNOW data (downloads the lifetimes wheel, no install)
#   make cdnow-value - customer value / churn on CDNOW (39-week split, builds at 2 cutoffs, paired intervals)
#   make check-raw RAW=<dir> - preflight of a raw folder against the raw contract (models/sources.yml)
#   make example-retail - bring-your-own-data example: online-retail export -> mapping -> preflight -> dbt build
#   make metrics - semantic layer: mf validate-configs + one mf query per metric vs its mart (on BUILD_DB, default the CI build)
#   make docs    - dbt docs generate --static: one self-contained HTML file, target/static_index.html
#   make integration-test - integration_tests/: install microseg as a dbt package and build it on the CI data
#   make replay - REPLAY_DROPS drops of REPLAY_PERSONS persons built one by one, compared with a full refresh
#   make report - offline HTML report from the DuckDB file (REPORT_DB) into target/report.html

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

.PHONY: help setup demo data parse build test lint dbt-test pytest bench replay cdnow cdnow-value value-eval propensity-eval check-raw \
	example-retail report report-check lock clean metrics docs integration-test checks test-slow ci-data ci-chain

help:
	@sed -n '1,14p' Makefile

# The venv without ensurepip's bundled pip (8 of its 9 s of CPU), which the next step replaced anyway: the current
# pip is installed into it by the interpreter's own pip (pip --python); a Python without pip gets ensurepip's.
$(BIN)/activate:
	$(PYTHON) -m venv --without-pip $(VENV) && $(PYTHON) -m pip --python $(BIN)/python install --quiet --upgrade pip \
		|| { $(PYTHON) -m venv --clear $(VENV) && $(BIN)/pip install --quiet --upgrade pip; }

# pip byte-compiles what it installs on one core (about 55 s of CPU, two thirds of the install); compileall
# does the same on every core afterwards, and compiles the microseg package (installed editable, which pip
# leaves as source) too. Compiled they must be: PYTHONDONTWRITEBYTECODE is set on the CI machine, so every
# dbt process would compile its imports again. compileall's exit status is ignored, as pip ignores a file
# that does not compile (templates shipped as .py).
# The packages' own test suites (pandas/tests, scipy's, sklearn's, ... : 2,500 of 9,800 files, 43 of 154 MB)
# are never imported here: left out (-x).
$(VENV)/.installed: $(BIN)/activate requirements.txt pyproject.toml
	$(BIN)/pip install --quiet --no-compile -r requirements.txt
	$(BIN)/pip install --quiet --no-compile --no-deps -e .
	$(BIN)/python -m compileall -q -j 0 -x 'site-packages/.*/tests?/' microseg \
		$$($(BIN)/python -c 'import sysconfig; print(sysconfig.get_path("purelib"))') > /dev/null || true
	touch $@

# Debian's chromium for the report's browser test: installed only when missing and root (or sudo) is at hand.
setup: $(VENV)/.installed
	@bash scripts/install_chromium.sh

# New raw files replace the ones the demo database loaded: the database goes with them (an incremental build
# over rewritten files stops at run start and asks for --full-refresh, docs/incremental.md).
data: setup
	$(BIN)/python -m microseg.generate --persons $(DEMO_PERSONS) --seed $(SEED) --out $(DEMO_DIR)
	rm -f $(DEMO_DIR)/microseg.duckdb $(DEMO_DIR)/microseg.duckdb.wal

DEMO_ENV = MICROSEG_RAW_PATH=$(DEMO_DIR)/raw MICROSEG_DUCKDB_PATH=$(DEMO_DIR)/microseg.duckdb

# The unit tests feed fixed rows to the SQL, whatever the data: they run where the SQL changes (`make dbt-test`,
# CI), not in every build of data (dbt's advice for production; docs/decisions.md "Demo build time").
build: setup
	$(DEMO_ENV) $(BIN)/dbt build --exclude-resource-type unit_test

# dbt's parse of the project (about 8 s on one core) needs no data: it runs beside the generator (about 5 s), and
# the build starts from the saved parse (target/partial_parse.msgpack, same files, vars and environment) in 2 s.
parse: setup
	$(DEMO_ENV) $(BIN)/dbt parse --quiet

demo: setup
	@$(MAKE) --no-print-directory -j2 data parse
	@$(MAKE) --no-print-directory build

# The dbt templater compiles the project and opens a connection: lint needs no data,
# so it gets an in-memory database.
# Its own target and log folders: `make test` runs it beside the CI build, which writes target/.
# scripts/sqlfluff_lint.py is `sqlfluff lint` with the same rules and findings for a quarter less CPU (142 s against
# plain sqlfluff's 192 s, side by side at load 2-4):
# the layout rules' reflow sequence built once per file, its depth map in one walk of the tree, tree searches
# without a generator per tree level, and the garbage collector at higher thresholds (docs/decisions.md).
lint: setup
	MICROSEG_DUCKDB_PATH=:memory: DBT_TARGET_PATH=target/lint DBT_LOG_PATH=target/lint/logs \
		$(BIN)/python scripts/sqlfluff_lint.py lint models macros tests analyses

# dbt build on a small dataset in its own DuckDB file, then the reviewer summary.
CI_GENERATE ?= 1
dbt-test: setup
	CI_PERSONS=$(CI_PERSONS) CI_DIR=$(CI_DIR) SEED=$(SEED) BIN=$(BIN) CI_GENERATE=$(CI_GENERATE) bash scripts/dbt_test.sh

# After `make dbt-test` the shared pytest build reuses data/ci (tests/python/conftest.py), so
# `make test` builds the 3,000-person data set once; --durations lists the slowest tests.
# Two workers (pytest-xdist), one test file per worker at a time; tests/python/conftest.py pins each worker
# to its share of the cores, so LightGBM and dbt threads never oversubscribe them (PYTEST_WORKERS=0: serial).
# Tests marked slow or replay (several builds each: the incremental chain and the small replay equal a full
# refresh; segment history, migration and drift over several runs) take about 15 minutes more: `make test-slow`.
PYTEST_WORKERS ?= auto
pytest: setup
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadfile --durations=15 -m "not slow and not replay"

test-slow: setup
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadfile --durations=5 -m "slow or replay"

# lint (one core, no data, 100 to 140 s of CPU) runs beside the whole chain. The chain: the CI data set -> the
# CI build -> docs site -> pytest (two workers, reusing the CI build); beside it from the start, the package build
# (integration_tests/, on its own small data set). The package build is niced: it fills the cores the chain leaves idle
# instead of delaying pytest. The docs site runs before pytest, not beside it: dbt holds the CI database
# open for writing while it reads the catalog, and pytest's tests open that file.
test: setup
	$(MAKE) --no-print-directory -j2 --output-sync=target lint checks

checks: setup
	$(MAKE) --no-print-directory -j2 --output-sync=target integration-test INTEGRATION_NICE=5 ci-chain

ci-data: setup
	$(BIN)/python -m microseg.generate --persons $(CI_PERSONS) --seed $(SEED) --out $(CI_DIR) --no-progress

ci-chain: setup
	$(MAKE) --no-print-directory ci-data
	$(MAKE) --no-print-directory dbt-test CI_GENERATE=0
	$(MAKE) --no-print-directory docs
	$(MAKE) --no-print-directory pytest

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

# Experiment readout and basket rules against the planted campaign uplift and category pairs (after make demo).
.PHONY: activation-eval
activation-eval: setup
	$(BIN)/python -m microseg.activation.truth_eval --truth $(DEMO_DIR)/truth --db $(DEMO_DIR)/microseg.duckdb

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
	rm -f $(RETAIL_DIR)/microseg.duckdb $(RETAIL_DIR)/microseg.duckdb.wal
	MICROSEG_RAW_PATH=$(RETAIL_DIR)/raw MICROSEG_DUCKDB_PATH=$(RETAIL_DIR)/microseg.duckdb $(BIN)/dbt build
	$(BIN)/python -c "import duckdb; print(duckdb.connect('$(RETAIL_DIR)/microseg.duckdb', read_only=True).sql( \
	  'select source_table, raw_rows, staged_rows, exact_duplicate_rows, rejected_rows, erased_rows, orphan_rows \
	   from marts.data_quality_summary order by 1'))"

# The offline report (microseg/report): one HTML file, Plotly inlined, opens without network.
# report-check opens it in headless Chromium: every chart drawn, no console error, no request; full-page PNG.
REPORT_DB ?= $(or $(MICROSEG_DUCKDB_PATH),$(DEMO_DIR)/microseg.duckdb)
REPORT_OUT ?= target/report.html
report: setup
	$(BIN)/python -m microseg.report --duckdb $(REPORT_DB) --out $(REPORT_OUT)

report-check: report
	$(BIN)/python -m microseg.report.browser $(REPORT_OUT) --screenshot $(basename $(REPORT_OUT)).png

# Semantic layer (models/marts/semantic) on a built database (default: the CI build of make dbt-test):
# dbt parse writes target/semantic_manifest.json (on that file: relations carry its database name, the
# file stem), then mf validate-configs and the metric checks.
BUILD_DB ?= $(CI_DIR)/microseg.duckdb
metrics: setup
	MICROSEG_DUCKDB_PATH=$(BUILD_DB) $(BIN)/dbt parse --quiet
	$(BIN)/python -m microseg.semantic_check --db $(BUILD_DB)

# Docs site: compile against a built database (seeds are read at compile time), then the catalog.
# target/static_index.html embeds manifest and catalog: one file, opens offline.
docs: setup
	MICROSEG_RAW_PATH=$(CI_DIR)/raw MICROSEG_DUCKDB_PATH=$(BUILD_DB) MICROSEG_EXPORT_PATH=$(CURDIR)/$(CI_DIR)/exports \
		$(BIN)/dbt docs generate --static
	@ls -l target/static_index.html

# integration_tests/: a dbt project that installs this one as a package (packages.yml: local: ../), points
# var microseg__raw_path at a data set of its own (INTEGRATION_PERSONS generated persons, seed SEED, in its target/)
# and runs the full build with every data test. What it proves is the packaging (paths, vars, macros and schemas
# resolved from an installing project), not the data: the CI build runs the same models and tests on 3,000 persons
# in the same `make test`; 300 persons build green with the package defaults (527 nodes, 3 warnings) for 118 s of
# CPU against 142 s on the 3,000 (load 11-13: most of it is per-node cost, not data).
# Its own data set also frees it from the CI data: `make checks` starts it at once, beside the chain.
# The unit tests are left out: they feed fixed rows to the same SQL and run in `make dbt-test` (in CI on the
# same commit); here they took 44 s of its 358 s of node time. The export files go to its own target/,
# not to the CI build's data/ci/exports: `make checks` runs both builds at once.
INTEGRATION_NICE ?= 0
INTEGRATION_PERSONS ?= 300
INTEGRATION_DATA := integration_tests/target/data
integration-test: setup
	rm -rf $(INTEGRATION_DATA) integration_tests/target/integration.duckdb
	nice -n $(INTEGRATION_NICE) $(BIN)/python -m microseg.generate --persons $(INTEGRATION_PERSONS) --seed $(SEED) \
		--out $(INTEGRATION_DATA) --no-progress
	cd integration_tests && export DBT_PROFILES_DIR=$(CURDIR)/integration_tests \
	  MICROSEG_RAW_PATH=$(CURDIR)/$(INTEGRATION_DATA)/raw MICROSEG_EXPORT_PATH=$(CURDIR)/integration_tests/target/exports \
	  MICROSEG_INTEGRATION_DUCKDB_PATH=target/integration.duckdb && $(CURDIR)/$(BIN)/dbt deps && \
	  nice -n $(INTEGRATION_NICE) $(CURDIR)/$(BIN)/dbt build --exclude resource_type:unit_test

# Re-pin requirements.txt from requirements.in in a throwaway venv.
lock:
	rm -rf /tmp/microseg-lock && $(PYTHON) -m venv /tmp/microseg-lock
	/tmp/microseg-lock/bin/pip install --quiet -r requirements.in
	{ echo "# Generated from requirements.in by 'make lock' (pip freeze in a clean venv). Do not edit by hand."; \
	  /tmp/microseg-lock/bin/pip freeze; } > requirements.txt

clean:
	rm -rf target logs data

# Daily schedule replayed: REPLAY_PERSONS persons as REPLAY_DROPS drops of REPLAY_DROP_DAYS days, one dbt build
# per drop (incremental), then a full refresh into another file; every mart compared row for row (exit 1 when
# one differs), per-drop build times, the last step's migration matrix and the drift alerts printed.
# REPLAY_ARGS: e.g. --shift channel_to_app (a planted shift in the last drop) or --sql-layer.
REPLAY_PERSONS ?= 20000
REPLAY_DROPS ?= 8
REPLAY_DROP_DAYS ?= 7
REPLAY_DIR ?= data/replay
REPLAY_ARGS ?=
replay: setup
	$(BIN)/python -m microseg.incremental replay --persons $(REPLAY_PERSONS) --drops $(REPLAY_DROPS) \
		--drop-days $(REPLAY_DROP_DAYS) --out $(REPLAY_DIR) $(REPLAY_ARGS)
