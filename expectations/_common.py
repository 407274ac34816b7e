"""What every suite is built from: the scope it is built for, and one helper per kind of check.

A suite is built for one month (:class:`QualityScope`): windows, seed code lists and
month filters are written into its expectations as literals, so a suite is plain
data that Data Docs can render and the results JSON can be read without this code.

A raw table is validated once per month run, all of the month's source batches in one
GX batch; but its rows are *judged per delivery* (per source batch: one county's file,
one extract). A row check names a defect (a missing key, an unknown code, a date that is
not of the month) and a :class:`Tolerance`: a delivery fails the check when its
defective rows are more than a share of its rows *and* more than a count, so that one
mistyped cell in a 7-row county file (14 %) is tolerated while a file where every row
lost its region code is not. GX's ``mostly`` is a share of the whole validation and
cannot say either, so row checks are ``UnexpectedRowsExpectation`` queries that return
the failing rows (with their delivery, file row and region code); a tolerated share of
defects (quarantined downstream by dbt) returns nothing. Checks of the table as a whole
(its columns, whether it has rows) and the marts' checks, which tolerate nothing, use
GX's native expectations.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar, Literal

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
# A month as the API writes it (2024-11) or as clerks type it (2024/11, 2024年11月); the
# staging cast (month_or_null) reads the same three.
MONTH = f"^{_Y}(?:-|/|年){_M}月?$"
# 2024Q2 as exported, 2024年第2季度 / 2024年第二季度 as typed (the survey's staging reads all).
# (No "(?:" before a word character: SQLAlchemy, which GX runs queries through, would read
# ":季度" as a bind parameter.)
QUARTER = f"^{_Y}(?: ?[Qq](?=[1-4]$)|年第(?=[1-4一二三四]季度$))([1-4一二三四])(季度)?$"
REGION_CODE = "^[0-9]{6}([0-9]{3}([0-9]{3})?)?$"  # county 6, township 9, village 12 digits
TOWNSHIP_CODE = "^[0-9]{9}$"
COUNT = "^[0-9]{1,9}$"
AMOUNT = "^[0-9]{1,11}([.][0-9]+)?$"
DECIMAL = "^-?[0-9]{1,4}([.][0-9]+)?$"
HMAC_SHA256 = "^[0-9a-f]{64}$"


@dataclass(frozen=True)
class Tolerance:
    """How many defective rows one delivery (a source batch) may hold before a check fails.

    A delivery fails when its defective rows are more than ``share`` of its rows **and**
    more than ``rows``: a share alone fails a 7-row county file on one mistyped cell,
    a count alone never fails a 200,000-row extract. Defects within the tolerance are
    what dbt's quarantine is for (they are counted and reported there, with reasons).
    """

    share: float
    rows: int = 0

    def __post_init__(self) -> None:
        if not 0 <= self.share < 1 or self.rows < 0:
            raise ValueError(f"a tolerance is a share in [0, 1) and a count >= 0: {self}")

    @property
    def strict(self) -> bool:
        return self.share == 0 and self.rows == 0

    def describe(self) -> str:
        if self.strict:
            return "none in any delivery"
        if self.rows == 0:
            return f"at most {_pct(self.share)} of a delivery's rows"
        if self.share == 0:
            return f"at most {self.rows} rows of a delivery"
        return f"at most {_pct(self.share)} of a delivery's rows, or {self.rows} rows"

    def exceeded_sql(self, defective: str, total: str) -> str:
        """A predicate on a delivery's defective and total row counts: the check fails."""
        return f"{defective} > {self.rows} and {defective} > {self.share} * {total}"


#: No defect tolerated (keys, personal-data hashes, the region master).
STRICT = Tolerance(0.0)
#: The standard allowance for a field a person or a vendor fills in: 1 % of a delivery,
#: or two rows (a clerk's slip or two in a short county file).
SLIP = Tolerance(0.01, rows=2)
#: Formats (dates, counts, codes typed by hand): 2 % or two rows.
TYPED = Tolerance(0.02, rows=2)
#: Files with one row per town (22 in Tongzhou, 7 in a small county of a province),
#: typed by hand: one or two defects are 5-30 % of such a file, normal for an office
#: export and quarantined by dbt; more than 10 % and more than two rows is not.
PER_TOWN = Tolerance(0.1, rows=2)

_EVENT_PATTERNS = {"datetime": DATE_PREFIX, "date": DATE_PREFIX, "month": MONTH, "quarter": QUARTER}


@dataclass(frozen=True)
class QualityScope:
    """What a suite is built for: the month being published, and where the seeds are.

    ``cutoff`` is the month's data cutoff (config/publishing.yml) and ``previous_cutoff``
    the month before's: the monthly run extracts up to the cutoff, so its batches hold
    rows of the first days of the next month too. Without them (a suite built by hand),
    the month's own bounds."""

    month: Month
    seeds_dir: Path
    cutoff: datetime | None = None
    previous_cutoff: datetime | None = None

    @property
    def last_data_day(self) -> date:
        """The last day a row of the month's extract may be dated: the cutoff's."""
        if self.cutoff is None:
            return self.last_day
        return (self.cutoff - timedelta(microseconds=1)).date()

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
    in), after it up to the data cutoff (the run extracts the next month's first days
    too), and ``lead_days`` beyond (clock and time-zone slop at the cut-off). Rows dated
    outside the window are tolerated per delivery as ``outside`` says. A value that is
    no calendar date (2024-02-30) is not dated anywhere: staging quarantines it as
    unparseable, with that reason, and it is neither inside nor outside the window;
    values in no date format at all are the format check's business.
    """

    column: str
    kind: Literal["datetime", "date", "month", "quarter"]
    lookback_months: int = 2
    lead_days: int = 1
    outside: Tolerance = SLIP

    def window(self, scope: QualityScope) -> tuple[date, date]:
        first = scope.month.shift(-self.lookback_months).first_day
        return first, scope.last_data_day + timedelta(days=self.lead_days)

    def parts_sql(self, table_alias: str) -> str:
        """Year, month and (for dates) day of the value as a text array, or null.

        One ``~`` match decides and ``split_part`` cuts the fields out: a capturing
        ``regexp_match`` costs about 30 us a row in PostgreSQL, twenty times the match
        (5.5 s against 0.16 s over a province's 196,000 grid patrols).
        """
        pattern = _EVENT_PATTERNS[self.kind]
        value = f"{table_alias}.{self.column}"
        if self.kind in ("datetime", "date"):
            dashed = f"replace({value}, '/', '-')"
            day = f"split_part({dashed}, '-', 3)"  # the day, then whatever follows it
            fields = (
                f"split_part({dashed}, '-', 1)",
                f"split_part({dashed}, '-', 2)",
                f"left({day}, case when substr({day}, 2, 1) ~ '^[0-9]$' then 2 else 1 end)",
            )
        elif self.kind == "month":  # 2024-11, 2024/11, 2024年11月
            dashed = f"translate({value}, '/年月', '--')"
            fields = (f"split_part({dashed}, '-', 1)", f"split_part({dashed}, '-', 2)")
        else:  # 2024Q2, 2024年第2季度, 2024年第二季度: year and quarter digits
            digits = f"translate(translate({value}, '一二三四', '1234'), 'Qq 年第季度', '')"
            fields = (f"left({digits}, 4)", f"substr({digits}, 5, 1)")
        return f"(case when {value} ~ '{pattern}' then array[{', '.join(fields)}] end)"

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
    the month's run (their window ends after the month before's data cutoff and at or
    before the month's own: at its cutoff for a scheduled run); ``file`` batches (file
    drops, loaded whenever they arrive) hold at least one row dated inside the event
    window and are not mostly dated after it (a later month's file carrying a few late
    records of this month is the later month's: so a month re-run or backfilled after
    later drops arrived judges its own files only);
    ``latest`` is the one batch in force (the region master).
    """

    table: str
    columns: tuple[str, ...]
    meta: tuple[str, ...]
    key: tuple[str, ...]
    selection: Literal["extract", "file", "latest"]
    event: EventTime | None = None
    #: repeated natural keys within one delivery (staging keeps one copy)
    duplicates: Tolerance = SLIP
    #: the column holding the row's region code: failures name the units they touch
    region_column: str | None = None

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

    def asset_query(self, batch_ids: Sequence[str]) -> str:
        """The month's source batches of the table (one GX batch), each row named by
        :data:`ROW_REF`; ``_batch_id`` says which delivery a row came in."""
        if not batch_ids:
            raise ValueError(f"{self.table}: an asset needs at least one batch")
        listed = ", ".join(sql_literal(b) for b in batch_ids)
        return (
            f"select t.*, {self.row_ref_sql('t')} as {ROW_REF} from {self.table} as t"
            f" where t._batch_id in ({listed})"
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


def required(column: str) -> gxe.Expectation:
    """A mart column that is never null (marts tolerate nothing)."""
    return gxe.ExpectColumnValuesToNotBeNull(
        column=column, description=f"{column} is present", meta=meta(f"required {column}")
    )


def allowed(column: str, values: Sequence[str], source: str) -> gxe.Expectation:
    """A mart column whose every value is one of ``values``."""
    return gxe.ExpectColumnValuesToBeInSet(
        column=column,
        value_set=list(values),
        description=f"{column} is a code of {source}",
        meta=meta(f"allowed codes {column}", code_list=source),
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


#: Column of a delivery check's failing rows holding how many rows failed in all.
FAILING_ROWS = "_failing_rows"


class ExpectDeliveriesWithinTolerance(gxe.UnexpectedRowsExpectation):
    """An ``UnexpectedRowsExpectation`` whose query also returns the number of failing
    rows (:data:`FAILING_ROWS`, on every row), so that GX runs it once.

    GX computes an unexpected-rows check with two metrics, the rows (at most 200 fetched)
    and ``count(*)`` over the same query; both run the whole query, and a raw table's
    row checks read every row of the month (250,000 police incidents in a province).
    Reading the count from the rows halves the gate's cost; results, Data Docs and the
    gate's reports are those of the parent class.
    """

    metric_dependencies: ClassVar[tuple[str, ...]] = ("unexpected_rows_query.table",)

    def _validate(
        self,
        metrics: dict,
        runtime_configuration: dict | None = None,
        execution_engine: object | None = None,
    ) -> Any:
        rows = metrics["unexpected_rows_query.table"]
        counted = {
            **metrics,
            "unexpected_rows_query.row_count": int(rows[0][FAILING_ROWS]) if rows else 0,
        }
        return super()._validate(counted, runtime_configuration, execution_engine)


def rows_where(
    check: str, description: str, sql: str, *, counted: bool = False, **extra: object
) -> gxe.Expectation:
    """A SQL check: ``sql`` selects the failing rows of the batch, which it reads as
    ``__BATCH__``; passes when it returns none.

    The batch is the asset's query: GX substitutes it for ``{batch}``, as a derived table
    named ``subselect`` unless the query has a JOIN, in which case it is bare and must
    be aliased (PostgreSQL before 16 wants an alias). Literal braces are doubled here,
    since GX fills ``{batch}`` with ``str.format``. ``extra`` goes into the meta.
    ``counted``: every failing row carries :data:`FAILING_ROWS` (see
    :class:`ExpectDeliveriesWithinTolerance`).
    """
    escaped = sql.strip().replace("{", "{{").replace("}", "}}")
    batch = "{batch} as batch_src" if query_has_join(sql) else "{batch}"
    kind = ExpectDeliveriesWithinTolerance if counted else gxe.UnexpectedRowsExpectation
    return kind(
        unexpected_rows_query=escaped.replace("__BATCH__", batch),
        description=description,
        meta=meta(check, **extra),
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


# --- row checks of raw tables, judged per delivery ------------------------------------------

#: Columns every failing row of a raw check carries, for the report: the delivery, the
#: row (natural key @ file row or source ref) and the region code it names (or null).
DEFECT_COLUMNS = ("_batch_id", ROW_REF, "region_code")


def defects(
    table: RawTable,
    check: str,
    description: str,
    predicate: str,
    tolerance: Tolerance,
    shown: Sequence[str] = (),
    prepare: str = "",
    counted: str | None = None,
) -> gxe.Expectation:
    """A row check of a raw table: rows where ``predicate`` holds are defective, and a
    delivery (``_batch_id``) fails when they exceed ``tolerance`` within it.

    The failing rows (every defective row of a failing delivery) come back with
    :data:`DEFECT_COLUMNS`, the delivery's counts and the ``shown`` columns. ``predicate``
    reads the row as ``batch_rows`` (or as ``prepared`` when ``prepare`` is a CTE body
    over ``batch_rows`` adding columns, e.g. a parsed date); a null predicate is no defect.

    ``counted``, when given, is an aggregate over a delivery's ``batch_rows`` giving its
    defective rows without ``prepare`` (a window over the delivery, such as numbering
    copies of a key, is then computed for failing deliveries only).

    Cost: every check reads the table's month (a province's police extract has 250,000
    rows; the check runs once, :class:`ExpectDeliveriesWithinTolerance`). So the
    deliveries are counted in one narrow pass
    (no column is carried that the count does not read, and the row reference is built
    only for the rows returned), and the rows are read again only for failing deliveries:
    PostgreSQL skips that second scan when no delivery fails (a hash join on an empty
    side). The CTEs are ``not materialized`` so that each reads only what it needs.
    """
    region = f"batch_rows.{table.region_column}" if table.region_column else "null"
    extra = "".join(f", batch_rows.{c}" for c in dict.fromkeys(shown) if c != table.region_column)
    # ``prepare`` goes before the count (row by row: the count reads it) or, with
    # ``counted``, after it (a window over each failing delivery only)
    before, after = "", ""
    counted_from = detail_from = "batch_rows"
    if counted is None:
        counted = f"count(*) filter (where {predicate})"
        if prepare:
            before = f"prepared as not materialized ({prepare.strip()}),\n"
            counted_from = detail_from = "prepared"
    elif prepare:
        after = f"""prepared as not materialized (
            {prepare.strip()}
            where batch_rows._batch_id in (select failing._batch_id from failing)
        ),\n"""
        detail_from = "prepared"
    sql = f"""
        with batch_rows as not materialized (select * from __BATCH__),
        {before}deliveries as (
            select batch_rows._batch_id, count(*) as delivery_rows,
                   {counted} as defective_rows
            from {counted_from} as batch_rows
            group by batch_rows._batch_id
        ),
        failing as (
            select deliveries.*
            from deliveries
            where {tolerance.exceeded_sql("defective_rows", "delivery_rows")}
        ),
        {after}detail as (
            select batch_rows._batch_id, batch_rows.{ROW_REF}, {region} as region_code{extra},
                   failing.defective_rows, failing.delivery_rows,
                   count(*) over () as {FAILING_ROWS}
            from {detail_from} as batch_rows
            inner join failing on failing._batch_id = batch_rows._batch_id
            where {predicate}
        )
        select * from detail
        order by detail._batch_id, detail.{ROW_REF}
    """
    return rows_where(
        check,
        f"{description}; tolerated: {tolerance.describe()}",
        sql,
        counted=True,
        tolerance={"share": tolerance.share, "rows": tolerance.rows},
    )


def present(table: RawTable, column: str, tolerance: Tolerance = STRICT) -> gxe.Expectation:
    return defects(
        table, f"required {column}", f"{column} is present", f"batch_rows.{column} is null",
        tolerance, shown=[column],
    )  # fmt: skip


def coded(
    table: RawTable,
    column: str,
    values: Sequence[str],
    source: str,
    tolerance: Tolerance = SLIP,
) -> gxe.Expectation:
    """Values of ``column`` are codes of ``source`` (nulls are the ``present`` check's)."""
    listed = ", ".join(sql_literal(v) for v in values)
    return defects(
        table,
        f"allowed codes {column}",
        f"{column} is a code of {source}",
        f"batch_rows.{column} is not null and batch_rows.{column} not in ({listed})",
        tolerance,
        shown=[column],
    )


def formatted(
    table: RawTable, column: str, regex: str, what: str, tolerance: Tolerance = TYPED
) -> gxe.Expectation:
    """Values of ``column`` match ``regex`` (PostgreSQL); nulls are the ``present`` check's."""
    value = f"batch_rows.{column}"
    return defects(
        table,
        f"format {column}",
        f"{column} is {what}",
        f"{value} is not null and {_mismatch_sql(value, regex)}",
        tolerance,
        shown=[column],
    )


_FIXED_CLASS = re.compile(r"\^\[([^\]^]+)\]\{(\d+)\}\$")


def _mismatch_sql(value: str, regex: str) -> str:
    """``value !~ regex``, except that a fixed-length run of one class (``^[0-9a-f]{64}$``)
    is tested by length and a search for another character: PostgreSQL's regex engine
    expands ``{64}`` into 64 states, 15 times slower over a province's 250,000 hashes."""
    fixed = _FIXED_CLASS.fullmatch(regex)
    if fixed:
        chars, length = fixed.groups()
        return f"(length({value}) <> {length} or {value} ~ {sql_literal(f'[^{chars}]')})"
    return f"{value} !~ {sql_literal(regex)}"


def event_in_window(table: RawTable, scope: QualityScope) -> gxe.Expectation:
    """Rows dated outside the month's window, beyond the tolerance of their delivery.

    A first load of a watermarked source (its batch has no ``watermark_from``: it read
    everything up to the cut-off) holds the source's history, so only the window's end
    applies to it. A value that is no calendar date (2024-02-30) is not outside: staging
    quarantines it as unparseable.
    """
    event = table.event
    assert event is not None
    start, end = event.window(scope)
    if table.selection == "extract":
        first_load = (
            "batch_rows._batch_id in (select b.batch_id from raw._batches as b"
            " where b.watermark_from is null)"
        )
        history = " (a first load, with no watermark before it, may hold any earlier date)"
    else:
        first_load, history = "false", ""
    day = event.day_sql("batch_rows.parts")
    # "offset 0" keeps PostgreSQL from inlining the subquery into the predicate, which
    # would evaluate the match and the splits once per reference to ``parts`` (ten times)
    prepare = f"""
        select batch_rows.*, {event.parts_sql("batch_rows")} as parts,
               {first_load} as first_load
        from batch_rows
        offset 0
    """
    predicate = (
        f"batch_rows.parts is not null and {event.calendar_ok_sql('batch_rows.parts')}"
        f" and ({day} > {_day_key(end)}"
        f" or ({day} < {_day_key(start)} and not batch_rows.first_load))"
    )
    return defects(
        table,
        f"window {event.column}",
        f"{event.column} is a date from {start} to {end} (the month, {event.lookback_months} "
        f"month(s) before it for late records, {event.lead_days} day(s) after){history}",
        predicate,
        event.outside,
        shown=[*table.key, event.column],
        prepare=prepare,
    )


def duplicate_keys(table: RawTable) -> gxe.Expectation:
    """Repeated natural keys within one delivery: every copy after the first is a defect
    (a key repeated across deliveries is a later version, which staging keeps).

    A delivery's copies are counted as its keyed rows less its distinct keys; the copies
    are numbered (which one is first: by row reference) in failing deliveries only.
    """
    key = ", ".join(f"batch_rows.{c}" for c in table.key)
    keyed = " and ".join(f"batch_rows.{c} is not null" for c in table.key)
    distinct = f"row({key})" if len(table.key) > 1 else key
    prepare = f"""
        select batch_rows.*,
               case when {keyed} then row_number() over (
                   partition by batch_rows._batch_id, {key} order by batch_rows.{ROW_REF}
               ) end as copy_number
        from batch_rows
    """
    return defects(
        table,
        "duplicate keys " + "+".join(table.key),
        f"{' × '.join(table.key)} is not repeated within a delivery",
        "batch_rows.copy_number > 1",
        table.duplicates,
        shown=[*table.key, "copy_number"],
        prepare=prepare,
        counted=(
            f"count(*) filter (where {keyed}) - count(distinct {distinct}) filter (where {keyed})"
        ),
    )


def raw_suite(
    table: RawTable, scope: QualityScope, required_columns: Mapping[str, Tolerance]
) -> gx.ExpectationSuite:
    """The checks every raw table gets: schema, required fields, duplicate keys, window."""
    suite = gx.ExpectationSuite(name=table.table, meta={"layer": "raw", "month": str(scope.month)})
    suite.add_expectation(schema([*table.columns, *table.meta]))
    for column, tolerance in required_columns.items():
        suite.add_expectation(present(table, column, tolerance))
    suite.add_expectation(duplicate_keys(table))
    if table.event is not None:
        suite.add_expectation(event_in_window(table, scope))
    return suite


def mart_suite(mart: MartTable, scope: QualityScope) -> gx.ExpectationSuite:
    return gx.ExpectationSuite(name=mart.table, meta={"layer": "marts", "month": str(scope.month)})


def _pct(share: float) -> str:
    return f"{share * 100:g}%"
