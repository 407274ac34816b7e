"""Keep the marts fresh between publications: scheduled on the raw Assets.

Runs when police, governance and traffic have all landed since the last run, or as
soon as a file drop or the region master brings something new (assets.py). The
schemes are reloaded, then dbt builds every seed, model and test as its own task
(Cosmos, from the project's manifest), and the marts Asset is updated.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import dag, task

from pingan_transforms.alerts import failure_notifier
from pingan_transforms.assets import MARTS, SCHEMES, transform_schedule
from pingan_transforms.dbt_airflow import dbt_task_group
from pingan_transforms.settings import get_settings

SETTINGS = get_settings()


@dag(
    dag_id="pingan_transform",
    schedule=transform_schedule(),
    start_date=pendulum.datetime(2024, 1, 1, tz=SETTINGS.timezone),
    catchup=False,
    max_active_runs=1,
    tags=["pingan", "dbt"],
    default_args={"retries": 0, "on_failure_callback": failure_notifier(SETTINGS)},
)
def pingan_transform() -> None:
    @task(outlets=[SCHEMES])
    def load_schemes() -> dict:
        from pingan_transforms.tasks import load_schemes

        return load_schemes()

    @task(outlets=[MARTS])
    def summarise_marts() -> dict:
        from pingan_transforms.tasks import summarise_marts

        return summarise_marts()

    load_schemes() >> dbt_task_group(SETTINGS) >> summarise_marts()


pingan_transform_dag = pingan_transform()
