"""Benchmark: what listing the records behind every item costs, against the dbt build.

Usage: ``python benchmarks/bench_records.py`` (``make bench-records``), after
``make demo``: it rebuilds the demo warehouse's models from scratch
(``dbt run --full-refresh``, the models only) ``--repeat`` times and reads each node's
own execution time from dbt's run_results.json. The figures are ratios within the same
run, so they say the same on a slower machine:

- **records**: the models that list the records (every source's
  ``int_*_metric_records``, the union, the appeals' view) over the whole run. Since a
  source's facts are its records summed, this is the cost of counting, not only of
  tracing: the facts models (``int_*_metrics_aggregated``) are reported apart;
- **mart**: ``marts.region_index_records`` (every item of every unit mapped to its
  records, the traceability that costs on top of counting) over the whole run;
- rows: the records listed and the mart's rows, for scale.

Figures go to ``output/bench/records.json``. Issue 14 asks the record mart to stay "in
proportion" to the month's build.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

RECORD_MODELS = re.compile(r"^int_\w+_metric_records$|^int_metric_records_(unioned|appealed)$")
FACT_MODELS = re.compile(r"^int_\w+_metrics_aggregated$")
MART = "region_index_records"


def _node_seconds(results: dict) -> dict[str, float]:
    """Each model's own execution time, by model name."""
    return {
        node["unique_id"].split(".")[-1]: float(node["execution_time"])
        for node in results["results"]
        if node["unique_id"].startswith("model.")
    }


def measure_once(settings, target) -> dict[str, float]:
    from pingan_transforms.transform import run_dbt

    start = time.perf_counter()
    run_dbt(["run", "--full-refresh"], target, settings)
    wall = time.perf_counter() - start
    results = json.loads(
        (settings.dbt_project_dir / "target" / target.dbname / "run_results.json").read_text()
    )
    seconds = _node_seconds(results)
    total = sum(seconds.values())
    return {
        "wall_s": wall,
        "models_s": total,
        "records_s": sum(s for n, s in seconds.items() if RECORD_MODELS.match(n)),
        "facts_s": sum(s for n, s in seconds.items() if FACT_MODELS.match(n)),
        "mart_s": seconds.get(MART, 0.0),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    from pingan_transforms.settings import get_settings
    from pingan_transforms.warehouse import connect, resolve_target

    settings = get_settings()
    target = resolve_target(settings)
    with connect(target) as conn:
        built = conn.execute("select to_regclass('marts.region_index_records')").fetchone()[0]
        if built is None:
            print("bench-records measures the demo's warehouse: run `make demo` first")
            return 2
    runs = [measure_once(settings, target) for _ in range(args.repeat)]
    with connect(target) as conn:
        records = conn.execute(
            "select count(*) from intermediate.int_metric_records_unioned"
        ).fetchone()[0]
        mart_rows = conn.execute("select count(*) from marts.region_index_records").fetchone()[0]
    best = min(runs, key=lambda r: r["models_s"])  # the least disturbed run
    report = {
        "runs": runs,
        "best": best,
        "records_ratio": best["records_s"] / best["models_s"],
        "facts_ratio": best["facts_s"] / best["models_s"],
        "mart_ratio": best["mart_s"] / best["models_s"],
        "records_rows": records,
        "mart_rows": mart_rows,
    }
    out = settings.output_dir / "bench" / "records.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2), encoding="utf-8")
    print(
        f"dbt run --full-refresh of the demo, best of {args.repeat}: models "
        f"{best['models_s']:.1f} s (wall {best['wall_s']:.1f} s)\n"
        f"  records models {best['records_s']:.1f} s = {report['records_ratio']:.1%} "
        f"({records:,} records listed)\n"
        f"  facts summed from them {best['facts_s']:.1f} s = {report['facts_ratio']:.1%}\n"
        f"  marts.region_index_records {best['mart_s']:.1f} s = {report['mart_ratio']:.1%} "
        f"({mart_rows:,} rows)\n"
        f"figures: {out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
