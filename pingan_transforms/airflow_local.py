"""Airflow as a real deployment on this machine: api-server, scheduler, dag-processor and
triggerer as separate processes, LocalExecutor, metadata in PostgreSQL.

``make airflow`` (``pingan airflow``) uses it to serve the UI on 127.0.0.1 with the
project's DAGs and the embedded warehouse; the backfill test uses it to run
``airflow backfill create`` the way an operator would. Unlike ``dag.test()`` every task
runs in its own worker process through the Task Execution API, as in production.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from pingan_transforms.months import Month
from pingan_transforms.orchestrate import DagRunFailed, prepare_local_run
from pingan_transforms.settings import Settings
from pingan_transforms.warehouse import ensure_database, resolve_target

COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")


def airflow_cli() -> str:
    return str(Path(sys.executable).parent / "airflow")


@dataclass
class LocalAirflow:
    """A running local deployment: where its UI is, its home and its environment."""

    url: str
    home: Path
    env: dict[str, str]
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    def cli(self, *args: str, check: bool = True, timeout: float = 300) -> str:
        """Run ``airflow <args>`` against this deployment; returns stdout."""
        proc = subprocess.run(
            [airflow_cli(), *args], env=self.env, capture_output=True, text=True, timeout=timeout
        )
        if check and proc.returncode != 0:
            raise DagRunFailed(f"airflow {' '.join(args)} failed:\n{proc.stderr[-3000:]}")
        return proc.stdout

    def runs(self, dag_id: str) -> list[dict]:
        return self._json(self.cli("dags", "list-runs", dag_id, "--output", "json"))

    @staticmethod
    def _json(out: str) -> list[dict]:
        # the JSON is the line that is a list (log lines may come before it)
        lines = [line for line in out.splitlines() if line.startswith(("[{", "[]"))]
        return json.loads(lines[-1]) if lines else []

    def trigger(self, dag_id: str, logical_date: str, run_id: str) -> None:
        """``airflow dags trigger`` of ``dag_id`` for ``logical_date`` as ``run_id``."""
        self.cli("dags", "trigger", dag_id, "--logical-date", logical_date, "--run-id", run_id)

    def task_states(self, dag_id: str, run_id: str) -> dict[str, str]:
        """Every task instance of the run: task id -> state (``None`` as "none")."""
        out = self.cli("tasks", "states-for-dag-run", dag_id, run_id, "--output", "json")
        return {r["task_id"]: str(r["state"]).lower() for r in self._json(out)}

    def wait_for_run(self, dag_id: str, run_id: str, timeout: float = 1800) -> str:
        """Until the run has finished (or is queued again after a clear: then until it
        finishes again); returns its state, success or failed."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._check_alive()
            states = {r["run_id"]: r["state"] for r in self.runs(dag_id)}
            if states.get(run_id) in ("success", "failed"):
                return states[run_id]
            time.sleep(3)
        raise DagRunFailed(
            f"{dag_id} run {run_id} did not finish in {timeout:.0f}s\n"
            + self.unfinished(dag_id, [run_id])
        )

    def wait_for_dag(self, dag_id: str, timeout: float = 180) -> None:
        """Until the dag-processor has serialised ``dag_id`` (it can then be triggered)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if dag_id in self.cli("dags", "list", "--output", "plain", check=False):
                return
            time.sleep(3)
        raise DagRunFailed(f"{dag_id} was not parsed within {timeout:.0f}s; see {self.home}")

    def wait_for_runs(
        self,
        dag_id: str,
        count: int,
        timeout: float = 3600,
        exclude: set[str] = frozenset(),
        run_type: str | None = None,
    ) -> list[dict]:
        """Until ``count`` runs of ``dag_id`` (of ``run_type``, by its run id prefix, other
        than ``exclude``) have finished; raises if one did not succeed."""
        deadline = time.monotonic() + timeout
        runs: list[dict] = []
        while time.monotonic() < deadline:
            self._check_alive()
            runs = [
                r
                for r in self.runs(dag_id)
                if r["run_id"] not in exclude
                and (run_type is None or r["run_id"].startswith(f"{run_type}__"))
            ]
            finished = [r for r in runs if r["state"] in ("success", "failed")]
            if len(finished) >= count:
                failed = [r["run_id"] for r in finished if r["state"] != "success"]
                if failed:
                    raise DagRunFailed(
                        f"{dag_id} runs failed: {failed}; task logs in {self.home}\n"
                        + self.unfinished(dag_id, failed)
                    )
                return finished
            time.sleep(5)
        waiting = [r["run_id"] for r in runs if r["state"] not in ("success", "failed")]
        raise DagRunFailed(
            f"{count} runs of {dag_id} did not finish in {timeout:.0f}s\n"
            + self.unfinished(dag_id, waiting)
        )

    def unfinished(self, dag_id: str, run_ids: list[str]) -> str:
        """Why runs did not succeed: their tasks not successful, and the end of the
        scheduler's log (a failed or timed-out wait says what it saw)."""
        lines = []
        for run_id in run_ids:
            states = self.task_states(dag_id, run_id)
            pending = {t: s for t, s in states.items() if s != "success"}
            lines.append(f"{run_id}: tasks not successful: {pending or 'none'}")
        log = self.home / "scheduler.log"
        if log.exists():
            tail = log.read_text(errors="replace").splitlines()[-40:]
            lines += ["the scheduler's log ends:", *tail]
        return "\n".join(lines)

    def _check_alive(self) -> None:
        for name, proc in self.processes.items():
            if proc.poll() is not None:
                log = self.home / f"{name}.log"
                tail = "\n".join(log.read_text(errors="replace").splitlines()[-30:])
                raise DagRunFailed(f"airflow {name} exited ({proc.returncode}):\n{tail}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def local_airflow_env(settings: Settings, port: int, metadata_db: str) -> dict[str, str]:
    """The deployment's environment: this process's (source connections, the mail
    catcher) plus Airflow's configuration."""
    home = settings.state_dir / "airflow-local"
    home.mkdir(parents=True, exist_ok=True)
    secret_file = home / "jwt_secret"
    if not secret_file.exists():
        secret_file.write_text(secrets.token_urlsafe(32))
        secret_file.chmod(0o600)
    metadata = resolve_target(settings).with_database(metadata_db)
    ensure_database(metadata)
    sqlalchemy_url = metadata.url.replace("postgresql://", "postgresql+psycopg2://", 1)
    base = f"http://127.0.0.1:{port}"
    return {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(settings.project_dir / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        # two cores: a few workers at a time, dbt models in parallel where the graph allows
        "AIRFLOW__CORE__PARALLELISM": "3",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{base}/execution/",
        # local only (bound to 127.0.0.1): everyone who reaches the UI is an admin
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": sqlalchemy_url,
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__BASE_URL": base,
        "AIRFLOW__API_AUTH__JWT_SECRET": secret_file.read_text(),
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "10",
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",  # task logs in full (dag.test: WARNING)
        # the scheduler's and the triggerer's log servers: free ports, so that two
        # deployments on one machine (a test's beside `make airflow`) do not collide
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
        "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
        # Cosmos's cache (dbt's partial parse, profiles) in the state dir: one shared by
        # deployments of other warehouses (the default, /tmp/cosmos) sees the profile
        # change and makes dbt parse the whole project again (40 s here)
        "AIRFLOW__COSMOS__CACHE_DIR": str(settings.state_dir / "cosmos"),
        "GX_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
    }


def _wait_healthy(url: str, deployment: LocalAirflow, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        deployment._check_alive()
        try:
            with urllib.request.urlopen(f"{url}/api/v2/monitor/health", timeout=5) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        time.sleep(2)
    raise DagRunFailed(f"the api-server did not answer at {url} within {timeout:.0f}s")


@contextmanager
def local_airflow(
    settings: Settings, port: int = 8080, metadata_db: str = "airflow", fresh: bool = False
) -> Iterator[LocalAirflow]:
    """Start the four Airflow components (after ``airflow db migrate``) and stop them on exit.

    ``fresh`` drops the metadata database first (the tests' deployments start empty).
    Components log to ``<state>/airflow-local/<component>.log``, tasks under ``logs/``.
    """
    prepare_local_run(settings)
    if fresh:
        from pingan_transforms.warehouse.connection import drop_database

        drop_database(resolve_target(settings).with_database(metadata_db))
        shutil.rmtree(settings.state_dir / "airflow-local", ignore_errors=True)
    env = local_airflow_env(settings, port, metadata_db)
    deployment = LocalAirflow(f"http://127.0.0.1:{port}", Path(env["AIRFLOW_HOME"]), env)
    deployment.cli("db", "migrate")
    try:
        for name in COMPONENTS:
            log = open(deployment.home / f"{name}.log", "ab")  # noqa: SIM115 (kept by Popen)
            command = [airflow_cli(), name]
            if name == "scheduler":  # its LocalExecutor workers fork from it: see _preloaded
                command = [sys.executable, "-m", "pingan_transforms.airflow_local", name]
            deployment.processes[name] = subprocess.Popen(
                command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        _wait_healthy(deployment.url, deployment)
        yield deployment
    finally:
        for proc in deployment.processes.values():
            if proc.poll() is None:
                os.killpg(proc.pid, 15)
        for proc in deployment.processes.values():
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, 9)


def backfill(
    deployment: LocalAirflow, months: list[Month], tz: str, timeout: float = 3600
) -> list[dict]:
    """``airflow backfill create`` over ``months`` for pingan_monthly; waits for every run.

    A backfill run's logical date is the start of its data interval, so the window is
    from the first month's start to the last month's start (both inclusive).
    """
    first, last = months[0].start(tz), months[-1].start(tz)
    deployment.wait_for_dag("pingan_monthly")
    deployment.cli("dags", "unpause", "pingan_monthly")
    before = {r["run_id"] for r in deployment.runs("pingan_monthly")}
    try:
        deployment.cli(
            "backfill", "create", "--dag-id", "pingan_monthly",
            "--from-date", first.isoformat(), "--to-date", last.isoformat(),
            "--max-active-runs", "1", "--reprocess-behavior", "completed",
        )  # fmt: skip
    except DagRunFailed as exc:
        if "AlreadyRunningBackfill" in str(exc):
            raise DagRunFailed(
                "another backfill of pingan_monthly is still running: wait for it (the grid "
                "shows it) or cancel it with `airflow backfill cancel --id <id>`"
            ) from None
        raise
    return deployment.wait_for_runs(
        "pingan_monthly", len(months), timeout=timeout, exclude=before, run_type="backfill"
    )


def screenshot_grid(deployment: LocalAirflow, dag_id: str, path: str | Path) -> Path:
    """A PNG of the DAG's grid in a real headless Chromium (Debian's ``chromium``), with
    every task group expanded so that each dbt node shows as its own row."""
    from playwright.sync_api import sync_playwright

    from pingan_transforms.chromium import CHROMIUM_FLAGS, chromium_path

    chromium = chromium_path() or "/usr/bin/chromium"
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=list(CHROMIUM_FLAGS))
        # tall enough for every task of the monthly DAG (about 95 rows) on one page
        page = browser.new_page(viewport={"width": 1600, "height": 2200})
        page.goto(f"{deployment.url}/dags/{dag_id}", wait_until="networkidle")
        page.get_by_label("Expand all task groups").click()
        page.wait_for_load_state("networkidle")
        page.wait_for_timeout(2000)
        page.screenshot(path=str(path), full_page=True)
        browser.close()
    return path


def _preloaded(component: str) -> None:
    """Run an Airflow component with dbt and Cosmos already imported.

    LocalExecutor forks its workers from the scheduler, and each task process forks
    from a worker, so modules the scheduler has imported are there for every task
    without importing them again: about 3 s less per dbt node task (measured: dbt's
    import is the largest part of Cosmos's per-task overhead). Same idea as
    gunicorn's ``--preload``; nothing is shared between tasks but read-only modules.
    """
    import cosmos.operators.local  # noqa: F401
    import cosmos.operators.watcher  # noqa: F401
    import dbt.adapters.postgres  # noqa: F401
    import dbt.cli.main  # noqa: F401
    from airflow.__main__ import main

    sys.argv = ["airflow", component]
    main()


if __name__ == "__main__":
    _preloaded(sys.argv[1])
