"""A month's ranking from ``marts.region_index_monthly``, as CSV and as a terminal table.

Headers are Chinese because the files go to district offices; the CSV is UTF-8
with a BOM so that Excel opens it without garbling the characters.
"""

from __future__ import annotations

import csv
import unicodedata
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from pingan_transforms.months import Month
from pingan_transforms.warehouse import WarehouseTarget, connect

HEADERS = {
    "rank": "排名",
    "region_name": "乡镇街道",
    "region_code": "区划代码",
    "score": "平安指数",
    "grade": "等级",
    "previous_rank": "上月排名",
    "rank_change": "排名变化",
    "score_change_pct": "环比(%)",
}


@dataclass(frozen=True)
class RankingRow:
    rank: int
    region_name: str
    region_code: str
    score: Decimal
    grade: str
    previous_rank: int | None
    rank_change: int | None
    score_change_pct: Decimal | None


def fetch_ranking(target: WarehouseTarget, month: Month, scheme_code: str) -> list[RankingRow]:
    with connect(target) as conn:
        rows = conn.execute(
            """
            select rank_in_peer_group, region_name, region_code, score, grade,
                   previous_rank, rank_change, score_change_pct
            from marts.region_index_monthly
            where scheme_code = %s and month_start = %s
            order by peer_group_code, rank_in_peer_group, region_code
            """,
            (scheme_code, month.first_day),
        ).fetchall()
    return [RankingRow(*row) for row in rows]


def _fmt_change(change: int | None) -> str:
    if change is None:
        return "—"
    if change > 0:
        return f"↑{change}"
    if change < 0:
        return f"↓{-change}"
    return "–"


def write_csv(rows: list[RankingRow], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADERS.values())
        for r in rows:
            writer.writerow(
                [
                    r.rank, r.region_name, r.region_code, f"{r.score:.2f}", r.grade,
                    "" if r.previous_rank is None else r.previous_rank,
                    "" if r.rank_change is None else r.rank_change,
                    "" if r.score_change_pct is None else f"{r.score_change_pct:.2f}",
                ]
            )  # fmt: skip
    tmp.replace(path)  # readers never see a half-written file
    return path


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int, right: bool = False) -> str:
    fill = " " * max(width - _width(text), 0)
    return fill + text if right else text + fill


def format_table(rows: list[RankingRow], title: str) -> str:
    header = ["排名", "乡镇街道", "平安指数", "等级", "排名变化", "环比(%)"]
    body = [
        [
            str(r.rank), r.region_name, f"{r.score:.2f}", r.grade, _fmt_change(r.rank_change),
            "—" if r.score_change_pct is None else f"{r.score_change_pct:+.2f}",
        ]
        for r in rows
    ]  # fmt: skip
    widths = [max(_width(x) for x in col) for col in zip(header, *body, strict=False)]
    right = [True, False, True, False, True, True]
    lines = [title]
    for line in [header, *body]:
        cells = (_pad(c, w, r) for c, w, r in zip(line, widths, right, strict=True))
        lines.append("  ".join(cells))
    return "\n".join(lines)
