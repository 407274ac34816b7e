"""A file-drop connector: departments put their exports in a folder, we load each file once.

Government offices send spreadsheets, not APIs. This connector walks a drop
directory (recursively; one folder per month by convention), recognises each
file's entity by its name (:class:`FileSpec`), and loads every data row into the
entity's raw table, all as text, with the file and row it came from.

- **Once per content.** Each loaded file is recorded in ``raw._files`` by its
  SHA-256; a file whose exact bytes were loaded before is skipped, even when it is
  dropped again under another name or in another folder. A *changed* file (a
  corrected re-export) is a new batch, and staging keeps the latest version of each
  record.
- **Whole files.** A file is one batch and one transaction: its rows, its
  ``raw._batches`` record and its ``raw._files`` record commit together or not at all.
  A file that cannot be read (not a workbook, text in no known encoding, no sheet
  with the expected header, a ragged CSV line, a value under no header) or whose
  dated rows are mostly of another month than its name or folder says
  (:mod:`~pingan_transforms.extract.periods`) raises :class:`ConfigError` naming the
  file and the problem and loads nothing of it; the other files of the drop are still
  loaded, and the error is raised after them so the run fails visibly.
- **Spreadsheets as offices make them** (issue 16). Any of ``.xlsx``, ``.xls``,
  ``.et``, ``.ods`` and CSV (UTF-8, UTF-8 with BOM, UTF-16 "Unicode text", GB18030),
  recognised by content (:mod:`~pingan_transforms.extract.sheets`); every visible
  sheet that holds the header is read. Title rows above the header are skipped; a
  header over several rows with merged cells is flattened to ``top/bottom`` names,
  and ``伤亡情况/死亡人数``, ``死亡人数`` and an alias the spec or the source's entry
  lists all stand for the same column (:func:`canonical_header`). Under the header,
  合计/总计/小计 rows (wherever they stand), footers (填报人, 填报日期, 注: ...),
  headings merged across the row and repeated header rows are not records: they are
  set aside, counted in ``raw._files.skipped_rows`` and logged; each total row is
  checked against the rows it totals, and a disagreement is reported in the result
  and in ``raw._files.total_check`` while the rows still load (they are what they
  are). Headers that stand for no column are not read and are recorded in
  ``raw._files.ignored_columns``. Values stay text: staging reads them as clerks
  type them (dbt macros ``clerk_text``, ``clerk_number``, ``clerk_timestamp``).
- **Stable raw columns.** Chinese headers are mapped to ASCII raw column names by
  an explicit mapping per entity (pinyin initials, as the police front database
  names its columns); a mapped header that is missing is an error rather than a
  silently empty column.

Files are loaded oldest first (by modification time, then path), so that when an
original and its corrected re-export arrive in the same drop the correction is the
later batch.
"""

from __future__ import annotations

import hashlib
import logging
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from fnmatch import fnmatch
from pathlib import Path
from typing import TYPE_CHECKING, Literal
from zoneinfo import ZoneInfo

import psycopg

from pingan_transforms.extract.periods import PeriodCheck, check_rows, file_period, row_date
from pingan_transforms.extract.sheets import EXTENSIONS, Grid, ReadFile, read_grids
from pingan_transforms.load.batches import BatchResult, new_batch_id, record_batch
from pingan_transforms.settings import DEFAULT_TIMEZONE, ConfigError
from pingan_transforms.warehouse import WarehouseTarget, connect

if TYPE_CHECKING:
    from pingan_transforms.sources import ExtractRun

log = logging.getLogger(__name__)

META_COLUMNS = ("_batch_id", "_extracted_at", "_source_file", "_source_row")
TOTAL_LABELS = ("合计", "总计")
SUBTOTAL_LABELS = ("小计",)
# a row under the data that starts so is the form's footer, not a record
FOOTER_LABELS = ("填报单位", "填报人", "填表人", "填报日期", "填表日期", "审核", "制表",
                 "负责人", "单位负责人", "联系人", "联系电话", "注:", "备注", "说明:",
                 "数据来源")  # fmt: skip
_HEADER_SEARCH_ROWS = 10  # title/note rows tolerated above a header
_MAX_HEADER_ROWS = 3  # rows a header may span (a group row, a unit row)
_TOLERANCE = Decimal("0.005")  # totals are compared to the cent
_ABSENT = -1  # the column index of an optional column the file lacks
DEFAULT_LATE_DAYS = 10  # rows dated this many days before a file's period are late reports


@dataclass(frozen=True)
class FileSpec:
    """How one entity's files look in a drop directory.

    ``columns`` maps each source header, as :func:`normalise_header` writes it
    (NFKC, so full-width brackets become ASCII, and no whitespace), to its raw
    column; the raw table has exactly these columns plus :data:`META_COLUMNS`.
    ``aliases`` maps other headers offices write for the same column (normalised
    likewise) to the header in ``columns``; a source's entry adds its own
    (``column_aliases`` in ``sources/<name>/source.yml``).
    """

    entity: str
    raw_table: str
    name_patterns: tuple[str, ...]  # fnmatch patterns on the file name, without extension
    columns: Mapping[str, str]
    total_columns: tuple[str, ...] = ()  # raw columns a 合计 row states the totals of
    # (raw column, weight raw column): the total row states the weighted mean of the rows
    mean_columns: tuple[tuple[str, str], ...] = ()
    total_labels: tuple[str, ...] = TOTAL_LABELS  # first cell of a total row starts so
    aliases: Mapping[str, str] = field(default_factory=dict)
    # the raw column that dates a row, and the period a file covers (its name or folder
    # says which): rows of another period are refused (mostly) or quarantined (a few)
    period_column: str | None = None
    period: Literal["month", "quarter"] = "month"
    optional: tuple[str, ...] = ()  # raw columns a file may lack (their values are empty)

    @property
    def raw_columns(self) -> list[str]:
        return list(self.columns.values())

    def with_aliases(self, aliases: Mapping[str, str], where: str) -> FileSpec:
        """This spec with more aliases (a source entry's); ConfigError naming ``where``."""
        extra = {}
        for alias, header in aliases.items():
            target = normalise_header(header)
            if target not in self.columns:
                raise ConfigError(
                    f"{where}: {alias!r} is an alias of {header!r}, which is not a "
                    f"{self.entity} column; use one of {', '.join(self.columns)}"
                )
            extra[normalise_header(alias)] = target
        return replace(self, aliases={**self.aliases, **extra})


@dataclass(frozen=True)
class TotalMismatch:
    """A column whose 合计 figure is not the sum (or weighted mean) of the data rows."""

    column: str  # source header, e.g. 伤亡情况/死亡人数
    stated: str  # what the 合计 row says
    summed: Decimal | None  # sum (mean) of the data rows; None when a value is not a number
    label: str = "合计"  # the total row's label
    weight: str | None = None  # source header of the weights, when a weighted mean
    row: int | None = field(default=None, compare=False)  # the total row's number

    def __str__(self) -> str:
        if self.summed is None:
            return (
                f"{self.column}: {self.label} says {self.stated}, but not every row holds a number"
            )
        if self.weight is not None:
            return (
                f"{self.column}: {self.label} says {self.stated}, the {self.weight}-weighted "
                f"mean of the rows is {self.summed}"
            )
        return f"{self.column}: {self.label} says {self.stated}, the rows sum to {self.summed}"


@dataclass(frozen=True)
class SkippedRow:
    """A row under the header that is not a record: a total, a footer, a heading."""

    row: int
    kind: Literal["total", "subtotal", "footer", "heading", "repeated header"]


@dataclass(frozen=True)
class ParsedFile:
    """The data rows of one file in the spec's raw column order, and what was set aside."""

    rows: list[tuple[int, list[str | None]]]  # (source row / line number, values)
    total_rows: tuple[int, ...] = ()  # row numbers of its 合计/小计 rows
    total_mismatches: tuple[TotalMismatch, ...] = ()
    skipped: tuple[SkippedRow, ...] = ()
    ignored_columns: tuple[str, ...] = ()  # headers no spec column or alias stands for
    encoding: str | None = None  # CSV: the encoding it was decoded with
    file_format: str = ""
    sheets: tuple[str, ...] = ()  # when several sheets hold data: their names, in order
    sheet_rows: tuple[int, ...] = ()  # ... and how many rows each gave

    @property
    def total_row(self) -> int | None:
        """The last total row's number (the file's 合计), if it has one."""
        return self.total_rows[-1] if self.total_rows else None

    @property
    def total_check(self) -> str | None:
        """What ``raw._files.total_check`` records: None (no 合计 row), ok, or the mismatches."""
        if not self.total_rows:
            return None
        where = ", ".join(map(str, self.total_rows))
        if not self.total_mismatches:
            return f"ok (row{'s' if len(self.total_rows) > 1 else ''} {where})"
        rows = sorted({m.row for m in self.total_mismatches if m.row is not None})
        return f"mismatch (row{'s' if len(rows) > 1 else ''} {', '.join(map(str, rows))}): " + (
            "; ".join(map(str, self.total_mismatches))
        )

    @property
    def skipped_summary(self) -> str | None:
        """What ``raw._files.skipped_rows`` records, e.g. ``footer: 12, 13; total: 11``."""
        if not self.skipped:
            return None
        kinds: dict[str, list[int]] = {}
        for s in self.skipped:
            kinds.setdefault(s.kind, []).append(s.row)
        return "; ".join(f"{k}: {', '.join(map(str, rows))}" for k, rows in kinds.items())

    def source_files(self, rel: str) -> list[str]:
        """Each row's ``_source_file``: the path, and the sheet when several hold data."""
        if not self.sheets:
            return [rel] * len(self.rows)
        return [f"{rel}#{name}" for name, n in zip(self.sheets, self.sheet_rows, strict=True)
                for _ in range(n)]  # fmt: skip


@dataclass(frozen=True)
class FileBatchResult(BatchResult):
    """A loaded file: the batch, the file it came from and its 合计 check."""

    source_file: str = ""  # path relative to the drop directory
    sha256: str = ""
    total_row: int | None = None
    total_mismatches: tuple[TotalMismatch, ...] = field(default=())
    skipped: tuple[SkippedRow, ...] = field(default=())
    encoding: str | None = None
    period: str | None = None  # the month or quarter the file's name or folder says
    other_period_rows: int = 0  # rows dated outside it (staging quarantines them)

    @property
    def totals_agree(self) -> bool:
        return not self.total_mismatches


# Fire department (消防) exports; DESIGN.md §4 and sources/fire/.
FIRE_FIRES = FileSpec(
    entity="fires",
    raw_table="raw.fire__fires",
    name_patterns=("*火灾*",),
    columns={
        "序号": "xh",
        "火灾编号": "hzbh",
        "起火时间": "qhsj",
        "起火地址": "qhdz",
        "行政区划代码": "xzqhdm",
        "起火原因": "qhyy",
        "伤亡情况/死亡人数": "swrs",
        "伤亡情况/受伤人数": "ssrs",
        "直接财产损失(元)": "zjccss",
    },
    total_columns=("swrs", "ssrs", "zjccss"),
    period_column="qhsj",
)
FIRE_INSPECTIONS = FileSpec(
    entity="inspections",
    raw_table="raw.fire__inspections",
    name_patterns=("*监督检查*",),
    columns={
        "统计月份": "tjyf",
        "行政区划代码": "xzqhdm",
        "乡镇街道名称": "xzjdmc",
        "检查单位数": "jcdws",
        "发现隐患数": "fxyhs",
        "整改隐患数": "zgyhs",
        "下发责令改正通知书数": "zlgztzs",
        "行政处罚数": "xzcfs",
        "罚款金额(元)": "fkje",
    },
    total_columns=("jcdws", "fxyhs", "zgyhs", "zlgztzs", "xzcfs", "fkje"),
    period_column="tjyf",
)
FIRE_SPECS: tuple[FileSpec, ...] = (FIRE_FIRES, FIRE_INSPECTIONS)


def normalise_header(text: object) -> str:
    """Header text as mappings are written: NFKC (full-width → ASCII) and no whitespace."""
    if text is None:
        return ""
    return "".join(unicodedata.normalize("NFKC", str(text)).split())


def cell_text(value: object) -> str | None:
    """A cell as raw text: what the sheet shows, dates in ISO form, empty = None."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    text = str(value)
    return text if text.strip() else None


def _number(text: str | None) -> Decimal | None:
    """A cell as a number (thousands separators allowed); None when it is not one."""
    try:
        return Decimal((text or "").replace(",", "").strip())
    except InvalidOperation:
        return None


def _weighted_mean(
    rows: list[tuple[int, list[str | None]]], col: int, weight: int
) -> Decimal | None:
    """Mean of column ``col`` weighted by column ``weight`` over the rows that have a value.

    An empty weight counts as zero; None when a value or weight is not a number or
    the weights sum to zero.
    """
    num, den = Decimal(0), Decimal(0)
    for _, values in rows:
        if values[col] is None:
            continue
        value, w = _number(values[col]), _number(values[weight] or "0")
        if value is None or w is None:
            return None
        num, den = num + value * w, den + w
    return (num / den).quantize(Decimal("0.0001")) if den else None


def _describe(names: Sequence[str]) -> str:
    return ", ".join(n for n in names if n) or "(empty)"


def canonical_header(spec: FileSpec, name: str) -> str | None:
    """The spec header a (normalised, flattened) source header stands for, or None.

    ``伤亡情况/死亡人数`` and a flat ``死亡人数`` both stand for ``伤亡情况/死亡人数``; a
    group row over a flat header (``基本情况/序号``) stands for ``序号``; an alias the
    spec (or the source's entry) lists stands for its header.
    """
    if not name:
        return None
    for candidate in (name, name.rsplit("/", 1)[-1]):
        if candidate in spec.columns:
            return candidate
        if candidate in spec.aliases:
            return spec.aliases[candidate]
    tails = [h for h in spec.columns if "/" in h and h.rsplit("/", 1)[-1] == name]
    return tails[0] if len(tails) == 1 else None


def _header_problems(spec: FileSpec, names: Sequence[str]) -> list[str]:
    canon = [canonical_header(spec, n) for n in names]
    missing = [h for h, raw in spec.columns.items() if h not in canon and raw not in spec.optional]
    repeated = sorted({c for c in canon if c and canon.count(c) > 1})
    problems = []
    if missing:
        problems.append(f"missing column(s) {', '.join(missing)}")
    if repeated:
        problems.append(f"repeated column(s) {', '.join(repeated)}")
    return problems


def _header_error(path: Path, spec: FileSpec, names: Sequence[str], where: str) -> ConfigError:
    problems = _header_problems(spec, names) or ["no header found"]
    unknown = [n for n in names if n and canonical_header(spec, n) is None]
    extra = f"; not recognised: {', '.join(unknown)}" if unknown else ""
    return ConfigError(
        f"{path}: not a {spec.entity} export: {'; '.join(problems)} in the header {where}"
        f"{extra} (found: {_describe(names)}; expected: {', '.join(spec.columns)})"
    )


@dataclass(frozen=True)
class _Header:
    grid: Grid
    start: int  # 0-based first row of the header
    height: int
    names: list[str]  # flattened, normalised, per column
    hits: int  # spec headers found

    @property
    def end(self) -> int:
        return self.start + self.height


def _find_header(grid: Grid, spec: FileSpec) -> _Header:
    """The most likely header of a sheet: most spec headers found, then the earliest end.

    Tries every start among the first rows and heights of one to three rows; rows are
    flattened column by column to their distinct parts joined by ``/`` after merged
    ranges are filled, so that a title row, a group row (``伤亡情况`` over two
    columns) and a flat header all end up with names :func:`canonical_header` reads.
    """
    top = grid.filled_merges(_HEADER_SEARCH_ROWS + _MAX_HEADER_ROWS)
    best = _Header(grid, 0, 1, [], -1)
    for start in range(min(_HEADER_SEARCH_ROWS, len(top))):
        for height in range(1, min(_MAX_HEADER_ROWS, len(top) - start) + 1):
            width = max(len(top[r]) for r in range(start, start + height))
            names = []
            for c in range(width):
                parts: list[str] = []
                for r in range(start, start + height):
                    part = normalise_header(top[r][c] if c < len(top[r]) else None)
                    if part and (not parts or parts[-1] != part):
                        parts.append(part)
                names.append("/".join(parts))
            # a header cell merged across columns (起火地址 over D:E) names its first column
            for r0, c0, r1, c1 in grid.merged:
                if r0 <= start + height - 1 <= r1 and r0 >= start:
                    for c in range(c0 + 1, min(c1 + 1, width)):
                        if names[c] == names[c0]:
                            names[c] = ""
            found = {canonical_header(spec, n) for n in names} - {None}
            hits = len(found)
            if hits > best.hits or (hits == best.hits and start + height < best.end):
                best = _Header(grid, start, height, names, hits)
    return best


def _label(values: Sequence[str | None], labels: Sequence[str]) -> str | None:
    """The label a row starts with (its first non-empty cell, normalised), or None."""
    first = next((v for v in values if v is not None), None)
    if first is None:
        return None
    text = normalise_header(first)
    return next((label for label in labels if text.startswith(label)), None)


def _heading(grid: Grid, row0: int, values: Sequence[str | None]) -> bool:
    """A lone text cell merged across columns: a block heading or a note, not a record."""
    filled = [i for i, v in enumerate(values) if v is not None]
    if len(filled) != 1:
        return False
    col = filled[0]
    return any(r0 <= row0 <= r1 and c0 <= col <= c1 and c1 > c0 for r0, c0, r1, c1 in grid.merged)


def _sum_column(rows: list[tuple[int, list[str | None]]], col: int) -> Decimal | None:
    total = Decimal(0)
    for _, values in rows:
        value = _number(values[col] or "0")
        if value is None:
            return None
        total += value
    return total


def _check_total(
    spec: FileSpec,
    label: str,
    row: int,
    stated_values: list[str | None],
    rows: list[tuple[int, list[str | None]]],
) -> list[TotalMismatch]:
    """A total row's figures against the rows it totals (sums, or weighted means)."""
    mismatches: list[TotalMismatch] = []
    headers = {raw: header for header, raw in spec.columns.items()}
    for raw in spec.total_columns:
        col = spec.raw_columns.index(raw)
        stated = stated_values[col]
        if stated is None:
            continue  # the total row states no total for this column
        summed, stated_value = _sum_column(rows, col), _number(stated)
        if summed is None or stated_value is None or abs(stated_value - summed) >= _TOLERANCE:
            mismatches.append(TotalMismatch(headers[raw], stated, summed, label, row=row))
    for raw, weight_raw in spec.mean_columns:
        col, weight = spec.raw_columns.index(raw), spec.raw_columns.index(weight_raw)
        stated = stated_values[col]
        if stated is None:
            continue
        mean, stated_value = _weighted_mean(rows, col, weight), _number(stated)
        # the stated mean is rounded to the decimals it shows: allow half its last place
        allowed = _TOLERANCE
        if stated_value is not None and isinstance(stated_value.as_tuple().exponent, int):
            allowed = max(allowed, Decimal(5).scaleb(stated_value.as_tuple().exponent - 1))
        if mean is None or stated_value is None or abs(stated_value - mean) > allowed:
            mismatches.append(
                TotalMismatch(headers[raw], stated, mean, label, headers[weight_raw], row=row)
            )
    return mismatches


def _sheet_rows(path: Path, spec: FileSpec, header: _Header) -> ParsedFile:
    """One sheet's data rows in raw column order; total, footer and heading rows set aside.

    A total row (合计, 总计, the spec's own labels) is checked against every data row
    above it, or failing that against the rows since the previous total row (a 合计
    under each block); a 小计 row against the rows since the previous total row.
    """
    grid, names = header.grid, header.names
    canon = [canonical_header(spec, n) for n in names]
    index = [canon.index(h) if h in canon else _ABSENT for h in spec.columns]
    ignored = [n for n, c in zip(names, canon, strict=True) if n and c is None]
    header_values = {canonical_header(spec, n) for n in names} - {None}
    rows: list[tuple[int, list[str | None]]] = []
    block: list[tuple[int, list[str | None]]] = []
    totals: list[int] = []
    skipped: list[SkippedRow] = []
    mismatches: list[TotalMismatch] = []
    width = len(grid.rows[header.end - 1]) if grid.csv else len(names)
    for row0 in range(header.end, len(grid.rows)):
        number = row0 + 1
        values = [cell_text(v) for v in grid.rows[row0]]
        if all(v is None for v in values):
            continue
        label = _label(values, (*spec.total_labels, *SUBTOTAL_LABELS))
        if label is not None:
            stated = [values[i] if 0 <= i < len(values) else None for i in index]
            found = _check_total(spec, label, number, stated, block)
            if label not in SUBTOTAL_LABELS and len(block) != len(rows):
                overall = _check_total(spec, label, number, stated, rows)
                found = overall if len(overall) <= len(found) else found
            mismatches += found
            totals.append(number)
            skipped.append(SkippedRow(number, "subtotal" if label in SUBTOTAL_LABELS else "total"))
            block = []
            continue
        if _label(values, FOOTER_LABELS) is not None:
            skipped.append(SkippedRow(number, "footer"))
            continue
        if _heading(grid, row0, values):
            skipped.append(SkippedRow(number, "heading"))
            continue
        first = next(v for v in values if v is not None)
        if canonical_header(spec, normalise_header(first)) is not None and len(
            {canonical_header(spec, normalise_header(v)) for v in values if v} - {None}
        ) == len(header_values):
            skipped.append(SkippedRow(number, "repeated header"))
            continue
        for i, value in enumerate(values):
            if value is not None and (i >= len(names) or not names[i]):
                raise ConfigError(
                    f"{path}: row {number} has a value in column {i + 1}, which has no header"
                )
        if grid.csv and len(values) < width:
            raise ConfigError(
                f"{path}: line {number} has {len(values)} fields, the header has {width}"
            )
        record = (number, [values[i] if 0 <= i < len(values) else None for i in index])
        rows.append(record)
        block.append(record)
    return ParsedFile(
        rows, tuple(totals), tuple(mismatches), tuple(skipped), tuple(dict.fromkeys(ignored))
    )


def _parse(path: Path, spec: FileSpec, read: ReadFile) -> ParsedFile:
    """Every sheet that holds the spec's header read; the best near miss named otherwise."""
    found = [_find_header(grid, spec) for grid in read.grids]
    required = {h for h, raw in spec.columns.items() if raw not in spec.optional}
    matches = [
        h for h in found if required <= {canonical_header(spec, n) for n in h.names}
    ]  # fmt: skip
    if not matches:
        closest = max(found, key=lambda h: h.hits, default=None)
        if closest is None or closest.hits <= 0:
            names = closest.names if closest else []
            raise _header_error(path, spec, names, "(the file has no rows)" if not names else
                                f"(closest: {_where(closest)})")  # fmt: skip
        raise _header_error(path, spec, closest.names, f"at {_where(closest)}")
    parts = []
    for header in matches:
        if _header_problems(spec, header.names):
            raise _header_error(path, spec, header.names, f"at {_where(header)}")
        parts.append(_sheet_rows(path, spec, header))
    sheets = tuple(h.grid.name for h in matches) if len(matches) > 1 else ()
    return ParsedFile(
        rows=[r for p in parts for r in p.rows],
        total_rows=tuple(n for p in parts for n in p.total_rows),
        total_mismatches=tuple(m for p in parts for m in p.total_mismatches),
        skipped=tuple(s for p in parts for s in p.skipped),
        ignored_columns=tuple(dict.fromkeys(c for p in parts for c in p.ignored_columns)),
        encoding=read.encoding,
        file_format=read.file_format,
        sheets=sheets,
        sheet_rows=tuple(len(p.rows) for p in parts) if sheets else (),
    )


def _where(header: _Header) -> str:
    if header.grid.csv:
        return f"line {header.start + 1}"
    return f"row {header.start + 1} of sheet {header.grid.name!r}"


def parse_file(path: Path, spec: FileSpec, data: bytes | None = None) -> ParsedFile:
    """Parse one dropped file (``data`` = its bytes, if already read); raises ConfigError."""
    data = path.read_bytes() if data is None else data
    if not data:
        raise ConfigError(f"{path}: the file is empty")
    return _parse(path, spec, read_grids(path, data))


def _spec_for(path: Path, specs: Sequence[FileSpec]) -> FileSpec | None:
    """The spec whose name pattern matches; a match that is not a table is an error."""
    matching = [s for s in specs if any(fnmatch(path.stem, p) for p in s.name_patterns)]
    if not matching:
        return None
    if path.suffix.lower() not in EXTENSIONS:
        raise ConfigError(
            f"{path}: unsupported file type {path.suffix!r} for {matching[0].entity}; "
            f"expected one of {', '.join(EXTENSIONS)}"
        )
    return matching[0]


def check_period(
    path: Path, rel: str, spec: FileSpec, parsed: ParsedFile, late_days: int
) -> PeriodCheck | None:
    """The file's period and its rows' window; ConfigError when most rows are of another."""
    if spec.period_column is None or (period := file_period(rel, spec.period)) is None:
        return None
    col = spec.raw_columns.index(spec.period_column)
    check = check_rows(period, late_days, [row_date(v[col], spec.period) for _, v in parsed.rows])
    if (elsewhere := check.mostly_elsewhere) is not None:
        held = check.outside[elsewhere]
        raise ConfigError(
            f"{path}: {held} of its {check.dated} dated rows are of {elsewhere}, but its "
            f"name or folder says {period}; nothing of it was loaded: if it is {elsewhere}'s "
            f"file, drop it in {elsewhere}/ (or name it so), else ask its sender for {period}'s"
        )
    return check


def _drop_files(drop_dir: Path) -> list[Path]:
    """Candidate files, oldest first; office lock files (~$…) and hidden files are not data."""
    files = [
        p
        for p in drop_dir.rglob("*")
        if p.is_file()
        and not p.name.startswith(("~$", "."))
        and not any(part.startswith(".") for part in p.relative_to(drop_dir).parts[:-1])
    ]
    return sorted(files, key=lambda p: (p.stat().st_mtime_ns, p.relative_to(drop_dir).as_posix()))


def _already_loaded(conn: psycopg.Connection, source: str, sha256: str) -> tuple | None:
    return conn.execute(
        "select file_path, batch_id from raw._files where source = %s and sha256 = %s",
        (source, sha256),
    ).fetchone()


def extract_file_drops(
    drop_dir: Path,
    target: WarehouseTarget,
    *,
    source: str,
    specs: Sequence[FileSpec],
    tz: str = DEFAULT_TIMEZONE,
    late_days: int = DEFAULT_LATE_DAYS,
) -> list[FileBatchResult]:
    """Load every new file in ``drop_dir`` (one batch per file); see the module docstring.

    Returns the batches loaded by this call, oldest first. Files already loaded
    (same SHA-256) are skipped; files that match no spec are logged and skipped.
    Raises ConfigError after loading the good files if any file could not be parsed
    or holds mostly rows of another period than its name or folder says
    (:mod:`pingan_transforms.extract.periods`; ``late_days`` before the period count
    as late reports of it).
    """
    if not drop_dir.is_dir():
        raise ConfigError(
            f"{source} drop directory {drop_dir} does not exist or is not a directory"
        )
    results: list[FileBatchResult] = []
    errors: list[str] = []
    with connect(target, autocommit=True) as conn:
        for path in _drop_files(drop_dir):
            rel = path.relative_to(drop_dir).as_posix()
            try:
                spec = _spec_for(path, specs)
            except ConfigError as exc:
                errors.append(str(exc))
                continue
            if spec is None:
                log.warning("%s: not a %s export (name matches no pattern), skipped", path, source)
                continue
            data = path.read_bytes()
            checksum = hashlib.sha256(data).hexdigest()
            if seen := _already_loaded(conn, source, checksum):
                log.info("%s: identical to %s, already loaded in batch %s", rel, *seen)
                continue
            try:
                parsed = parse_file(path, spec, data)
                period = check_period(path, rel, spec, parsed, late_days)
            except ConfigError as exc:
                errors.append(str(exc))
                continue
            result = _load(conn, _Loading(rel, checksum, source, spec, parsed, period), tz)
            if result is not None:
                results.append(result)
                if result.total_mismatches:
                    log.warning("%s: %s", rel, parsed.total_check)
                if result.other_period_rows:
                    log.warning(
                        "%s: %d row(s) dated outside %s will be quarantined as 'wrong month'",
                        rel,
                        result.other_period_rows,
                        result.period,
                    )
                if parsed.skipped or parsed.ignored_columns:
                    log.info(
                        "%s: not records: %s; columns not read: %s",
                        rel,
                        parsed.skipped_summary,
                        ", ".join(parsed.ignored_columns) or "none",
                    )
    if errors:
        loaded = f" ({len(results)} other file(s) were loaded)" if results else ""
        raise ConfigError(
            f"{len(errors)} dropped file(s) could not be loaded and were left out{loaded}:\n  "
            + "\n  ".join(errors)
        )
    return results


@dataclass(frozen=True)
class _Loading:
    """A parsed file on its way into raw."""

    rel: str
    checksum: str
    source: str
    spec: FileSpec
    parsed: ParsedFile
    period: PeriodCheck | None


def _load(conn: psycopg.Connection, file: _Loading, tz: str) -> FileBatchResult | None:
    """One file in one transaction: raw rows, the batch record, the raw._files record."""
    rel, checksum, source, spec, parsed = (
        file.rel, file.checksum, file.source, file.spec, file.parsed
    )  # fmt: skip
    with conn.transaction():
        # One loader per source at a time; a concurrent run then sees the file as loaded.
        conn.execute("select pg_advisory_xact_lock(hashtext(%s))", (f"extract.files.{source}",))
        if _already_loaded(conn, source, checksum):
            return None
        now = datetime.now(ZoneInfo(tz))
        batch_id = new_batch_id(source, spec.entity, now)
        columns = [*spec.raw_columns, *META_COLUMNS]
        with conn.cursor().copy(f"copy {spec.raw_table} ({', '.join(columns)}) from stdin") as cp:
            for (number, values), where in zip(parsed.rows, parsed.source_files(rel), strict=True):
                cp.write_row([*values, batch_id, now, where, number])
        period = file.period
        result = FileBatchResult(
            batch_id, source, spec.entity, len(parsed.rows), None, None,
            source_file=rel, sha256=checksum, total_row=parsed.total_row,
            total_mismatches=parsed.total_mismatches, skipped=parsed.skipped,
            encoding=parsed.encoding, period=str(period.period) if period else None,
            other_period_rows=sum(period.outside.values()) if period else 0,
        )  # fmt: skip
        record_batch(
            conn, result, window_start=None, window_end=now, source_ref=f"{rel} sha256:{checksum}"
        )
        conn.execute(
            """
            insert into raw._files (source, entity, sha256, file_path, batch_id, row_count,
                                    total_check, loaded_at, file_format, encoding,
                                    skipped_rows, ignored_columns, period, rows_from, rows_until)
            values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
            """,
            (
                source, spec.entity, checksum, rel, batch_id, result.rows, parsed.total_check,
                now, parsed.file_format, parsed.encoding, parsed.skipped_summary,
                ", ".join(parsed.ignored_columns) or None, result.period,
                period.rows_from if period else None, period.rows_until if period else None,
            ),
        )  # fmt: skip
    return result


def extract_drops(run: ExtractRun, specs: Sequence[FileSpec]) -> dict[str, object]:
    """A file-drop source's ``extract(run)``: every new file of its drop folder loaded
    (by checksum, once), once its entry lists exactly the entities ``specs`` read."""
    config, name = run.config, run.name
    declared, known = config.files(name).entities, [spec.entity for spec in specs]
    if sorted(declared) != sorted(known):
        raise ConfigError(
            f"{config.path}: sources.{name}.entities is {declared}, but the file connector "
            f"reads {known}: list exactly those"
        )
    entry = config.files(name)
    where = f"{config.path / name / 'source.yml'}: column_aliases"
    unknown = sorted(set(entry.column_aliases) - set(known))
    if unknown:
        raise ConfigError(f"{where} names {unknown}, which are not entities of {name}: {known}")
    specs = [
        spec.with_aliases(entry.column_aliases.get(spec.entity, {}), f"{where}.{spec.entity}")
        for spec in specs
    ]
    drop_dir = config.drop_dir(name, run.settings)
    results = extract_file_drops(
        drop_dir, run.target, source=name, specs=specs, late_days=entry.late_window_days
    )
    return {
        "source": name,
        "files": [r.source_file for r in results],
        "rows": sum(r.rows for r in results),
        "total_row_mismatches": [str(m) for r in results for m in r.total_mismatches],
        "rows_not_records": {r.source_file: len(r.skipped) for r in results if r.skipped},
        "rows_of_another_month": {
            r.source_file: r.other_period_rows for r in results if r.other_period_rows
        },
        "encodings": {r.source_file: r.encoding for r in results if r.encoding},
    }


def extract_fire_drops(drop_dir: Path, target: WarehouseTarget) -> list[FileBatchResult]:
    """Load the fire department's new xlsx/CSV exports from ``drop_dir`` into raw."""
    return extract_file_drops(drop_dir, target, source="fire", specs=FIRE_SPECS)
