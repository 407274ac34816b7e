"""Which month (or quarter) a dropped file is about, and which of its rows are of another.

A file in the ``2024-10/`` drop named ``…2024年10月.xlsx`` that holds September fires
is a clerk's mistake (last month's file sent again under a new name). Loaded as is,
its rows would count wherever their dates put them, with no one told. So each file
gets a *period*: the one its name states (``2024年10月``, ``10月`` with the folder's
year, ``2024年第3季度``, ``2024Q3``), else its folder's (``2024-10/``, ``2024Q3/``).
Rows dated inside the period, or up to ``late_days`` before it (a fire reported
late), belong to it; the file is refused when most of its dated rows do not, and
the rest of such rows are quarantined by the staging models with the reason
``wrong month`` (they read the window from ``raw._files``).

Dates are read here only to decide that; what a row's date *is* is staging's
business (``clerk_timestamp`` in dbt), and a row whose date cannot be read here is
simply not counted either way.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import PurePosixPath
from typing import Literal

_NAME_MONTH = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月")
_NAME_MONTH_ONLY = re.compile(r"(?<![\d年])(\d{1,2})\s*月")
_FOLDER_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"(\d{4})\s*(?:年\s*第?\s*([1-4一二三四])\s*季度?|[Qq]\s*([1-4]))")
_YMD = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})(?:\s*[-/.月]\s*(\d{1,2}))?")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})?(?!\d)")
_SERIAL = re.compile(r"^\d{5}(?:\.\d+)?$")
_CHINESE_QUARTER = {"一": 1, "二": 2, "三": 3, "四": 4}
_EXCEL_EPOCH = date(1899, 12, 30)


@dataclass(frozen=True)
class Period:
    kind: Literal["month", "quarter"]
    year: int
    number: int  # month 1-12 or quarter 1-4

    @property
    def start(self) -> date:
        month = self.number if self.kind == "month" else 3 * self.number - 2
        return date(self.year, month, 1)

    @property
    def end(self) -> date:
        """The first day after the period."""
        months = 1 if self.kind == "month" else 3
        index = self.start.year * 12 + self.start.month - 1 + months
        return date(index // 12, index % 12 + 1, 1)

    def __str__(self) -> str:
        if self.kind == "month":
            return f"{self.year}-{self.number:02d}"
        return f"{self.year}Q{self.number}"

    def of(self, day: date) -> Period:
        """The period of the same kind that holds ``day``."""
        if self.kind == "month":
            return Period("month", day.year, day.month)
        return Period("quarter", day.year, (day.month - 1) // 3 + 1)


def _quarter(match: re.Match[str]) -> Period:
    number = match.group(2) or match.group(3)
    return Period("quarter", int(match.group(1)), _CHINESE_QUARTER.get(number) or int(number))


def file_period(rel: str, kind: Literal["month", "quarter"]) -> Period | None:
    """The period a file is about: what its name states, else its nearest dated folder."""
    path = PurePosixPath(unicodedata.normalize("NFKC", rel))
    folders = [
        part for part in reversed(path.parts[:-1])
        if _FOLDER_MONTH.match(part) or _QUARTER.fullmatch(part)
    ]  # fmt: skip
    folder = folders[0] if folders else None
    if kind == "quarter":
        if match := _QUARTER.search(path.stem):
            return _quarter(match)
        return _quarter(m) if folder and (m := _QUARTER.fullmatch(folder)) else None
    if (match := _NAME_MONTH.search(path.stem)) and 1 <= int(match.group(2)) <= 12:
        return Period("month", int(match.group(1)), int(match.group(2)))
    folder_month = _FOLDER_MONTH.match(folder) if folder else None
    if folder_month is None:
        return None
    year, month = int(folder_month.group(1)), int(folder_month.group(2))
    if (match := _NAME_MONTH_ONLY.search(path.stem)) and 1 <= int(match.group(1)) <= 12:
        named = int(match.group(1))  # ``8月补报`` in 2024-09/: August of the folder's year
        return Period("month", year - 1 if named > month else year, named)
    return Period("month", year, month)


def row_date(text: str | None, kind: Literal["month", "quarter"]) -> date | None:
    """The day (or the first day of the month or quarter) a row's date cell says, if legible."""
    if not text:
        return None
    value = unicodedata.normalize("NFKC", text).strip()
    try:
        if kind == "quarter":
            match = _QUARTER.search(value)
            return _quarter(match).start if match else None
        if _SERIAL.match(value) and 36526 <= float(value) <= 73050:
            return _EXCEL_EPOCH + timedelta(days=int(float(value)))
        match = _YMD.search(value) or _COMPACT.match(value)
        if match is None:
            return None
        return date(int(match.group(1)), int(match.group(2)), int(match.group(3) or 1))
    except ValueError:
        return None


@dataclass(frozen=True)
class PeriodCheck:
    """A file's period, the window its rows must fall in, and what its rows say."""

    period: Period
    rows_from: date  # the period's start less the late window
    rows_until: date  # the period's end (exclusive)
    dated: int  # rows whose date could be read
    outside: Counter[Period]  # rows outside the window, by the period they are in

    @property
    def mostly_elsewhere(self) -> Period | None:
        """The period most rows are in, when most dated rows are outside the window."""
        total = sum(self.outside.values())
        if not self.dated or total * 2 <= self.dated:
            return None
        return self.outside.most_common(1)[0][0]


def check_rows(period: Period, late_days: int, dates: list[date | None]) -> PeriodCheck:
    rows_from, rows_until = period.start - timedelta(days=late_days), period.end
    legible = [d for d in dates if d is not None]
    outside = Counter(period.of(d) for d in legible if not rows_from <= d < rows_until)
    return PeriodCheck(period, rows_from, rows_until, len(legible), outside)
