"""Every DAG file imports cleanly and stays thin."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

DAGS = Path(__file__).resolve().parent.parent / "dags"


@pytest.fixture(autouse=True)
def _per_node(monkeypatch: pytest.MonkeyPatch) -> None:
    """The DAGs as deployed: dbt rendered as a task per node (the suite runs dbt as one
    task under dag.test(); tests/conftest.py)."""
    monkeypatch.setenv("PINGAN_DBT_TASKS", "per_node")


def _bag():
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAGS))
    assert bag.import_errors == {}
    return bag


def _dbt_tasks(dag) -> set[str]:
    return {t.task_id for t in dag.tasks if t.task_id.startswith("dbt.")}


def test_every_dag_file_imports_without_errors() -> None:
    bag = _bag()
    # the DAGs follow the registry: a daily DAG and a monthly extract task per folder
    registered = {p.parent.name for p in (DAGS.parent / "sources").glob("*/source.yml")}
    assert {"police", "governance", "traffic", "fire", "survey", "hotline"} <= registered
    extract_dags = {f"pingan_extract_{s}" for s in ("regions", *registered)}
    assert set(bag.dag_ids) == {"pingan_monthly", "pingan_transform", *extract_dags}
    dag = bag.dags["pingan_monthly"]
    extracts = {t.task_id for t in dag.tasks if t.task_id.startswith("extract_")}
    assert extracts == {f"extract_{s}" for s in registered}
    # the schemes load beside the extracts: after the warehouse is prepared, before dbt
    assert dag.get_task("load_regions").downstream_task_ids == extracts | {"load_schemes"}
    # the extracts wait for the month's data cutoff; the sensor gives its slot back
    cutoff = dag.get_task("wait_for_cutoff")
    assert cutoff.downstream_task_ids == extracts and cutoff.mode == "reschedule"
    # dbt: a Cosmos task group, its roots after every input, the gate after its leaves
    dbt = _dbt_tasks(dag)
    roots = {t for t in dbt if not dag.get_task(t).upstream_task_ids & dbt}
    leaves = {t for t in dbt if not dag.get_task(t).downstream_task_ids & dbt}
    for task_id in roots:
        assert dag.get_task(task_id).upstream_task_ids == extracts | {"load_schemes"}
    assert dag.get_task("quality_gate").upstream_task_ids == leaves
    assert dag.get_task("quality_gate").retries == 0
    # the rank intervals (issue 15) from the month's gated scores, before any output
    assert dag.get_task("rank_intervals").upstream_task_ids == {"quality_gate"}
    assert dag.get_task("export_ranking").upstream_task_ids == {"rank_intervals"}
    # the bulletins are drafted once the ranking files exist, each signed off (签发) by a
    # person in Airflow (a human-in-the-loop task mapped over the drafts), then mailed
    # last, landing an Asset; the mail task also runs when nothing was drafted
    from airflow.providers.standard.operators.hitl import HITLOperator

    assert dag.get_task("draft_bulletins").upstream_task_ids == {"export_ranking"}
    sign_off = dag.get_task("sign_off")
    assert sign_off.operator_class is HITLOperator or isinstance(sign_off, HITLOperator)
    assert sign_off.upstream_task_ids == {"draft_bulletins"}
    assert sign_off.partial_kwargs["options"] == ["签发", "退回"]
    publish = dag.get_task("publish_bulletin")
    assert publish.upstream_task_ids == {"draft_bulletins", "sign_off"}
    assert publish.trigger_rule == "none_failed"
    assert publish.downstream_task_ids == set() and publish.outlets
    for task_id in extracts:  # the month's cut retries with backoff, and lands no Asset
        task = dag.get_task(task_id)  # (which would start pingan_transform beside it)
        assert not task.outlets and task.retries >= 1 and task.retry_exponential_backoff
    # daily extract DAGs: one task each, landing its Asset, retried with backoff
    for source in ("regions", *registered):
        (task,) = bag.dags[f"pingan_extract_{source}"].tasks
        assert task.task_id == f"extract_{source}" and task.retries >= 1
        assert [a.uri for a in task.outlets] == [f"pingan://warehouse/raw/{source}"]


def test_every_dbt_node_is_a_task(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each seed and model of the manifest is a task (with its tests), each test of
    several models a task after all of them, in the publish and the transform DAG."""
    import json

    from pingan_transforms.dbt_airflow import manifest_path
    from pingan_transforms.settings import get_settings

    manifest = json.loads(manifest_path(get_settings()).read_text())
    nodes = manifest["nodes"].values()
    built = {n["name"] for n in nodes if n["resource_type"] in ("model", "seed")}
    multi = [
        n for n in nodes
        if n["resource_type"] == "test" and len(set(n["depends_on"]["nodes"]) - {
            k for k, v in manifest["nodes"].items() if v["resource_type"] == "seed"
        }) > 1
    ]  # fmt: skip
    bag = _bag()
    for dag_id in ("pingan_monthly", "pingan_transform"):
        dbt = _dbt_tasks(bag.dags[dag_id])
        names = {t.removeprefix("dbt.").rsplit("_", 2)[0] for t in dbt}
        assert built <= names, sorted(built - names)
        assert len(dbt) >= len(built) + len(multi) // 2, (len(dbt), len(built), len(multi))
    transform = bag.dags["pingan_transform"]
    assert transform.get_task("summarise_marts").outlets
    # every `dbt build` leaves the unit tests out (test_monthly_dag runs them): per_node's
    # tasks, watcher's one build; a watcher node task's retry (`dbt run`/`seed`/`test`,
    # which have no such flag) gets no build flag
    no_units = ["--exclude-resource-type", "unit_test"]
    monthly = bag.dags["pingan_monthly"]
    per_node = [monthly.get_task(t) for t in _dbt_tasks(monthly)]
    assert per_node and all(t.dbt_cmd_flags[:2] == no_units for t in per_node)
    monkeypatch.setenv("PINGAN_DBT_TASKS", "watcher")
    watcher = _bag().dags["pingan_monthly"]
    assert watcher.get_task("dbt.dbt_producer_watcher").dbt_cmd_flags[:2] == no_units
    node = next(t for t in _dbt_tasks(watcher) if t.endswith(".run"))
    assert watcher.get_task(node).dbt_cmd_flags == ["--log-level-file", "none"]
    # PINGAN_DBT_TASKS=single: one `dbt build` task in the same place
    monkeypatch.setenv("PINGAN_DBT_TASKS", "single")
    single = _bag().dags["pingan_monthly"]
    assert _dbt_tasks(single) == {"dbt.build"}
    assert single.get_task("quality_gate").upstream_task_ids == {"dbt.build"}
    assert single.get_task("dbt.build").dbt_cmd_flags[:2] == no_units
    monkeypatch.setenv("PINGAN_DBT_UNIT_TESTS", "true")  # the unit tests in the build too
    flags = _bag().dags["pingan_monthly"].get_task("dbt.build").dbt_cmd_flags
    assert "unit_test" not in flags and "--log-level-file" in flags
    # rebuilt when the three daily sources have landed, or any drop / the region master
    uris = str(transform.timetable.asset_condition)
    for source in ("police", "governance", "traffic", "fire", "survey", "regions"):
        assert f"pingan://warehouse/raw/{source}" in uris


def test_monthly_timetable_covers_the_previous_calendar_month() -> None:
    import pendulum
    from airflow.dag_processing.dagbag import DagBag
    from airflow.serialization.encoders import coerce_to_core_timetable

    dag = DagBag(dag_folder=str(DAGS)).dags["pingan_monthly"]
    run_after = pendulum.datetime(2024, 9, 1, tz="Asia/Shanghai")
    interval = coerce_to_core_timetable(dag.timetable).infer_manual_data_interval(
        run_after=run_after
    )
    assert interval.start == pendulum.datetime(2024, 8, 1, tz="Asia/Shanghai")
    assert interval.end == run_after


def test_dag_files_are_thin() -> None:
    """No SQL and no heavy top-level imports in dags/: the typed settings, and the alerts
    (callbacks and the deadline are DAG arguments, so they are built at parse time; that
    module's own top level imports nothing but the standard library and the settings)."""
    for path in DAGS.glob("*.py"):
        tree = ast.parse(path.read_text())
        top_imports = {
            (node.module or "") if isinstance(node, ast.ImportFrom) else node.names[0].name
            for node in tree.body
            if isinstance(node, ast.Import | ast.ImportFrom)
        }
        heavy = sorted(
            m for m in top_imports if m.startswith(("pingan_transforms", "pandas", "psycopg"))
        )
        allowed = {
            "pingan_transforms.settings",
            "pingan_transforms.alerts",
            "pingan_transforms.assets",
            "pingan_transforms.dbt_airflow",
            "pingan_transforms.hitl",
        }
        assert set(heavy) <= allowed, heavy
        text = path.read_text().lower()
        for keyword in ("select ", "insert into", "create table"):
            assert keyword not in text, f"{path.name} contains SQL ({keyword!r})"


@pytest.mark.parametrize("module", ["alerts", "assets", "dbt_airflow", "hitl"])
def test_the_modules_dags_import_are_light(module: str) -> None:
    import sys

    path = DAGS.parent / "pingan_transforms" / f"{module}.py"
    tree = ast.parse(path.read_text())
    top = {
        (node.module or "") if isinstance(node, ast.ImportFrom) else node.names[0].name
        for node in tree.body
        if isinstance(node, ast.Import | ast.ImportFrom)
    }
    project = {m for m in top if m.startswith("pingan_transforms")}
    # settings, and the registry (a few small YAML files read with pydantic)
    # and the sign-off's words (publish/signoff.py, its heavy imports inside functions),
    # and the data cutoff dbt is given (cutoff.py: one key of config/publishing.yml)
    allowed = {
        "pingan_transforms.cutoff",
        "pingan_transforms.settings",
        "pingan_transforms.sources",
        "pingan_transforms.months",
        "pingan_transforms.publish.signoff",
    }
    assert project <= allowed, project
    light = sys.stdlib_module_names | {"__future__", "pingan_transforms", "airflow"}
    assert all(m.split(".")[0] in light for m in top), top


def test_tasks_alert_on_failure_and_the_month_has_a_deadline(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PINGAN_PUBLISH_DEADLINE_ALERT", "true")
    bag = _bag()
    for dag in bag.dags.values():
        for task in dag.tasks:
            (notifier,) = task.on_failure_callback
            assert type(notifier).__name__ == "SmtpNotifier", (dag.dag_id, task.task_id)
            assert notifier.smtp_conn_id == "pingan_smtp" and notifier.to
    (deadline,) = bag.dags["pingan_monthly"].deadline
    assert deadline.name == "pingan_publish_deadline"
    monkeypatch.setenv("PINGAN_PUBLISH_DEADLINE_ALERT", "false")  # as under dag.test()
    assert not _bag().dags["pingan_monthly"].deadline


def test_a_failed_run_names_its_first_failure_and_counts_the_rest() -> None:
    """The one line a failed run ends with (orchestrate.failure_summary), from the task
    instances' own states and times: not every upstream_failed task by name."""
    from datetime import datetime
    from types import SimpleNamespace

    from pingan_transforms.months import Month
    from pingan_transforms.orchestrate import failure_summary

    def ti(task_id: str, state: str, minute: int | None = None) -> SimpleNamespace:
        at = None if minute is None else datetime(2024, 9, 1, 0, minute)
        return SimpleNamespace(task_id=task_id, state=state, start_date=at, end_date=at)

    instances = [
        ti("extract_police", "success", 1), ti("extract_traffic", "failed", 3),
        ti("extract_fire", "failed", 5),
        *(ti(f"dbt.model_{k}", "upstream_failed") for k in range(80)),
        ti("quality_gate", "upstream_failed"), ti("export_ranking", "upstream_failed"),
        ti("publish_bulletin", "upstream_failed"),
    ]  # fmt: skip
    assert failure_summary(Month(2024, 8), "failed", instances) == (
        "pingan_monthly for 2024-08 ended failed: extract_traffic failed first "
        "(extract_fire failed too); not reached: quality_gate, export_ranking, "
        "publish_bulletin and 80 other task(s). The failed task's log above says why."
    )
