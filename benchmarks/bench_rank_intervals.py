"""Benchmark: what the rank intervals cost, against scoring the month (issue 15).

Usage: ``python benchmarks/bench_rank_intervals.py`` (``make bench-rank-intervals``),
after ``make demo``. In the same run, on the demo's warehouse:

- **scoring**: ``dbt run`` of the scoring models (``int_scheme_*`` and the marts
  ``region_index_monthly``, ``_items``, ``_categories``), wall-clock, ``--repeat`` times,
  the fastest kept: what scoring the months costs;
- **intervals, demo**: the rank intervals of the last month, every scheme, 1,000 draws
  (``scheme/rank_intervals.py``: loading the month and the Monte Carlo), the fastest of
  ``--repeat``; its ratio to scoring;
- **intervals, 1,300 towns**: the last month of the first scheme with its units copied
  until one peer group holds ``--towns`` (1,300 by default, a province's townships;
  each copy's counts and populations scaled by a factor between 0.3 and 3, so that
  sizes differ), the Monte Carlo alone; its ratio to the demo's scoring time, and to
  the demo's interval time. The province's own ratio (the DAG's ``rank_intervals``
  task against its dbt phase, measured in one run) is in ``make bench-province``.

Figures go to ``output/bench/rank_intervals.json``. The issue asks for under 2× the
month's scoring time at 1,300 towns.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SCORING = (
    "int_scheme_items_valued int_scheme_items_scored int_scheme_totals_summed "
    "int_scheme_units_ranked region_index_monthly region_index_items region_index_categories"
)


def _fastest(repeat: int, run) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


def grown(ms, towns: int, seed: int = 7):
    """``ms`` with its units copied into one peer group of ``towns`` units."""
    import numpy as np

    rng = np.random.default_rng(seed)
    copies = -(-towns // len(ms.units))
    index = np.tile(np.arange(len(ms.units)), copies)[:towns]
    scale = rng.uniform(0.3, 3.0, size=towns)[:, None]
    event = np.array([it.event for it in ms.items])
    metric = ms.metric[index].copy()
    metric[:, event] = np.round(metric[:, event] * scale)
    exposure = ms.exposure[index] * scale
    return replace(
        ms,
        units=[f"T{k:05d}" for k in range(towns)],
        peer_groups=np.zeros(towns, dtype=int),
        published_rank=ms.published_rank[index],
        published_score=ms.published_score[index],
        metric=metric,
        exposure=exposure,
        normalised=ms.normalised[index],
        base_value=ms.base_value[index],
        base_normalised=ms.base_normalised[index],
        item_score=ms.item_score[index],
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--towns", type=int, default=1300)
    parser.add_argument("--draws", type=int, default=1000)
    args = parser.parse_args(argv)

    from pingan_transforms.scheme.rank_intervals import intervals, load_months
    from pingan_transforms.settings import get_settings
    from pingan_transforms.transform import run_dbt
    from pingan_transforms.warehouse import connect, resolve_target

    settings = get_settings()
    target = resolve_target(settings)
    with connect(target) as conn:
        last = conn.execute("select max(month_start) from intermediate.int_scheme_units_ranked")
        month: date | None = last.fetchone()[0] if last else None
    if month is None:
        print("bench-rank-intervals measures the demo's warehouse: run `make demo` first")
        return 1

    scoring_s = _fastest(
        args.repeat, lambda: run_dbt(["run", "--select", *SCORING.split()], target, settings)
    )
    with connect(target) as conn:
        months = load_months(conn, month)

        def demo_intervals() -> None:
            with connect(target) as inner:
                for ms in load_months(inner, month):
                    intervals(ms, args.draws)

        demo_s = _fastest(args.repeat, demo_intervals)
    big = grown(months[0], args.towns)
    big_s = _fastest(args.repeat, lambda: intervals(big, args.draws))
    report = {
        "month": month.isoformat(),
        "draws": args.draws,
        "scoring_s": round(scoring_s, 3),
        "demo": {
            "schemes": [ms.scheme_code for ms in months],
            "units": sum(len(ms.units) for ms in months),
            "intervals_s": round(demo_s, 3),
            "ratio_to_scoring": round(demo_s / scoring_s, 3),
        },
        "towns": {
            "scheme": months[0].scheme_code,
            "units": args.towns,
            "items": len(months[0].items),
            "intervals_s": round(big_s, 3),
            "ratio_to_demo_scoring": round(big_s / scoring_s, 3),
            "ratio_to_demo_intervals": round(big_s / demo_s, 1),
        },
    }
    out = settings.output_dir / "bench"
    out.mkdir(parents=True, exist_ok=True)
    (out / "rank_intervals.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    print(
        f"{month:%Y-%m}: scoring (dbt run of the scoring models) {scoring_s:.2f} s; "
        f"rank intervals, {args.draws} draws: demo ({report['demo']['units']} units) "
        f"{demo_s:.3f} s = {demo_s / scoring_s:.3f}× scoring; {args.towns} towns in one "
        f"peer group ({len(months[0].items)} items) {big_s:.2f} s = "
        f"{big_s / scoring_s:.2f}× the demo's scoring"
    )
    print(f"written {out / 'rank_intervals.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
