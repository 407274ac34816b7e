"""The tables of exact Poisson statistics the dbt models read (seeds), and how they are made.

PostgreSQL has no chi-square or binomial quantile function, so the exact values the
index reports for event counts are computed here once, with SciPy, and kept as dbt
seeds; the models read them for counts up to :data:`SEED_MAX` and use the stated
large-count approximations above it (``dbt_project/macros/poisson.sql``), where those
agree with the exact values to the figures shown. ``tests/test_statistics.py`` checks
that the seeds are exactly what this module writes, so that they are never edited by
hand; ``python -m pingan_transforms.scheme.statistics`` writes them again.

- **Exact Poisson interval of a count** (Garwood 1936): for an observed count c, the
  95 % interval of its mean is [χ²(0.025; 2c) / 2, χ²(0.975; 2c + 2) / 2], with the
  lower bound 0 for c = 0. Seed ``poisson_interval_95``: count, lower, upper.
- **Exact test of a change between two counts** (the conditional binomial test,
  Przyborowski & Wilenski 1940): under equal rates and equal exposure, the current
  count c given the total n = c + p of the two periods is Binomial(n, 1/2). The
  two-sided p-value is min(1, 2 · P(X ≤ min(c, p))); the change is significant at
  5 % when it is at most 0.05. Seed ``poisson_change_critical_05``: for each total n,
  ``fall_at_most``, the largest c that is a significant fall (-1: none can be, n ≤ 5);
  by symmetry c ≥ n − fall_at_most is a significant rise.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

SEED_MAX = 2000  # counts (and two-period totals) the seeds hold exactly
LEVEL = 0.95
ALPHA = 0.05
SEEDS_DIR = Path(__file__).resolve().parents[2] / "dbt_project" / "seeds"
INTERVAL_SEED = "poisson_interval_95"
CRITICAL_SEED = "poisson_change_critical_05"


def garwood_interval(count: int, level: float = LEVEL) -> tuple[float, float]:
    """The exact (Garwood) ``level`` interval of a Poisson mean, given one observed count."""
    from scipy.stats import chi2

    tail = (1 - level) / 2
    lower = 0.0 if count == 0 else float(chi2.ppf(tail, 2 * count)) / 2
    return lower, float(chi2.ppf(1 - tail, 2 * count + 2)) / 2


def fall_at_most(total: int, alpha: float = ALPHA) -> int:
    """The largest current count that is a significant fall when the two periods hold
    ``total`` events together (exact two-sided conditional binomial test); -1 if none."""
    from scipy.stats import binom

    k = int(binom.ppf(alpha / 2, total, 0.5))  # P(X <= k) >= alpha / 2
    while k >= 0 and 2 * float(binom.cdf(k, total, 0.5)) > alpha:
        k -= 1
    while 2 * float(binom.cdf(k + 1, total, 0.5)) <= alpha:
        k += 1
    return k


def interval_rows(limit: int = SEED_MAX) -> list[tuple[int, str, str]]:
    return [(c, *(f"{b:.6f}" for b in garwood_interval(c))) for c in range(limit + 1)]  # type: ignore[misc]


def critical_rows(limit: int = SEED_MAX) -> list[tuple[int, int]]:
    return [(n, fall_at_most(n)) for n in range(1, limit + 1)]


def seed_texts() -> dict[str, str]:
    """Each seed's file name and content, as this module writes them."""
    texts = {}
    for name, header, rows in (
        (INTERVAL_SEED, ("event_count", "lower_95", "upper_95"), interval_rows()),
        (CRITICAL_SEED, ("two_period_total", "fall_at_most"), critical_rows()),
    ):
        lines = [",".join(header), *(",".join(map(str, row)) for row in rows)]
        texts[f"{name}.csv"] = "\n".join(lines) + "\n"
    return texts


def write_seeds(folder: Path = SEEDS_DIR) -> list[Path]:
    paths = []
    for name, text in seed_texts().items():
        path = folder / name
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


def main() -> int:
    for path in write_seeds():
        with open(path, encoding="utf-8") as handle:
            rows = sum(1 for _ in csv.reader(handle)) - 1
        print(f"{path}: {rows} rows")
    return 0


if __name__ == "__main__":
    sys.exit(main())
