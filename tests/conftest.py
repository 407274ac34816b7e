"""Test fixtures: a private embedded PostgreSQL for the session, a fresh database per test.

The environment is set at import time, before anything imports Airflow, so that
Airflow's configuration (home, metadata DB, DAG folder) points at a temporary
directory. When ``PINGAN_WAREHOUSE_URL`` names an external PostgreSQL, the
tests create their databases there instead (the role needs CREATEDB).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

_STATE = Path(tempfile.mkdtemp(prefix="pingan-test-"))
os.environ["PINGAN_STATE_DIR"] = str(_STATE)
os.environ["PINGAN_OUTPUT_DIR"] = str(_STATE / "output")
os.environ["PINGAN_PII_KEY"] = "test-only-key-" + uuid.uuid4().hex
os.environ["GX_ANALYTICS_ENABLED"] = "false"
os.environ.pop("PINGAN_REGIONS_FILE", None)
# dbt as one Cosmos `dbt build` task under dag.test() (a task per node costs about 4x
# there); the DagBag tests and the backfill through a real scheduler use per_node
os.environ["PINGAN_DBT_TASKS"] = "single"
# dag.test() runs sign off (签发) every draft as this name; a person answering through the
# API server is tests/test_signoff.py
os.environ["PINGAN_SIGNOFF_AUTO_APPROVE"] = "测试签发人"

from pingan_transforms.dbt_airflow import build_manifest  # noqa: E402
from pingan_transforms.orchestrate import airflow_env, apply_airflow_env  # noqa: E402
from pingan_transforms.settings import Settings, get_settings  # noqa: E402
from pingan_transforms.warehouse import WarehouseTarget, prepare_warehouse, resolve_target  # noqa: E402
from pingan_transforms.warehouse.connection import (  # noqa: E402
    clone_database,
    drop_database,
    embedded_server,
)

# environment variables and a folder only: Airflow itself is imported by the tests that use it.
# Set, not defaulted: a pytest-xdist worker inherits the environment of the process that
# started it, whose Airflow home (and SQLite metadata DB, and Cosmos cache) would then be
# shared by both workers; each process gets its own, in its own state dir.
os.environ.update(airflow_env(get_settings()))
apply_airflow_env(get_settings())

PROJECT = Path(__file__).resolve().parent.parent
EXTERNAL_URL = os.environ.get("PINGAN_WAREHOUSE_URL")

# ---------------------------------------------------------------- two tiers
# `make test-fast` runs the tests marked fast: no PostgreSQL, Airflow or dbt. A test is
# slow when it asks for a database or Airflow's metadata, or when its module starts
# Airflow or dbt on its own (below); everything else is fast, and the fast run checks it.
SLOW_FIXTURES = {"server", "databases", "airflow_db"}
SLOW_MODULES = {
    "tests.test_dagbag",  # imports the DAGs, hence Airflow and Cosmos
    "tests.test_dbt_watcher",
    "tests.test_alerts",
    "tests.test_bench_province",
    "tests.test_compose",  # checks names against Airflow's own option list
}
HEAVY_MODULES = ("airflow", "dbt", "cosmos", "great_expectations")
# the longest files, first: `make test` runs files on two workers (pytest-xdist --dist
# loadfile), and a 12-minute file started last would run alone at the end. Then a quick
# file: xdist queues a second file on each worker from the start, and the one queued
# behind the long file waits for it.
LONGEST_FIRST = ("tests.test_monthly_dag", "tests.test_dbt_watcher", "tests.test_layering")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    def first(item: pytest.Item) -> int:
        name = item.module.__name__  # type: ignore[attr-defined]
        return LONGEST_FIRST.index(name) if name in LONGEST_FIRST else len(LONGEST_FIRST)

    items.sort(key=first)  # stable: every file keeps its own order
    for item in items:
        slow = (
            SLOW_FIXTURES & set(getattr(item, "fixturenames", ()))
            or item.module.__name__ in SLOW_MODULES  # type: ignore[attr-defined]
            or item.get_closest_marker("slow")
        )
        item.add_marker(pytest.mark.slow if slow else pytest.mark.fast)


@pytest.fixture(scope="session")
def dbt_manifest() -> Path:
    """The project's manifest, which the DAGs render dbt from (Cosmos): parsed if stale."""
    return build_manifest(get_settings())


@pytest.fixture(autouse=True)
def _tier(request: pytest.FixtureRequest) -> Iterator[None]:
    """A slow test gets the manifest; a fast one must not start what the tier avoids."""
    if request.node.get_closest_marker("slow"):
        request.getfixturevalue("dbt_manifest")
        yield
        return
    before = {name for name in HEAVY_MODULES if name in sys.modules}
    server_before = (_STATE / "pgdata").exists()
    yield
    started = [name for name in HEAVY_MODULES if name in sys.modules and name not in before]
    if started or (not server_before and (_STATE / "pgdata").exists()):
        what = ", ".join(started) or "the embedded PostgreSQL"
        pytest.fail(
            f"a fast test started {what}: ask for a database fixture, add its module to "
            "SLOW_MODULES in tests/conftest.py, or mark it @pytest.mark.slow"
        )


@pytest.fixture(scope="session")
def server() -> Iterator[WarehouseTarget]:
    """The session's PostgreSQL server (its maintenance database)."""
    settings = get_settings()
    target = resolve_target(settings)
    yield target.with_database("postgres")


def pytest_unconfigure(config: pytest.Config) -> None:
    """Stop the session's embedded server (if one was started) and remove its state."""
    settings = get_settings()
    if settings.embedded:
        embedded_server(settings).stop()
    shutil.rmtree(_STATE, ignore_errors=True)


@pytest.fixture(autouse=True)
def own_drops(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Each test's source systems drop their files in a folder of its own.

    In the session's shared state dir, files an earlier test left there (another set of
    towns, a month it deleted on purpose) were loaded by the next test's extract, so its
    marts depended on which tests ran before it: month-by-month runs then differed from
    a backfill of the same months made after all the drops had been rewritten.
    """
    monkeypatch.setenv("PINGAN_DROPS_DIR", str(tmp_path / "drops"))


@pytest.fixture(scope="session")
def warehouse_template(server: WarehouseTarget) -> Iterator[WarehouseTarget]:
    """A warehouse prepared once (the init SQL of infra/warehouse), cloned for each test."""
    template = server.with_database(f"pingan_template_{uuid.uuid4().hex[:8]}")
    prepare_warehouse(template)
    yield template
    drop_database(template)


@pytest.fixture
def databases(
    server: WarehouseTarget,
    warehouse_template: WarehouseTarget,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> Iterator[tuple[WarehouseTarget, WarehouseTarget]]:
    """A fresh warehouse database (a copy of the prepared template) and police front
    database, wired into the settings.

    Returns (warehouse, police front). The pipeline's task functions read their
    settings from the environment, which this fixture points at the new databases.
    """
    suffix = uuid.uuid4().hex[:8]
    warehouse = server.with_database(f"pingan_t_{suffix}")
    clone_database(warehouse_template, warehouse)
    police = server.with_database(f"police_t_{suffix}")
    if EXTERNAL_URL:
        monkeypatch.setenv("PINGAN_WAREHOUSE_URL", warehouse.url)
    governance = server.with_database(f"governance_t_{suffix}")
    monkeypatch.setenv("PINGAN_WAREHOUSE_DB", warehouse.dbname)
    monkeypatch.setenv("AIRFLOW_CONN_PINGAN_POLICE_FRONT", police.url)
    monkeypatch.setenv("AIRFLOW_CONN_PINGAN_GOVERNANCE", governance.url)
    monkeypatch.setenv("PINGAN_OUTPUT_DIR", str(tmp_path / "output"))
    from pingan_transforms.warehouse import ensure_database

    ensure_database(police)
    yield warehouse, police
    for database in (warehouse, police, governance):
        drop_database(database)
    for artefacts in ("target", "logs"):  # dbt's per-database artefacts (transform.run_dbt)
        shutil.rmtree(PROJECT / "dbt_project" / artefacts / warehouse.dbname, ignore_errors=True)


@pytest.fixture
def settings() -> Settings:
    return get_settings()


@pytest.fixture(scope="session")
def airflow_db() -> None:
    """Airflow's metadata database (SQLite in the session's state dir), migrated once."""
    from pingan_transforms.orchestrate import ensure_airflow_db

    ensure_airflow_db(get_settings())
