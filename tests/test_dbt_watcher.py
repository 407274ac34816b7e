"""dbt in watcher mode (PINGAN_DBT_TASKS=watcher, the deployed default) under a real
scheduler: one `dbt build`, every seed and model a task, a failing model fails as its
own task, and clearing that task after the fix re-runs it and completes the month.

What it proves, through a real deployment (api-server, scheduler, dag-processor,
triggerer; LocalExecutor; airflow_local.local_airflow), for one month of 3 towns:
1. the monthly DAG renders dbt as Cosmos's watcher group: a task per seed and model
   (and per model's tests), beside the one build task (`dbt_producer_watcher`);
2. with one model broken (a pre-hook that errors, in a copy of the dbt project), the run
   fails and the failed dbt node task is exactly that model's (`<model>.run`; the build
   task fails with it); the nodes it feeds did not run (upstream_failed), every node not
   downstream of it succeeded from the one build;
3. after the model is fixed, `airflow tasks clear -t <its task> --downstream` re-runs that
   model alone in a worker (its second try), then the nodes below it;
4. the month's bulletin, drafted, waits for sign-off (签发) in Required Actions, nothing
   mailed; `pingan publish approve majuqiao 2024-08 --by 张三` answers it through the API
   server, and the run ends in success: every dbt node task successful, the ranking
   exported, the bulletin mailed once and recorded as signed by 张三;
5. the marts so built equal those of one plain `dbt build --full-refresh` (the mode the
   other DAG tests use, tests/test_monthly_dag.py among them).
"""

from __future__ import annotations

import json
import shutil
import socket
import time
from pathlib import Path

from pingan_simulate.mailbox import mail_catcher
from pingan_simulate.sources import simulated_sources
from pingan_transforms.cli import main as cli_main
from pingan_transforms.months import Month
from pingan_transforms.publish.signoff import subject_tag
from pingan_transforms.settings import get_settings
from pingan_transforms.transform import run_dbt
from pingan_transforms.warehouse import connect
from pingan_transforms.warehouse.connection import drop_database
from tests.helpers import PROJECT, mart_rows, tongzhou_master

AUG = Month(2024, 8)
BROKEN = "int_report_periods_compared"  # feeds the marts incident_trends and rate_reports
BREAK = '{{ config(pre_hook="select pingan_test_breaks_this_model()") }}\n'


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _project_copy(tmp_path: Path) -> Path:
    """The project with its own copy of dbt_project/ (everything else linked)."""
    root = tmp_path / "project"
    root.mkdir()
    for entry in PROJECT.iterdir():
        if entry.name == "dbt_project":
            shutil.copytree(
                entry, root / entry.name, ignore=shutil.ignore_patterns("target", "logs")
            )
        elif not entry.name.startswith("."):
            (root / entry.name).symlink_to(entry)
    return root


def _node_task(task_ids: set[str], name: str, suffix: str) -> str:
    """A node's task id: `dbt.<name>.<suffix>` in the node's group when it has tests,
    `dbt.<name>_<suffix>` otherwise."""
    for task_id in (f"dbt.{name}.{suffix}", f"dbt.{name}_{suffix}"):
        if task_id in task_ids:
            return task_id
    raise AssertionError(f"no task for dbt node {name} among {sorted(task_ids)}")


def test_watcher_mode_shows_a_failing_model_as_its_task_and_a_clear_retries_it(
    databases, tmp_path, monkeypatch, airflow_db
) -> None:
    from pingan_transforms.airflow_local import local_airflow

    warehouse, _ = databases
    master = tmp_path / "regions.csv"
    tongzhou_master(master, towns=3)
    monkeypatch.setenv("PINGAN_REGIONS_FILE", str(master))
    project = _project_copy(tmp_path)
    monkeypatch.setenv("PINGAN_PROJECT_DIR", str(project))
    monkeypatch.setenv("PINGAN_DBT_TASKS", "watcher")
    # unpausing the DAG must not also start a run for last month beside ours
    monkeypatch.setenv("PINGAN_SCHEDULE_UNTIL", AUG.first_day.isoformat())
    settings = get_settings()
    model = next(settings.dbt_project_dir.glob(f"models/**/{BROKEN}.sql"))
    sql = model.read_text()
    model.write_text(BREAK + sql)
    metadata = warehouse.with_database("airflow_" + warehouse.dbname)
    # a backfill run: its data interval is the month (a manual run's is the last month
    # before now), its logical date the month's start
    logical_date = AUG.start(settings.timezone).isoformat()

    try:
        with (
            simulated_sources(settings, [AUG]),
            mail_catcher(tmp_path / "mail") as mailbox,
            local_airflow(
                settings, port=_free_port(), metadata_db=metadata.dbname, fresh=True
            ) as deployment,
        ):
            home = deployment.home
            deployment.wait_for_dag("pingan_monthly")
            deployment.cli("dags", "unpause", "pingan_monthly")
            deployment.cli(
                "backfill", "create", "--dag-id", "pingan_monthly", "--from-date", logical_date,
                "--to-date", logical_date, "--max-active-runs", "1",
            )  # fmt: skip
            (run_id,) = [r["run_id"] for r in deployment.runs("pingan_monthly")]
            assert deployment.wait_for_run("pingan_monthly", run_id, timeout=900) == "failed"

            states = deployment.task_states("pingan_monthly", run_id)
            task_ids = set(states)
            manifest = json.loads(
                (settings.dbt_project_dir / "target" / "manifest.json").read_text()
            )
            nodes = {
                n["name"]: n
                for n in manifest["nodes"].values()
                if n["resource_type"] in ("model", "seed")
            }
            # 1. every seed and model is a task of its own, beside the one build
            node_task = {
                name: _node_task(task_ids, name, "seed" if n["resource_type"] == "seed" else "run")
                for name, n in nodes.items()
            }
            assert len(node_task) >= 70 and "dbt.dbt_producer_watcher" in task_ids
            # 2. the failed node task is the broken model's, and the build failed with it
            failed = {t for t, s in states.items() if s == "failed"}
            assert failed == {node_task[BROKEN], "dbt.dbt_producer_watcher"}, failed
            below = {
                name
                for name, n in nodes.items()
                if f"model.pingan.{BROKEN}" in _ancestors(manifest, n["unique_id"])
            }
            assert below >= {"incident_trends", "rate_reports"}
            for name in below:
                assert states[node_task[name]] == "upstream_failed", (name, states[node_task[name]])
            for name in set(nodes) - below - {BROKEN}:
                assert states[node_task[name]] == "success", (name, states[node_task[name]])
            assert states["quality_gate"] == "upstream_failed"

            # 3. fix the model, clear its task and what depends on it: the run completes
            model.write_text(sql)
            # (Airflow 3.3 matches --task-regex as a substring of the task id)
            deployment.cli(
                "tasks", "clear", "pingan_monthly", "--task-regex", node_task[BROKEN],
                "--downstream", "--start-date", logical_date, "--end-date", logical_date, "--yes",
            )  # fmt: skip
            # 4. the month's draft waits for 签发 in Required Actions; a person signs it
            # from a terminal, through the API server's HITL endpoint
            monkeypatch.setenv("PINGAN_AIRFLOW_API_URL", deployment.url)
            api = get_settings()
            waiting = _wait_for_signoff(api, run_id)
            assert waiting.subject.startswith(subject_tag("majuqiao", AUG, 1))
            assert deployment.task_states("pingan_monthly", run_id)["publish_bulletin"] in (
                "none", "",
            ) and _bulletins(mailbox) == []  # nothing mailed before it is signed  # fmt: skip
            assert cli_main(["publish", "approve", "majuqiao", str(AUG), "--by", "张三"]) == 0
            state = deployment.wait_for_run("pingan_monthly", run_id, timeout=900)
            states = deployment.task_states("pingan_monthly", run_id)
            assert state == "success", {t: s for t, s in states.items() if s != "success"}
            assert {states[t] for t in node_task.values()} == {"success"}
            assert states["publish_bulletin"] == "success"
            # the model ran again in a worker, as its task's second try
            logs = deployment.home / "logs" / "dag_id=pingan_monthly" / f"run_id={run_id}"
            retry_log = logs / f"task_id={node_task[BROKEN]}" / "attempt=2.log"
            assert retry_log.exists(), sorted(p.name for p in logs.iterdir())
        assert (settings.output_dir / "rankings" / f"majuqiao_{AUG}.csv").exists()
        (mail,) = _bulletins(mailbox)  # signed, then mailed (beside the failure alerts)
        assert "month=2024-08; revision=1" in mail.message()["X-Pingan-Publication"]
        with connect(warehouse) as conn:
            assert conn.execute("select count(*) from marts.incident_trends").fetchone()[0] > 0
            assert conn.execute(
                "select signed_by from publish.publications where month_start = %s",
                (AUG.first_day,),
            ).fetchall() == [("张三",)]
        # 5. the marts the watcher tasks built, a model of them in a retry, are the marts
        # of one plain `dbt build` of everything from raw
        built = mart_rows(warehouse)
        run_dbt(["build", "--full-refresh"], warehouse, settings)
        assert mart_rows(warehouse) == built
    finally:
        model.write_text(sql)
        if "home" in locals():  # the deployment's logs, kept with the test's files
            shutil.copytree(home, tmp_path / "airflow-local", dirs_exist_ok=True)
        drop_database(metadata)


def _bulletins(mailbox) -> list:
    """The bulletins among the mail received (the failed run also mailed its alerts)."""
    return [m for m in mailbox.received if m.message()["X-Pingan-Publication"]]


def _wait_for_signoff(settings, run_id: str, timeout: float = 900):
    """The run's sign-off once it waits in Airflow (it follows dbt, the gate and drafting)."""
    from pingan_transforms.hitl import waiting

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [w for w in waiting(settings) if w.dag_run_id == run_id]
        if found:
            (one,) = found
            return one
        time.sleep(2)
    raise AssertionError(f"no sign-off waiting for {run_id} after {timeout} s")


def _ancestors(manifest: dict, unique_id: str) -> set[str]:
    seen: set[str] = set()
    stack = list(manifest["parent_map"].get(unique_id, []))
    while stack:
        node = stack.pop()
        if node not in seen:
            seen.add(node)
            stack.extend(manifest["parent_map"].get(node, []))
    return seen


def test_watcher_group_renders_a_task_per_node_started_in_the_triggerer(monkeypatch) -> None:
    """The deployed rendering (no deployment needed): one build task, a task per seed and
    model (and its tests, and each test of several models) that starts in the triggerer
    with the project's trigger, the build's end after the build whatever its state."""
    from airflow.dag_processing.dagbag import DagBag

    from pingan_transforms import dbt_airflow

    monkeypatch.setenv("PINGAN_DBT_TASKS", "watcher")
    bag = DagBag(dag_folder=str(PROJECT / "dags" / "pingan_monthly.py"))
    assert bag.import_errors == {}
    dag = bag.dags["pingan_monthly"]
    dbt = [t for t in dag.tasks if t.task_id.startswith("dbt.")]
    producer = dag.get_task("dbt.dbt_producer_watcher")
    assert type(producer).__name__ == "DbtLeanProducerWatcherOperator"
    assert producer.retries == 0 and len(producer.own_task_tests) >= 10
    assert dag.get_task("dbt.dbt_producer_watcher_done").trigger_rule == "all_done"
    nodes = [t for t in dbt if t.task_id.endswith((".run", ".seed", "_run", "_seed"))]
    assert len(nodes) >= 70
    sensors = [t for t in dbt if t not in (producer, dag.get_task("dbt.dbt_producer_watcher_done"))]
    for task in sensors:
        assert task.start_from_trigger, task.task_id
        args = task.start_trigger_args
        assert args.trigger_cls == "pingan_transforms.dbt_airflow.WatcherNodeTrigger"
        assert args.next_method == "execute_complete"
        assert args.trigger_kwargs["model_unique_id"] == task.model_unique_id
    # the triggerer imports the trigger by that path
    assert dbt_airflow.WatcherNodeTrigger.__name__ == "WatcherNodeTrigger"
    # the same group sits between the inputs and the quality gate
    assert "dbt.dbt_producer_watcher_done" in dag.get_task("quality_gate").upstream_task_ids
