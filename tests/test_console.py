"""The console of `pingan run` / `pingan demo` (issue 18): a line per task, the full
logs in files, a failed run's cause and log tail, and Ctrl-C that stops everything."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pingan_transforms.console import _failure, _rows
from pingan_transforms.months import Month

SEP = Month(2024, 9)


def test_a_task_line_counts_the_rows_an_extract_returned() -> None:
    assert _rows(json.dumps({"rows": {"incidents": 5990, "fraud_warnings": 680}})) == "6,670 rows"
    assert _rows(json.dumps({"rows": 22})) == "22 rows"
    assert _rows(json.dumps({"month": "2024-09"})) == ""
    assert _rows(json.dumps([{"subject": "x"}])) == ""
    assert _rows(None) == "" and _rows("not json") == ""


def test_a_failed_month_names_the_cause_and_shows_the_log_tail(tmp_path: Path) -> None:
    log = tmp_path / "2024-09.log"
    lines = [f"dbt line {n}" for n in range(100)]
    lines += ["pingan: pingan_monthly for 2024-09 ended failed: extract_traffic failed first"]
    log.write_text("\n".join(lines) + "\n")
    message = _failure(SEP, log)
    first, *rest = message.splitlines()
    assert first == "pingan_monthly for 2024-09 ended failed: extract_traffic failed first"
    # the last 30 lines: 29 of the log and the summary line
    assert "dbt line 71" in message and "dbt line 70" not in message
    assert rest[-1] == f"  log: {log}"


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


@pytest.mark.slow
def test_ctrl_c_stops_a_month_within_seconds_and_leaves_the_warehouse_running(
    databases, tmp_path, monkeypatch, airflow_db
) -> None:
    from pingan_simulate.mailbox import mail_catcher
    from pingan_simulate.sources import simulated_sources
    from pingan_transforms.settings import get_settings
    from pingan_transforms.warehouse import connect
    from tests.helpers import tongzhou_majuqiao

    warehouse, _ = databases
    tongzhou_majuqiao(tmp_path, monkeypatch)
    settings = get_settings()
    with simulated_sources(settings, [SEP]), mail_catcher(tmp_path / "mail") as mailbox:
        run = subprocess.Popen(
            [sys.executable, "-m", "pingan_transforms.cli", "run", str(SEP),
             "--sign-off-as", "测试"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ),
        )  # fmt: skip
        lines = []
        assert run.stdout is not None
        for line in run.stdout:  # a line per finished task, as they finish
            lines.append(line.rstrip())
            if sum("extract_" in seen for seen in lines) == 6:
                break  # every extract done: dbt builds the month now
        (child,) = _children(run.pid)  # the month's dag.test(), in a group of its own
        time.sleep(3)
        run.send_signal(signal.SIGINT)
        asked = time.monotonic()
        _, err = run.communicate(timeout=60)
        took = time.monotonic() - asked
        assert run.returncode == 130, err
        assert took < 15, f"{took:.1f} s to stop"
        assert "interrupted" in err and f"{SEP}.log" in err, err
        assert not _group_alive(child), "a process of the month's run outlived the interrupt"
        assert not mailbox.received, [m.message()["Subject"] for m in mailbox.received]
    # the warehouse is the user's: still there
    with connect(warehouse) as conn:
        assert conn.execute("select 1").fetchone() == (1,)
    # the lines seen were one per task, not dbt's stream
    assert lines[0] == f"pingan_monthly {SEP}:"
    assert all(line.startswith("  ") for line in lines[1:]), lines
