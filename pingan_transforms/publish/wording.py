"""Words and numbers as a Chinese bulletin prints them: months and dates, numbers with
their units, changes (↑5.94% / 下降4.61% / ↓1.20个百分点), the area's word (全区 / 全镇).
Pure functions, shared by the bulletin's sections and tested on literals.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from pingan_transforms.months import Month


def month_text(month: Month) -> str:
    return f"{month.year}年{month.month}月"


def revision_suffix(revision: int) -> str:
    """Nothing for a month's first publication (revision 1); ``（第1次修订）`` for the first
    revision after it (revision 2), and so on: offices count revisions, not versions."""
    return "" if revision <= 1 else f"（第{revision - 1}次修订）"


def date_text(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def number(value: Decimal | float | int | None, places: int = 2) -> str:
    """A number for print: integers without decimals, others with ``places``."""
    if value is None:
        return "—"
    if isinstance(value, int) or Decimal(str(value)) == Decimal(str(value)).to_integral():
        return f"{int(value)}"
    return f"{float(value):.{places}f}"


def with_unit(value: Decimal | float | None, unit: str | None, places: int = 2) -> str:
    if value is None:
        return "—"
    if unit == "%":
        return f"{float(value):.{places}f}%"
    return f"{number(value, places)}{unit or ''}"


def pct_change(value: Decimal | None) -> str:
    """↑5.94% / ↓4.61% / 持平 / — (no base)."""
    if value is None:
        return "—"
    if value > 0:
        return f"↑{value:.2f}%"
    if value < 0:
        return f"↓{-value:.2f}%"
    return "持平"


def pct_words(value: Decimal | None) -> str:
    """上升5.94% / 下降4.61% / 持平, for sentences."""
    if value is None:
        return "无可比基数"
    if value > 0:
        return f"上升{value:.2f}%"
    if value < 0:
        return f"下降{-value:.2f}%"
    return "持平"


def tested_change_words(value: Decimal | None, flag: str | None) -> str:
    """A count's change in words that follow its significance test (issue 15): 明显上升 /
    明显下降 only when the change is more than chance; otherwise 持平, 基本持平 (under
    10 %) or 小幅波动, with the figure in brackets. Untested: :func:`pct_words`."""
    if value is None or flag is None:
        return pct_words(value)
    if flag == "significant_rise":
        return f"明显上升{value:.2f}%"
    if flag == "significant_fall":
        return f"明显下降{-value:.2f}%"
    if value == 0:
        return "持平"
    word = "基本持平" if abs(value) < 10 else "小幅波动"
    return f"{word}（{pct_words(value)}）"


def tested_pct_change(value: Decimal | None, flag: str | None) -> str:
    """:func:`pct_change` marked * when the change is significant (the table's note says so)."""
    mark = "*" if flag in ("significant_rise", "significant_fall") and value else ""
    return pct_change(value) + mark


def unit_change(value: Decimal | None, unit: str | None) -> str:
    """A change in the metric's unit: ↑1.20个百分点 / ↓0.04分钟 / —."""
    if value is None:
        return "—"
    suffix = "个百分点" if unit == "%" else (unit or "")
    if value > 0:
        return f"↑{float(value):.2f}{suffix}"
    if value < 0:
        return f"↓{-float(value):.2f}{suffix}"
    return "持平"


def area_word(peer_name: str) -> str:
    """全区 / 全镇 / 全市 … from the peer group's name (通州区 → 全区)."""
    for suffix in ("街道", "区", "镇", "市", "县", "乡", "州", "盟", "旗"):
        if peer_name.endswith(suffix):
            return f"全{suffix}"
    return "全域"


UNIT_WORDS = {
    "township": ("乡镇街道", "各乡镇（街道）"),
    "village": ("村（社区）", "各村（社区）"),
    "county": ("区县", "各区县"),
}


def listing(names: Iterable[str]) -> str:
    return "、".join(names)
