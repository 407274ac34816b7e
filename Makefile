# Two entry points for a new machine: `make demo` and `make test`.
# Each one creates the virtual environment it needs from requirements.lock.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
UV_VERSION := 0.13.8
STAMP := $(VENV)/.installed-stamp
export GX_ANALYTICS_ENABLED := false
export DO_NOT_TRACK := 1
export DBT_SEND_ANONYMOUS_USAGE_STATS := false

.PHONY: help venv demo bi bi-stop docs test test-bi test-fast airflow bench-load bench-province bench-dbt-modes bench-records bench-rank-intervals lint fmt warehouse-start warehouse-stop warehouse-status clean

help:
	@echo "make demo   - set up everything and run the monthly DAG for 2024-08 and 2024-09"
	@echo "make test   - run the test suite against an embedded PostgreSQL"
	@echo "make test-bi - Superset's dashboard in headless chromium (tests/test_bi.py)"
	@echo "make test-fast - only the pure tests (no PostgreSQL, Airflow or dbt)"
	@echo "make airflow - Airflow UI on http://127.0.0.1:8080 with the DAGs, the embedded warehouse"
	@echo "               and simulated sources (api-server, scheduler, dag-processor, triggerer)"
	@echo "make lint   - ruff check + format check"
	@echo "make bench-load N=5000000 - extract+load vs plain COPY, rows/s and peak memory"
	@echo "make bi     - after make demo: Superset on http://127.0.0.1:8088, dashboard 平安指数看板"
	@echo "make docs   - after make demo: the dbt docs site (lineage, exposures) in output/dbt-docs/"
	@echo "make bench-records - after make demo: the records' share of a dbt rebuild"
	@echo "make bench-rank-intervals - after make demo: rank intervals vs scoring the month"
	@echo "make bench-dbt-modes [MODES='single watcher'] - dbt's modes under a real scheduler"
	@echo "make bench-province [COUNTIES=5] [HISTORY=24] [MONTH=2024-08] [PROVINCE=330000]"
	@echo "               - a province's month through the monthly DAG vs COPY + GROUP BY"

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check uv==$(UV_VERSION)
	# bytecode compiled once here: with PYTHONDONTWRITEBYTECODE set (as on our machines)
	# every Python process (each dbt call, each Airflow task) would compile its imports
	# again, about 7 s for Airflow + dbt + GX
	$(VENV)/bin/uv pip install -q -p $(PY) --compile-bytecode -r requirements.lock
	$(VENV)/bin/uv pip install -q -p $(PY) --no-deps -e .
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/pingan demo --months 2024-08 2024-09

# two worker processes (pytest-xdist), a test file each at a time, the longest files first
# (tests/conftest.py); each worker has its own embedded PostgreSQL and Airflow home.
# --no-loadscope-reorder keeps that order: by default xdist queues the files with the
# most tests first, which put the two longest files (two tests each) last, one after
# the other on one worker. TEST_WORKERS=0 runs the suite in this one process.
TEST_WORKERS ?= 2
test: $(STAMP)
	$(VENV)/bin/ruff check pingan_transforms pingan_simulate dags tests benchmarks expectations sources
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder -m "not bi"

# Superset in a real browser (tests/test_bi.py): its own venv, metadata and server take a
# few minutes, so it is a target of its own; CI's .ci/run calls it after `make test`.
# Needs Debian's chromium (`apt-get install chromium fonts-noto-cjk`; .ci/run installs it).
test-bi: $(STAMP)
	$(PY) -m pytest -m bi -p no:cacheprovider tests/test_bi.py

# the pure tests only (no PostgreSQL, Airflow or dbt): a couple of minutes at most
test-fast: $(STAMP)
	$(VENV)/bin/ruff check pingan_transforms pingan_simulate dags tests benchmarks expectations sources
	$(PY) -m pytest -m fast

# BACKFILL=1: backfill pingan_monthly over the simulated months once it is up
airflow: $(STAMP)
	$(VENV)/bin/pingan airflow --port $(or $(PORT),8080) $(if $(BACKFILL),--backfill)

N ?= 5000000
bench-load: $(STAMP)
	$(PY) benchmarks/bench_load.py --rows $(N)

# a whole province (default 浙江省) through pingan_monthly in .pingan-bench/: per-phase
# seconds, rows, peak memory, the ratio to COPY + GROUP BY of the same rows; HISTORY=24
# also measures a month after 24 months of history against the first (figures: output/bench/)
PROVINCE ?= 330000
# what listing the records behind every item costs (issue 14), after `make demo`: the
# records models' and marts.region_index_records' share of a full rebuild of the demo
docs: $(STAMP)
	$(VENV)/bin/pingan docs

# Superset (own venv .venv-bi from requirements-bi.lock) on http://127.0.0.1:8088 with the
# dashboard 平安指数看板 provisioned from bi/superset/, reading the marts as pingan_bi_reader
bi: $(STAMP)
	$(VENV)/bin/pingan bi $(if $(PORT),--port $(PORT))

bi-stop: $(STAMP)
	$(VENV)/bin/pingan bi --stop

bench-records: $(STAMP)
	$(PY) benchmarks/bench_records.py

bench-rank-intervals: $(STAMP)
	$(PY) benchmarks/bench_rank_intervals.py

bench-province: $(STAMP)
	$(PY) benchmarks/bench_province.py --province $(PROVINCE) $(if $(MONTH),--month $(MONTH)) \
		$(if $(COUNTIES),--counties $(COUNTIES)) $(if $(HISTORY),--history $(HISTORY))

# one county month under a real scheduler per PINGAN_DBT_TASKS mode (single, watcher):
# the dbt phase of each and its ratio to single's (figures: output/bench/dbt_modes.json)
bench-dbt-modes: $(STAMP)
	$(PY) benchmarks/bench_dbt_modes.py $(if $(MODES),--modes $(MODES))

lint: $(STAMP)
	$(VENV)/bin/ruff check pingan_transforms pingan_simulate dags tests benchmarks expectations sources
	$(VENV)/bin/ruff format --check pingan_transforms pingan_simulate dags tests benchmarks expectations sources

fmt: $(STAMP)
	$(VENV)/bin/ruff check --fix pingan_transforms pingan_simulate dags tests benchmarks expectations sources
	$(VENV)/bin/ruff format pingan_transforms pingan_simulate dags tests benchmarks expectations sources

warehouse-start: $(STAMP)
	$(VENV)/bin/pingan warehouse start

warehouse-stop: $(STAMP)
	$(VENV)/bin/pingan warehouse stop

warehouse-status: $(STAMP)
	$(VENV)/bin/pingan warehouse status

clean:
	-$(VENV)/bin/pingan warehouse stop
	rm -rf .pingan output dbt_project/target dbt_project/logs
