"""Run the project's Airflow DAGs locally with Airflow's own ``dag.test()``.

Airflow reads its configuration from the environment at import time, so
:func:`airflow_env` must be applied before anything imports ``airflow``; the CLI
does that first. The metadata database is SQLite under the state directory:
enough for ``dag.test()``, which runs every task in this process.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

from pingan_transforms.hitl import auto_approver
from pingan_transforms.months import Month
from pingan_transforms.settings import ConfigError, Settings, environment


class DagRunFailed(RuntimeError):
    """A DAG run ended in a state other than success."""


def airflow_env(settings: Settings) -> dict[str, str]:
    home = settings.state_dir / "airflow"
    return {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(settings.project_dir / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
        "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
        # Cosmos's cache (dbt's partial parse) per state dir, as in a local deployment
        # (airflow_local): the default, /tmp/cosmos, is shared with other warehouses,
        # whose profile differs and makes dbt parse the whole project again
        "AIRFLOW__COSMOS__CACHE_DIR": str(settings.state_dir / "cosmos"),
        "GX_ANALYTICS_ENABLED": "false",
    }


def apply_airflow_env(settings: Settings) -> None:
    for key, value in airflow_env(settings).items():
        os.environ.setdefault(key, value)
    (settings.state_dir / "airflow").mkdir(parents=True, exist_ok=True)


def ensure_airflow_db(settings: Settings) -> None:
    """``airflow db migrate`` (idempotent) in a subprocess, quietly."""
    apply_airflow_env(settings)
    airflow = Path(sys.executable).parent / "airflow"
    proc = subprocess.run(
        [str(airflow), "db", "migrate"], capture_output=True, text=True, env=os.environ.copy()
    )
    if proc.returncode != 0:
        raise DagRunFailed("airflow db migrate failed:\n" + proc.stderr[-3000:])


def load_dag(settings: Settings, dag_file: str = "pingan_monthly.py", attr: str = ""):
    path = settings.project_dir / "dags" / dag_file
    spec = importlib.util.spec_from_file_location(f"pingan_dag_{path.stem}", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, attr or f"{path.stem}_dag")


def prepare_local_run(settings: Settings) -> None:
    """What a local run needs before the DAG file is parsed: Airflow's environment, the
    warehouse as the dbt connection (the one these settings resolve to, so that
    ``pingan run`` and the tests never build into another database), and a current dbt
    manifest for Cosmos to render."""
    from pingan_transforms.dbt_airflow import build_manifest
    from pingan_transforms.warehouse import resolve_target

    apply_airflow_env(settings)
    # Airflow reads a postgresql:// URI as a postgres connection
    conn_env = f"AIRFLOW_CONN_{settings.warehouse_conn_id.upper()}"
    os.environ[conn_env] = resolve_target(settings).url
    build_manifest(settings)


def require_signer(settings: Settings) -> None:
    """Stop before a ``dag.test()`` run that would wait for ever at ``sign_off``."""
    if not settings.signoff_auto_approve:
        raise ConfigError(
            "the monthly DAG waits for a person to sign off (签发) each draft, and under "
            "dag.test() nobody can answer: pass --sign-off-as NAME (or set "
            "PINGAN_SIGNOFF_AUTO_APPROVE) to sign every draft as NAME, or run the DAG in "
            "Airflow (pingan airflow) and answer in Required Actions or with "
            "`pingan publish approve`"
        )


def dag_test_month(settings: Settings, month: Month):
    """``dag.test()`` of ``pingan_monthly`` for one month's data interval; returns the
    DagRun whatever its state (its task instances hold each task's state and times:
    the province benchmark reads them)."""
    require_signer(settings)
    prepare_local_run(settings)
    # Parse the DAG for dag.test(), then leave the settings as they were: Airflow 3.3's
    # dag.test() fails on a DAG with a deadline (alerts.deadline_alert), and runs tasks one
    # after another in this process, so Cosmos's watcher mode (sensors waiting for a build
    # task that would only start after them) renders as one `dbt build` task instead
    overrides = {"PINGAN_PUBLISH_DEADLINE_ALERT": "false"}
    if settings.dbt_tasks == "watcher":
        overrides["PINGAN_DBT_TASKS"] = "single"
    with environment(overrides):
        dag = load_dag(settings)
    # 签发 waits for a person; PINGAN_SIGNOFF_AUTO_APPROVE names who signs unattended here
    with auto_approver(settings.signoff_auto_approve):
        return dag.test(logical_date=month.end(settings.timezone))


# the steps that publish, in the DAG's order: a failed run names those it never reached
PUBLISHING_STEPS = ("quality_gate", "rank_intervals", "export_ranking", "draft_bulletins",
                    "sign_off", "publish_bulletin")  # fmt: skip


def failure_summary(month: Month, run_state: object, task_instances: list) -> str:
    """One line for a failed run: the task that failed first (by when it ended), any other
    that failed, and what was not reached: the publishing steps by name, the rest as a
    count. Not every upstream_failed task: a source outage left 87 of them."""
    failed = sorted(
        (ti for ti in task_instances if str(ti.state) in ("failed", "TaskInstanceState.FAILED")),
        key=lambda ti: (ti.end_date is None, ti.end_date or ti.start_date, ti.task_id),
    )
    done = ("success", "TaskInstanceState.SUCCESS", "failed", "TaskInstanceState.FAILED")
    not_run = {ti.task_id for ti in task_instances if str(ti.state) not in done}
    steps = [step for step in PUBLISHING_STEPS if step in not_run]
    others = len(not_run) - len(steps)
    what = f"{failed[0].task_id} failed first" if failed else "no task failed"
    if len(failed) > 1:
        what += f" ({', '.join(ti.task_id for ti in failed[1:])} failed too)"
    reached = f"; not reached: {', '.join(steps) or 'none of the publishing steps'}"
    if others:
        reached += f" and {others} other task(s)"
    return (f"pingan_monthly for {month} ended {run_state}: {what}{reached}. "
            "The failed task's log above says why.")  # fmt: skip


def run_month(settings: Settings, month: Month) -> dict[str, str]:
    """Run ``pingan_monthly`` for one month's data interval; returns task states."""
    run = dag_test_month(settings, month)
    instances = list(run.get_task_instances())
    states = {ti.task_id: str(ti.state) for ti in instances}
    if str(run.state) != "success":
        raise DagRunFailed(failure_summary(month, run.state, instances))
    return states
