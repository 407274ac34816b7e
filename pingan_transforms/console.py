"""A month's run as a person reads it (``pingan run``, ``pingan demo``; ``-v`` restores
the full stream).

``dag.test()`` runs every task in its own process and prints everything dbt, Cosmos and
Airflow say: thousands of lines per month, with the one that matters at the end. So the
month runs in a child process (``pingan run MONTH --inline``) whose whole output goes to
``<state dir>/logs/<run>/<month>.log``, while this process reads the task instances
from Airflow's metadata database and prints one line per task as it finishes: task,
state, seconds, rows where the task returned a count.

The child has a process group of its own: Ctrl-C or SIGTERM reaches only this process,
which ends the child's whole group (dag.test, dbt, the checks) within seconds, says the
run was interrupted, and leaves the warehouse running, since it is the user's (pg_ctl
detaches it from the terminal and from us).
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from pingan_transforms.months import Month
from pingan_transforms.orchestrate import DagRunFailed, airflow_env
from pingan_transforms.settings import Settings

DAG_ID = "pingan_monthly"
TAIL_LINES = 30
STOP_GRACE_SECONDS = 5.0


class Interrupted(Exception):
    """Ctrl-C or SIGTERM: the run was stopped, its processes ended."""


def log_dir(settings: Settings, what: str) -> Path:
    """``<state dir>/logs/<YYYYMMDDTHHMMSS>-<what>/``, new for every invocation."""
    path = settings.state_dir / "logs" / f"{datetime.now():%Y%m%dT%H%M%S}-{what}"
    path.mkdir(parents=True, exist_ok=True)
    return path


@contextmanager
def terminated_as_interrupt() -> Iterator[None]:
    """SIGTERM raises KeyboardInterrupt here, as Ctrl-C does, so both stop the same way."""

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def run_month_in_child(
    settings: Settings, month: Month, logs: Path, signer: str | None
) -> dict[str, str]:
    """The month's ``pingan_monthly`` run in a child process, one printed line per task;
    returns the task states, or raises DagRunFailed naming the task that failed first,
    its last log lines and the log's path, or Interrupted."""
    log_path = logs / f"{month}.log"
    database = settings.state_dir / "airflow" / "airflow.db"
    env = {**os.environ, **airflow_env(settings)}
    if signer:
        env["PINGAN_SIGNOFF_AUTO_APPROVE"] = signer
    command = [sys.executable, "-m", "pingan_transforms.cli", "run", str(month), "--inline"]
    before = _last_run_id(database)
    started = time.monotonic()
    with log_path.open("w") as log:
        child = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env=env, start_new_session=True,  # Ctrl-C reaches us, not the child
        )  # fmt: skip
    shown: set[tuple[str, int]] = set()
    states: dict[str, str] = {}
    try:
        while True:
            finished = child.poll() is not None
            for line, key, state in _finished_tasks(database, before, shown):
                shown.add(key)
                states[key[0]] = state
                print(line, flush=True)
            if finished:
                break
            time.sleep(0.5)
    except KeyboardInterrupt:
        stopped = _stop(child)
        raise Interrupted(
            f"{DAG_ID} {month} interrupted after {time.monotonic() - started:.0f} s; "
            f"{'its processes ended' if stopped else 'a process did not stop: see ps'}; "
            f"log: {log_path}"
        ) from None
    if child.returncode != 0:
        raise DagRunFailed(_failure(month, log_path))
    return states


def _stop(child: subprocess.Popen) -> bool:
    """End the child's process group: SIGTERM, then SIGKILL after a grace period."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(child.pid, sig)
        except ProcessLookupError:
            return True
        try:
            child.wait(timeout=STOP_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            continue
        # the group may outlive its leader (dbt's own children): wait for it to empty
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        while time.monotonic() < deadline:
            try:
                os.killpg(child.pid, 0)
            except ProcessLookupError:
                return True
            time.sleep(0.1)
    try:
        os.killpg(child.pid, 0)
    except ProcessLookupError:
        return True
    return False


def _failure(month: Month, log_path: Path) -> str:
    """What the child said last (its one-line summary of the failed run), then the last
    lines of its log, which are the failed task's: dag.test() runs the tasks one after
    another and marks the rest upstream_failed without running them."""
    lines = log_path.read_text(errors="replace").splitlines()
    said = next((line for line in reversed(lines) if line.startswith("pingan: ")), None)
    summary = said.removeprefix("pingan: ") if said else f"{DAG_ID} {month} failed"
    tail = "\n".join(f"    {line}" for line in lines[-TAIL_LINES:])
    return f"{summary}\n  last {TAIL_LINES} lines of {log_path}:\n{tail}\n  log: {log_path}"


def _connect(database: Path) -> sqlite3.Connection | None:
    if not database.exists():
        return None
    return sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5)


def _last_run_id(database: Path) -> int:
    conn = _connect(database)
    if conn is None:
        return 0
    try:
        (last,) = conn.execute(
            "select coalesce(max(id), 0) from dag_run where dag_id = ?", (DAG_ID,)
        ).fetchone()
        return int(last)
    except sqlite3.Error:  # a metadata database the child has not migrated yet
        return 0
    finally:
        conn.close()


def _finished_tasks(
    database: Path, after_run: int, shown: set[tuple[str, int]]
) -> list[tuple[str, tuple[str, int], str]]:
    """Lines for the task instances of the child's run that ended since the last look."""
    conn = _connect(database)
    if conn is None:
        return []
    try:
        rows = conn.execute(
            """
            select ti.task_id, ti.map_index, ti.state, ti.start_date, ti.end_date, x.value
            from task_instance as ti
            join dag_run as run on run.dag_id = ti.dag_id and run.run_id = ti.run_id
            left join xcom as x
                on x.dag_run_id = run.id and x.task_id = ti.task_id
                and x.map_index = ti.map_index and x.key = 'return_value'
            where ti.dag_id = ? and run.id > ?
                and ti.state in ('success', 'failed', 'upstream_failed', 'skipped')
            order by ti.end_date, ti.task_id, ti.map_index
            """,
            (DAG_ID, after_run),
        ).fetchall()
    except sqlite3.Error:  # locked for a moment or not migrated yet: look again later
        return []
    finally:
        conn.close()
    found = []
    for task_id, map_index, state, start, end, value in rows:
        key = (task_id, int(map_index))
        if key in shown:
            continue
        name = task_id if map_index < 0 else f"{task_id}[{map_index}]"
        seconds = _seconds(start, end)
        took = f"{seconds:6.1f} s" if seconds is not None else "        "
        rows_note = _rows(value)
        found.append((f"  {name:<28} {state:<16} {took}  {rows_note}".rstrip(), key, state))
    return found


def _seconds(start: str | None, end: str | None) -> float | None:
    if not start or not end:
        return None
    try:
        return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()
    except ValueError:
        return None


def _rows(value: str | bytes | None) -> str:
    """ "1,234 rows" when the task returned a count of rows (an extract), else nothing."""
    if value is None:
        return ""
    try:
        returned = json.loads(value)
    except (TypeError, ValueError):
        return ""
    rows = returned.get("rows") if isinstance(returned, dict) else None
    if isinstance(rows, dict):
        rows = sum(v for v in rows.values() if isinstance(v, int))
    return f"{rows:,} rows" if isinstance(rows, int) else ""
