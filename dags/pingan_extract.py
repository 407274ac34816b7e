"""One extract DAG per source: ``pingan_extract_<source>``, daily, each landing an Asset.

Database and API sources are read up to the end of each day; file drops (fire,
survey) and the region master are looked at daily and land only when something new
arrived (otherwise the task is skipped and records no Asset event). The transform
DAG is scheduled on these Assets. Every task calls ``pingan_transforms.tasks``.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import CronDataIntervalTimetable, dag, task

from pingan_transforms.alerts import failure_notifier
from pingan_transforms.assets import RAW
from pingan_transforms.settings import get_settings

SETTINGS = get_settings()


def extract_dag(source: str):
    """The DAG of one source: a daily data interval in Beijing time, retries with
    exponential backoff for a source that is down (30 s, 60 s, 120 s …)."""

    @dag(
        dag_id=f"pingan_extract_{source}",
        schedule=CronDataIntervalTimetable("0 2 * * *", timezone=SETTINGS.timezone),
        start_date=pendulum.datetime(2024, 1, 1, tz=SETTINGS.timezone),
        catchup=False,
        max_active_runs=1,
        tags=["pingan", "extract"],
        default_args={
            "retries": SETTINGS.source_retries,
            "retry_delay": timedelta(seconds=SETTINGS.source_retry_delay_seconds),
            "retry_exponential_backoff": 2.0,
            "on_failure_callback": failure_notifier(SETTINGS),
        },
    )
    def extract() -> None:
        @task(task_id=f"extract_{source}", outlets=[RAW[source]])
        def run(data_interval_start=None, data_interval_end=None) -> dict:
            from pingan_transforms.tasks import extract_source

            return extract_source(source, data_interval_start, data_interval_end)

        run()

    return extract()


for _source in RAW:
    globals()[f"pingan_extract_{_source}_dag"] = extract_dag(_source)
