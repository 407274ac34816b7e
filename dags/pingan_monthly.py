"""Monthly 平安指数 publication: regions → source extracts and schemes → dbt (a Cosmos
task group) → quality gate → ranking files → bulletins drafted → signed off by a person
(签发, Airflow's Required Actions) → mailed. Earlier months whose published numbers
changed are reviewed under the revision policy when drafting; a material change waits
as a revision for an office (``pingan publish approve``), never mailed by the run.

The data interval is a calendar month in Beijing time; a run for [Aug 1, Sep 1)
starts on Sep 1, waits for August's data cutoff (考核截止日, config/publishing.yml: the
3rd at 24:00 by default; a backfill of a past month passes at once) and publishes
August. Every task calls one function of ``pingan_transforms.tasks`` and is idempotent
for its interval. The extracts here cut every source at the cutoff (so a re-run or a
backfill recomputes the month from the same data) and land no Asset: the daily extract
DAGs' Assets schedule ``pingan_transform``, which must not start beside a monthly run.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum

# Sign-off: the standard provider's human-in-the-loop operator, and its form
from airflow.providers.standard.operators.hitl import HITLOperator
from airflow.sdk import CronDataIntervalTimetable, dag, task

# Alerts are DAG arguments, built at parse time; the module imports only the settings
# (the SMTP provider and config/publishing.yml are read inside its functions).
from pingan_transforms.alerts import deadline_alert, failure_notifier

# The source registry (sources/<name>/source.yml, a few small YAML files): one extract
# task per registered source.
from pingan_transforms.assets import MARTS, PUBLICATIONS, SCHEMES, SOURCES

# dbt as a Cosmos task group: a task per seed, model and cross-model test, rendered from
# the manifest (or one `dbt build` task: PINGAN_DBT_TASKS=single).
from pingan_transforms.dbt_airflow import dbt_task_group
from pingan_transforms.hitl import signoff_operator_kwargs

# Typed settings (pydantic): cheap at parse time, and a bad value stops the
# DAG import with a message naming the PINGAN_* variable.
from pingan_transforms.settings import get_settings

SETTINGS = get_settings()

# Sources can be down for a while: retry with exponential backoff (30 s, 60 s, 120 s …).
SOURCE_RETRIES = {
    "retries": SETTINGS.source_retries,
    "retry_delay": timedelta(seconds=SETTINGS.source_retry_delay_seconds),
    "retry_exponential_backoff": 2.0,
}
# A month not published by day N of the next month mails the alert list; off under
# dag.test() (pingan run, the demo, the tests), which Airflow 3.3 cannot run with one.
DEADLINE = deadline_alert(SETTINGS) if SETTINGS.publish_deadline_alert else None


@dag(
    dag_id="pingan_monthly",
    schedule=CronDataIntervalTimetable("0 0 1 * *", timezone=SETTINGS.timezone),
    start_date=pendulum.datetime(2024, 1, 1, tz=SETTINGS.timezone),
    end_date=SETTINGS.schedule_end,  # PINGAN_SCHEDULE_UNTIL; none: no end
    catchup=False,
    max_active_runs=1,
    tags=["pingan", "publish"],
    deadline=DEADLINE,
    # a task that fails for good mails the alert list (config/publishing.yml)
    default_args={"retries": 0, "on_failure_callback": failure_notifier(SETTINGS)},
)
def pingan_monthly() -> None:
    @task
    def load_regions() -> dict:
        from pingan_transforms.tasks import load_regions

        return load_regions()

    # Waits for the month's data cutoff, freeing its worker slot between checks; gives up
    # after a month (the deadline alert has fired long before).
    @task.sensor(poke_interval=1800, timeout=31 * 24 * 3600, mode="reschedule")
    def wait_for_cutoff(data_interval_start=None) -> bool:
        from pingan_transforms.tasks import cutoff_reached

        return cutoff_reached(data_interval_start)

    def extract(source: str):
        """A registered source's extract (``sources/<source>/``), cut at the month's cutoff."""

        @task(task_id=f"extract_{source}", **SOURCE_RETRIES)
        def run(data_interval_start=None, data_interval_end=None) -> dict:
            from pingan_transforms.tasks import extract_month

            return extract_month(source, data_interval_start, data_interval_end)

        return run()

    @task(outlets=[SCHEMES])
    def load_schemes() -> dict:
        from pingan_transforms.tasks import load_schemes

        return load_schemes()

    @task(retries=0, outlets=[MARTS])  # a failed check does not fix itself on retry
    def quality_gate(data_interval_start=None, run_id=None) -> dict:
        from pingan_transforms.tasks import quality_gate

        return quality_gate(data_interval_start, run_id)

    @task
    def rank_intervals(data_interval_start=None) -> dict:
        from pingan_transforms.tasks import rank_intervals

        return rank_intervals(data_interval_start)

    @task
    def export_ranking(data_interval_start=None) -> dict:
        from pingan_transforms.tasks import export_ranking

        return export_ranking(data_interval_start)

    @task
    def draft_bulletins(data_interval_start=None, run_id=None) -> list:
        from pingan_transforms.tasks import draft_bulletins

        return draft_bulletins(data_interval_start, run_id)

    # it runs when there was nothing to sign (sign_off skipped, no instance)
    @task(outlets=[PUBLICATIONS], trigger_rule="none_failed")
    def publish_bulletin(requests, answers, data_interval_start=None) -> dict:
        from pingan_transforms.tasks import publish_bulletin

        return publish_bulletin(data_interval_start, requests, answers)

    extracts = [extract(source) for source in SOURCES.sources]
    # the schemes load after load_regions has prepared the warehouse, beside the extracts
    inputs = [*extracts, load_schemes()]
    load_regions() >> inputs
    wait_for_cutoff() >> extracts
    drafted = draft_bulletins()
    # 签发: one human-in-the-loop task per draft, waiting in Airflow's Required Actions
    sign_off = HITLOperator.partial(**signoff_operator_kwargs()).expand_kwargs(drafted)
    gated = inputs >> dbt_task_group(SETTINGS) >> quality_gate()
    gated >> rank_intervals() >> export_ranking() >> drafted
    publish_bulletin(drafted, sign_off.output)


pingan_monthly_dag = pingan_monthly()
