"""Test fixtures: a private embedded PostgreSQL for the session, a fresh database per test.

The environment is set at import time, before anything imports Airflow, so that
Airflow's configuration (home, metadata DB, DAG folder) points at a temporary
directory. When ``PINGAN_WAREHOUSE_URL`` names an external PostgreSQL, the
tests create their databases there instead (the role needs CREATEDB).
"""

from __future__ import annotations

import os
import shutil
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

from pingan_transforms.dbt_airflow import build_manifest  # noqa: E402
from pingan_transforms.orchestrate import apply_airflow_env  # noqa: E402
from pingan_transforms.settings import Settings, get_settings  # noqa: E402
from pingan_transforms.warehouse import WarehouseTarget, prepare_warehouse, resolve_target  # noqa: E402
from pingan_transforms.warehouse.connection import drop_database, embedded_server  # noqa: E402

apply_airflow_env(get_settings())
# the DAGs render dbt from the project's manifest (Cosmos): build it if it is stale
build_manifest(get_settings())

PROJECT = Path(__file__).resolve().parent.parent
EXTERNAL_URL = os.environ.get("PINGAN_WAREHOUSE_URL")


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


@pytest.fixture
def databases(
    server: WarehouseTarget, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[tuple[WarehouseTarget, WarehouseTarget]]:
    """A fresh warehouse database and police front database, wired into the settings.

    Returns (warehouse, police front). The pipeline's task functions read their
    settings from the environment, which this fixture points at the new databases.
    """
    suffix = uuid.uuid4().hex[:8]
    warehouse = server.with_database(f"pingan_t_{suffix}")
    police = server.with_database(f"police_t_{suffix}")
    if EXTERNAL_URL:
        monkeypatch.setenv("PINGAN_WAREHOUSE_URL", warehouse.url)
    governance = server.with_database(f"governance_t_{suffix}")
    monkeypatch.setenv("PINGAN_WAREHOUSE_DB", warehouse.dbname)
    monkeypatch.setenv("AIRFLOW_CONN_PINGAN_POLICE_FRONT", police.url)
    monkeypatch.setenv("AIRFLOW_CONN_PINGAN_GOVERNANCE", governance.url)
    monkeypatch.setenv("PINGAN_OUTPUT_DIR", str(tmp_path / "output"))
    from pingan_transforms.warehouse import ensure_database

    prepare_warehouse(warehouse)
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
