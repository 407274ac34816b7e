"""Failure and deadline alerts (pingan_transforms/alerts.py).

The failure mail itself, sent by a real run through a real SMTP server, is asserted in
tests/test_monthly_dag.py (the run whose traffic API is down for good), at no extra cost.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from pingan_transforms.alerts import deadline_alert, deadline_interval, publish_deadline
from pingan_transforms.months import Month
from pingan_transforms.settings import ConfigError, get_settings

BEIJING = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize(
    ("month", "day", "due"),
    [
        (Month(2024, 8), 5, datetime(2024, 9, 6, tzinfo=BEIJING)),  # end of 5 September
        (Month(2024, 12), 5, datetime(2025, 1, 6, tzinfo=BEIJING)),  # across the year
        (Month(2024, 1), 10, datetime(2024, 2, 11, tzinfo=BEIJING)),
        (Month(2024, 2), 1, datetime(2024, 3, 2, tzinfo=BEIJING)),  # leap February
    ],
)
def test_the_deadline_is_the_end_of_the_configured_day_of_the_next_month(
    month, day, due, monkeypatch
) -> None:
    monkeypatch.setenv("PINGAN_PUBLISH_DEADLINE_DAY", str(day))
    assert publish_deadline(month, get_settings()) == due


@pytest.mark.parametrize("month", [Month(2024, m) for m in range(1, 13)])
def test_the_airflow_deadline_never_comes_before_the_calendar_deadline(month) -> None:
    """A scheduled run's logical date is the start of its month; the alert fires at
    logical date + interval, which is the calendar deadline for 31-day months and at most
    three days after it otherwise, never before."""
    settings = get_settings()
    fires = month.start(settings.timezone) + deadline_interval(settings)
    late = fires - publish_deadline(month, settings)
    assert timedelta(0) <= late <= timedelta(days=3)
    assert late == timedelta(days=31 - month.days)


def test_the_deadline_day_is_validated(monkeypatch) -> None:
    monkeypatch.setenv("PINGAN_PUBLISH_DEADLINE_DAY", "31")
    with pytest.raises(ConfigError, match="PINGAN_PUBLISH_DEADLINE_DAY"):
        get_settings()


def test_the_deadline_alert_mails_the_alert_list_through_the_smtp_notifier() -> None:
    from airflow.sdk import AsyncCallback, DeadlineReference

    alert = deadline_alert(get_settings())
    assert alert.reference == DeadlineReference.DAGRUN_LOGICAL_DATE
    assert alert.interval == timedelta(days=36)
    assert isinstance(alert.callback, AsyncCallback)
    kwargs = alert.callback.kwargs
    assert kwargs["smtp_conn_id"] == "pingan_smtp"
    assert kwargs["to"] == ["平安指数运维 <pingan-ops@example.gov.cn>"]
    assert (
        "day 5" in kwargs["subject"]
        and "{{ dag_run.data_interval_start[:7] }}" in kwargs["subject"]
    )


def test_the_deadline_mail_renders_from_the_triggerer_context() -> None:
    """The triggerer awaits ``SmtpNotifier(**kwargs, context=...)`` with a reduced
    context (the run as JSON, the deadline); the subject and body render from it."""
    from airflow.providers.smtp.notifications.smtp import SmtpNotifier

    alert = deadline_alert(get_settings())
    context = {
        "dag_run": {
            "dag_id": "pingan_monthly",
            "run_id": "scheduled__2024-08-01T00:00:00+08:00",
            "state": "running",
            "data_interval_start": "2024-08-01T00:00:00+08:00",
            "data_interval_end": "2024-09-01T00:00:00+08:00",
        },
        "deadline": {"id": "x", "deadline_time": "2024-09-06T00:00:00+08:00"},
    }
    notifier = SmtpNotifier(**alert.callback.kwargs, context=context)
    notifier.render_template_fields(context)
    assert "2024-08" in notifier.subject and "pingan_monthly" in notifier.subject
    assert "2024-09-06" in notifier.html_content and "running" in notifier.html_content


def test_alerts_go_to_default_recipients_without_an_alert_list(tmp_path, monkeypatch) -> None:
    from pingan_transforms.alerts import failure_notifier

    publishing = tmp_path / "publishing.yml"
    publishing.write_text("sender: a@example.org\ndefault_recipients: [b@example.org]\n")
    monkeypatch.setenv("PINGAN_PUBLISHING_FILE", str(publishing))
    assert failure_notifier(get_settings()).to == ["b@example.org"]
    publishing.write_text("sender: a@example.org\n")
    with pytest.raises(ConfigError, match="alert_recipients"):
        failure_notifier(get_settings())
