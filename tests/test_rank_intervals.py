"""Rank intervals (issue 15): the Monte Carlo re-scoring of a month, on months built by
hand here; tests/test_monthly_dag.py checks it on the simulated months against the
published scores."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from pingan_transforms.scheme.rank_intervals import (
    Item,
    MonthScores,
    intervals,
    ranks,
    score_items,
    totals,
)

NAN = float("nan")


def _month(counts: list[float], populations: list[float], rule: str = "deduct_per_unit",
           params: dict | None = None) -> MonthScores:  # fmt: skip
    """One peer group, one category of 100 points: an item of 60 points on the count per
    10,000 people and a fixed item of 40 (a rate, full marks)."""
    n = len(counts)
    item = Item("A", "C", rule, 60.0, event=True, normalised=True,
                params=params or {"baseline": 0.0, "per_unit": 2.0, "cap": 60.0})  # fmt: skip
    fixed = Item("B", "C", "target_ratio", 40.0, event=False, normalised=False,
                 params={"target": 90.0, "floor": 50.0})  # fmt: skip
    metric = np.array([[c, 95.0] for c in counts])
    exposure = np.array([[p, NAN] for p in populations])
    normalised = np.array([[c * 10000 / p, 95.0] for c, p in zip(counts, populations, strict=True)])
    ms = MonthScores(
        "s", 1, date(2024, 9, 1), [f"U{i:02d}" for i in range(n)], np.zeros(n, dtype=int),
        np.zeros(n), np.zeros(n), [item, fixed], metric, exposure, normalised,
        np.full((n, 2), NAN), np.full((n, 2), NAN), np.zeros((n, 2)), {"C": 100.0}, 100.0,
    )  # fmt: skip
    published = score_items(ms, metric[None])
    ms.item_score = published[0]
    ms.published_score = totals(ms, published, None)[0]
    ms.published_rank = ranks(ms, ms.published_score[None])[0]
    return ms


def test_scores_follow_the_rules_as_dbt_applies_them() -> None:
    ms = _month([3, 0, 30], [10000, 10000, 10000])
    scores = score_items(ms, ms.metric[None])[0]
    # 60 − min(60, rate × 2): rates 3, 0 and 30 per 10,000
    assert scores[:, 0].tolist() == [54.0, 60.0, 0.0]
    assert scores[:, 1].tolist() == [40.0, 40.0, 40.0]
    assert ms.published_score.tolist() == [94.0, 100.0, 40.0]
    assert ms.published_rank.tolist() == [2, 1, 3]
    # peer position: 1st of 3 gets all points, last gets none, ties share the better place
    peer = _month([1, 1, 5], [10000, 10000, 10000], "peer_position", {"better": "lower"})
    assert score_items(peer, peer.metric[None])[0][:, 0].tolist() == [60.0, 60.0, 0.0]


def test_small_units_have_wider_intervals_and_the_published_rank_lies_within() -> None:
    # five units of 1,500 people with one or two events (6.7 or 13.3 per 10,000) among
    # five of 150,000 whose rates are 4.0 to 9.3 per 10,000
    counts = [1, 1, 2, 1, 1, 60, 80, 100, 120, 140]
    populations = [1500] * 5 + [150000] * 5
    ms = _month(counts, populations)
    found = intervals(ms, draws=1000)
    assert all(r.rank_low <= r.published_rank <= r.rank_high for r in found)
    width = [r.rank_high - r.rank_low for r in found]
    assert min(width[:5]) > max(width[5:]), width
    # seeded by scheme, version and month: the same intervals again
    assert intervals(ms, draws=1000) == found


@pytest.mark.parametrize("spread", [0.0])
def test_without_noise_every_draw_is_the_published_ranking(spread: float) -> None:
    ms = _month([3, 0, 30, 7], [10000] * 4)
    ms.metric[:, 0] = np.nan  # no event counts to resample: only the weights move
    ms.items[0] = Item("A", "C", "deduct_per_unit", 60.0, event=False, normalised=False,
                       params={"baseline": 0.0, "per_unit": 2.0, "cap": 60.0})  # fmt: skip
    ms.normalised[:, 0] = [3, 0, 30, 7]
    found = intervals(ms, draws=200)  # one category: its weight is all 100 points anyway
    assert [(r.rank_low, r.rank_high) for r in found] == [(2, 2), (1, 1), (4, 4), (3, 3)]


def test_draws_smooth_as_the_scheme_does() -> None:
    """The hand-computed peer group of the dbt unit test
    empirical_bayes_shrinks_small_units_toward_the_peer_group, smoothed in numpy."""
    from pingan_transforms.scheme.rank_intervals import _smoothed

    rates = np.array([[0.0, 0.0, 8.0, 12.0, 4.0]])
    populations = np.array([2500.0, 2500.0, 5000.0, 10000.0, 2500.0])
    groups = np.array([0, 0, 0, 0, 1])  # the last alone in its peer group: raw
    assert np.allclose(_smoothed(rates, populations, groups), [[6.4, 6.4, 8.0, 10.0, 4.0]])
