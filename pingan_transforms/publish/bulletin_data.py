"""What a month's bulletin says, read from the published marts (:func:`read_bulletin_data`).

The ranking as published (:func:`~pingan_transforms.publish.exports.read_published`),
each unit's warning state, the items that moved the biggest risers and fallers, the
peer groups' incident trends and rates, and twelve months of history: one
:class:`BulletinData`, which :func:`~pingan_transforms.publish.bulletin_sections.compose`
turns into a document without touching the database.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
from psycopg.rows import dict_row

from pingan_transforms.months import Month
from pingan_transforms.publish.exports import (
    PublishedRanking,
    PublishedUnit,
    read_published,
)
from pingan_transforms.publish.index_reader import read_units, score_history
from pingan_transforms.settings import DEFAULT_TIMEZONE

TREND_MONTHS = 12
MOVERS = 3  # risers and fallers each


class NothingPublished(LookupError):
    """The scheme has no published ranking for the month."""


@dataclass(frozen=True)
class RevisionChange:
    """One unit whose score, rank or grade moved since the last revision."""

    region_name: str
    field: str  # "score" | "rank" | "grade"
    before: str
    after: str


@dataclass(frozen=True)
class Correction:
    """A change to an earlier published month below the revision policy's threshold:
    not revised, stated in the next bulletin's 数据更正说明."""

    month: Month
    change: RevisionChange


def movers(units: Iterable[PublishedUnit]) -> list[PublishedUnit]:
    """The biggest risers then the biggest fallers (by rank change), MOVERS of each."""
    moved = [u for u in units if u.row.rank_change]
    risers = sorted((u for u in moved if u.row.rank_change > 0),
                    key=lambda u: (-u.row.rank_change, u.row.rank))[:MOVERS]  # fmt: skip
    fallers = sorted((u for u in moved if u.row.rank_change < 0),
                     key=lambda u: (u.row.rank_change, u.row.rank))[:MOVERS]  # fmt: skip
    return risers + fallers


@dataclass(frozen=True)
class UnitStatus:
    """Warning state of a unit beyond what the ranking row has."""

    consecutive_reds: int | None
    escalated: bool
    veto_fired: bool
    # the months consecutive_reds counts, oldest first: the months as published, so a
    # month never published is not among them (schemes/README.md, consecutive reds)
    red_run_months: tuple[Month, ...] = ()


@dataclass(frozen=True)
class ItemChange:
    """An item of ``region_index_items`` whose score changed since last month."""

    region_code: str
    category_name: str | None
    item_name: str
    metric_name: str | None
    metric_unit: str | None
    metric_value: Decimal | None
    previous_month_value: Decimal | None
    item_score_change: Decimal


@dataclass(frozen=True)
class TrendRow:
    """A row of ``incident_trends``."""

    region_code: str
    region_name: str | None
    metric_name: str
    unit: str | None
    incident_count: int
    previous_month_count: int | None
    previous_month_change_pct: Decimal | None
    last_year_count: int | None
    last_year_change_pct: Decimal | None
    ytd_months: int
    ytd_count: int
    last_year_ytd_count: int | None
    ytd_change_pct: Decimal | None
    # significant_rise / significant_fall / not_significant (None: no base)
    previous_month_change: str | None = None
    last_year_change: str | None = None


@dataclass(frozen=True)
class RateRow:
    """A row of ``rate_reports``."""

    region_code: str
    region_name: str | None
    metric_name: str
    unit: str | None
    numerator: Decimal | None
    denominator: Decimal | None
    value: Decimal | None
    previous_month_value: Decimal | None
    previous_month_change: Decimal | None
    last_year_change: Decimal | None
    ytd_months: int
    ytd_numerator: Decimal | None
    ytd_denominator: Decimal | None
    ytd_value: Decimal | None
    ytd_change: Decimal | None


@dataclass(frozen=True)
class Spread:
    """The peer group's mean, lowest and highest of a value in one month."""

    mean: float | None
    low: float | None
    high: float | None


@dataclass(frozen=True)
class History:
    """The last months (oldest first, at most 12) of the total and of each category."""

    months: tuple[Month, ...]
    versions: tuple[int, ...]
    total: tuple[Spread, ...]
    categories: dict[str, tuple[Spread, ...]]  # by category code: % of its points


@dataclass(frozen=True)
class BulletinData:
    ranking: PublishedRanking
    status: dict[str, UnitStatus]
    items: dict[str, list[ItemChange]]
    trends: list[TrendRow]
    rates: list[RateRow]
    history: History
    issued: date = field(default_factory=lambda: datetime.now(ZoneInfo(DEFAULT_TIMEZONE)).date())
    funnel: FunnelData | None = None  # the headline per-capita item's rates (issue 15)


@dataclass(frozen=True)
class FunnelData:
    """The headline per-capita count of the scheme's month: of the items that deduct points
    per event (incidents, not inspections or other work counted), the one with the most
    events; each unit's count and population, for the funnel plot."""

    item_name: str
    metric_name: str
    unit: str
    points: tuple[tuple[str, str, float, float], ...]  # (region_code, name, events, people)


_FUNNEL_ITEM_SQL = """
    select item_code, coalesce(item_name, item_code), coalesce(metric_name, metric_code),
           coalesce(metric_unit, '起')
    from marts.region_index_items
    where scheme_code = %s and month_start = %s and is_event_count and population > 0
      and rule = 'deduct_per_unit'
    group by item_code, item_name, metric_name, metric_code, metric_unit
    order by sum(metric_value) desc, min(sort_order), item_code
    limit 1
"""
_FUNNEL_POINTS_SQL = """
    select region_code, metric_value::float8, population::float8
    from marts.region_index_items
    where scheme_code = %s and month_start = %s and item_code = %s and population > 0
      and metric_value is not null
    order by region_code
"""


def read_funnel(conn: psycopg.Connection, ranking: PublishedRanking) -> FunnelData | None:
    """:class:`FunnelData` of the published month, or None without a per-capita count."""
    key = (ranking.scheme_code, ranking.month.first_day)
    found = conn.execute(_FUNNEL_ITEM_SQL, key).fetchone()
    if found is None:
        return None
    item_code, item_name, metric_name, unit = found
    names = {u.row.region_code: u.row.region_name for u in ranking.units}
    points = tuple(
        (code, names[code], events, people)
        for code, events, people in conn.execute(_FUNNEL_POINTS_SQL, (*key, item_code))
        if code in names
    )
    return FunnelData(item_name, metric_name, unit, points) if len(points) >= 3 else None


_STATUS_COLUMNS = ("region_code", "consecutive_reds", "escalated", "veto_fired", "red_run_months")
_ITEMS_SQL = """
    select region_code, category_name, coalesce(item_name, item_code) as item_name,
           metric_name, metric_unit, metric_value, previous_month_value, item_score_change
    from marts.region_index_items
    where scheme_code = %s and month_start = %s and region_code = any(%s)
      and item_score_change is not null and item_score_change <> 0
    order by region_code, abs(item_score_change) desc, sort_order, item_code
"""
_TRENDS_SQL = """
    select region_code, region_name, coalesce(metric_name, metric_code) as metric_name, unit,
           incident_count, previous_month_count, previous_month_change_pct, last_year_count,
           last_year_change_pct, ytd_months, ytd_count, last_year_ytd_count, ytd_change_pct,
           previous_month_change, last_year_change
    from marts.incident_trends where region_code = any(%s) and month_start = %s
    order by region_code, sort_order nulls last, metric_code
"""
_RATES_SQL = """
    select region_code, region_name, coalesce(metric_name, metric_code) as metric_name, unit,
           numerator, denominator, value, previous_month_value, previous_month_change,
           last_year_change, ytd_months, ytd_numerator, ytd_denominator, ytd_value, ytd_change
    from marts.rate_reports where region_code = any(%s) and month_start = %s
    order by region_code, metric_code
"""
_CATEGORY_HISTORY_SQL = """
    select month_start, category_code,
           avg(100 * category_score / nullif(category_points, 0))::float8 as mean,
           min(100 * category_score / nullif(category_points, 0))::float8 as low,
           max(100 * category_score / nullif(category_points, 0))::float8 as high
    from marts.region_index_categories
    where scheme_code = %s and month_start > %s and month_start <= %s
    group by month_start, category_code
"""


def _months(text: str | None) -> tuple[Month, ...]:
    """``2025-01-01,2025-03-01`` (red_run_months) as months."""
    return tuple(Month.parse(day.strip()[:7]) for day in (text or "").split(",") if day.strip())


def _rows(conn: psycopg.Connection, sql: str, params: Sequence[Any]) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(sql, params).fetchall()


def _exists(conn: psycopg.Connection, relation: str) -> bool:
    return conn.execute("select to_regclass(%s) is not null", (relation,)).fetchone()[0]


def read_bulletin_data(conn: psycopg.Connection, scheme_code: str, month: Month) -> BulletinData:
    """Everything the bulletin says, from the marts; :class:`NothingPublished` if none."""
    ranking = read_published(conn, scheme_code, month)
    if ranking is None:
        raise NothingPublished(
            f"no published ranking of scheme {scheme_code!r} for {month} in "
            "marts.region_index_monthly: was the month scored (pingan ranking "
            f"{month} --scheme {scheme_code})?"
        )
    key = (scheme_code, month.first_day)
    status = {
        r["region_code"]: UnitStatus(r["consecutive_reds"], bool(r["escalated"]),
                                     bool(r["veto_fired"]), _months(r["red_run_months"]))
        for r in read_units(conn, scheme_code, month, _STATUS_COLUMNS)
    }  # fmt: skip
    moved = [u.row.region_code for u in movers(ranking.units)]
    items: dict[str, list[ItemChange]] = {}
    if moved and _exists(conn, "marts.region_index_items"):
        for r in _rows(conn, _ITEMS_SQL, (*key, moved)):
            items.setdefault(r["region_code"], []).append(ItemChange(**r))
    peers = sorted({u.peer_group_code for u in ranking.units if u.peer_group_code})
    trends = (
        [TrendRow(**r) for r in _rows(conn, _TRENDS_SQL, (peers, month.first_day))]
        if _exists(conn, "marts.incident_trends")
        else []
    )
    rates = (
        [RateRow(**r) for r in _rows(conn, _RATES_SQL, (peers, month.first_day))]
        if _exists(conn, "marts.rate_reports")
        else []
    )
    funnel = read_funnel(conn, ranking) if _exists(conn, "marts.region_index_items") else None
    window = (scheme_code, month.shift(-TREND_MONTHS).first_day, month.first_day)
    totals = score_history(conn, scheme_code, month.shift(-TREND_MONTHS), month)
    by_month: dict[tuple[date, str], Spread] = {
        (r["month_start"], r["category_code"]): Spread(r["mean"], r["low"], r["high"])
        for r in _rows(conn, _CATEGORY_HISTORY_SQL, window)
    }
    starts = [r["month_start"] for r in totals]
    history = History(
        months=tuple(Month.of(start) for start in starts),
        versions=tuple(r["version"] for r in totals),
        total=tuple(Spread(r["mean"], r["low"], r["high"]) for r in totals),
        categories={
            c.code: tuple(
                by_month.get((start, c.code), Spread(None, None, None)) for start in starts
            )
            for c in ranking.categories
        },  # fmt: skip
    )
    return BulletinData(ranking, status, items, trends, rates, history, funnel=funnel)
