"""A month's ranking from ``marts.region_index_monthly``, as CSV and as a terminal table.

Headers are Chinese because the files go to district offices; the CSV is UTF-8
with a BOM so that Excel opens it without garbling the characters.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from pingan_transforms.fileio import atomic_write
from pingan_transforms.months import Month
from pingan_transforms.publish.index_reader import published_schemes, read_units
from pingan_transforms.textwidth import display_width, pad
from pingan_transforms.warehouse import WarehouseTarget, connect

LEVEL_NAMES = {"township": "乡镇街道", "village": "村社区", "county": "区县"}
WARNING_NAMES = {"red": "红色", "yellow": "黄色", "green": "绿色"}


@dataclass(frozen=True)
class RankingRow:
    scheme_code: str
    scheme_version: int
    total_label: str
    region_level: str
    peer_group_name: str | None
    rank: int
    region_name: str
    region_code: str
    score: Decimal
    grade: str
    stars: int | None
    warning_level: str | None
    previous_rank: int | None
    rank_change: int | None
    score_change_pct: Decimal | None
    previous_restated: bool


# RankingRow field -> mart column (the others are named alike)
_FIELDS = tuple(RankingRow.__dataclass_fields__)
RANKING_COLUMNS = tuple({"rank": "rank_in_peer_group"}.get(name, name) for name in _FIELDS)


def ranking_row(record: Mapping[str, Any]) -> RankingRow:
    """A row of the mart (read with :data:`RANKING_COLUMNS`) as a :class:`RankingRow`."""
    values = {name: record[column] for name, column in zip(_FIELDS, RANKING_COLUMNS, strict=True)}
    values["previous_restated"] = bool(values["previous_restated"])  # nullable in the contract
    return RankingRow(**values)


def fetch_ranking(
    target: WarehouseTarget, month: Month, scheme_code: str | None = None
) -> dict[str, list[RankingRow]]:
    """The month's published ranking of every scheme (or one), by scheme code."""
    with connect(target) as conn:
        codes = [scheme_code] if scheme_code else published_schemes(conn, month)
        by_scheme = {
            code: [ranking_row(record) for record in read_units(conn, code, month, RANKING_COLUMNS)]
            for code in codes
        }
    return {code: rows for code, rows in by_scheme.items() if rows}


def headers(rows: list[RankingRow]) -> list[str]:
    """Chinese column headers; the unit and total columns follow the scheme."""
    first = rows[0]
    return [
        "排名", LEVEL_NAMES.get(first.region_level, "单位"), "区划代码", first.total_label,
        "等级", "星级", "预警", "上月排名", "排名变化", "环比(%)",
    ]  # fmt: skip


def _fmt_change(change: int | None) -> str:
    if change is None:
        return "—"
    if change > 0:
        return f"↑{change}"
    if change < 0:
        return f"↓{-change}"
    return "–"


def write_csv(rows: list[RankingRow], path: Path) -> Path:
    return atomic_write(path, lambda tmp: _write_csv(rows, tmp))  # never half-written


def _write_csv(rows: list[RankingRow], tmp: Path) -> None:
    with open(tmp, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(headers(rows))
        for r in rows:
            writer.writerow(
                [
                    r.rank, r.region_name, r.region_code, f"{r.score:.2f}", r.grade,
                    "" if r.stars is None else "★" * r.stars,
                    WARNING_NAMES.get(r.warning_level or "", ""),
                    "" if r.previous_rank is None else r.previous_rank,
                    "" if r.rank_change is None else r.rank_change,
                    "" if r.score_change_pct is None else f"{r.score_change_pct:.2f}",
                ]
            )  # fmt: skip


def format_table(rows: list[RankingRow], title: str) -> str:
    first = rows[0]
    header = ["排名", LEVEL_NAMES.get(first.region_level, "单位"), first.total_label, "等级",
              "星级", "排名变化", "环比(%)"]  # fmt: skip
    body = [
        [
            str(r.rank), r.region_name, f"{r.score:.2f}", r.grade,
            "" if r.stars is None else "★" * r.stars, _fmt_change(r.rank_change),
            "—" if r.score_change_pct is None else f"{r.score_change_pct:+.2f}",
        ]
        for r in rows
    ]  # fmt: skip
    widths = [max(display_width(x) for x in col) for col in zip(header, *body, strict=False)]
    right = [True, False, True, False, False, True, True]
    lines = [title]
    for line in [header, *body]:
        cells = (pad(c, w, r) for c, w, r in zip(line, widths, right, strict=True))
        lines.append("  ".join(cells))
    if first.previous_restated:
        lines.append(f"(上月排名与环比按第 {first.scheme_version} 版方案重算)")
    return "\n".join(lines)
