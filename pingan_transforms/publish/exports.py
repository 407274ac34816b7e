"""A month's published rankings as files for district offices: xlsx, csv and json.

For every scheme published in a month, :func:`export_month` writes
``<out_dir>/rankings/<scheme>_<YYYY-MM>.{xlsx,csv,json}``:

- **xlsx** is what people open. Every data sheet has its header in **row 1** and one
  unit (a deductions sheet: one unit's item) per row from row 2, so
  ``pandas.read_excel(path, sheet_name=...)`` reads it without options; scheme,
  version and month are in the document properties and on the last sheet, ``说明``,
  never above the header. Sheets: one ranking per ranked
  level (``乡镇街道排名``, ``村社区排名``), then one per category (named by the
  category, in the scheme's order), then per ranked level its deductions
  (``乡镇街道扣分明细``: one row per unit and item that lost or gained points, with
  the number of source records behind it, so an office answers a town from the file
  it already has; ``pingan explain`` lists the records). Numbers stay numbers: the
  rank change is the integer ``previous rank − rank`` shown as ``↑3`` / ``↓2`` /
  ``–`` by its number format, so sorting and formulas still work.
- **csv** is :func:`pingan_transforms.publish.ranking.write_csv` unchanged (UTF-8 with
  BOM, Chinese headers), for tools that want one flat table.
- **json** is for programs: the same ranking plus categories per unit; decimals are
  **strings** with two places (exact, as in the marts), integers are numbers.

Every file is written to a temporary name in the same folder and renamed, so a
reader (or a mail job picking files up) never sees a half-written file.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from copy import copy
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Generic, TypeVar

import psycopg
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.worksheet import Worksheet
from psycopg.rows import dict_row

from pingan_transforms.fileio import atomic_write, atomic_write_text
from pingan_transforms.months import Month
from pingan_transforms.publish.index_reader import (
    published_schemes,
    read_rank_intervals,
    read_units,
)
from pingan_transforms.publish.ranking import (
    LEVEL_NAMES,
    RANKING_COLUMNS,
    WARNING_NAMES,
    RankingRow,
    ranking_row,
    write_csv,
)
from pingan_transforms.warehouse import WarehouseTarget, connect

FORMATS = ("xlsx", "csv", "json")
JSON_FORMAT = "pingan.ranking"
JSON_FORMAT_VERSION = 1
ABOUT_SHEET = "说明"
LEVEL_ORDER = ("province", "city", "county", "township", "village")

# ---------------------------------------------------------------------------
# What is read from the marts
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Category:
    """A category (一级指标) of the scheme version that scored the month."""

    code: str
    name: str
    points: Decimal | None
    sort_order: int | None


@dataclass(frozen=True)
class CategoryScore:
    """One unit's score in one category, and last month's under the same version."""

    code: str
    score: Decimal
    previous_score: Decimal | None


@dataclass(frozen=True)
class Deduction:
    """An item a unit lost points on (or, an adjustment item, gained or lost), with
    the source records behind it (``marts.region_index_records``)."""

    region_code: str
    category_name: str | None
    item_code: str
    item_name: str | None
    metric_name: str | None
    metric_value: Decimal | None
    points: Decimal
    item_score: Decimal
    is_adjustment: bool
    records: int  # the source records counted in the item's metric
    records_short: int  # of a rate's, those not counted in full (an unsatisfied callback)

    @property
    def change(self) -> Decimal:
        """Points lost (negative) or, for an adjustment item, gained (positive)."""
        return self.item_score if self.is_adjustment else self.item_score - self.points


@dataclass(frozen=True)
class PublishedUnit:
    """A row of ``marts.region_index_monthly``: the CSV's :class:`RankingRow` plus what
    the xlsx and json need on top (colour, peer group code, last month's score,
    categories)."""

    row: RankingRow
    peer_group_code: str | None
    grade_colour: str | None
    units_ranked: int | None
    previous_score: Decimal | None
    categories: Mapping[str, CategoryScore] = field(default_factory=dict)
    # 排名区间: the 5–95 % range of the rank under count noise and weights ±20 % (issue 15)
    rank_interval: tuple[int, int] | None = None
    previous_rank_interval: tuple[int, int] | None = None  # last month's, same version

    @property
    def clear_move(self) -> bool | None:
        """Whether the rank moved beyond chance: this month's and last month's rank
        intervals do not overlap (issue 15). None when either is unknown."""
        if self.rank_interval is None or self.previous_rank_interval is None:
            return None
        (low, high), (previous_low, previous_high) = self.rank_interval, self.previous_rank_interval
        return high < previous_low or low > previous_high

    @property
    def rank_interval_text(self) -> str | None:
        """``3–7``, or the rank alone when the interval is one place; None if unknown."""
        if self.rank_interval is None:
            return None
        low, high = self.rank_interval
        return str(low) if low == high else f"{low}–{high}"


@dataclass(frozen=True)
class PublishedRanking:
    """One scheme's published month: every ranked unit, in ranking order."""

    scheme_code: str
    scheme_name: str | None
    scheme_version: int
    total_label: str
    month: Month
    units: tuple[PublishedUnit, ...]
    categories: tuple[Category, ...] = ()
    deductions: tuple[Deduction, ...] = ()  # in the scheme's item order

    @property
    def rows(self) -> list[RankingRow]:
        """The rows :func:`ranking.write_csv` takes."""
        return [unit.row for unit in self.units]

    @property
    def previous_restated(self) -> bool:
        """Last month was published under another version and is restated under this one."""
        return any(unit.row.previous_restated for unit in self.units)

    def by_level(self) -> dict[str, list[PublishedUnit]]:
        """Units per ranked level, highest level first (one sheet each)."""
        levels: dict[str, list[PublishedUnit]] = {}
        for unit in self.units:
            levels.setdefault(unit.row.region_level, []).append(unit)
        order = {level: i for i, level in enumerate(LEVEL_ORDER)}
        return dict(sorted(levels.items(), key=lambda item: order.get(item[0], len(order))))

    def deduction_rows(self, units: list[PublishedUnit]) -> list[DeductionRow]:
        """The deductions of ``units``, unit by unit in ranking order."""
        by_unit: dict[str, list[Deduction]] = {}
        for deduction in self.deductions:
            by_unit.setdefault(deduction.region_code, []).append(deduction)
        return [DeductionRow(u, d) for u in units for d in by_unit.get(u.row.region_code, [])]


@dataclass(frozen=True)
class DeductionRow:
    """A row of a deductions sheet: the unit and one of its deductions."""

    unit: PublishedUnit
    deduction: Deduction


_UNIT_COLUMNS = (
    *RANKING_COLUMNS,
    "scheme_name",
    "peer_group_code",
    "grade_colour",
    "units_ranked",
    "previous_score",
)

_CATEGORIES_SQL = """
    select region_code, category_code, category_name, category_points, sort_order,
           category_score, previous_category_score
    from marts.region_index_categories
    where scheme_code = %s and month_start = %s
    order by sort_order nulls last, category_code, region_code
"""


# Every item a unit lost or gained points on, with its records counted: an item at
# full marks (or an adjustment of 0) has nothing to explain.
_DEDUCTIONS_SQL = """
    with items as (
        select * from marts.region_index_items
        where scheme_code = %(scheme)s and month_start = %(month)s
          and case when is_adjustment then item_score <> 0 else item_score < points end
    ),
    records as (
        select region_code, item_code, count(*) as records,
            count(*) filter (where contribution < denominator) as records_short
        from marts.region_index_records
        where scheme_code = %(scheme)s and month_start = %(month)s
        group by region_code, item_code
    )
    select items.region_code, items.category_name, items.item_code, items.item_name,
        items.metric_name, items.metric_value, items.points, items.item_score,
        items.is_adjustment, coalesce(records.records, 0), coalesce(records.records_short, 0)
    from items
    left join records
        on items.region_code = records.region_code and items.item_code = records.item_code
    order by items.sort_order, items.region_code
"""


def read_published(
    conn: psycopg.Connection, scheme_code: str, month: Month
) -> PublishedRanking | None:
    """The scheme's published month from the marts, or None if it was not published."""
    units = read_units(conn, scheme_code, month, _UNIT_COLUMNS)
    if not units:
        return None
    with conn.cursor(row_factory=dict_row) as cur:
        category_rows = cur.execute(_CATEGORIES_SQL, (scheme_code, month.first_day)).fetchall()
    categories, scores = _categories(category_rows)
    deductions = conn.execute(
        _DEDUCTIONS_SQL, {"scheme": scheme_code, "month": month.first_day}
    ).fetchall()
    intervals = read_rank_intervals(conn, scheme_code, month)
    previous = read_rank_intervals(conn, scheme_code, month.shift(-1))
    first = units[0]
    return PublishedRanking(
        scheme_code=scheme_code,
        scheme_name=first["scheme_name"],
        scheme_version=first["scheme_version"],
        total_label=first["total_label"] or "平安指数",
        month=month,
        units=tuple(
            _unit(
                r,
                scores.get(r["region_code"], {}),
                intervals.get(r["region_code"]),
                previous.get(r["region_code"]),
            )
            for r in units
        ),
        categories=categories,
        deductions=tuple(Deduction(*row) for row in deductions),
    )


def _unit(
    record: dict[str, Any],
    categories: Mapping[str, CategoryScore],
    rank_interval: tuple[int, int] | None,
    previous_rank_interval: tuple[int, int] | None,
) -> PublishedUnit:
    return PublishedUnit(
        row=ranking_row(record),
        peer_group_code=record["peer_group_code"],
        grade_colour=record["grade_colour"],
        units_ranked=record["units_ranked"],
        previous_score=record["previous_score"],
        categories=categories,
        rank_interval=rank_interval,
        # last month's interval says something only when it was ranked the same way
        previous_rank_interval=None if record["previous_restated"] else previous_rank_interval,
    )


def _categories(
    records: Iterable[dict[str, Any]],
) -> tuple[tuple[Category, ...], dict[str, dict[str, CategoryScore]]]:
    """The scheme's categories in order, and each unit's scores by category code."""
    categories: dict[str, Category] = {}
    scores: dict[str, dict[str, CategoryScore]] = {}
    for r in records:
        code = r["category_code"]
        categories.setdefault(
            code, Category(code, r["category_name"] or code, r["category_points"], r["sort_order"])
        )
        scores.setdefault(r["region_code"], {})[code] = CategoryScore(
            code, r["category_score"], r["previous_category_score"]
        )
    return tuple(categories.values()), scores


# ---------------------------------------------------------------------------
# Small helpers shared by the writers
# ---------------------------------------------------------------------------


def display_width(text: str) -> int:
    """Columns a text takes in a Chinese spreadsheet font.

    East-Asian wide and full-width characters take two; so do ambiguous ones (★, ↑),
    which Chinese fonts draw wide.
    """
    return sum(2 if unicodedata.east_asian_width(ch) in "WFA" else 1 for ch in text)


def unit_header(units: Iterable[PublishedUnit]) -> str:
    """乡镇街道 / 村社区 when every unit is of that level, else 单位."""
    levels = {unit.row.region_level for unit in units}
    return LEVEL_NAMES.get(levels.pop(), "单位") if len(levels) == 1 else "单位"


def decimal_text(value: Decimal | None) -> str | None:
    """Two decimals as text: exact, unlike a float, and like the CSV."""
    return None if value is None else f"{value:.2f}"


# ---------------------------------------------------------------------------
# xlsx
# ---------------------------------------------------------------------------

_INVALID_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")
_HEX_COLOUR = re.compile(r"^#?([0-9A-Fa-f]{6})$")
SHEET_NAME_MAX = 31

# Excel's own good / neutral / bad styles: readable fills with dark text.
WARNING_STYLES = {"red": ("FFC7CE", "9C0006"), "yellow": ("FFEB9C", "9C5700"),
                  "green": ("C6EFCE", "006100")}  # fmt: skip
UP_FONT, DOWN_FONT, SAME_FONT = "007A33", "C00000", "7F7F7F"
STAR_FONT = "BF8F00"
HEADER_FILL = "DDEBF7"
RANK_CHANGE_FORMAT = '"↑"0;"↓"0;"–"'
PCT_FORMAT = "+0.00;-0.00;0.00"
SCORE_FORMAT = "0.00"


@dataclass(frozen=True)
class Style:
    """How one cell looks beyond its value: fill and font colours (RRGGBB), bold."""

    fill: str | None = None
    font: str | None = None
    bold: bool = False


Row = TypeVar("Row")


@dataclass(frozen=True)
class Column(Generic[Row]):
    """One column of a sheet: its header, value, number format and per-cell style (a
    row is a unit, or a unit's deduction)."""

    header: str
    value: Callable[[Row], object]
    number_format: str | None = None
    style: Callable[[Row], Style | None] = lambda row: None


def sheet_title(name: str, taken: set[str]) -> str:
    """A valid, unused sheet name: no ``[]:*?/\\``, at most 31 characters.

    Excel compares sheet names case-insensitively; a clash gets ``(2)``, ``(3)``….
    """
    base = _INVALID_SHEET_CHARS.sub("_", name).strip().strip("'") or "分类"
    base = base[:SHEET_NAME_MAX]
    title, n = base, 2
    while title.casefold() in {t.casefold() for t in taken}:
        suffix = f"({n})"
        title, n = base[: SHEET_NAME_MAX - len(suffix)] + suffix, n + 1
    taken.add(title)
    return title


def _rgb(colour: str | None) -> str | None:
    """``#rrggbb`` from the marts as openpyxl's ``RRGGBB``; None if it is not a colour."""
    match = _HEX_COLOUR.match(colour or "")
    return match.group(1).upper() if match else None


def _text_on(fill: str) -> str:
    """Black or white text, whichever reads better on the fill (relative luminance)."""
    r, g, b = (int(fill[i : i + 2], 16) / 255 for i in (0, 2, 4))
    return "000000" if 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.5 else "FFFFFF"


def _grade_style(unit: PublishedUnit) -> Style | None:
    fill = _rgb(unit.grade_colour)
    return Style(fill=fill, font=_text_on(fill), bold=True) if fill else None


def _warning_style(unit: PublishedUnit) -> Style | None:
    colours = WARNING_STYLES.get(unit.row.warning_level or "")
    return Style(fill=colours[0], font=colours[1], bold=True) if colours else None


def _rank_change_style(unit: PublishedUnit) -> Style | None:
    change = unit.row.rank_change
    if change is None:
        return None
    return Style(font=UP_FONT if change > 0 else DOWN_FONT if change < 0 else SAME_FONT)


def _stars(unit: PublishedUnit) -> str | None:
    return "★" * unit.row.stars if unit.row.stars else None


def ranking_columns(
    ranking: PublishedRanking, units: list[PublishedUnit]
) -> list[Column[PublishedUnit]]:
    """The ranking sheet: the CSV's columns plus the peer group, styled, and the rank
    interval when it was computed for the month."""
    intervals = [Column("排名区间", lambda u: u.rank_interval_text)]
    return [
        Column("排名", lambda u: u.row.rank),
        Column(unit_header(units), lambda u: u.row.region_name),
        Column("区划代码", lambda u: u.row.region_code),
        Column("排名分组", lambda u: u.row.peer_group_name),
        Column(ranking.total_label, lambda u: u.row.score, SCORE_FORMAT),
        Column("等级", lambda u: u.row.grade, style=_grade_style),
        Column("星级", _stars, style=lambda u: Style(font=STAR_FONT)),
        Column("预警", lambda u: WARNING_NAMES.get(u.row.warning_level or ""),
               style=_warning_style),
        Column("上月排名", lambda u: u.row.previous_rank),
        Column("排名变化", lambda u: u.row.rank_change, RANK_CHANGE_FORMAT,
               style=_rank_change_style),
        Column("环比(%)", lambda u: u.row.score_change_pct, PCT_FORMAT),
        *(intervals if any(u.rank_interval for u in units) else []),
    ]  # fmt: skip


def category_columns(category: Category, units: list[PublishedUnit]) -> list[Column[PublishedUnit]]:
    """A category sheet: each unit's score of the category, its points and last month's."""

    def score(u: PublishedUnit) -> Decimal | None:
        found = u.categories.get(category.code)
        return found.score if found else None

    def previous(u: PublishedUnit) -> Decimal | None:
        found = u.categories.get(category.code)
        return found.previous_score if found else None

    def share(u: PublishedUnit) -> Decimal | None:
        value, points = score(u), category.points
        return None if value is None or not points else round(value * 100 / points, 2)

    def change(u: PublishedUnit) -> Decimal | None:
        value, before = score(u), previous(u)
        return None if value is None or before is None else value - before

    return [
        Column("总排名", lambda u: u.row.rank),
        Column(unit_header(units), lambda u: u.row.region_name),
        Column("区划代码", lambda u: u.row.region_code),
        Column("排名分组", lambda u: u.row.peer_group_name),
        Column("得分", score, SCORE_FORMAT),
        Column("满分", lambda u: category.points, SCORE_FORMAT),
        Column("得分率(%)", share, SCORE_FORMAT),
        Column("上月得分", previous, SCORE_FORMAT),
        Column("较上月", change, PCT_FORMAT),
    ]


def deduction_columns(units: list[PublishedUnit]) -> list[Column[DeductionRow]]:
    """A deductions sheet: per unit, each item it lost (or gained) points on, and how
    many source records stand behind it."""
    return [
        Column("排名", lambda r: r.unit.row.rank),
        Column(unit_header(units), lambda r: r.unit.row.region_name),
        Column("区划代码", lambda r: r.unit.row.region_code),
        Column("一级指标", lambda r: r.deduction.category_name),
        Column("指标代码", lambda r: r.deduction.item_code),
        Column("指标", lambda r: r.deduction.item_name),
        Column("满分", lambda r: r.deduction.points, SCORE_FORMAT),
        Column("得分", lambda r: r.deduction.item_score, SCORE_FORMAT),
        Column("扣减分", lambda r: r.deduction.change, PCT_FORMAT),
        Column("指标值", lambda r: r.deduction.metric_value),
        Column("记录数", lambda r: r.deduction.records),
        Column("其中未全额计入", lambda r: r.deduction.records_short or None),
    ]


def _cell_text(value: object) -> str:
    """What a value looks like in its cell, for the column width."""
    if value is None:
        return ""
    if isinstance(value, Decimal | float):
        return f"{value:+.2f}"  # the sign leaves room for +/- and arrow formats
    if isinstance(value, int):
        return f"↑{value}"
    return str(value)


def _column_width(header: str, values: Iterable[object]) -> float:
    widest = max([display_width(header), *(display_width(_cell_text(v)) for v in values)])
    return min(max(widest + 2, 6), 60)


def _apply(cell: Any, style: Style | None) -> None:
    if style is None:
        return
    if style.fill:
        cell.fill = PatternFill(fill_type="solid", fgColor=style.fill, bgColor=style.fill)
    if style.font or style.bold:
        cell.font = Font(color=style.font, bold=style.bold)


def fill_sheet(ws: Worksheet, columns: list[Column[Row]], units: list[Row]) -> None:
    """Header in row 1 (frozen, filterable), one unit (or deduction) per row, widths
    that fit Chinese."""
    ws.append([c.header for c in columns])
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill(fill_type="solid", fgColor=HEADER_FILL)
        cell.alignment = Alignment(horizontal="center", vertical="center")
    # A cell's look is its number format and Style; openpyxl registers each font, fill
    # and format in the workbook (hashing the style object) every time one is assigned.
    # The first cell of each look is styled as usual, later ones copy its style ids:
    # the same ids in the same order of first use, so the same file.
    styled: dict[tuple[int, Style | None], Any] = {}
    for row, unit in enumerate(units, start=2):
        ws.append([c.value(unit) for c in columns])
        # by index: ws[ws.max_row] scans every cell of the sheet for each row, quadratic
        # in the units (a province's 1,365 townships: most of the workbook's time)
        for index, column in enumerate(columns, start=1):
            cell = ws.cell(row=row, column=index)
            style = column.style(unit)
            if not column.number_format and style is None:
                continue
            key = (index, style)
            if key in styled:
                cell._style = copy(styled[key])
                continue
            if column.number_format:
                cell.number_format = column.number_format
            _apply(cell, style)
            styled[key] = cell._style
    for index, column in enumerate(columns, start=1):
        letter = ws.cell(row=1, column=index).column_letter
        ws.column_dimensions[letter].width = _column_width(
            column.header, (column.value(u) for u in units)
        )
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = ws.dimensions


def level_sheet_name(level: str, what: str = "排名") -> str:
    """``乡镇街道排名``, ``村社区扣分明细``; an unknown level keeps its code."""
    return f"{LEVEL_NAMES.get(level, level)}{what}"


RANK_INTERVAL_NOTE = (
    "按各类事件数的随机波动（泊松重抽样）和一级指标权重在±20%内变动重算1000次，"
    "本单位排名的5%至95%分位区间；区间越宽，名次越不稳定，相邻名次的差别越可能出于偶然"
)


def about_rows(ranking: PublishedRanking) -> list[tuple[str, str]]:
    """The ``说明`` sheet: what the workbook is and how to read it."""
    rows = [
        ("方案", ranking.scheme_name or ranking.scheme_code),
        ("方案代码", ranking.scheme_code),
        ("方案版本", str(ranking.scheme_version)),
        ("月份", str(ranking.month)),
        ("总分", ranking.total_label),
        ("排名单位数", str(len(ranking.units))),
        ("表头", "各排名表与分类表第 1 行为表头，第 2 行起每行一个单位"),
        ("排名变化", "上月排名 − 本月排名，正数为上升（↑），负数为下降（↓）"),
        ("环比(%)", f"（本月{ranking.total_label} − 上月）÷ 上月 × 100"),
        (
            "扣分明细",
            "每行一个单位的一个扣分（或加减分）指标；扣减分为负数是扣分；记录数为计入"
            "该指标的源记录条数，其中未全额计入为比率指标中未计入分子的记录（如回访不满意）；"
            "逐条记录可用 pingan explain 查看",
        ),
    ]
    if any(u.rank_interval for u in ranking.units):
        rows.append(("排名区间", RANK_INTERVAL_NOTE))
    if ranking.previous_restated:
        restated = f"上月按其他版本发布，上月排名、得分已按第 {ranking.scheme_version} 版方案重算"
        rows.append(("上月数据", restated))
    return rows


def _about_sheet(wb: Workbook, ranking: PublishedRanking) -> None:
    ws = wb.create_sheet(ABOUT_SHEET)
    ws.append(["项目", "内容"])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in about_rows(ranking):
        ws.append(list(row))
    for letter, index in (("A", 0), ("B", 1)):
        texts = [row[index] for row in ws.iter_rows(values_only=True)]
        ws.column_dimensions[letter].width = _column_width("", texts)
    ws.freeze_panes = "A2"


def _properties(wb: Workbook, ranking: PublishedRanking) -> None:
    """Scheme, version and month in the document properties (File → Info)."""
    name = ranking.scheme_name or ranking.scheme_code
    wb.properties.title = f"{ranking.month} {name}{ranking.total_label}排名"
    wb.properties.subject = f"{ranking.scheme_code} v{ranking.scheme_version} {ranking.month}"
    wb.properties.keywords = (
        f"scheme={ranking.scheme_code};version={ranking.scheme_version};month={ranking.month}"
    )
    wb.properties.creator = "pingan_transforms"


def build_workbook(ranking: PublishedRanking) -> Workbook:
    """Ranking sheet(s) per level, a sheet per category, deductions per level, then
    ``说明``."""
    wb = Workbook()
    wb.remove(wb.active)
    taken = {ABOUT_SHEET}
    for level, units in ranking.by_level().items():
        ws = wb.create_sheet(sheet_title(level_sheet_name(level), taken))
        fill_sheet(ws, ranking_columns(ranking, units), units)
    units = list(ranking.units)
    for category in ranking.categories:
        ws = wb.create_sheet(sheet_title(category.name, taken))
        fill_sheet(ws, category_columns(category, units), units)
    for level, level_units in ranking.by_level().items():
        ws = wb.create_sheet(sheet_title(level_sheet_name(level, "扣分明细"), taken))
        fill_sheet(ws, deduction_columns(level_units), ranking.deduction_rows(level_units))
    _about_sheet(wb, ranking)
    _properties(wb, ranking)
    return wb


def write_xlsx(ranking: PublishedRanking, path: Path) -> Path:
    """The ranking workbook at ``path`` (atomically)."""
    workbook = build_workbook(ranking)
    return atomic_write(path, lambda tmp: workbook.save(tmp))


# ---------------------------------------------------------------------------
# json
# ---------------------------------------------------------------------------


def _unit_document(unit: PublishedUnit, categories: tuple[Category, ...]) -> dict[str, object]:
    r = unit.row
    return {
        "rank": r.rank,
        "region_code": r.region_code,
        "region_name": r.region_name,
        "region_level": r.region_level,
        "peer_group_code": unit.peer_group_code,
        "peer_group_name": r.peer_group_name,
        "units_ranked": unit.units_ranked,
        "score": decimal_text(r.score),
        "grade": r.grade,
        "grade_colour": unit.grade_colour,
        "stars": r.stars,
        "warning_level": r.warning_level,
        "previous_rank": r.previous_rank,
        "rank_change": r.rank_change,
        "previous_score": decimal_text(unit.previous_score),
        "score_change_pct": decimal_text(r.score_change_pct),
        "previous_restated": r.previous_restated,
        # [rank_low, rank_high] under count noise and weights ±20 % (issue 15); null if
        # the month's intervals were not computed
        "rank_interval": list(unit.rank_interval) if unit.rank_interval else None,
        "categories": [
            {
                "code": c.code,
                "name": c.name,
                "score": decimal_text(found.score),
                "points": decimal_text(c.points),
                "previous_score": decimal_text(found.previous_score),
            }
            for c in categories
            if (found := unit.categories.get(c.code)) is not None
        ],
    }


def ranking_document(ranking: PublishedRanking) -> dict[str, object]:
    """The JSON document: scheme, month (ISO), categories and every unit in ranking order.

    Decimals are strings with two places ("88.39"), integers numbers, absent values
    null; codes and names are as in the marts.
    """
    return {
        "format": JSON_FORMAT,
        "format_version": JSON_FORMAT_VERSION,
        "scheme": {
            "code": ranking.scheme_code,
            "name": ranking.scheme_name,
            "version": ranking.scheme_version,
            "total_label": ranking.total_label,
        },
        "month": str(ranking.month),
        "month_start": ranking.month.first_day.isoformat(),
        "previous_restated": ranking.previous_restated,
        "categories": [
            {
                "code": c.code,
                "name": c.name,
                "points": decimal_text(c.points),
                "sort_order": c.sort_order,
            }
            for c in ranking.categories
        ],
        "units": [_unit_document(unit, ranking.categories) for unit in ranking.units],
    }


def write_json(ranking: PublishedRanking, path: Path) -> Path:
    """The ranking as UTF-8 JSON with Chinese kept readable (``ensure_ascii=False``)."""
    text = json.dumps(ranking_document(ranking), ensure_ascii=False, indent=2) + "\n"
    return atomic_write_text(path, text)


# ---------------------------------------------------------------------------
# The month
# ---------------------------------------------------------------------------


def write_ranking_files(ranking: PublishedRanking, directory: Path) -> list[Path]:
    """``<scheme>_<YYYY-MM>.xlsx``, ``.csv`` and ``.json`` in ``directory``.

    The monthly run writes a ranking twice, once as the month's export and again as the
    files its draft bulletin attaches (seconds of openpyxl for a province's deductions).
    A hidden stamp ``.<stem>.written.json`` records the content the files were written
    from and each file's SHA-256: when the content is the same and the files are still
    those bytes, they are kept as they are; anything else (other data, a file edited or
    removed, another version of this module) writes them again."""
    stem = f"{ranking.scheme_code}_{ranking.month}"
    paths = [directory / f"{stem}.{kind}" for kind in ("xlsx", "csv", "json")]
    stamp = directory / f".{stem}.written.json"
    content = _content_digest(ranking)
    if _stamped(stamp, content, paths):
        return paths
    write_xlsx(ranking, paths[0])
    write_csv(ranking.rows, paths[1])  # atomic itself
    write_json(ranking, paths[2])
    files = {p.name: _file_digest(p) for p in paths}
    atomic_write_text(stamp, json.dumps({"content": content, "files": files}) + "\n")
    return paths


def _content_digest(ranking: PublishedRanking) -> str:
    """What the files are a function of: the ranking (frozen dataclasses, whose repr
    lists every field in order) and the code that writes them (this module, and
    ranking.py's csv writer)."""
    from pingan_transforms.publish import ranking as csv_module

    digest = hashlib.sha256(Path(__file__).read_bytes())
    digest.update(Path(csv_module.__file__).read_bytes())
    digest.update(repr(ranking).encode())
    return digest.hexdigest()


def _file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _stamped(stamp: Path, content: str, paths: list[Path]) -> bool:
    try:
        recorded = json.loads(stamp.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if not isinstance(recorded, dict) or recorded.get("content") != content:
        return False
    files = recorded.get("files") or {}
    return all(p.is_file() and files.get(p.name) == _file_digest(p) for p in paths)


def export_month(target: WarehouseTarget, month: Month, out_dir: Path) -> list[Path]:
    """Every scheme ranked in the month, as files under ``<out_dir>/rankings/``.

    A scheme already published for the month gets the files of its revision in force,
    byte for byte as mailed (publish/archive.py): later data do not change them. The
    others are read first, then written, so no file waits on the database. Returns the
    paths written, empty when nothing was ranked for the month.
    """
    from pingan_transforms.publish import archive

    kept: list[Path] = []
    rankings = []
    with connect(target) as conn:
        for code in published_schemes(conn, month):
            restored = archive.restore(conn, code, month, out_dir)
            if restored is not None:
                kept += [p for p in restored if p.parent == out_dir / "rankings"]
            else:
                rankings.append(read_published(conn, code, month))
    directory = out_dir / "rankings"
    return kept + [
        path for r in rankings if r is not None for path in write_ranking_files(r, directory)
    ]
