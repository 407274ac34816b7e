"""Run dbt against the resolved warehouse.

dbt runs in a subprocess (the ``dbt`` executable next to this interpreter):
each invocation gets a clean process, so repeated builds inside one Airflow
worker or one test session never share dbt's global state. Target and log
paths are per database so that parallel runs against different databases do
not trample each other's artefacts.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from pingan_transforms.cutoff import dbt_vars
from pingan_transforms.settings import Settings, get_settings
from pingan_transforms.warehouse import WarehouseTarget


class DbtError(RuntimeError):
    """dbt failed; the message lists the failing nodes and their messages."""


@dataclass(frozen=True)
class DbtSummary:
    command: str
    counts: dict[str, int]
    elapsed: float

    def __str__(self) -> str:
        parts = ", ".join(f"{k}={v}" for k, v in sorted(self.counts.items()))
        return f"dbt {self.command}: {parts} in {self.elapsed:.1f}s"


def dbt_executable() -> str:
    candidate = Path(sys.executable).parent / "dbt"
    return str(candidate) if candidate.exists() else "dbt"


def run_dbt(
    args: list[str], target: WarehouseTarget, settings: Settings | None = None
) -> DbtSummary:
    settings = settings or get_settings()
    project = settings.dbt_project_dir
    artefacts = project / "target" / target.dbname
    env = {
        **os.environ,
        **target.dbt_env(),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DO_NOT_TRACK": "1",
    }
    cmd = [
        dbt_executable(), *args,
        *([] if "--vars" in args else ["--vars", json.dumps(dbt_vars(settings))]),
        "--project-dir", str(project),
        "--profiles-dir", str(project),
        "--target-path", str(artefacts),
        "--log-path", str(project / "logs" / target.dbname),
    ]  # fmt: skip
    # `dbt source freshness` writes its results to sources.json, the others to
    # run_results.json
    results_file = artefacts / (
        "sources.json" if args[:2] == ["source", "freshness"] else "run_results.json"
    )
    results_file.unlink(missing_ok=True)  # never report a previous run's results
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    results = json.loads(results_file.read_text()) if results_file.exists() else None
    if proc.returncode != 0:
        raise DbtError(_failure_message(args, proc, results))
    counts: dict[str, int] = {}
    for node in (results or {}).get("results", []):
        counts[node["status"]] = counts.get(node["status"], 0) + 1
    elapsed = float((results or {}).get("elapsed_time", 0.0))
    return DbtSummary(" ".join(args), counts, elapsed)


def _node_message(node: dict) -> str | None:
    """dbt's message for a failed node; a stale source has none, so say how stale."""
    if node.get("message") or "max_loaded_at_time_ago_in_s" not in node:
        return node.get("message")
    error_after = (node.get("criteria") or {}).get("error_after") or {}
    return (
        f"last loaded {node['max_loaded_at_time_ago_in_s'] / 86400:.1f} days ago "
        f"(at {node.get('max_loaded_at')}); it may be at most "
        f"{error_after.get('count')} {error_after.get('period')}(s) old"
    )


def _failure_message(
    args: list[str], proc: subprocess.CompletedProcess[str], results: dict | None
) -> str:
    lines = [f"dbt {' '.join(args)} failed (exit {proc.returncode})"]
    for node in (results or {}).get("results", []):
        if node["status"] in ("error", "fail", "runtime error"):
            lines.append(f"  {node['status'].upper()} {node['unique_id']}: {_node_message(node)}")
    if len(lines) == 1:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-25:])
        lines.append(tail)
    return "\n".join(lines)
