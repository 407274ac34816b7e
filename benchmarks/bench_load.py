"""Benchmark: extract + load of police incidents against plain PostgreSQL COPY.

Usage: ``python benchmarks/bench_load.py --rows 5000000`` (``make bench-load N=…``).

Both runs move the same rows from the same front-database table into a raw table
on the same server, in the same process kind, in the same run:

* baseline — ``COPY (select …) TO STDOUT`` streamed straight into ``COPY … FROM STDIN``:
  no parsing, no hashing; the fastest a loader can possibly be here;
* pipeline — :func:`pingan_transforms.extract.sql.extract_entity` (police incidents): watermark
  query, server-side cursor, HMAC of phone and ID numbers, COPY into ``raw``,
  batch record and watermark, one transaction.

Each measurement runs in a fresh child process so that its peak RSS is its own;
running a tenth of N as well shows whether memory stays flat as N grows.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pingan_simulate.police import FRONT_TABLE_DDL  # noqa: E402
from pingan_transforms.settings import get_settings  # noqa: E402
from pingan_transforms.warehouse import (  # noqa: E402
    WarehouseTarget,
    connect,
    ensure_database,
    prepare_warehouse,
    resolve_target,
)
from pingan_transforms.warehouse.connection import drop_database  # noqa: E402

FILL_SQL = """
insert into jq_110
select
    'B' || lpad(g::text, 12, '0'),
    ts,
    ts + interval '2 minutes',
    ts + interval '12 minutes',
    lpad(((g %% 9) + 1)::text || '0', 2, '0'),
    '治安',
    ((g %% 9) + 1)::text || '001',
    '110112' || lpad(((g %% 22) + 1)::text, 3, '0') || '2' || lpad((g %% 15)::text, 2, '0'),
    '通州区马驹桥镇某村' || (g %% 300)::text || '号',
    116.6 + (g %% 1000) / 100000.0,
    39.8 + (g %% 977) / 100000.0,
    '张三',
    '13' || lpad((g::bigint * 7919 %% 1000000000)::text, 9, '0'),
    '110112199001' || lpad((g %% 1000000)::text, 6, '0'),
    '满意',
    ts + interval '1 hour'
from generate_series(1, %(n)s) as g,
     lateral (select timestamp '2024-08-01' + (g %% 2592000) * interval '1 second' as ts) t
"""


def _fill(front: WarehouseTarget, rows: int) -> None:
    drop_database(front)
    ensure_database(front)
    with connect(front) as conn:
        conn.execute(FRONT_TABLE_DDL)
        conn.execute(FILL_SQL, {"n": rows})  # type: ignore[arg-type]
        conn.execute("analyze jq_110")


def _fresh_warehouse(target: WarehouseTarget) -> None:
    drop_database(target)
    prepare_warehouse(target)
    with connect(target) as conn:
        conn.execute("create table raw.bench_copy (like raw.police__incidents)")


def _baseline(front_url: str, target_url: str, queue: mp.Queue) -> None:
    import psycopg

    cols = (
        "jjdbh, bjsj, pjsj, ddsj, jqlbdm, jqlbmc, jqxldm, xzqhdm, fadz, jd, wd, "
        "bjrdh, bjrsfzh, hfmyd, gxsj"
    )
    raw_cols = cols.replace("bjrdh, bjrsfzh", "bjrdh_hash, bjrsfzh_hash")
    raw_cols += ", _batch_id, _extracted_at, _source_ref"
    cols += ", 'bench', now(), 'jq_110:' || jjdbh"
    start = time.perf_counter()
    with psycopg.connect(front_url) as src, psycopg.connect(target_url) as dst:
        with (
            src.cursor().copy(f"copy (select {cols} from jq_110) to stdout") as out,
            dst.cursor().copy(f"copy raw.bench_copy ({raw_cols}) from stdin") as into,
        ):
            for block in out:
                into.write(block)
        rows = dst.execute("select count(*) from raw.bench_copy").fetchone()[0]
    queue.put(
        (rows, time.perf_counter() - start, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    )


def _pipeline(front_url: str, target_url: str, queue: mp.Queue) -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from pingan_transforms.extract.sql import extract_entity

    target = WarehouseTarget.from_url(target_url)
    start = time.perf_counter()
    result = extract_entity(
        "police", "incidents", front_url, target,
        cutoff=datetime(2030, 1, 1, tzinfo=ZoneInfo("Asia/Shanghai")), pii_key=b"benchmark-key",
    )  # fmt: skip
    queue.put(
        (
            result.rows,
            time.perf_counter() - start,
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        )
    )


def _measure(func, front: WarehouseTarget, target: WarehouseTarget) -> tuple[int, float, int]:
    _fresh_warehouse(target)
    ctx = mp.get_context("spawn")
    queue: mp.Queue = ctx.Queue()
    proc = ctx.Process(target=func, args=(front.url, target.url, queue))
    proc.start()
    proc.join()
    if proc.exitcode != 0:
        raise SystemExit(f"{func.__name__} failed (exit {proc.exitcode}); see the traceback above")
    return queue.get(timeout=5)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5_000_000)
    args = parser.parse_args()
    settings = get_settings()
    server = resolve_target(settings)
    front = server.with_database("bench_police_front")
    target = server.with_database("bench_warehouse")
    print(
        f"server {server.host}:{server.port}; rows per size: {args.rows // 10:,} and {args.rows:,}"
    )
    lines = []
    for size in (args.rows // 10, args.rows):
        t0 = time.perf_counter()
        _fill(front, size)
        print(f"  filled front database with {size:,} rows in {time.perf_counter() - t0:.1f}s")
        base_rows, base_s, base_kb = _measure(_baseline, front, target)
        pipe_rows, pipe_s, pipe_kb = _measure(_pipeline, front, target)
        assert base_rows == pipe_rows == size, (base_rows, pipe_rows, size)
        lines.append(
            f"{size:>12,}  {base_rows / base_s:>12,.0f}  {pipe_rows / pipe_s:>12,.0f}  "
            f"{(pipe_rows / pipe_s) / (base_rows / base_s):>6.2f}  "
            f"{base_kb / 1024:>9.0f}  {pipe_kb / 1024:>9.0f}"
        )
    print()
    print(f"{'rows':>12}  {'COPY rows/s':>12}  {'ours rows/s':>12}  {'ratio':>6}  "
          f"{'COPY MiB':>9}  {'ours MiB':>9}")  # fmt: skip
    print("\n".join(lines))
    print("\nratio = pipeline rows/s ÷ plain COPY rows/s (goal ≥ 0.5); MiB = peak RSS of the "
          "measuring process")  # fmt: skip
    drop_database(front)
    drop_database(target)
    return 0


if __name__ == "__main__":
    sys.exit(main())
