"""Benchmark: what each way of running dbt in Airflow costs under a real scheduler.

Usage: ``python benchmarks/bench_dbt_modes.py`` (``make bench-dbt-modes``). For each
``PINGAN_DBT_TASKS`` mode asked (default ``single`` then ``watcher``), in a state
directory of its own (``.pingan-bench-modes/<mode>/``, removed first: a new embedded
warehouse, new Airflow metadata), it runs ``pingan airflow --fresh --backfill --exit``
for one month of the demo's county (the simulated sources, the demo's region master,
every draft signed by ``bench`` through the API server): api-server, scheduler,
dag-processor and triggerer, LocalExecutor, as deployed. Then it reads the month's task
instances from Airflow's metadata database:

- **dbt phase**: from the end of the last task before dbt (the extracts,
  ``load_schemes``) to the end of the last dbt task (in watcher mode the last node task
  turning green, not the build);
- **build**: the task that runs ``dbt build`` (``dbt.build`` or
  ``dbt.dbt_producer_watcher``), its own run time;
- **month**: the run's first task start to its last task end.

It prints each mode's figures and the ratio of each mode's dbt phase to ``single``'s,
measured in the same run (issue 19 asks at most 1.3× for the mode that shows every
model). Figures go to ``output/bench/dbt_modes.json``. A mode's run that fails names
the task and keeps its logs under its state directory.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BEFORE_DBT = ("load_regions", "load_schemes", "wait_for_cutoff")
BUILD_TASKS = ("dbt.build", "dbt.dbt_producer_watcher")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _mode_environment(state_dir: Path, mode: str) -> dict[str, str]:
    env = {
        **os.environ,
        "PINGAN_STATE_DIR": str(state_dir),
        "PINGAN_OUTPUT_DIR": str(state_dir / "output"),
        "PINGAN_DBT_TASKS": mode,
        "GX_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    for key in ("PINGAN_WAREHOUSE_URL", "AIRFLOW_HOME", "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"):
        env.pop(key, None)  # the mode's own embedded warehouse and Airflow home
    return env


def _stop_warehouse(env: dict[str, str]) -> None:
    subprocess.run(
        [sys.executable, "-m", "pingan_transforms.cli", "warehouse", "stop"],
        env=env, capture_output=True, text=True, cwd=ROOT,
    )  # fmt: skip


def _task_instances(env: dict[str, str]) -> list[dict]:
    """The month's task instances (one run) from the mode's Airflow metadata database."""
    code = (
        "import json, psycopg\n"
        "from pingan_transforms.settings import get_settings\n"
        "from pingan_transforms.warehouse import resolve_target\n"
        "target = resolve_target(get_settings()).with_database('airflow')\n"
        "with psycopg.connect(target.url) as conn:\n"
        '    rows = conn.execute("select task_id, map_index, state, start_date, end_date, "\n'
        "        \"try_number from task_instance where dag_id = 'pingan_monthly'\").fetchall()\n"
        "print(json.dumps([dict(task_id=r[0], map_index=r[1], state=r[2],\n"
        "    start=r[3].isoformat() if r[3] else None, end=r[4].isoformat() if r[4] else None,\n"
        "    tries=r[5]) for r in rows]))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=ROOT,
        check=True,
    )  # fmt: skip
    return json.loads(proc.stdout.strip().splitlines()[-1])


def phases(instances: list[dict]) -> dict[str, float | int | None]:
    """dbt phase, build and month seconds from the task instances (see the module doc)."""

    def when(text: str | None) -> datetime | None:
        return datetime.fromisoformat(text) if text else None

    ended = [(i["task_id"], when(i["start"]), when(i["end"])) for i in instances]
    ended = [(t, s, e) for t, s, e in ended if s is not None and e is not None]
    before = [e for t, _, e in ended if t in BEFORE_DBT or t.startswith("extract_")]
    dbt_ends = [e for t, _, e in ended if t.startswith("dbt.")]
    build = [(e - s).total_seconds() for t, s, e in ended if t in BUILD_TASKS]
    return {
        "dbt_phase_s": (max(dbt_ends) - max(before)).total_seconds()
        if before and dbt_ends
        else None,
        "build_s": build[0] if build else None,
        "month_s": (max(e for _, _, e in ended) - min(s for _, s, _ in ended)).total_seconds()
        if ended
        else None,
        "dbt_tasks": sum(1 for i in instances if i["task_id"].startswith("dbt.")),
        "dbt_tasks_ending_after_build": sum(
            1
            for t, _, e in ended
            if t.startswith("dbt.")
            and t not in BUILD_TASKS
            and build
            and dbt_ends
            and e > max(e2 for t2, _, e2 in ended if t2 in BUILD_TASKS)
        ),  # fmt: skip
    }


def measure_mode(mode: str, month: str, root: Path) -> dict:
    state_dir = root / mode
    env = _mode_environment(state_dir, mode)
    if state_dir.exists():
        _stop_warehouse(env)
        shutil.rmtree(state_dir)
    state_dir.mkdir(parents=True)
    log = state_dir / "bench.log"
    started = time.perf_counter()
    with open(log, "w") as out:
        proc = subprocess.run(
            [sys.executable, "-m", "pingan_transforms.cli", "airflow", "--fresh", "--backfill",
             "--exit", "--months", month, "--sign-off-as", "bench", "--port", str(_free_port())],
            env=env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT,
        )  # fmt: skip
    wall = time.perf_counter() - started
    result: dict = {"mode": mode, "month": month, "wall_s": round(wall, 1), "log": str(log)}
    try:
        instances = _task_instances(env)
    finally:
        _stop_warehouse(env)
    failed = sorted(i["task_id"] for i in instances if i["state"] == "failed")
    result.update(phases(instances), failed=failed, ok=proc.returncode == 0 and not failed)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modes", nargs="+", default=["single", "watcher"],
                        choices=["single", "watcher", "per_node"])  # fmt: skip
    parser.add_argument("--month", default="2024-08")
    parser.add_argument("--state-dir", default=str(ROOT / ".pingan-bench-modes"))
    parser.add_argument("--out", default=str(ROOT / "output" / "bench"))
    args = parser.parse_args(argv)
    if args.modes[0] != "single":
        parser.error("measure `single` first: the others are reported as ratios to it")
    results = []
    for mode in args.modes:
        print(f"--- {mode}: pingan airflow --backfill {args.month} ...", flush=True)
        result = measure_mode(mode, args.month, Path(args.state_dir))
        results.append(result)
        print(f"    {json.dumps(result, ensure_ascii=False)}", flush=True)
    base = results[0].get("dbt_phase_s")
    print(f"\n{'mode':<10} {'ok':<5} {'dbt tasks':>9} {'dbt phase s':>12} {'build s':>8} "
          f"{'after build':>11} {'month s':>8} {'× single':>9}")  # fmt: skip
    for r in results:
        ratio = r["dbt_phase_s"] / base if base and r.get("dbt_phase_s") else None
        r["ratio_to_single"] = round(ratio, 2) if ratio else None
        print(f"{r['mode']:<10} {str(r['ok']):<5} {r.get('dbt_tasks') or 0:>9} "
              f"{r.get('dbt_phase_s') or 0:>12.1f} {r.get('build_s') or 0:>8.1f} "
              f"{r.get('dbt_tasks_ending_after_build') or 0:>11} {r.get('month_s') or 0:>8.1f} "
              f"{ratio or 0:>9.2f}")  # fmt: skip
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "dbt_modes.json"
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    path.write_text(json.dumps({"measured": stamp, "results": results}, indent=2) + "\n")
    print(f"\nfigures written to {path}; issue 19: watcher at most 1.3× single")
    return 0 if all(r["ok"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
