"""Why a unit scored what it did (`pingan explain`, issue 14).

A town's leader asks which incidents cost the town its points; the office answers
from the marts instead of going back to the police system: every item of the unit's
month with its metric, normalisation, points and score, and the source records
counted in it (``marts.region_index_records``). What it prints is what the marts hold
now (published or not): ``marts.region_index_published`` says what was published.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from pingan_transforms.fileio import atomic_write_text
from pingan_transforms.months import Month
from pingan_transforms.publish.index_reader import read_units

if TYPE_CHECKING:
    import psycopg

NORMALISATION_NAMES = {
    "per_10k_residents": "每万户籍人口",
    "per_10k_residents_floating": "每万实有人口",
    "none": "",
}
RECORD_HEADERS = (
    "方案", "月份", "区划代码", "单位", "指标代码", "指标", "指标项", "满分", "得分",
    "来源", "记录编号", "发生时间", "类别", "定位方式", "所在村居代码", "所在村居",
    "批次", "来源位置", "计入值", "计入分母",
)  # fmt: skip


_HEAD = ("scheme_version", "region_code", "region_name", "total_label", "score", "grade",
         "rank_in_peer_group")  # fmt: skip


class ExplainError(LookupError):
    """The scheme, month, unit or item asked about is not in the marts."""


@dataclass(frozen=True)
class RecordLine:
    source_entity: str
    record_key: str
    occurred_at: datetime | None
    category: str | None
    placement_method: str | None
    placed_code: str
    placed_name: str | None
    batch_id: str | None
    source_ref: str | None
    contribution: Decimal
    denominator: Decimal | None  # a rate's: the record is of its denominator

    def counted(self) -> str:
        """What the record adds, when it is not simply one more of a count."""
        if self.denominator is not None:
            return f" 计入分子 {_number(self.contribution)}、分母 {_number(self.denominator)}"
        return "" if self.contribution == 1 else f" 计入 {_number(self.contribution)}"


@dataclass(frozen=True)
class ItemLine:
    category_name: str
    item_code: str
    item_name: str
    metric_code: str
    metric_name: str | None
    normalisation: str | None
    metric_value: Decimal | None
    normalised_value: Decimal | None
    points: Decimal
    item_score: Decimal
    is_adjustment: bool
    scoring_note: str | None
    records: list[RecordLine] = field(default_factory=list)

    @property
    def change(self) -> Decimal:
        """Points lost (negative) or, for an adjustment item, gained or lost."""
        return self.item_score if self.is_adjustment else self.item_score - self.points


@dataclass(frozen=True)
class Explanation:
    scheme_code: str
    scheme_version: int
    month: Month
    region_code: str
    region_name: str
    total_label: str
    score: Decimal
    grade: str
    rank: int
    items: list[ItemLine]


def explain_unit(
    conn: psycopg.Connection, scheme: str, month: Month, unit: str, item: str | None = None
) -> Explanation:
    """The unit (its code or its name) of the scheme's month, item by item with records."""
    units = read_units(conn, scheme, month, _HEAD)
    head = [u for u in units if unit in (u["region_code"], u["region_name"])]
    if len(head) != 1:
        if not units:
            raise ExplainError(f"scheme {scheme!r} has no scores for {month} in the marts")
        what = "no unit" if not head else f"{len(head)} units"
        raise ExplainError(
            f"{what} of scheme {scheme!r} in {month} named or coded {unit!r}: "
            "give its region code (`pingan ranking` lists them)"
        )
    version, code, name, label, score, grade, rank = (head[0][c] for c in _HEAD)
    rows = conn.execute(
        "select category_name, item_code, item_name, metric_code, metric_name, normalisation, "
        "metric_value, normalised_value, points, item_score, is_adjustment, scoring_note "
        "from marts.region_index_items where scheme_code = %s and scheme_version = %s "
        "and month_start = %s and region_code = %s and (%s::text is null or item_code = %s) "
        "order by sort_order",
        (scheme, version, month.first_day, code, item, item),
    ).fetchall()
    if not rows:
        raise ExplainError(f"no item {item!r} in scheme {scheme!r} v{version}")
    items = {r[1]: ItemLine(*r) for r in rows}
    for row in conn.execute(
        "select item_code, source_entity, record_key, occurred_at, category, placement_method, "
        "placed_code, placed_name, batch_id, source_ref, contribution, denominator "
        "from marts.region_index_records where scheme_code = %s and scheme_version = %s "
        "and month_start = %s and region_code = %s and (%s::text is null or item_code = %s) "
        # a rate's records that did not count in full first (the unsatisfied callbacks
        # behind a satisfaction rate's lost points), then by date
        "order by item_code, coalesce(contribution < denominator, false) desc, occurred_at, "
        "record_key",
        (scheme, version, month.first_day, code, item, item),
    ):
        items[row[0]].records.append(RecordLine(*row[1:]))
    return Explanation(scheme, version, month, code, name, label, score, grade, rank,
                       list(items.values()))  # fmt: skip


def _number(value: Decimal | None) -> str:
    if value is None:
        return "无数据"
    return f"{value.normalize():f}" if value == value.to_integral() else f"{value:.2f}"


def format_explanation(explanation: Explanation, limit: int | None = 5) -> str:
    """In Chinese, as the bulletin labels it: the unit's score, then each item with its
    points and metric, and its records (the first ``limit``; None: all)."""
    e = explanation
    lines = [
        f"{e.month} {e.region_name}（{e.region_code}）{e.total_label} {e.score:.2f} "
        f"{e.grade} 第{e.rank}名（方案 {e.scheme_code} 第{e.scheme_version}版）"
    ]
    category = None
    for item in e.items:
        if item.category_name != category:
            category = item.category_name
            lines.append(f"{category}")
        per = NORMALISATION_NAMES.get(item.normalisation or "none", "")
        rate = f"，{per} {_number(item.normalised_value)}" if per else ""
        effect = "加减分" if item.is_adjustment else "扣分"
        change = f"{effect} {abs(item.change):.2f}" if item.change else "未扣分"
        lines.append(
            f"  {item.item_code} {item.item_name}：满分 {item.points:.2f}，得分 "
            f"{item.item_score:.2f}，{change}；{item.metric_name or item.metric_code} "
            f"{_number(item.metric_value)}{rate}"
            + (f"（{item.scoring_note}）" if item.scoring_note else "")
        )
        if item.records:
            shown = item.records if limit is None else item.records[:limit]
            lines.append(f"    记录 {len(item.records)} 条" + (
                f"（列出前 {len(shown)} 条，--all 列出全部）" if len(shown) < len(item.records)
                else ""
            ))  # fmt: skip
            for r in shown:
                when = f"{r.occurred_at:%Y-%m-%d %H:%M}" if r.occurred_at else "时间不详"
                lines.append(
                    f"    {r.source_entity} {r.record_key} {when} {r.category or ''} "
                    f"{r.placed_name or r.placed_code}（{r.placement_method or ''}）{r.counted()}"
                )
    return "\n".join(lines)


def write_records_csv(explanation: Explanation, path: Path) -> int:
    """Every record of the explanation as a CSV (UTF-8 with BOM, Chinese headers, as the
    ranking files): one row per record and item. Returns the rows written."""
    import io

    e = explanation
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(RECORD_HEADERS)
    rows = 0
    for item in e.items:
        for r in item.records:
            writer.writerow([
                e.scheme_code, str(e.month), e.region_code, e.region_name, item.item_code,
                item.item_name, item.metric_code, item.points, item.item_score,
                r.source_entity, r.record_key, r.occurred_at.isoformat() if r.occurred_at else "",
                r.category or "", r.placement_method or "", r.placed_code, r.placed_name or "",
                r.batch_id or "", r.source_ref or "", r.contribution,
                "" if r.denominator is None else r.denominator,
            ])  # fmt: skip
            rows += 1
    atomic_write_text(path, "\ufeff" + buffer.getvalue())
    return rows
