"""dbt in Airflow through astronomer-cosmos: every model, seed and test as a task.

The DAG files call :func:`dbt_task_group`; Cosmos renders the dbt graph from the
manifest the project builds (:func:`build_manifest`, ``dbt parse``), so parsing a DAG
never runs dbt, and dbt connects through the Airflow connection
``PINGAN_WAREHOUSE_CONN_ID`` (default ``pingan_warehouse``), mapped to a dbt profile
by Cosmos. ``PINGAN_DBT_TASKS`` chooses how (:func:`dbt_task_group`): ``watcher`` (one
``dbt build`` and a task per node that watches it), ``per_node`` (a ``dbt build`` per node)
or ``single`` (one ``dbt build`` task). Cosmos is imported inside the functions: the DAG
files import this module at parse time, and the watcher's trigger class is made on first
use (module ``__getattr__``).
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from pingan_transforms.cutoff import dbt_vars
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
    and the real ones come from the Airflow connection when a task runs. dbt writes
    into a folder of its own and the manifest replaces the old one in one rename: a
    DAG being parsed meanwhile (another process, a test beside this one) reads the old
    manifest or the new one, never half of one (it did: "Extra data" from Cosmos).
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
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".parse-", dir=path.parent) as scratch:
        cmd = [
            dbt_executable(), "parse", "--project-dir", str(project),
            "--profiles-dir", str(project), "--target-path", scratch,
            "--log-path", str(project / "logs" / "parse"),
            "--vars", json.dumps(dbt_vars(settings)),
        ]  # fmt: skip
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
        parsed = Path(scratch) / path.name
        if proc.returncode != 0 or not parsed.exists():
            tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-20:])
            raise ConfigError(f"dbt parse of {project} failed; fix the project:\n{tail}")
        parsed.touch()
        os.replace(parsed, path)
    return path


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
    # as dbt_project/profiles.yml: 3 threads keep both cores busy between the long models
    profile_args: dict[str, Any] = {"schema": "public", "threads": 3}
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

    ``watcher`` (the default, for a deployment with a scheduler and a triggerer): Cosmos's
    watcher mode, :func:`_watcher_group`: one ``dbt build`` of the whole project (dbt's
    threads, the same result as ``single``) and a task per seed, model and model's tests
    that turns green or red as the build reports that node, without a worker of its own.
    It cannot run under ``dag.test()``, which renders ``single`` instead
    (``orchestrate.dag_test_month``).
    ``per_node``: a Cosmos ``DbtTaskGroup``, one task per seed and model running
    ``dbt build --select <node>`` (the node, then its own tests), so a failing test stops
    exactly the models downstream of it, as one ``dbt build`` would.
    ``single``: one Cosmos ``dbt build`` task in the group (same profile, same vars):
    the same result, without the per-task overhead (README, "What Cosmos costs").
    """
    if settings.dbt_tasks == "single":
        return _single_build_group(settings, group_id)
    if settings.dbt_tasks == "watcher":
        return _watcher_group(settings, group_id, **kwargs)
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
        operator_args={
            "vars": dbt_vars(settings),
            "install_deps": False,
            "dbt_cmd_flags": _build_flags(settings),
        },
        **kwargs,
    )


# How often a node's trigger asks whether the build has reported the node (seconds).
WATCHER_POLL_SECONDS = 2.0


def _watcher_group(settings: Settings, group_id: str, **kwargs: Any) -> Any:
    """Cosmos ``ExecutionMode.WATCHER`` in a ``DbtTaskGroup``, made cheap to run.

    Cosmos renders a producer task ``dbt_producer_watcher`` (one ``dbt build`` of the
    project with the profile's threads, pushing each node's result to XCom as dbt reports
    it) and, per seed and model, a consumer sensor ``<node>.run`` / ``<node>.seed`` with
    ``<node>.test`` for its tests (``<node>_run`` for a node without tests;
    ``TestBehavior.AFTER_EACH``: the producer's build runs the tests, the sensor reads
    their aggregated result), in dbt's graph order, and one per test of several models.
    Out of the box every sensor starts in a worker, defers and comes back to a worker: two
    task processes per node, about the per-node tax again.
    Here each sensor starts in the triggerer (``start_from_trigger``) with
    :class:`WatcherNodeTrigger`, which ends it there when its node succeeded or was skipped:
    no worker at all on the way to a green run. A node that failed goes to a worker, which
    fails the task with dbt's message; a node task cleared after the build has ended goes
    to a worker that runs that node alone (``dbt run``/``seed``/``test --select``, Cosmos's
    fallback): that is how a failed model is retried. The build's end
    (``dbt_producer_watcher_done``) runs whatever the build's state: after a retry the
    node tasks, not the build, say whether dbt is done.
    """
    from airflow.sdk import TaskGroup
    from airflow.triggers.base import StartTriggerArgs
    from cosmos import DbtTaskGroup, ExecutionConfig, RenderConfig
    from cosmos.constants import (
        PRODUCER_WATCHER_DONE_TASK_ID,
        ExecutionMode,
        InvocationMode,
        LoadMode,
        TestBehavior,
    )
    from cosmos.operators._watcher.base import BaseConsumerSensor
    from cosmos.operators.watcher import DbtProducerWatcherOperator

    project, profile, _ = _configs(settings)
    group = DbtTaskGroup(
        group_id=group_id,
        project_config=project,
        profile_config=profile,
        execution_config=ExecutionConfig(
            execution_mode=ExecutionMode.WATCHER,
            invocation_mode=InvocationMode.DBT_RUNNER,
        ),
        render_config=RenderConfig(
            load_method=LoadMode.DBT_MANIFEST,
            test_behavior=TestBehavior.AFTER_EACH,
            emit_datasets=False,
            enable_mock_profile=False,
            should_detach_multiple_parents_tests=True,
        ),
        operator_args={
            "vars": dbt_vars(settings),
            "install_deps": False,
            # the node tasks' retries run `dbt run`/`seed`/`test`: no build flags there
            "dbt_cmd_flags": list(NO_LOG_FILE),
        },
        **kwargs,
    )
    trigger_cls = f"{__name__}.WatcherNodeTrigger"
    tasks = _group_tasks(group, TaskGroup)
    # the tests of several models, each a task of its own (the others are read per model)
    own_task_tests = frozenset(
        t.model_unique_id
        for t in tasks
        if isinstance(t, BaseConsumerSensor) and t.model_unique_id.startswith("test.")
    )
    for task in tasks:
        if isinstance(task, BaseConsumerSensor):
            task.start_from_trigger = True
            task.start_trigger_args = StartTriggerArgs(
                trigger_cls=trigger_cls,
                next_method="execute_complete",
                trigger_kwargs={
                    "model_unique_id": task.model_unique_id,
                    "producer_task_id": task.producer_task_id,
                    "poke_interval": WATCHER_POLL_SECONDS,
                    "is_test_sensor": task.is_test_sensor,
                },
                next_kwargs=None,
                timeout=None,
            )
        elif task.task_id.endswith(PRODUCER_WATCHER_DONE_TASK_ID):
            task.trigger_rule = "all_done"
        elif isinstance(task, DbtProducerWatcherOperator):
            task.__class__ = _lean_producer_class()
            task.own_task_tests = own_task_tests
            task.dbt_cmd_flags = _build_flags(settings)
    return group


def _group_tasks(group: Any, task_group_type: type) -> list[Any]:
    tasks = []
    for child in group.children.values():
        if isinstance(child, task_group_type):
            tasks.extend(_group_tasks(child, task_group_type))
        else:
            tasks.append(child)
    return tasks


@functools.cache
def _lean_producer_class() -> type:
    """Cosmos's watcher producer writing to XCom only what the node tasks read.

    Out of the box the producer writes to XCom every dbt event of every node (start,
    compiling, executing, finished), each model's compiled SQL and dbt's start-up events,
    one write at a time under a lock (about 2,000 writes for this project, each a call to
    the API server), and with ``enable_watcher_reliable_retry`` (Cosmos's default) copies
    all it wrote so far to an Airflow Variable after each write, so that a retry of the
    producer could restore them: quadratic, minutes for this project. Here the producer is
    not retried (``retries`` 0: a node task re-runs its node instead), nothing is copied,
    and a finished node writes its status (a model's or seed's; a test's goes into its
    model's aggregate, Cosmos's own ``push_test_result_or_aggregate``, and for a test of
    several models also under its own key, which its task reads) and, when it failed,
    dbt's event with the error for its task's log: about 150 writes. Every event is still
    logged.
    """
    import cosmos.settings
    from cosmos.operators._watcher.aggregation import (
        get_tests_status_xcom_key,
        push_test_result_or_aggregate,
    )
    from cosmos.operators._watcher.base import (
        _log_dbt_msg,
        _process_dbt_log_event,
        _rewrite_upstream_failure_skip_status,
        _surface_non_json_stdout,
    )
    from cosmos.operators._watcher.state import (
        get_status_xcom_key,
        is_dbt_node_status_success,
        is_dbt_node_status_terminal,
        safe_xcom_push,
    )
    from cosmos.operators.watcher import DbtProducerWatcherOperator

    class DbtLeanProducerWatcherOperator(DbtProducerWatcherOperator):
        def execute(self, context: Any, **kwargs: Any) -> Any:
            # the setting is read here, in this task's own process
            cosmos.settings.enable_watcher_reliable_retry = False
            return super().execute(context, **kwargs)

        def _make_parse_callable(self) -> Any:
            own_task_tests = getattr(self, "own_task_tests", frozenset())
            tests_per_model, results = self.tests_per_model, self.test_results_per_model
            skipped_upstream = self._upstream_failure_skipped_ids

            def parse_finished(line: str, extra_kwargs: Any) -> None:
                try:
                    event = json.loads(line)
                except ValueError:
                    return _surface_non_json_stdout(line)
                if not isinstance(event, dict):
                    return None
                _log_dbt_msg(event)
                node = (event.get("data") or {}).get("node_info") or {}
                uid = node.get("unique_id")
                # a node dbt skipped because one above it failed: failed (Cosmos #2698)
                status = _rewrite_upstream_failure_skip_status(
                    event, uid, node.get("node_status"), skipped_upstream
                )
                finished = event.get("info", {}).get("name") == "NodeFinished"
                if not (finished and uid and is_dbt_node_status_terminal(status)):
                    return None
                ti = extra_kwargs["context"]["ti"]
                if node.get("resource_type") == "test":
                    if tests_per_model:
                        push_test_result_or_aggregate(uid, status, tests_per_model, results, ti)
                    if uid in own_task_tests:
                        safe_xcom_push(ti, get_tests_status_xcom_key(uid), status)
                    return None
                if not is_dbt_node_status_success(status):
                    _process_dbt_log_event(ti, event)  # the error, for the node task's log
                value = {"status": status, "outlet_uris": []}
                safe_xcom_push(task_instance=ti, key=get_status_xcom_key(uid), value=value)
                return None

            return parse_finished

    DbtLeanProducerWatcherOperator.__module__ = __name__
    DbtLeanProducerWatcherOperator.__qualname__ = "DbtLeanProducerWatcherOperator"
    return DbtLeanProducerWatcherOperator


@functools.cache
def _watcher_trigger_class() -> type:
    import asyncio

    from airflow.triggers.base import TaskSkippedEvent, TaskSuccessEvent, TriggerEvent
    from cosmos.listeners.dag_run_listener import EventStatus
    from cosmos.operators._watcher.aggregation import get_tests_status_xcom_key
    from cosmos.operators._watcher.state import (
        PRODUCER_FINAL_STATES,
        is_dbt_node_status_skipped,
        is_dbt_node_status_success,
    )
    from cosmos.operators._watcher.triggerer import WatcherEventReason, WatcherTrigger

    class WatcherNodeTrigger(WatcherTrigger):
        """Cosmos's ``WatcherTrigger`` for a task started in the triggerer: the run it
        watches is the task instance's, a node that succeeded or was skipped ends the task
        here, anything else resumes it in a worker (``execute_complete``)."""

        def __init__(
            self,
            model_unique_id: str,
            producer_task_id: str,
            dag_id: str = "",
            run_id: str = "",
            map_index: int | None = -1,
            poke_interval: float = WATCHER_POLL_SECONDS,
            is_test_sensor: bool = False,
            **kwargs: Any,
        ) -> None:
            super().__init__(
                model_unique_id=model_unique_id,
                producer_task_id=producer_task_id,
                dag_id=dag_id,
                run_id=run_id,
                map_index=map_index,
                poke_interval=poke_interval,
                is_test_sensor=is_test_sensor,
            )

        def serialize(self) -> tuple[str, dict[str, Any]]:
            _, kwargs = super().serialize()
            return f"{__name__}.WatcherNodeTrigger", kwargs

        async def _status(self) -> Any:
            if self.is_test_sensor:
                return await self.get_xcom_val(get_tests_status_xcom_key(self.model_unique_id))
            return await self._get_node_status()

        async def run(self):  # type: ignore[override]
            ti = self.task_instance  # set by the triggerer before run()
            self.dag_id, self.run_id, self.map_index = ti.dag_id, ti.run_id, ti.map_index
            first = True
            while True:
                status = await self._status()
                built = is_dbt_node_status_success(status) or is_dbt_node_status_skipped(status)
                producer = None
                if first or status is None:
                    producer = await self._get_producer_task_status()
                if first and producer in PRODUCER_FINAL_STATES:
                    # The build had ended when this task started: after a clear or a retry
                    # (second try on), or when the build did not build the node, run it
                    # again in a worker (Cosmos's fallback). A node the build never
                    # reported after a build that succeeded is one dbt had nothing to run
                    # for (Cosmos: success).
                    not_run = status is None and producer == "success"
                    if ti.try_number > 1 or not (built or not_run):
                        yield TriggerEvent(_event(WatcherEventReason.PRODUCER_SKIPPED))
                        return
                first = False
                if is_dbt_node_status_success(status):
                    yield TaskSuccessEvent()
                    return
                if is_dbt_node_status_skipped(status):
                    yield TaskSkippedEvent()
                    return
                if status is not None:  # failed: the worker fails the task with dbt's message
                    yield TriggerEvent(_event(WatcherEventReason.NODE_FAILED))
                    return
                if producer == "failed":  # it ended before it reported this node
                    yield TriggerEvent(_event(WatcherEventReason.PRODUCER_FAILED))
                    return
                if producer == "skipped":
                    yield TriggerEvent(_event(WatcherEventReason.PRODUCER_SKIPPED))
                    return
                if producer == "success":
                    yield TaskSuccessEvent()
                    return
                await asyncio.sleep(self.poke_interval)

    def _event(reason: Any) -> dict[str, Any]:
        return {"status": EventStatus.FAILED, "reason": reason}

    WatcherNodeTrigger.__module__ = __name__
    WatcherNodeTrigger.__qualname__ = "WatcherNodeTrigger"
    return WatcherNodeTrigger


def __getattr__(name: str) -> Any:
    # the triggerer imports the trigger by its path; Cosmos is imported only then
    if name == "WatcherNodeTrigger":
        return _watcher_trigger_class()
    if name == "DbtLeanProducerWatcherOperator":
        return _lean_producer_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# dbt writes no debug log file in the dbt tasks. Cosmos runs dbt in a temporary copy of
# the project that is removed when the task ends, log file and all, while dbt formats
# every event of a build for that file (about a quarter of its own CPU at province
# scale); what dbt prints goes to the task's log as before. A flag, valid for every dbt
# command a task runs (`build`, a watcher node's retry `run`/`seed`/`test`).
NO_LOG_FILE = ("--log-level-file", "none")


def _build_flags(settings: Settings) -> list[str]:
    """Flags of a task that runs `dbt build` (unit tests as settings.dbt_build_flags)."""
    return [*settings.dbt_build_flags(), *NO_LOG_FILE]


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
            dbt_cmd_flags=_build_flags(settings),
            cache_dir=_partial_parse_cache(group_id),
        )
    return group


def _partial_parse_cache(group_id: str) -> Path | None:
    """Where the single build keeps dbt's ``partial_parse.msgpack`` between runs.

    Cosmos gives the operators it renders a cache directory, but an operator built by
    hand gets none, and then every month's build parsed the whole project again (5 s at
    province scale). The manifest's own ``partial_parse.msgpack`` cannot serve: it was
    parsed with placeholder connection values, and dbt reparses when the profile
    differs. With this cache the first build parses in full and stores its state; the
    next builds of the same project and connection parse only what changed.
    """
    from cosmos import settings as cosmos_settings

    if not cosmos_settings.enable_cache:
        return None
    return Path(cosmos_settings.cache_dir) / f"pingan_{group_id}_build"
