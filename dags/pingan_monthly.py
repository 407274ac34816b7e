"""Monthly 平安指数 run: regions → source extracts and schemes → dbt build → ranking files
→ bulletin mailed (a revision when published data changed).

The data interval is a calendar month in Beijing time; a run for [Aug 1, Sep 1)
starts on Sep 1 and publishes August. Every task calls one function of
``pingan_transforms.tasks`` and is idempotent for its interval.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import Asset, CronDataIntervalTimetable, dag, task

# Alerts are DAG arguments, built at parse time; the module imports only the settings
# (the SMTP provider and config/publishing.yml are read inside its functions).
from pingan_transforms.alerts import failure_notifier

# Typed settings (pydantic): cheap at parse time, and a bad value stops the
# DAG import with a message naming the PINGAN_* variable.
from pingan_transforms.settings import get_settings

SETTINGS = get_settings()

RAW_POLICE = Asset("pingan://warehouse/raw/police")
RAW_REGIONS = Asset("pingan://warehouse/raw/regions__master")
RAW_TRAFFIC = Asset("pingan://warehouse/raw/traffic")
RAW_FIRE = Asset("pingan://warehouse/raw/fire")
RAW_GOVERNANCE = Asset("pingan://warehouse/raw/governance")
RAW_SURVEY = Asset("pingan://warehouse/raw/survey")
# Sources can be down for a while: retry with exponential backoff (30 s, 60 s, 120 s …).
SOURCE_RETRIES = {
    "retries": SETTINGS.source_retries,
    "retry_delay": timedelta(seconds=SETTINGS.source_retry_delay_seconds),
    "retry_exponential_backoff": 2.0,
}
SCHEMES = Asset("pingan://warehouse/schemes")
MART_INDEX = Asset("pingan://warehouse/marts/region_index_monthly")
PUBLICATIONS = Asset("pingan://warehouse/publish/publications")


@dag(
    dag_id="pingan_monthly",
    schedule=CronDataIntervalTimetable("0 0 1 * *", timezone="Asia/Shanghai"),
    start_date=pendulum.datetime(2024, 1, 1, tz="Asia/Shanghai"),
    catchup=False,
    max_active_runs=1,
    tags=["pingan"],
    # a task that fails for good mails the alert list (config/publishing.yml)
    default_args={"retries": 0, "on_failure_callback": failure_notifier(SETTINGS)},
)
def pingan_monthly() -> None:
    @task(outlets=[RAW_REGIONS])
    def load_regions() -> dict:
        from pingan_transforms.tasks import load_regions

        return load_regions()

    @task(outlets=[RAW_POLICE], **SOURCE_RETRIES)
    def extract_police(data_interval_end=None) -> dict:
        from pingan_transforms.tasks import extract_police

        return extract_police(data_interval_end)

    @task(outlets=[RAW_TRAFFIC], **SOURCE_RETRIES)
    def extract_traffic(data_interval_start=None, data_interval_end=None) -> dict:
        from pingan_transforms.tasks import extract_traffic

        return extract_traffic(data_interval_start, data_interval_end)

    @task(outlets=[RAW_FIRE], **SOURCE_RETRIES)
    def extract_fire() -> dict:
        from pingan_transforms.tasks import extract_fire

        return extract_fire()

    @task(outlets=[RAW_SURVEY], **SOURCE_RETRIES)
    def extract_survey() -> dict:
        from pingan_transforms.tasks import extract_survey

        return extract_survey()

    @task(outlets=[RAW_GOVERNANCE], **SOURCE_RETRIES)
    def extract_governance(data_interval_end=None) -> dict:
        from pingan_transforms.tasks import extract_governance

        return extract_governance(data_interval_end)

    @task(outlets=[SCHEMES])
    def load_schemes() -> dict:
        from pingan_transforms.tasks import load_schemes

        return load_schemes()

    @task(outlets=[MART_INDEX])
    def dbt_build() -> dict:
        from pingan_transforms.tasks import build_models

        return build_models()

    @task(retries=0)  # a failed check does not fix itself on retry
    def quality_gate(data_interval_start=None) -> dict:
        from pingan_transforms.tasks import quality_gate

        return quality_gate(data_interval_start)

    @task
    def export_ranking(data_interval_start=None) -> dict:
        from pingan_transforms.tasks import export_ranking

        return export_ranking(data_interval_start)

    @task(outlets=[PUBLICATIONS])
    def publish_bulletin(data_interval_start=None) -> dict:
        from pingan_transforms.tasks import publish_bulletin

        return publish_bulletin(data_interval_start)

    extracts = [
        extract_police(),
        extract_traffic(),
        extract_fire(),
        extract_governance(),
        extract_survey(),
    ]
    # the schemes load after load_regions has prepared the warehouse, beside the extracts
    inputs = [*extracts, load_schemes()]
    load_regions() >> inputs
    inputs >> dbt_build() >> quality_gate() >> export_ranking() >> publish_bulletin()


pingan_monthly_dag = pingan_monthly()
