"""What every suite is built from: the scope it is built for, and one helper per kind of check.

A suite is built for one month (:class:`QualityScope`): windows, seed code lists and
month filters are written into its expectations as literals, so a suite is plain
data that Data Docs can render and the results JSON can be read without this code.

Checks that GX has a native expectation for (columns present, not null, in a set,
matching a regular expression, unique) use it; checks that need SQL (a window on a
text timestamp, a duplicate rate, a join to the scheme tables) are
``UnexpectedRowsExpectation`` queries whose rows are the failing rows. Those queries
return rows only when the check fails, so a tolerated share of defects (quarantined
downstream by dbt) returns nothing.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Literal

import great_expectations as gx
from great_expectations import expectations as gxe

from pingan_transforms.months import Month

#: Every asset carries this computed column naming the row (natural key and where it came
#: from), so that a failed column check can list its rows: GX's unexpected-index columns
#: must exist in every asset of a checkpoint.
ROW_REF = "_row_ref"

#: Load metadata of the raw tables, by kind of source.
EXTRACT_META = ("_batch_id", "_extracted_at", "_source_ref")  # SQL front databases, HTTP APIs
FILE_META = ("_batch_id", "_extracted_at", "_source_file", "_source_row")  # file drops

# Formats of raw text values (PostgreSQL regular expressions). Year-first dates as the
# sources write them (2024-08-03, 2024/8/3), optionally with a time; the same shapes the
# dbt casts (dbt_project/macros/cast_or_null.sql) accept.
_Y, _M, _D = "([12][0-9]{3})", "(0?[1-9]|1[0-2])", "(0?[1-9]|[12][0-9]|3[01])"
_TIME = "([ T]([01]?[0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9]([.][0-9]+)?)?)?"
DATE_PREFIX = f"^{_Y}[-/]{_M}[-/]{_D}"
DATETIME = f"{DATE_PREFIX}{_TIME}$"
DATE = f"{DATE_PREFIX}$"
DATETIME_WITH_OFFSET = f"{DATE_PREFIX}{_TIME}(Z|[+-][0-9]{{2}}(:?[0-9]{{2}})?)?$"
MONTH = f"^{_Y}-{_M}$"
QUARTER = f"^{_Y} ?[Qq]([1-4])$"
REGION_CODE = "^[0-9]{6}([0-9]{3}([0-9]{3})?)?$"  # county 6, township 9, village 12 digits
TOWNSHIP_CODE = "^[0-9]{9}$"
COUNT = "^[0-9]{1,9}$"
AMOUNT = "^[0-9]{1,11}([.][0-9]+)?$"
DECIMAL = "^-?[0-9]{1,4}([.][0-9]+)?$"
HMAC_SHA256 = "^[0-9a-f]{64}$"

#: Files with one row per town (22 in Tongzhou), typed by hand: a defect or two is 5-10%
#: of such a file, normal for an office export and quarantined by dbt; more is not.
PER_TOWN_DEFECTS = 0.1
PER_TOWN_MOSTLY = 0.9

_EVENT_PATTERNS = {"datetime": DATE_PREFIX, "date": DATE_PREFIX, "month": MONTH, "quarter": QUARTER}


@dataclass(frozen=True)
class QualityScope:
    """What a suite is built for: the month being published, and where the seeds are."""

    month: Month
    seeds_dir: Path

    @property
    def first_day(self) -> date:
        return self.month.first_day

    @property
    def last_day(self) -> date:
        return self.month.shift(1).first_day - timedelta(days=1)

    def seed_rows(self, seed: str) -> list[dict[str, str]]:
        """A dbt seed's rows: code lists are read from the seeds dbt maps them with, never
        copied into a suite."""
        with (self.seeds_dir / f"{seed}.csv").open(encoding="utf-8", newline="") as handle:
            return [
                {k: (v or "").strip() for k, v in row.items()} for row in csv.DictReader(handle)
            ]

    def seed_values(
        self, seed: str, column: str, where: Mapping[str, str] | None = None
    ) -> list[str]:
        """The distinct values of a seed's column (of the rows matching ``where``)."""
        rows = self.seed_rows(seed)
        matching = [r for r in rows if all(r.get(k) == v for k, v in (where or {}).items())]
        values = sorted({r[column] for r in matching if r.get(column)})
        if not values:
            raise ValueError(f"seed {seed}: no values in column {column!r} (where {where})")
        return values


@dataclass(frozen=True)
class EventTime:
    """The column that dates a raw row, and the window a batch of the month may hold.

    The window is the month being published, widened by ``lookback_months`` whole
    months before it (late corrections, records updated after the month they happened
    in) and ``lead_days`` after it (clock and time-zone slop at the cut-off). Rows whose
    value is a date outside the window, or not a calendar date (2024-02-30), may be at
    most ``max_outside_share`` of the batch; values in no date format at all are the
    format check's business.
    """

    column: str
    kind: Literal["datetime", "date", "month", "quarter"]
    lookback_months: int = 2
    lead_days: int = 1
    max_outside_share: float = 0.01

    def window(self, scope: QualityScope) -> tuple[date, date]:
        first = scope.month.shift(-self.lookback_months).first_day
        return first, scope.last_day + timedelta(days=self.lead_days)

    def parts_sql(self, table_alias: str) -> str:
        """``regexp_match`` giving year, month and (for dates) day of the value, or null."""
        pattern = _EVENT_PATTERNS[self.kind]
        return f"(regexp_match({table_alias}.{self.column}, '{pattern}'))"

    def day_sql(self, parts: str) -> str:
        """The first day the value denotes as an integer yyyymmdd, from :meth:`parts_sql`."""
        if self.kind in ("datetime", "date"):
            return f"({parts}[1]::int * 10000 + {parts}[2]::int * 100 + {parts}[3]::int)"
        if self.kind == "month":
            return f"({parts}[1]::int * 10000 + {parts}[2]::int * 100 + 1)"
        return f"({parts}[1]::int * 10000 + ({parts}[2]::int * 3 - 2) * 100 + 1)"

    def calendar_ok_sql(self, parts: str) -> str:
        """False for a day the month does not have (2024-02-30); the regex bounds the rest."""
        if self.kind not in ("datetime", "date"):
            return "true"
        return (
            f"{parts}[3]::int <= extract(day from make_date({parts}[1]::int, {parts}[2]::int, 1)"
            " + interval '1 month' - interval '1 day')"
        )

    def in_window_sql(self, table_alias: str, scope: QualityScope) -> str:
        """A predicate: the row's value is a date inside the window (file batches of the month
        are the ones holding such rows)."""
        start, end = self.window(scope)
        parts = self.parts_sql(table_alias)
        return (
            f"{self.day_sql(parts)} between {_day_key(start)} and {_day_key(end)}"
            f" and {self.calendar_ok_sql(parts)}"
        )

    def after_window_sql(self, table_alias: str, scope: QualityScope) -> str:
        """A predicate: the row is dated after the window (a later month's row)."""
        _, end = self.window(scope)
        return f"coalesce({self.day_sql(self.parts_sql(table_alias))} > {_day_key(end)}, false)"


def _day_key(day: date) -> int:
    return day.year * 10000 + day.month * 100 + day.day


@dataclass(frozen=True)
class RawTable:
    """A raw landing table as the extractor writes it (infra/warehouse/*.sql).

    ``selection`` says which batches are the month's: ``extract`` batches were cut by
    the month's run (their window ends inside the month, at its end for a scheduled
    run); ``file`` batches (file drops, loaded whenever they arrive) hold at least one
    row dated inside the event window and are not mostly dated after it (a later
    month's file carrying a few late records of this month is the later month's: so a
    month re-run or backfilled after later drops arrived judges its own files only);
    ``latest`` is the one batch in force (the region master).
    """

    table: str
    columns: tuple[str, ...]
    meta: tuple[str, ...]
    key: tuple[str, ...]
    selection: Literal["extract", "file", "latest"]
    event: EventTime | None = None
    max_duplicate_share: float = 0.01

    @property
    def source_entity(self) -> tuple[str, str]:
        """``raw.police__incidents`` is source ``police``, entity ``incidents`` in raw._batches."""
        source, entity = self.table.split(".", 1)[1].split("__", 1)
        return source, entity

    def row_ref_sql(self, alias: str = "t") -> str:
        key = " || '/' || ".join(f"coalesce({alias}.{c}, '∅')" for c in self.key)
        if "_source_ref" in self.meta:
            where = f"{alias}._source_ref"
        else:
            where = f"{alias}._source_file || ' row ' || {alias}._source_row"
        return f"{key} || ' @ ' || {where}"

    def asset_query(self, batch_id: str) -> str:
        """One source batch of the table, each row named by :data:`ROW_REF`."""
        return (
            f"select t.*, {self.row_ref_sql('t')} as {ROW_REF} from {self.table} as t"
            f" where t._batch_id = {sql_literal(batch_id)}"
        )


@dataclass(frozen=True)
class MartTable:
    """A mart, validated for one month (its rows with ``month_start`` = the month)."""

    table: str
    row_ref: str  # SQL over the mart's columns (alias t) naming a row in reports

    def asset_query(self, scope: QualityScope) -> str:
        return (
            f"select t.*, {self.row_ref} as {ROW_REF} from {self.table} as t"
            f" where t.month_start = date '{scope.first_day.isoformat()}'"
        )


@dataclass(frozen=True)
class SuiteSpec:
    """One table's suite: its builder and what data it is run on."""

    build: Callable[[QualityScope], gx.ExpectationSuite]
    raw: RawTable | None = None
    mart: MartTable | None = None
    layer: Literal["raw", "marts"] = field(init=False)

    def __post_init__(self) -> None:
        if (self.raw is None) == (self.mart is None):
            raise ValueError("a suite validates either a raw table or a mart")
        object.__setattr__(self, "layer", "raw" if self.raw else "marts")

    @property
    def name(self) -> str:
        return self.raw.table if self.raw else self.mart.table  # type: ignore[union-attr]


def sql_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def meta(check: str, **extra: object) -> dict:
    """The expectation's ``meta``: ``check`` is the short name reports use."""
    return {"check": check, **extra}


# --- checks ---------------------------------------------------------------------------


def schema(columns: Sequence[str]) -> gxe.Expectation:
    return gxe.ExpectTableColumnsToMatchSet(
        column_set=[*columns, ROW_REF],
        exact_match=True,
        description=f"columns are exactly the table's {len(columns)} (plus the computed {ROW_REF})",
        meta=meta("schema"),
    )


def not_empty() -> gxe.Expectation:
    return gxe.ExpectTableRowCountToBeBetween(
        min_value=1, description="the month has rows", meta=meta("rows present")
    )


def required(column: str, mostly: float = 1.0) -> gxe.Expectation:
    tolerance = "" if mostly >= 1 else f" (at most {_pct(1 - mostly)} missing)"
    return gxe.ExpectColumnValuesToNotBeNull(
        column=column,
        mostly=mostly,
        description=f"{column} is present{tolerance}",
        meta=meta(f"required {column}"),
    )


def allowed(
    column: str, values: Sequence[str], source: str, mostly: float = 0.99
) -> gxe.Expectation:
    return gxe.ExpectColumnValuesToBeInSet(
        column=column,
        value_set=list(values),
        mostly=mostly,
        description=f"{column} is a code of {source} (at most {_pct(1 - mostly)} unknown)",
        meta=meta(f"allowed codes {column}", code_list=source),
    )


def matches(column: str, regex: str, what: str, mostly: float = 0.98) -> gxe.Expectation:
    tolerance = "" if mostly >= 1 else f" (at most {_pct(1 - mostly)} not)"
    return gxe.ExpectColumnValuesToMatchRegex(
        column=column,
        regex=regex,
        mostly=mostly,
        description=f"{column} is {what}{tolerance}",
        meta=meta(f"format {column}"),
    )


def between(column: str, low: float | None, high: float | None, what: str) -> gxe.Expectation:
    return gxe.ExpectColumnValuesToBeBetween(
        column=column,
        min_value=low,
        max_value=high,
        description=f"{column} {what}",
        meta=meta(f"range {column}"),
    )


def unique(columns: Sequence[str]) -> gxe.Expectation:
    return gxe.ExpectCompoundColumnsToBeUnique(
        column_list=list(columns),
        description="one row per " + " × ".join(columns),
        meta=meta("unique " + "+".join(columns)),
    )


def rows_where(
    check: str, description: str, sql: str, max_share: float | None = None
) -> gxe.Expectation:
    """A SQL check: ``sql`` selects the failing rows of the batch, which it reads as
    ``__BATCH__``; passes when it returns none. With ``max_share``, failing rows up to
    that share of the batch's rows are tolerated (and then not returned).

    The batch is the asset's query: GX substitutes it for ``{batch}``, as a derived table
    named ``subselect`` unless the query has a JOIN, in which case it is bare and must
    be aliased (PostgreSQL before 16 wants an alias). Literal braces are doubled here,
    since GX fills ``{batch}`` with ``str.format``.
    """
    if max_share is not None:
        sql = f"""
            with failing as ({sql.strip()})
            select * from failing
            where (select count(*) from failing)
                  > {max_share} * (select count(*) from __BATCH__)
        """
        description += f" (at most {_pct(max_share)} of the rows not)"
    escaped = sql.strip().replace("{", "{{").replace("}", "}}")
    batch = "{batch} as batch_src" if query_has_join(sql) else "{batch}"
    return gxe.UnexpectedRowsExpectation(
        unexpected_rows_query=escaped.replace("__BATCH__", batch),
        description=description,
        meta=meta(check),
    )


_QUOTED_OR_COMMENT = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|--[^\n]*|/\*.*?\*/", re.S)
_JOIN = re.compile(r"\bJOIN\b", re.IGNORECASE)


def query_has_join(sql: str) -> bool:
    """Whether GX treats the query as a join (it then leaves ``{batch}`` unaliased)."""
    try:  # GX's own test, so that the two never disagree
        from great_expectations.expectations.metrics.query_metric_provider import (
            _query_has_join_clause,
        )

        return bool(_query_has_join_clause(sql))
    except ImportError:  # pragma: no cover - older or newer GX
        return bool(_JOIN.search(_QUOTED_OR_COMMENT.sub(" ", sql)))


def event_in_window(table: RawTable, scope: QualityScope) -> gxe.Expectation:
    """Rows dated outside the month's window, when they are more than the tolerated share.

    A first load of a watermarked source (its batch has no ``watermark_from``: it read
    everything up to the cut-off) holds the source's history, so only the window's end
    applies to it.
    """
    event = table.event
    assert event is not None
    start, end = event.window(scope)
    shown = ", ".join(dict.fromkeys(["_batch_id", ROW_REF, *table.key, event.column]))
    if table.selection == "extract":
        first_load = """
            select coalesce(bool_and(b.watermark_from is null), false)
            from raw._batches as b where b.batch_id in (select _batch_id from batch_rows)"""
        history = " (a first load, with no watermark before it, may hold any earlier date)"
    else:
        first_load, history = "select false", ""
    day = event.day_sql("parts")
    sql = f"""
        with batch_rows as (select * from __BATCH__),
        dated as (select batch_rows.*, {event.parts_sql("batch_rows")} as parts from batch_rows),
        outside as (
            select {shown}
            from dated
            where parts is not null
              and ({day} > {_day_key(end)}
                   or ({day} < {_day_key(start)} and not ({first_load}))
                   or not ({event.calendar_ok_sql("parts")}))
        )
        select * from outside
        where (select count(*) from outside)
              > {event.max_outside_share} * (select count(*) from batch_rows)
    """
    return rows_where(
        f"window {event.column}",
        f"{event.column} is a date from {start} to {end} (the month, {event.lookback_months} "
        f"month(s) before it for late records, {event.lead_days} day(s) after){history}; at "
        f"most {_pct(event.max_outside_share)} of the batch outside",
        sql,
    )


def duplicate_keys(table: RawTable) -> gxe.Expectation:
    key = ", ".join(table.key)
    not_null = " and ".join(f"batch_rows.{c} is not null" for c in table.key)
    sql = f"""
        with batch_rows as (select * from __BATCH__),
        keyed as (
            select batch_rows._batch_id, batch_rows.{ROW_REF},
                   {", ".join(f"batch_rows.{c}" for c in table.key)},
                   count(*) over (partition by {", ".join(f"batch_rows.{c}" for c in table.key)})
                       as copies
            from batch_rows
            where {not_null}
        ),
        extra as (
            select count(*) - (select count(*) from (select distinct {key} from keyed) as d) as n
            from keyed
        )
        select _batch_id, {ROW_REF}, {key}, copies from keyed
        where copies > 1
          and (select n from extra)
              > {table.max_duplicate_share} * (select count(*) from batch_rows)
        order by {key}
    """
    return rows_where(
        "duplicate keys " + "+".join(table.key),
        f"repeated {' × '.join(table.key)} within the batch are at most "
        f"{_pct(table.max_duplicate_share)} of its rows",
        sql,
    )


def raw_suite(
    table: RawTable, scope: QualityScope, required_columns: Mapping[str, float]
) -> gx.ExpectationSuite:
    """The checks every raw table gets: schema, required fields, duplicate keys, window."""
    suite = gx.ExpectationSuite(name=table.table, meta={"layer": "raw", "month": str(scope.month)})
    suite.add_expectation(schema([*table.columns, *table.meta]))
    for column, mostly in required_columns.items():
        suite.add_expectation(required(column, mostly))
    suite.add_expectation(duplicate_keys(table))
    if table.event is not None:
        suite.add_expectation(event_in_window(table, scope))
    return suite


def mart_suite(mart: MartTable, scope: QualityScope) -> gx.ExpectationSuite:
    return gx.ExpectationSuite(name=mart.table, meta={"layer": "marts", "month": str(scope.month)})


def _pct(share: float) -> str:
    return f"{share * 100:g}%"
