"""The exact Poisson statistics the dbt models read (issue 15): the seeds are what
pingan_transforms/scheme/statistics.py writes, and that is what SciPy's own tests say."""

from __future__ import annotations

import math

import pytest

from pingan_transforms.scheme.statistics import (
    SEEDS_DIR,
    fall_at_most,
    garwood_interval,
    seed_texts,
)


def test_the_seeds_are_exactly_what_the_module_writes() -> None:
    for name, text in seed_texts().items():
        assert (SEEDS_DIR / name).read_text(encoding="utf-8") == text, (
            f"dbt_project/seeds/{name} differs: run python -m pingan_transforms.scheme.statistics"
        )


@pytest.mark.parametrize("total", [6, 9, 16, 42, 100, 555, 2000])
def test_the_critical_count_is_where_scipys_exact_binomial_test_turns(total: int) -> None:
    from scipy.stats import binomtest

    k = fall_at_most(total)
    assert binomtest(k, total).pvalue <= 0.05 < binomtest(k + 1, total).pvalue
    assert fall_at_most(5) == -1  # 5 events can never split significantly (2/32 > 5 %)


def test_the_garwood_interval_covers_its_count_and_agrees_with_the_poisson_tails() -> None:
    from scipy.stats import poisson

    for count in (0, 1, 7, 50, 2000):
        low, high = garwood_interval(count)
        assert low <= count <= high
        # the upper bound is the mean under which seeing `count` or fewer has 2.5 %
        assert poisson.cdf(count, high) == pytest.approx(0.025, abs=1e-9)
        if count:
            assert poisson.sf(count - 1, low) == pytest.approx(0.025, abs=1e-9)
    assert garwood_interval(0) == (0.0, pytest.approx(-math.log(0.025)))
