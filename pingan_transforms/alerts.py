"""Operator alerts by mail: a failed task, and a month not published by its deadline.

Both go through the Airflow SMTP connection of the bulletin (``PINGAN_SMTP_CONN_ID``,
default ``pingan_smtp``) with the provider's :class:`SmtpNotifier`, from the bulletin
sender to ``alert_recipients`` of ``config/publishing.yml`` (``default_recipients``
when the file has none).

The DAG file imports this module at parse time (callbacks are DAG arguments), so its
top level imports only the standard library and the typed settings; the provider and
the publishing file are read inside the functions.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from pingan_transforms.settings import Settings, get_settings

if TYPE_CHECKING:
    from pingan_transforms.months import Month

# Jinja, rendered by SmtpNotifier with the failed task's context.
_MONTH = "{{ data_interval_start.in_timezone(params_tz).strftime('%Y-%m') }}"
FAILURE_SUBJECT = "[平安指数] 任务失败 FAILED: {{ dag.dag_id }}.{{ ti.task_id }} — 月份 " + _MONTH
FAILURE_HTML = """\
<p>平安指数流水线的任务失败（重试已用尽），后续任务不会运行，本月通报未发布。</p>
<table border="1" cellpadding="4" cellspacing="0">
<tr><th align="left">DAG</th><td>{{ dag.dag_id }}</td></tr>
<tr><th align="left">任务 task</th><td>{{ ti.task_id }}</td></tr>
<tr><th align="left">月份 month</th><td>MONTH
 (data interval {{ data_interval_start }} – {{ data_interval_end }})</td></tr>
<tr><th align="left">运行 run</th><td>{{ run_id }}</td></tr>
<tr><th align="left">尝试次数 try</th><td>{{ ti.try_number }}</td></tr>
<tr><th align="left">异常 exception</th><td><pre>{{ exception | e }}</pre></td></tr>
<tr><th align="left">日志 log</th><td><a href="{{ ti.log_url }}">{{ ti.log_url }}</a></td></tr>
</table>
""".replace("MONTH", _MONTH)

# Deadline callbacks run in the triggerer with a reduced context (``dag_run`` as a
# JSON dict and ``deadline``), which the notifier renders before sending.
DEADLINE_SUBJECT = (
    "[平安指数] 逾期未发布 NOT PUBLISHED by day {day}: {{{{ dag_run.dag_id }}}} — 月份 "
    "{{{{ dag_run.data_interval_start[:7] }}}}"
)
DEADLINE_HTML = """\
<p>平安指数 {{{{ dag_run.data_interval_start[:7] }}}} 月的通报在截止日（次月 {day} 日）前
尚未发布：运行仍未成功结束。请查看该运行。</p>
<table border="1" cellpadding="4" cellspacing="0">
<tr><th align="left">DAG</th><td>{{{{ dag_run.dag_id }}}}</td></tr>
<tr><th align="left">运行 run</th><td>{{{{ dag_run.run_id }}}}（{{{{ dag_run.state }}}}）</td></tr>
<tr><th align="left">data interval</th><td>{{{{ dag_run.data_interval_start }}}} –
 {{{{ dag_run.data_interval_end }}}}</td></tr>
<tr><th align="left">截止 deadline</th><td>{{{{ deadline.deadline_time }}}}</td></tr>
</table>
"""


def _addresses(settings: Settings) -> tuple[str, list[str]]:
    from pingan_transforms.publish.config import publishing_config

    config = publishing_config(settings)
    return config.sender, config.alert_list()


def failure_notifier(settings: Settings | None = None) -> Any:
    """The DAG's ``on_failure_callback``: one mail per task that failed for good."""
    from airflow.providers.smtp.notifications.smtp import SmtpNotifier

    settings = settings or get_settings()
    sender, recipients = _addresses(settings)
    notifier = SmtpNotifier(
        smtp_conn_id=settings.smtp_conn_id,
        from_email=sender,
        to=recipients,
        subject=FAILURE_SUBJECT.replace("params_tz", repr(settings.timezone)),
        html_content=FAILURE_HTML.replace("params_tz", repr(settings.timezone)),
        custom_headers={"X-Pingan-Alert": "task-failed"},
    )
    return notifier


def publish_deadline(month: Month, settings: Settings | None = None) -> datetime:
    """When the month's bulletin is overdue (:func:`pingan_transforms.publish.config.
    publish_deadline`, beside the data cutoff that must come before it)."""
    from pingan_transforms.publish.config import publish_deadline as deadline

    return deadline(month, settings or get_settings())


def deadline_interval(settings: Settings | None = None) -> timedelta:
    """The deadline as an offset from a scheduled run's logical date (the start of its
    month): the longest month plus the deadline day, so that the alert never comes early
    (for a month shorter than 31 days it comes 1-3 days after :func:`publish_deadline`)."""
    settings = settings or get_settings()
    return timedelta(days=31 + settings.publish_deadline_day)


def deadline_alert(settings: Settings | None = None) -> Any:
    """The DAG's ``deadline``: mail the alert list when a run has not succeeded (so the
    month is not published) by the deadline. Run by the scheduler and the triggerer."""
    from airflow.sdk import AsyncCallback, DeadlineAlert, DeadlineReference

    settings = settings or get_settings()
    sender, recipients = _addresses(settings)
    day = settings.publish_deadline_day
    return DeadlineAlert(
        reference=DeadlineReference.DAGRUN_LOGICAL_DATE,
        interval=deadline_interval(settings),
        callback=AsyncCallback(
            "airflow.providers.smtp.notifications.smtp.SmtpNotifier",
            kwargs={
                "smtp_conn_id": settings.smtp_conn_id,
                "from_email": sender,
                "to": recipients,
                "subject": DEADLINE_SUBJECT.format(day=day),
                "html_content": DEADLINE_HTML.format(day=day),
                "custom_headers": {"X-Pingan-Alert": "publish-deadline"},
            },
        ),
        name="pingan_publish_deadline",
    )
