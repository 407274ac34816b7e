"""dbt in Airflow through astronomer-cosmos: every model, seed and test as a task.

The DAG files call :func:`dbt_task_group`; Cosmos renders the dbt graph from the
manifest the project builds (:func:`build_manifest`, ``dbt parse``), so parsing a DAG
never runs dbt, and dbt connects through the Airflow connection
``PINGAN_WAREHOUSE_CONN_ID`` (default ``pingan_warehouse``), mapped to a dbt profile
by Cosmos. ``PINGAN_DBT_TASKS=single`` renders one ``dbt build`` task instead of a task
per node (:func:`dbt_task_group`). Cosmos is imported inside the functions: the DAG
files import this module at parse time.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

from pingan_transforms.settings import ConfigError, Settings, get_settings

# Everything dbt reads when it parses the project: a newer file makes the manifest stale.
_PROJECT_INPUTS = ("models", "macros", "seeds", "tests", "dbt_project.yml")


def manifest_path(settings: Settings) -> Path:
    return settings.dbt_project_dir / "target" / "manifest.json"


def _project_files(settings: Settings) -> list[Path]:
    root = settings.dbt_project_dir
    files: list[Path] = []
    for name in _PROJECT_INPUTS:
        path = root / name
        if path.is_dir():
            files.extend(p for p in path.rglob("*") if p.is_file())
        elif path.is_file():
            files.append(path)
    return files


def manifest_is_current(settings: Settings) -> bool:
    path = manifest_path(settings)
    if not path.exists():
        return False
    built = path.stat().st_mtime
    return all(p.stat().st_mtime <= built for p in _project_files(settings))


def build_manifest(settings: Settings | None = None, *, force: bool = False) -> Path:
    """``dbt parse`` into ``dbt_project/target/manifest.json`` unless it is current.

    Parsing needs no database: the profile's connection values are placeholders here,
    and the real ones come from the Airflow connection when a task runs.
    """
    from pingan_transforms.transform import dbt_executable

    settings = settings or get_settings()
    path = manifest_path(settings)
    if not force and manifest_is_current(settings):
        return path
    project = settings.dbt_project_dir
    env = {
        **os.environ,
        "PINGAN_DBT_HOST": "localhost",
        "PINGAN_DBT_PORT": "5432",
        "PINGAN_DBT_USER": "dbt_parse",
        "PINGAN_DBT_DBNAME": "pingan",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DO_NOT_TRACK": "1",
    }
    cmd = [
        dbt_executable(), "parse", "--project-dir", str(project), "--profiles-dir", str(project),
        "--target-path", str(path.parent), "--log-path", str(project / "logs" / "parse"),
        "--vars", json.dumps(dbt_vars(settings)),
    ]  # fmt: skip
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if proc.returncode != 0 or not path.exists():
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-20:])
        raise ConfigError(f"dbt parse of {project} failed; fix the project:\n{tail}")
    path.touch()
    return path


def dbt_vars(settings: Settings) -> dict[str, Any]:
    return {"scored_month_sources": settings.scored_month_sources}


def _profile_mapping_class() -> type:
    from cosmos.profiles.postgres.user_pass import PostgresUserPasswordProfileMapping

    class WarehouseProfileMapping(PostgresUserPasswordProfileMapping):
        """Cosmos's Postgres mapping, accepting a connection without a password (the
        embedded server trusts local connections; a real server's connection has one)."""

        required_fields = ["host", "user", "dbname"]

        @property
        def secret_fields(self) -> list[str]:  # type: ignore[override]
            return ["password"] if self.conn.password else []

        @property
        def profile(self) -> dict[str, Any | None]:
            profile = super().profile
            if not self.conn.password:
                profile["password"] = ""
            return profile

    return WarehouseProfileMapping


def _configs(settings: Settings) -> tuple[Any, Any, Path]:
    """Cosmos's project and profile configuration (the profile from the Airflow
    connection); raises :class:`ConfigError` when the manifest has not been built."""
    from cosmos import ProfileConfig, ProjectConfig

    manifest = manifest_path(settings)
    if not manifest.exists():
        raise ConfigError(
            f"{manifest} is missing: the DAGs render dbt from it. Build it with "
            "`pingan manifest` (make demo, make test and make airflow do it first)"
        )
    profile_args: dict[str, Any] = {"schema": "public", "threads": 2}
    if settings.dbt_role:
        profile_args["role"] = settings.dbt_role
    mapping_class = _profile_mapping_class()
    mapping = mapping_class(conn_id=settings.warehouse_conn_id, profile_args=profile_args)
    project = ProjectConfig(
        dbt_project_path=settings.dbt_project_dir,
        manifest_path=manifest,
        project_name="pingan",
        install_dbt_deps=False,
    )
    profile = ProfileConfig(profile_name="pingan", target_name="warehouse", profile_mapping=mapping)
    return project, profile, manifest


def dbt_task_group(settings: Settings, group_id: str = "dbt", **kwargs: Any) -> Any:
    """dbt as the task group ``dbt``, as ``PINGAN_DBT_TASKS`` says.

    ``per_node`` (the default): a Cosmos ``DbtTaskGroup``, one task per seed and model
    running ``dbt build --select <node>`` (the node, then its own tests), so a failing
    test stops exactly the models downstream of it, as one ``dbt build`` would.
    ``single``: one Cosmos ``dbt build`` task in the group (same profile, same vars):
    the same result, without the per-task overhead (README, "What Cosmos costs").
    """
    if settings.dbt_tasks == "single":
        return _single_build_group(settings, group_id)
    from cosmos import DbtTaskGroup, ExecutionConfig, RenderConfig
    from cosmos.constants import (
        ExecutionMode,
        InvocationMode,
        LoadMode,
        TestBehavior,
        TestIndirectSelection,
    )

    project, profile, _ = _configs(settings)
    return DbtTaskGroup(
        group_id=group_id,
        project_config=project,
        profile_config=profile,
        execution_config=ExecutionConfig(
            execution_mode=ExecutionMode.LOCAL,
            invocation_mode=InvocationMode.DBT_RUNNER,
            # a node's task runs only the tests of that node alone ...
            test_indirect_selection=TestIndirectSelection.CAUTIOUS,
        ),
        render_config=RenderConfig(
            load_method=LoadMode.DBT_MANIFEST,
            test_behavior=TestBehavior.BUILD,
            emit_datasets=False,
            enable_mock_profile=False,
            # ... and a test of several models (relationships, singular tests) gets its
            # own task after all of them, as in one `dbt build`: run after the first,
            # it would see the others' views dropped by the rebuild's cascade
            should_detach_multiple_parents_tests=True,
        ),
        operator_args={"vars": dbt_vars(settings), "install_deps": False},
        **kwargs,
    )


def _single_build_group(settings: Settings, group_id: str) -> Any:
    from airflow.sdk import TaskGroup
    from cosmos.constants import InvocationMode
    from cosmos.operators.local import DbtBuildLocalOperator

    project, profile, _ = _configs(settings)
    with TaskGroup(group_id=group_id) as group:
        DbtBuildLocalOperator(
            task_id="build",
            project_dir=str(project.dbt_project_path),
            profile_config=profile,
            invocation_mode=InvocationMode.DBT_RUNNER,
            vars=dbt_vars(settings),
            install_deps=False,
        )
    return group
