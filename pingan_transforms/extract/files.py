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
  A file that cannot be parsed (not a workbook, not GB18030 text, a header that is not
  the expected one, a ragged CSV line) raises :class:`ConfigError` naming the file and
  the problem and loads nothing of it; the other files of the drop are still loaded,
  and the error is raised after them so the run fails visibly.
- **Spreadsheets as offices make them.** xlsx title rows above the header are
  skipped, a header spanning several rows with merged cells is flattened to
  ``top/bottom`` names (``伤亡情况/死亡人数``), and a final ``合计`` row is not loaded
  but checked: when its totals disagree with the sum of the data rows the file still
  loads (the rows are what they are) and the disagreement is reported in the result
  and in ``raw._files.total_check``. An entity may name its own total-row labels
  (the survey's ``全区`` row) and columns whose total-row figure is a weighted mean
  of the rows (an average score weighted by sample size) rather than a sum.
- **Stable raw columns.** Chinese headers are mapped to ASCII raw column names by
  an explicit mapping per entity (pinyin initials, as the police front database
  names its columns); a header the mapping does not know, or a mapped header that
  is missing, is an error rather than a silently dropped or empty column.

Files are loaded oldest first (by modification time, then path), so that when an
original and its corrected re-export arrive in the same drop the correction is the
later batch.
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
import unicodedata
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from fnmatch import fnmatch
from pathlib import Path
from typing import TYPE_CHECKING, Literal
from zoneinfo import ZoneInfo

import psycopg
from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet.worksheet import Worksheet

from pingan_transforms.load.batches import BatchResult, new_batch_id, record_batch
from pingan_transforms.settings import DEFAULT_TIMEZONE, ConfigError
from pingan_transforms.warehouse import WarehouseTarget, connect

if TYPE_CHECKING:
    from pingan_transforms.sources import ExtractRun

log = logging.getLogger(__name__)

META_COLUMNS = ("_batch_id", "_extracted_at", "_source_file", "_source_row")
TOTAL_LABELS = ("合计", "总计")
_HEADER_SEARCH_ROWS = 10  # title/note rows tolerated above an xlsx header
_TOLERANCE = Decimal("0.005")  # totals are compared to the cent


@dataclass(frozen=True)
class FileSpec:
    """How one entity's files look in a drop directory.

    ``columns`` maps each source header, as :func:`normalise_header` writes it
    (NFKC, so full-width brackets become ASCII, and no whitespace), to its raw
    column; the raw table has exactly these columns plus :data:`META_COLUMNS`.
    """

    entity: str
    raw_table: str
    name_patterns: tuple[str, ...]  # fnmatch patterns on the file name, without extension
    file_format: Literal["xlsx", "csv"]
    columns: Mapping[str, str]
    total_columns: tuple[str, ...] = ()  # raw columns a 合计 row states the totals of
    # (raw column, weight raw column): the total row states the weighted mean of the rows
    mean_columns: tuple[tuple[str, str], ...] = ()
    total_labels: tuple[str, ...] = TOTAL_LABELS  # first cell of a total row starts so
    header_rows: int = 1  # xlsx: rows the header spans (merged cells are flattened)
    encoding: str = "gb18030"  # csv: GB18030 decodes GBK and GB2312 too

    @property
    def raw_columns(self) -> list[str]:
        return list(self.columns.values())


@dataclass(frozen=True)
class TotalMismatch:
    """A column whose 合计 figure is not the sum (or weighted mean) of the data rows."""

    column: str  # source header, e.g. 伤亡情况/死亡人数
    stated: str  # what the 合计 row says
    summed: Decimal | None  # sum (mean) of the data rows; None when a value is not a number
    label: str = "合计"  # the total row's label
    weight: str | None = None  # source header of the weights, when a weighted mean

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
class ParsedFile:
    """The data rows of one file in the spec's raw column order, and its 合计 check."""

    rows: list[tuple[int, list[str | None]]]  # (source row / line number, values)
    total_row: int | None = None  # row number of the 合计 row, if the file has one
    total_mismatches: tuple[TotalMismatch, ...] = ()

    @property
    def total_check(self) -> str | None:
        """What ``raw._files.total_check`` records: None (no 合计 row), ok, or the mismatches."""
        if self.total_row is None:
            return None
        if not self.total_mismatches:
            return f"ok (row {self.total_row})"
        return f"mismatch (row {self.total_row}): " + "; ".join(map(str, self.total_mismatches))


@dataclass(frozen=True)
class FileBatchResult(BatchResult):
    """A loaded file: the batch, the file it came from and its 合计 check."""

    source_file: str = ""  # path relative to the drop directory
    sha256: str = ""
    total_row: int | None = None
    total_mismatches: tuple[TotalMismatch, ...] = field(default=())

    @property
    def totals_agree(self) -> bool:
        return not self.total_mismatches


# Fire department (消防) exports; DESIGN.md §4 and sources/fire/.
FIRE_FIRES = FileSpec(
    entity="fires",
    raw_table="raw.fire__fires",
    name_patterns=("*火灾*",),
    file_format="xlsx",
    header_rows=2,
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
)
FIRE_INSPECTIONS = FileSpec(
    entity="inspections",
    raw_table="raw.fire__inspections",
    name_patterns=("*监督检查*",),
    file_format="csv",
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


def _total_label(values: Sequence[str | None], labels: tuple[str, ...]) -> str | None:
    """The label a total row starts with (its first non-empty cell), or None."""
    first = next((v for v in values if v is not None), None)
    if first is None:
        return None
    text = normalise_header(first)
    return next((label for label in labels if text.startswith(label)), None)


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


def _header_problems(spec: FileSpec, names: Sequence[str]) -> list[str]:
    missing = [h for h in spec.columns if h not in names]
    unknown = [n for n in names if n and n not in spec.columns]
    repeated = sorted({n for n in names if n and list(names).count(n) > 1})
    problems = []
    if missing:
        problems.append(f"missing column(s) {', '.join(missing)}")
    if unknown:
        problems.append(f"unexpected column(s) {', '.join(unknown)}")
    if repeated:
        problems.append(f"repeated column(s) {', '.join(repeated)}")
    return problems


def _header_error(path: Path, spec: FileSpec, names: Sequence[str], where: str) -> ConfigError:
    problems = _header_problems(spec, names) or ["no header found"]
    return ConfigError(
        f"{path}: not a {spec.entity} export: {'; '.join(problems)} in the header {where} "
        f"(found: {_describe(names)}; expected: {', '.join(spec.columns)})"
    )


def _assemble(
    path: Path,
    spec: FileSpec,
    names: Sequence[str],
    records: list[tuple[int, list[str | None]]],
) -> ParsedFile:
    """Data rows in raw column order; the final 合计 row removed and verified."""
    where = {n: i for i, n in enumerate(names) if n}
    for number, values in records:
        for i, value in enumerate(values):
            if value is not None and (i >= len(names) or not names[i]):
                raise ConfigError(
                    f"{path}: row {number} has a value in column {i + 1}, which has no header"
                )
    total: tuple[int, list[str | None]] | None = None
    label = _total_label(records[-1][1], spec.total_labels) if records else None
    if label is not None:
        total = records.pop()
    for number, values in records:
        if _total_label(values, spec.total_labels) is not None:
            raise ConfigError(
                f"{path}: row {number} is a {'/'.join(spec.total_labels)} row but not the "
                "last row; subtotals inside the data are not supported"
            )
    index = [where[h] for h in spec.columns]
    rows = [
        (number, [values[i] if i < len(values) else None for i in index])
        for number, values in records
    ]
    if total is None:
        return ParsedFile(rows)
    mismatches: list[TotalMismatch] = []
    headers = {raw: header for header, raw in spec.columns.items()}
    for raw in spec.total_columns:
        col = spec.raw_columns.index(raw)
        stated = total[1][index[col]] if index[col] < len(total[1]) else None
        if stated is None:
            continue  # the 合计 row states no total for this column
        summed: Decimal | None = Decimal(0)
        for _, values in rows:
            text = (values[col] or "0").replace(",", "").strip()
            try:
                summed += Decimal(text)  # type: ignore[operator]
            except InvalidOperation:
                summed = None
                break
        try:
            stated_value: Decimal | None = Decimal(stated.replace(",", "").strip())
        except InvalidOperation:
            stated_value = None
        if summed is None or stated_value is None or abs(stated_value - summed) >= _TOLERANCE:
            mismatches.append(TotalMismatch(headers[raw], stated, summed, label or "合计"))
    for raw, weight_raw in spec.mean_columns:
        col, weight = spec.raw_columns.index(raw), spec.raw_columns.index(weight_raw)
        stated = total[1][index[col]] if index[col] < len(total[1]) else None
        if stated is None:
            continue
        mean = _weighted_mean(rows, col, weight)
        stated_value = _number(stated)
        # the stated mean is rounded to the decimals it shows: allow half its last place
        allowed = _TOLERANCE
        if stated_value is not None and isinstance(stated_value.as_tuple().exponent, int):
            allowed = max(allowed, Decimal(5).scaleb(stated_value.as_tuple().exponent - 1))
        if mean is None or stated_value is None or abs(stated_value - mean) > allowed:
            mismatches.append(
                TotalMismatch(headers[raw], stated, mean, label or "合计", headers[weight_raw])
            )
    return ParsedFile(rows, total[0], tuple(mismatches))


def _flatten_header(
    sheet: Worksheet, grid: list[list[object]], spec: FileSpec
) -> tuple[int, int, list[str], int]:
    """The most likely header of a sheet: (first row, rows spanned, flattened names, hits).

    Tries every start among the first rows, spanning ``spec.header_rows`` rows and,
    failing that, one row (so that the error for a flattened export names what is
    missing). Rows are flattened column by column to their distinct parts joined by
    ``/``, after copying each merged range's value into all its cells (openpyxl
    keeps it only in the top-left cell). ``hits`` counts the mapped names found.
    """
    top = [list(r) for r in grid[: _HEADER_SEARCH_ROWS + spec.header_rows]]
    for merged in sheet.merged_cells.ranges:
        value = sheet.cell(merged.min_row, merged.min_col).value
        for r in range(merged.min_row, min(merged.max_row, len(top)) + 1):
            for c in range(merged.min_col, merged.max_col + 1):
                top[r - 1][c - 1] = value
    best: tuple[int, int, list[str], int] = (0, spec.header_rows, [], -1)
    for height in dict.fromkeys((spec.header_rows, 1)):
        for start in range(min(_HEADER_SEARCH_ROWS, len(top) - height + 1)):
            names = []
            for c in range(len(top[start])):
                parts: list[str] = []
                for r in range(start, start + height):
                    part = normalise_header(top[r][c])
                    if part and (not parts or parts[-1] != part):
                        parts.append(part)
                names.append("/".join(parts))
            hits = sum(1 for h in spec.columns if h in names)
            if hits == len(spec.columns):
                return start, height, names, hits
            if hits > best[3]:
                best = (start, height, names, hits)
    return best


def _parse_xlsx(path: Path, data: bytes, spec: FileSpec) -> ParsedFile:
    try:
        workbook = load_workbook(io.BytesIO(data), data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
        raise ConfigError(f"{path}: not a readable .xlsx workbook ({exc})") from None
    matches: list[tuple[str, int, int, list[str], list[list[object]]]] = []
    closest: tuple[int, str, list[str]] = (-1, "(the workbook has no rows)", [])
    for sheet in workbook.worksheets:
        grid = [list(r) for r in sheet.iter_rows(min_row=1, min_col=1, values_only=True)]
        start, height, names, hits = _flatten_header(sheet, grid, spec)
        if hits == len(spec.columns):
            matches.append((sheet.title, start, height, names, grid))
        elif hits > closest[0]:
            closest = (hits, f"(closest: sheet {sheet.title!r} row {start + 1})", names)
    if not matches:
        raise _header_error(path, spec, closest[2], closest[1])
    if len(matches) > 1:
        raise ConfigError(
            f"{path}: sheets {matches[0][0]!r} and {matches[1][0]!r} both hold a {spec.entity} "
            "header; export one sheet per file"
        )
    title, start, height, names, grid = matches[0]
    if _header_problems(spec, names):
        raise _header_error(path, spec, names, f"at row {start + 1} of sheet {title!r}")
    first = start + height
    records = [
        (number, [cell_text(v) for v in row])
        for number, row in enumerate(grid[first:], start=first + 1)
        if any(cell_text(v) is not None for v in row)
    ]
    return _assemble(path, spec, names, records)


def _parse_csv(path: Path, data: bytes, spec: FileSpec) -> ParsedFile:
    try:
        text = data.decode(spec.encoding)
    except UnicodeDecodeError as exc:
        hint = " (it looks UTF-8 encoded)" if _looks_utf8(data) else ""
        raise ConfigError(
            f"{path}: not {spec.encoding} (GBK) text{hint}: undecodable bytes at offset "
            f"{exc.start}; save it as GBK/ANSI CSV"
        ) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    names: list[str] | None = None
    header_line = 0
    records: list[tuple[int, list[str | None]]] = []
    line = 1
    try:
        for row in reader:
            values = [v if v.strip() else None for v in row]
            if any(v is not None for v in values):
                if names is None:
                    names, header_line = [normalise_header(v) for v in row], line
                else:
                    records.append((line, values))
            line = reader.line_num + 1  # a quoted field may span lines
    except csv.Error as exc:
        raise ConfigError(f"{path}: line {line} is not valid CSV ({exc})") from None
    if names is None:
        raise ConfigError(f"{path}: the file is empty; expected a header {', '.join(spec.columns)}")
    if _header_problems(spec, names):
        error = _header_error(path, spec, names, f"at line {header_line}")
        if _looks_utf8(data):
            raise ConfigError(
                f"{error} — the file looks UTF-8 encoded, but {spec.entity} exports are read as "
                f"{spec.encoding} (GBK): save it as GBK/ANSI CSV"
            )
        raise error
    width = len(names)
    for number, values in records:
        if len(values) < width or any(v is not None for v in values[width:]):
            raise ConfigError(
                f"{path}: line {number} has {len(values)} fields, the header has {width}"
            )
    return _assemble(path, spec, names, [(n, v[:width]) for n, v in records])


def _looks_utf8(data: bytes) -> bool:
    try:
        return not data.decode("utf-8").isascii()
    except UnicodeDecodeError:
        return False


def parse_file(path: Path, spec: FileSpec, data: bytes | None = None) -> ParsedFile:
    """Parse one dropped file (``data`` = its bytes, if already read); raises ConfigError."""
    data = path.read_bytes() if data is None else data
    if not data:
        raise ConfigError(f"{path}: the file is empty")
    if spec.file_format == "xlsx":
        return _parse_xlsx(path, data, spec)
    return _parse_csv(path, data, spec)


def _spec_for(path: Path, specs: Sequence[FileSpec]) -> FileSpec | None:
    """The spec whose name pattern matches; a match with the wrong extension is an error."""
    matching = [s for s in specs if any(fnmatch(path.stem, p) for p in s.name_patterns)]
    if not matching:
        return None
    for spec in matching:
        if path.suffix.lower() == f".{spec.file_format}":
            return spec
    expected = " or ".join(f"{s.entity} as .{s.file_format}" for s in matching)
    raise ConfigError(f"{path}: unsupported file type {path.suffix!r}; expected {expected}")


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
) -> list[FileBatchResult]:
    """Load every new file in ``drop_dir`` (one batch per file); see the module docstring.

    Returns the batches loaded by this call, oldest first. Files already loaded
    (same SHA-256) are skipped; files that match no spec are logged and skipped.
    Raises ConfigError after loading the good files if any file could not be parsed.
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
            except ConfigError as exc:
                errors.append(str(exc))
                continue
            result = _load(conn, rel, checksum, source, spec, parsed, tz)
            if result is not None:
                results.append(result)
                if result.total_mismatches:
                    log.warning("%s: %s", rel, parsed.total_check)
    if errors:
        loaded = f" ({len(results)} other file(s) were loaded)" if results else ""
        raise ConfigError(
            f"{len(errors)} dropped file(s) could not be loaded and were left out{loaded}:\n  "
            + "\n  ".join(errors)
        )
    return results


def _load(
    conn: psycopg.Connection,
    rel: str,
    checksum: str,
    source: str,
    spec: FileSpec,
    parsed: ParsedFile,
    tz: str,
) -> FileBatchResult | None:
    """One file in one transaction: raw rows, the batch record, the raw._files record."""
    with conn.transaction():
        # One loader per source at a time; a concurrent run then sees the file as loaded.
        conn.execute("select pg_advisory_xact_lock(hashtext(%s))", (f"extract.files.{source}",))
        if _already_loaded(conn, source, checksum):
            return None
        now = datetime.now(ZoneInfo(tz))
        batch_id = new_batch_id(source, spec.entity, now)
        columns = [*spec.raw_columns, *META_COLUMNS]
        with conn.cursor().copy(f"copy {spec.raw_table} ({', '.join(columns)}) from stdin") as cp:
            for number, values in parsed.rows:
                cp.write_row([*values, batch_id, now, rel, number])
        result = FileBatchResult(
            batch_id, source, spec.entity, len(parsed.rows), None, None,
            source_file=rel, sha256=checksum, total_row=parsed.total_row,
            total_mismatches=parsed.total_mismatches,
        )  # fmt: skip
        record_batch(
            conn, result, window_start=None, window_end=now, source_ref=f"{rel} sha256:{checksum}"
        )
        conn.execute(
            """
            insert into raw._files (source, entity, sha256, file_path, batch_id, row_count,
                                    total_check, loaded_at)
            values (%s, %s, %s, %s, %s, %s, %s, %s)
            """,
            (source, spec.entity, checksum, rel, batch_id, result.rows, parsed.total_check, now),
        )
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
    drop_dir = config.drop_dir(name, run.settings)
    results = extract_file_drops(drop_dir, run.target, source=name, specs=specs)
    return {
        "source": name,
        "files": [r.source_file for r in results],
        "rows": sum(r.rows for r in results),
        "total_row_mismatches": [str(m) for r in results for m in r.total_mismatches],
    }


def extract_fire_drops(drop_dir: Path, target: WarehouseTarget) -> list[FileBatchResult]:
    """Load the fire department's new xlsx/CSV exports from ``drop_dir`` into raw."""
    return extract_file_drops(drop_dir, target, source="fire", specs=FIRE_SPECS)
