"""A dropped file's bytes as grids of cells, whatever program wrote it.

Offices send what their software saves: ``.xlsx`` from Excel or WPS, legacy ``.xls``
(and WPS's ``.et``, the same binary format), ``.ods`` from LibreOffice, and CSV in
the encoding of the machine that wrote it (GBK/GB18030 on a Chinese Windows, UTF-8
with a BOM from Excel's "CSV UTF-8", plain UTF-8 from anything else). This module
turns each into :class:`Grid` objects (one per visible sheet) of raw cell values,
with the sheet's merged ranges and hidden columns, so that header detection and
row classification (:mod:`pingan_transforms.extract.files`) are written once.

The format is recognised by the content, not the extension: a workbook renamed
``.xls`` that is really an ``.xlsx`` (WPS does this) reads all the same, and so does a
"``.xls``" that some systems export as tab-separated text.

- ``.xlsx``/``.xlsm`` are read with openpyxl, which exposes hidden columns;
- ``.xls``/``.et``/``.ods`` with python-calamine (Rust's calamine), a maintained
  reader of the binary and OpenDocument formats;
- CSV is decoded by its BOM if it has one, else strictly as UTF-8, else strictly as
  GB18030 (a superset of GBK and GB2312); the encoding used is returned so that the
  batch records it.
"""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from pingan_transforms.settings import ConfigError

SHEET_EXTENSIONS = (".xlsx", ".xlsm", ".xls", ".et", ".ods")
TEXT_EXTENSIONS = (".csv",)
EXTENSIONS = SHEET_EXTENSIONS + TEXT_EXTENSIONS

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .xls / .et (compound file)
_ZIP_MAGIC = b"PK\x03\x04"  # .xlsx / .ods
# tried in this order: a BOM decides; UTF-8 is strict enough not to accept GBK text
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
         (codecs.BOM_UTF16_BE, "utf-16"))  # fmt: skip
_TEXT_ENCODINGS = ("utf-8", "gb18030")


@dataclass(frozen=True)
class Grid:
    """One sheet (or a CSV file) as rows of raw cell values, 0-based, from A1."""

    name: str  # sheet name; "" for a CSV file
    rows: list[list[object]]
    merged: tuple[tuple[int, int, int, int], ...] = ()  # (row0, col0, row1, col1), inclusive
    hidden_columns: frozenset[int] = field(default_factory=frozenset)
    csv: bool = False  # a CSV line is one row: its field count is its own

    def filled_merges(self, upto: int) -> list[list[object]]:
        """The first ``upto`` rows with each merged range's value copied into all its
        cells (workbooks keep it only in the top-left cell), for reading headers."""
        top = [list(r) for r in self.rows[:upto]]
        for r0, c0, r1, c1 in self.merged:
            if r0 >= len(top):
                continue
            value = top[r0][c0] if c0 < len(top[r0]) else None
            for r in range(r0, min(r1, len(top) - 1) + 1):
                if len(top[r]) <= c1:
                    top[r].extend([None] * (c1 + 1 - len(top[r])))
                for c in range(c0, c1 + 1):
                    top[r][c] = value
        return top


@dataclass(frozen=True)
class ReadFile:
    """What a file holds: its grids and, for text, the encoding it was decoded with."""

    grids: list[Grid]
    encoding: str | None = None  # CSV only
    file_format: str = ""  # xlsx, xls, ods, csv


def read_grids(path: Path, data: bytes) -> ReadFile:
    """Every visible sheet of a workbook, or the rows of a CSV file; ConfigError if unreadable."""
    if data.startswith(_OLE_MAGIC):
        return ReadFile(_calamine(path, data, "xls"), file_format="xls")
    if data.startswith(_ZIP_MAGIC):
        if _is_ods(data):
            return ReadFile(_calamine(path, data, "ods"), file_format="ods")
        return ReadFile(_openpyxl(path, data), file_format="xlsx")
    text, encoding = decode_text(path, data)
    return ReadFile([_csv_grid(path, text)], encoding=encoding, file_format="csv")


def _is_ods(data: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return archive.read("mimetype").startswith(b"application/vnd.oasis.opendocument")
    except (zipfile.BadZipFile, KeyError, OSError):
        return False


def _openpyxl(path: Path, data: bytes) -> list[Grid]:
    try:
        workbook = load_workbook(io.BytesIO(data), data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
        raise ConfigError(f"{path}: not a readable .xlsx workbook ({exc})") from None
    grids = []
    for sheet in workbook.worksheets:
        if sheet.sheet_state != "visible":
            continue  # a hidden sheet holds lookups or scratch work, not the return
        hidden = {
            c - 1
            for dim in sheet.column_dimensions.values()
            if dim.hidden and dim.min is not None and dim.max is not None
            for c in range(dim.min, dim.max + 1)
        }
        merged = tuple(
            (m.min_row - 1, m.min_col - 1, m.max_row - 1, m.max_col - 1)
            for m in sheet.merged_cells.ranges
        )
        rows = [list(r) for r in sheet.iter_rows(min_row=1, min_col=1, values_only=True)]
        grids.append(Grid(sheet.title, rows, merged, frozenset(hidden)))
    return grids


def _calamine(path: Path, data: bytes, kind: str) -> list[Grid]:
    from python_calamine import CalamineError, CalamineWorkbook, SheetVisibleEnum

    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
        grids = []
        for meta in workbook.sheets_metadata:
            if meta.visible != SheetVisibleEnum.Visible:
                continue
            sheet = workbook.get_sheet_by_name(meta.name)
            values = sheet.to_python(skip_empty_area=False)
            rows = [[None if v == "" else v for v in r] for r in values]
            start = sheet.start or (0, 0)
            if start != (0, 0) and rows:  # calamine starts at the first used cell
                rows = [[] for _ in range(start[0])] + [[None] * start[1] + r for r in rows]
            merged = tuple(
                (r0, c0, r1, c1) for (r0, c0), (r1, c1) in (sheet.merged_cell_ranges or [])
            )
            grids.append(Grid(meta.name, rows, merged))
    except (CalamineError, ValueError, OSError) as exc:
        raise ConfigError(f"{path}: not a readable .{kind} workbook ({exc})") from None
    return grids


def decode_text(path: Path, data: bytes) -> tuple[str, str]:
    """The text of a CSV file and the encoding it was in: BOM, else UTF-8, else GB18030."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding), encoding
            except UnicodeDecodeError as exc:
                raise ConfigError(
                    f"{path}: starts with a {encoding} byte-order mark but is not {encoding} "
                    f"text (undecodable bytes at offset {exc.start})"
                ) from None
    errors = []
    for encoding in _TEXT_ENCODINGS:
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError as exc:
            errors.append(f"{encoding} at offset {exc.start}")
    raise ConfigError(
        f"{path}: neither a workbook nor text in UTF-8 or GB18030/GBK (undecodable bytes: "
        f"{'; '.join(errors)}); save it from Excel as .xlsx or CSV"
    )


def _csv_grid(path: Path, text: str) -> Grid:
    delimiter = "\t" if _tab_separated(text) else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[list[object]] = []  # rows[i] is the record that starts on line i + 1
    line = 1
    try:
        for row in reader:
            rows.extend([] for _ in range(line - 1 - len(rows)))  # a quoted field spanned lines
            rows.append([v if v.strip() else None for v in row])
            line = reader.line_num + 1
    except csv.Error as exc:
        raise ConfigError(f"{path}: line {line} is not valid CSV ({exc})") from None
    return Grid("", rows, csv=True)


def _tab_separated(text: str) -> bool:
    """Excel's "Unicode text" (UTF-16, tab-separated): the first line has tabs, no commas."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    return "\t" in first and "," not in first
