"""Rank intervals: how far a unit's rank could move under count noise and other weights.

A town ranked 7th of 22 may be 7th because of two more fires than its neighbour, or
because the scheme weighs 社会治安 at 60 points rather than 55. Neither is a fact about
its safety. For every ranked unit and month this module re-scores the month many
times (a seeded Monte Carlo, :data:`DRAWS` draws, COINr's uncertainty analysis style)
with

(a) every event count resampled from Poisson(observed) (the count a month of the same
    underlying rate could as well have given; rates, amounts and survey scores are
    kept), and
(b) every category's weight multiplied by a factor drawn uniformly in ±20 %
    (:data:`WEIGHT_SPREAD`) and renormalised so that the scheme's points still add up,

re-applies the scheme's own rules to every item (:func:`score_items`, the rules of
``int_scheme_items_scored``, vectorised over draws and units), sums, clips to the
total cap and ranks within the peer group; the 5th, 50th and 95th percentiles of a
unit's ranks are ``rank_low``, ``rank_median`` and ``rank_high``. Two rules are held
at their published value: ``rank_movement`` (last month's rank comparison) and
nothing else; ties in a draw share the better rank (the published ranking breaks them
by categories). With no noise and no reweighting the re-scoring gives the published
item scores (tests/test_rank_intervals.py checks it on a real month), so the
interval is about the noise, not about a second implementation.

The published rank lies within its interval: when the draws put it outside the
5–95 % range (a unit whose deductions sit at an item's cap can only gain from noise),
the interval is widened to include it and ``published_outside_draws`` says so.
The results are written to ``marts.region_index_rank_intervals`` (idempotently, per
month), with the draws and the seed, which is derived from the scheme, version and
month so that a re-run gives the same intervals.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import psycopg

log = logging.getLogger(__name__)

DRAWS = 1000
WEIGHT_SPREAD = 0.20  # category weights uniform in [1 − s, 1 + s] × points, renormalised
QUANTILES = (0.05, 0.50, 0.95)
FIXED_RULES = ("rank_movement",)

_ROWS_SQL = """
    select m.scheme_code, m.scheme_version, m.region_code, m.peer_group_code,
           m.rank_in_peer_group, m.total_score, s.item_code, s.category_code, s.rule,
           s.points::float8, s.metric_value::float8, s.exposure::float8,
           s.normalised_value::float8, s.base_value::float8, s.base_normalised::float8,
           s.item_score::float8, s.normalisation, i.if_no_data, i.baseline::float8,
           i.per_unit::float8, i.cap::float8, i.target::float8, i.floor::float8,
           i.min_count::float8, i.better, i.threshold::float8, i.veto_points::float8,
           coalesce(c.kind = 'count' and c.unit <> '元', false) as is_event_count,
           v.total_cap::float8, i.smoothing
    from intermediate.int_scheme_units_ranked m
    join intermediate.int_scheme_versions_applied a
      on a.scheme_code = m.scheme_code and a.scheme_version = m.scheme_version
     and a.month_start = m.month_start
    join intermediate.int_scheme_items_scored s
      on s.scheme_code = m.scheme_code and s.scheme_version = m.scheme_version
     and s.month_start = m.month_start and s.region_code = m.region_code
    join staging.stg_schemes__items i
      on i.scheme_code = s.scheme_code and i.scheme_version = s.scheme_version
     and i.item_code = s.item_code
    join staging.stg_schemes__versions v
      on v.scheme_code = m.scheme_code and v.scheme_version = m.scheme_version
    left join seeds.metric_catalogue c on c.metric_code = s.metric_code
    where m.month_start = %s
    order by m.scheme_code, m.region_code, s.item_code
"""
_BANDS_SQL = """
    select item_code, lower_bound::float8, upper_bound::float8, points::float8
    from staging.stg_schemes__item_bands where scheme_code = %s and scheme_version = %s
"""
_CATEGORY_POINTS_SQL = """
    select node_code, points::float8 from staging.stg_schemes__nodes
    where scheme_code = %s and scheme_version = %s and node_level = 'category'
"""


@dataclass(frozen=True)
class Item:
    """One item of the scheme version, with the parameters its rule reads."""

    code: str
    category: str
    rule: str
    points: float
    event: bool  # its metric counts events: resampled
    normalised: bool
    params: dict[str, object]
    smoothing: str = "none"  # empirical_bayes: the rate is smoothed in every draw too
    bands: tuple[tuple[float, float, float], ...] = ()  # (lower, upper or inf, points)


@dataclass
class MonthScores:
    """One scheme's month as arrays: units × items, the published ranks and totals."""

    scheme_code: str
    scheme_version: int
    month_start: date
    units: list[str]
    peer_groups: np.ndarray  # (U,) group index
    published_rank: np.ndarray  # (U,)
    published_score: np.ndarray  # (U,)
    items: list[Item]
    metric: np.ndarray  # (U, I) nan = no value
    exposure: np.ndarray  # (U, I)
    normalised: np.ndarray  # (U, I)
    base_value: np.ndarray  # (U, I)
    base_normalised: np.ndarray  # (U, I)
    item_score: np.ndarray  # (U, I) published
    category_points: dict[str, float]
    total_cap: float


@dataclass(frozen=True)
class UnitInterval:
    scheme_code: str
    scheme_version: int
    month_start: date
    region_code: str
    published_rank: int
    published_score: float
    rank_low: int
    rank_median: int
    rank_high: int
    published_outside_draws: bool


def _nan(value: object) -> float:
    return float("nan") if value is None else float(value)  # type: ignore[arg-type]


def load_months(conn: psycopg.Connection, month_start: date) -> list[MonthScores]:
    """Every scheme's ranked units and their items for one month, from the warehouse."""
    import numpy as np

    rows = conn.execute(_ROWS_SQL, (month_start,)).fetchall()
    by_scheme: dict[str, list[tuple]] = {}
    for row in rows:
        by_scheme.setdefault(row[0], []).append(row)
    months = []
    for scheme, scheme_rows in by_scheme.items():
        version = int(scheme_rows[0][1])
        bands: dict[str, list[tuple[float, float, float]]] = {}
        for code, low, high, points in conn.execute(_BANDS_SQL, (scheme, version)):
            bands.setdefault(code, []).append((low, np.inf if high is None else high, points))
        category_points = dict(conn.execute(_CATEGORY_POINTS_SQL, (scheme, version)).fetchall())
        units = sorted({r[2] for r in scheme_rows})
        item_rows = {r[6]: r for r in scheme_rows}
        items = [
            Item(
                code=code,
                category=r[7],
                rule=r[8],
                points=r[9],
                event=bool(r[27]),
                normalised=r[16] in ("per_10k_residents", "per_10k_residents_floating"),
                params={
                    k: r[j]
                    for k, j in (
                        ("if_no_data", 17),
                        ("baseline", 18),
                        ("per_unit", 19),
                        ("cap", 20),
                        ("target", 21),
                        ("floor", 22),
                        ("min_count", 23),
                        ("better", 24),
                        ("threshold", 25),
                        ("veto_points", 26),
                    )
                },
                bands=tuple(sorted(bands.get(code, []))),
                smoothing=r[29] or "none",
            )  # fmt: skip
            for code, r in sorted(item_rows.items())
        ]
        u_index = {u: k for k, u in enumerate(units)}
        i_index = {it.code: k for k, it in enumerate(items)}
        shape = (len(units), len(items))
        columns = {"metric": 10, "exposure": 11, "normalised": 12, "base_value": 13,
                   "base_normalised": 14, "score": 15}  # fmt: skip
        arrays = {name: np.full(shape, np.nan) for name in columns}
        peer, rank, score = {}, {}, {}
        for r in scheme_rows:
            u, i = u_index[r[2]], i_index[r[6]]
            peer[u], rank[u], score[u] = r[3], r[4], float(r[5])
            for name, j in columns.items():
                arrays[name][u, i] = _nan(r[j])
        groups = {g: k for k, g in enumerate(sorted(set(peer.values())))}
        months.append(MonthScores(
            scheme, version, month_start, units,
            np.array([groups[peer[u]] for u in range(len(units))]),
            np.array([rank[u] for u in range(len(units))]),
            np.array([score[u] for u in range(len(units))]),
            items, arrays["metric"], arrays["exposure"], arrays["normalised"],
            arrays["base_value"], arrays["base_normalised"], arrays["score"],
            category_points, float(scheme_rows[0][28]),
        ))  # fmt: skip
    return months


def _least(cap: float, x: np.ndarray) -> np.ndarray:
    """SQL's least(cap, x): a null cap is no cap."""
    import numpy as np

    return x if np.isnan(cap) else np.minimum(cap, x)


def _greatest0(x: np.ndarray) -> np.ndarray:
    """SQL's greatest(x, 0): a null x gives 0."""
    import numpy as np

    return np.where(np.isnan(x), 0.0, np.maximum(x, 0.0))


def _round_cents(x: np.ndarray) -> np.ndarray:
    """PostgreSQL's round(x, 2) on numeric: halves away from zero (numpy rounds them to
    even), with a hair of slack for a decimal half that binary floats hold just under."""
    import numpy as np

    return np.sign(x) * np.floor(np.abs(x) * 100 + 0.5 + 1e-9) / 100


def _param(item: Item, name: str) -> float:
    return _nan(item.params.get(name))  # type: ignore[arg-type]


def _smoothed(rate: np.ndarray, exposure: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Empirical-Bayes rates per 10,000, per draw and peer group, as int_scheme_items_valued
    computes them (schemes/README.md): m + C (r − m) with C = A / (A + m / n)."""
    import numpy as np

    n = np.where(exposure > 0, exposure / 10000.0, 0.0)
    out = rate.copy()
    for g in np.unique(groups):
        cols = groups == g
        r, nn = rate[:, cols], n[cols]
        valid = ~np.isnan(r) & (nn > 0)
        units = valid.sum(axis=1, keepdims=True)
        total_n = np.where(valid, nn, 0.0).sum(axis=1, keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            mean = np.where(valid, r * nn, 0.0).sum(axis=1, keepdims=True) / total_n
            spread = np.where(valid, nn * (r - mean) ** 2, 0.0).sum(axis=1, keepdims=True)
            variance = np.maximum(spread / total_n - mean / (total_n / units), 0.0)
            shrunk = mean + variance / (variance + mean / nn) * (r - mean)
        use = valid & (units >= 3) & (mean > 0)
        out[:, cols] = np.where(use, shrunk, r)
    return out


def _rank_in_groups(key: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """SQL's rank() ordered by ``key`` ascending within each peer group, per draw (D, U):
    1 = the smallest key, ties sharing the better rank."""
    import numpy as np
    from scipy.stats import rankdata

    out = np.empty(key.shape)
    for g in np.unique(groups):
        cols = groups == g
        out[:, cols] = rankdata(key[:, cols], method="min", axis=1)
    return out


def _peer_positions(values: np.ndarray, better: str, groups: np.ndarray) -> np.ndarray:
    """rank() within each peer group (1 = best), per draw; (D, U) with nan = no value."""
    import numpy as np

    key = values if better == "lower" else -values
    return _rank_in_groups(np.where(np.isnan(key), np.inf, key), groups)


def item_score(ms: MonthScores, i: int, value: np.ndarray) -> np.ndarray:
    """Item ``i``'s score for draws of its metric value, ``value`` (D, U) → (D, U).

    The rules of ``int_scheme_items_scored``: the value is normalised as the item is,
    `change` compares with the (fixed) base, `peer_position` ranks within the peer
    group in each draw; in-tree scores are clipped to [0, points] and rounded to the
    cent; a veto gives its negative points when its count is positive. A value that is
    the same in every draw can be passed as one row (1, U).
    """
    import numpy as np

    item = ms.items[i]
    if item.normalised:
        exposure = ms.exposure[:, i]
        norm = np.where(exposure > 0, value * 10000.0 / np.where(exposure > 0, exposure, 1),
                        np.nan)  # fmt: skip
    elif item.event:
        norm = value
    else:
        norm = np.broadcast_to(ms.normalised[:, i], value.shape)
    if item.smoothing == "empirical_bayes" and item.normalised:
        norm = _smoothed(norm, ms.exposure[:, i], ms.peer_groups)
    points, rule = item.points, item.rule
    if rule in FIXED_RULES:
        return np.broadcast_to(ms.item_score[:, i], value.shape)
    if rule == "veto":
        return np.where(value > 0, -_param(item, "veto_points"), 0.0)
    per_unit, cap = _param(item, "per_unit"), _param(item, "cap")
    if rule == "deduct_per_unit":
        raw = points - _least(cap, _greatest0(norm - _param(item, "baseline")) * per_unit)
    elif rule == "add_per_unit":
        raw = _least(cap, _greatest0(norm - _param(item, "baseline")) * per_unit)
    elif rule == "target_ratio":
        target, floor = _param(item, "target"), _param(item, "floor")
        raw = np.where(norm >= target, points, np.where(
            norm <= floor, 0.0, points * (norm - floor) / (target - floor)))  # fmt: skip
    elif rule == "bands":
        raw = np.zeros_like(norm)
        for low, high, band_points in item.bands:
            raw = np.where((norm >= low) & (norm < high), band_points, raw)
    elif rule == "change":
        base, base_value = ms.base_normalised[:, i], ms.base_value[:, i]
        min_count = _param(item, "min_count")
        scored = (base > 0) & (base_value >= (0.0 if np.isnan(min_count) else min_count))
        change = np.where(scored, (norm - base) * 100.0 / np.where(scored, base, 1), np.nan)
        raw = np.where(np.isnan(change), points,
                       points - _least(cap, _greatest0(change) * per_unit))  # fmt: skip
    elif rule == "peer_position":
        have = ~np.isnan(norm)
        peers = np.zeros(norm.shape)
        for g in np.unique(ms.peer_groups):
            cols = ms.peer_groups == g
            peers[:, cols] = have[:, cols].sum(axis=1, keepdims=True)
        position = _peer_positions(norm, str(item.params.get("better")), ms.peer_groups)
        raw = np.where(peers <= 1, points,
                       points * (peers - position) / np.maximum(peers - 1.0, 1.0))  # fmt: skip
    elif rule == "survey_scale":
        raw = points - _least(cap, _greatest0(_param(item, "threshold") - norm) * per_unit)
    else:
        raise ValueError(f"{ms.scheme_code}: rule {rule!r} of {item.code} is not re-scored")
    fallback = 0.0 if item.params.get("if_no_data") == "zero" else points
    raw = np.where(np.isnan(norm), fallback, raw)
    return _round_cents(np.clip(raw, 0.0, points))


def score_items(ms: MonthScores, metric: np.ndarray) -> np.ndarray:
    """Every item's score (:func:`item_score`) for draws of all metric values, (D, U, I)."""
    import numpy as np

    return np.stack(
        [np.broadcast_to(item_score(ms, i, metric[:, :, i]), metric.shape[:2])
         for i in range(len(ms.items))], axis=2,
    )  # fmt: skip


def totals(ms: MonthScores, scores: np.ndarray, factors: np.ndarray | None) -> np.ndarray:
    """Each unit's total per draw, (D, U): in-tree category scores reweighted by
    ``factors`` (D, C in the order of :attr:`MonthScores.category_points`; None = as
    published), plus the adjustments, clipped to [0, total_cap]."""
    import numpy as np

    in_tree = np.array([it.rule not in ("veto", "rank_movement") for it in ms.items])
    total = scores[:, :, ~in_tree].sum(axis=2)
    categories = list(ms.category_points)
    for c, code in enumerate(categories):
        cols = np.array([it.category == code for it in ms.items]) & in_tree
        weight = 1.0 if factors is None else factors[:, c : c + 1]
        total = total + scores[:, :, cols].sum(axis=2) * weight
    return np.clip(total, 0.0, ms.total_cap)


def weight_factors(ms: MonthScores, draws: int, rng: np.random.Generator) -> np.ndarray:
    """(D, C): category weight / its points, each weight uniform in ±20 % of its points
    and all renormalised to the scheme's category points."""
    points = list(ms.category_points.values())
    import numpy as np

    p = np.array(points)
    u = rng.uniform(1 - WEIGHT_SPREAD, 1 + WEIGHT_SPREAD, size=(draws, len(p)))
    return u * p.sum() / (u * p).sum(axis=1, keepdims=True)


def ranks(ms: MonthScores, total: np.ndarray) -> np.ndarray:
    """Rank within the peer group per draw, ties sharing the better rank, (D, U)."""
    return _rank_in_groups(-total, ms.peer_groups)


def seed_for(ms: MonthScores) -> int:
    text = f"{ms.scheme_code}:{ms.scheme_version}:{ms.month_start.isoformat()}"
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big") >> 1


def intervals(ms: MonthScores, draws: int = DRAWS, chunk: int = 250) -> list[UnitInterval]:
    """The Monte Carlo of the module docstring for one scheme's month.

    Items whose metric is not an event count score the same in every draw: they are
    scored once. The others are scored per draw straight into their category's sum,
    so that no (draws × units × items) array is ever held.
    """
    import numpy as np

    rng = np.random.default_rng(seed_for(ms))
    categories = list(ms.category_points)
    in_tree = [it.rule not in ("veto", "rank_movement") for it in ms.items]
    units = len(ms.units)
    fixed_tree = np.zeros((len(categories), units))
    fixed_adjustment = np.zeros(units)
    drawn = []
    for i, item in enumerate(ms.items):
        if item.event:
            drawn.append(i)
            continue
        score = item_score(ms, i, ms.metric[None, :, i])[0]
        if in_tree[i]:
            fixed_tree[categories.index(item.category)] += score
        else:
            fixed_adjustment += score
    all_ranks = []
    for start in range(0, draws, chunk):
        n = min(chunk, draws - start)
        tree = np.broadcast_to(fixed_tree, (n, *fixed_tree.shape)).copy()
        adjustment = np.broadcast_to(fixed_adjustment, (n, units)).copy()
        for i in drawn:
            observed = ms.metric[:, i]
            value = rng.poisson(np.nan_to_num(np.maximum(observed, 0.0)), size=(n, units))
            score = item_score(ms, i, np.where(np.isnan(observed), np.nan, value))
            if in_tree[i]:
                tree[:, categories.index(ms.items[i].category)] += score
            else:
                adjustment += score
        factors = weight_factors(ms, n, rng)  # (n, C)
        total = np.clip((tree * factors[:, :, None]).sum(axis=1) + adjustment, 0.0,
                        ms.total_cap)  # fmt: skip
        all_ranks.append(ranks(ms, total))
    drawn_ranks = np.concatenate(all_ranks)
    low, median, high = (np.quantile(drawn_ranks, q, axis=0, method="inverted_cdf")
                         for q in QUANTILES)  # fmt: skip
    out = []
    for u, region in enumerate(ms.units):
        published = int(ms.published_rank[u])
        outside = not (low[u] <= published <= high[u])
        out.append(UnitInterval(
            ms.scheme_code, ms.scheme_version, ms.month_start, region, published,
            float(ms.published_score[u]), int(min(low[u], published)), int(median[u]),
            int(max(high[u], published)), outside,
        ))  # fmt: skip
    return out


def write_intervals(
    conn: psycopg.Connection, month_start: date, rows: list[UnitInterval], draws: int
) -> None:
    """Replace the month's intervals (every scheme) in one transaction."""
    with conn.transaction():
        conn.execute(
            "delete from marts.region_index_rank_intervals where month_start = %s", (month_start,)
        )
        with conn.cursor().copy(
            "copy marts.region_index_rank_intervals (scheme_code, scheme_version, month_start, "
            "region_code, published_rank, published_score, rank_low, rank_median, rank_high, "
            "published_outside_draws, draws, weight_spread) from stdin"
        ) as copy:
            for r in rows:
                copy.write_row([
                    r.scheme_code, r.scheme_version, r.month_start, r.region_code,
                    r.published_rank, r.published_score, r.rank_low, r.rank_median,
                    r.rank_high, r.published_outside_draws, draws, WEIGHT_SPREAD,
                ])  # fmt: skip
        conn.execute(_RANK_MOVES_SQL, (month_start,))


# A rank moved beyond chance when this month's interval and last month's (same scheme
# and version) do not overlap; null without last month's (a new version, a first month).
_RANK_MOVES_SQL = """
    update marts.region_index_rank_intervals as cur
    set previous_rank_low = prev.rank_low,
        previous_rank_high = prev.rank_high,
        rank_move = case when cur.rank_high < prev.rank_low then 'clear_rise'
                         when cur.rank_low > prev.rank_high then 'clear_fall'
                         else 'within_chance' end
    from marts.region_index_rank_intervals as prev
    where cur.month_start = %s
      and prev.month_start = cast(cur.month_start - interval '1 month' as date)
      and prev.scheme_code = cur.scheme_code and prev.scheme_version = cur.scheme_version
      and prev.region_code = cur.region_code
"""


_STALE_MONTHS_SQL = """
    select distinct m.month_start
    from intermediate.int_scheme_units_ranked as m
    join intermediate.int_scheme_versions_applied as a
      on a.scheme_code = m.scheme_code and a.scheme_version = m.scheme_version
     and a.month_start = m.month_start
    left join marts.region_index_rank_intervals as i
      on i.scheme_code = m.scheme_code and i.month_start = m.month_start
     and i.region_code = m.region_code and i.scheme_version = m.scheme_version
     and i.published_rank = m.rank_in_peer_group and i.published_score = m.total_score
    where i.region_code is null
    order by 1
"""


_RANKED_MONTHS_SQL = "select distinct month_start from intermediate.int_scheme_versions_applied"


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def compute_months(target: object, month_start: date, draws: int = DRAWS) -> dict[str, object]:
    """The rank intervals of ``month_start`` and of every month whose intervals no longer
    match its ranking (late records or a correction rebuilt it since), written; a
    summary for the task log. Deterministic, so recomputing a current month changes
    nothing."""
    import time

    from pingan_transforms.warehouse import connect

    started = time.perf_counter()
    done: dict[str, int] = {}
    widened: list[str] = []
    with connect(target) as conn:  # type: ignore[arg-type]
        stale = [row[0] for row in conn.execute(_STALE_MONTHS_SQL).fetchall()]
        # the month after a recomputed one compares its rank with it: recompute it too
        ranked = {row[0] for row in conn.execute(_RANKED_MONTHS_SQL).fetchall()}
        following = {_next_month(m) for m in stale} & ranked
        for month in sorted({month_start, *stale, *following}):
            months = load_months(conn, month)
            rows = [row for ms in months for row in intervals(ms, draws)]
            write_intervals(conn, month, rows, draws)
            done[month.isoformat()] = len(rows)
            widened += [f"{r.scheme_code} {month:%Y-%m} {r.region_code}" for r in rows
                        if r.published_outside_draws]  # fmt: skip
    summary = {
        "units_by_month": done,
        "draws": draws,
        "widened_to_hold_the_published_rank": widened,
        "seconds": round(time.perf_counter() - started, 2),
    }
    log.info("rank intervals: %s", summary)
    return summary
