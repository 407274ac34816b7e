"""Every DAG file imports cleanly and stays thin."""

from __future__ import annotations

import ast
from pathlib import Path

DAGS = Path(__file__).resolve().parent.parent / "dags"


def test_every_dag_file_imports_without_errors() -> None:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAGS))
    assert bag.import_errors == {}
    assert "pingan_monthly" in bag.dag_ids
    dag = bag.dags["pingan_monthly"]
    extracts = {t.task_id for t in dag.tasks if t.task_id.startswith("extract_")}
    assert extracts == {
        "extract_police",
        "extract_traffic",
        "extract_fire",
        "extract_governance",
        "extract_survey",
    }
    # the schemes load beside the extracts: after the warehouse is prepared, before dbt
    assert dag.get_task("load_regions").downstream_task_ids == extracts | {"load_schemes"}
    assert dag.get_task("dbt_build").upstream_task_ids == extracts | {"load_schemes"}
    assert dag.get_task("quality_gate").upstream_task_ids == {"dbt_build"}
    assert dag.get_task("quality_gate").retries == 0
    assert dag.get_task("export_ranking").upstream_task_ids == {"quality_gate"}
    # the bulletin is mailed last, once the ranking files exist, and lands as an Asset
    publish = dag.get_task("publish_bulletin")
    assert publish.upstream_task_ids == {"export_ranking"}
    assert publish.downstream_task_ids == set() and publish.outlets
    for task_id in extracts:  # every source lands as an Asset and retries with backoff
        task = dag.get_task(task_id)
        assert task.outlets and task.retries >= 1 and task.retry_exponential_backoff


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
        allowed = {"pingan_transforms.settings", "pingan_transforms.alerts"}
        assert set(heavy) <= allowed, heavy
        text = path.read_text().lower()
        for keyword in ("select ", "insert into", "create table"):
            assert keyword not in text, f"{path.name} contains SQL ({keyword!r})"


def test_the_alerts_module_is_light_at_import() -> None:
    import sys

    path = DAGS.parent / "pingan_transforms" / "alerts.py"
    tree = ast.parse(path.read_text())
    top = {
        (node.module or "") if isinstance(node, ast.ImportFrom) else node.names[0].name
        for node in tree.body
        if isinstance(node, ast.Import | ast.ImportFrom)
    }
    project = {m for m in top if m.startswith("pingan_transforms")}
    assert project == {"pingan_transforms.settings"}, project
    assert all(
        m.split(".")[0] in sys.stdlib_module_names | {"__future__", "pingan_transforms"}
        for m in top
    ), top


def test_tasks_alert_on_failure() -> None:
    from airflow.dag_processing.dagbag import DagBag

    dag = DagBag(dag_folder=str(DAGS)).dags["pingan_monthly"]
    for task in dag.tasks:
        (notifier,) = task.on_failure_callback
        assert type(notifier).__name__ == "SmtpNotifier"
        assert notifier.smtp_conn_id == "pingan_smtp" and notifier.to
