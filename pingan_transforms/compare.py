"""Compare two schemes (or two versions of one) over the same months, publishing nothing.

An office asks this before adopting a new version: who moves, how far, why, and do the
two rankings still agree? ``pingan scheme compare A.yaml B.yaml --months 2024-08 2024-09``
answers it with the pipeline's own scoring, not a second implementation:

1. the warehouse is copied to a scratch database (``create database … template``: the
   facts, rollups and populations as they are; nothing in the real warehouse changes,
   nobody may be connected to it meanwhile);
2. the scratch database's schemes are replaced by exactly A and B, renamed
   ``compare_a`` / ``compare_b``, both valid from the first compared month (so two
   versions of one scheme, e.g. majuqiao v1 and v2, score side by side);
3. dbt runs the scheme models only (``stg_schemes__*``, ``int_scheme_*`` and the three
   index marts) over the data already there;
4. each month's ranks and scores under both are read, with Spearman's ρ between the two
   rankings and, for the units that move most, the metrics whose points changed most
   (item scores summed per metric, so a renamed item still lines up);
5. the scratch database is dropped, whatever happened.

The result prints as a table and is written as an xlsx (Chinese headers).
"""

from __future__ import annotations

import io
import logging
import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import yaml

from pingan_transforms.months import Month
from pingan_transforms.settings import ConfigError, Settings
from pingan_transforms.textwidth import pad
from pingan_transforms.warehouse import WarehouseTarget, connect

log = logging.getLogger(__name__)

CODES = ("compare_a", "compare_b")
SCHEME_MODELS = (
    "stg_schemes__versions", "stg_schemes__nodes", "stg_schemes__items",
    "stg_schemes__item_bands", "stg_schemes__grades", "stg_schemes__stars",
    "stg_schemes__tie_breaks", "int_scheme_versions_applied", "int_scheme_units_assigned",
    "int_scheme_items_valued", "int_scheme_items_scored", "int_scheme_totals_summed",
    "int_scheme_units_ranked", "region_index_monthly", "region_index_items",
    "region_index_categories",
)  # fmt: skip
NOTE = (
    "两方案按同一批数据、同一口径计分，不发布、不改动正式库；名次变化为正表示方案B下排名"
    "更靠前；主要影响指标为名次变化最大的单位中，得分变化最大的指标"
)
TOP_MOVERS = 5  # units whose shift is explained by items
TOP_ITEMS = 3


@dataclass(frozen=True)
class UnitComparison:
    region_code: str
    region_name: str
    rank_a: int | None
    score_a: Decimal | None
    rank_b: int | None
    score_b: Decimal | None

    @property
    def shift(self) -> int | None:
        """Places gained under B (positive: ranked higher under B)."""
        if self.rank_a is None or self.rank_b is None:
            return None
        return self.rank_a - self.rank_b

    @property
    def score_change(self) -> Decimal | None:
        if self.score_a is None or self.score_b is None:
            return None
        return self.score_b - self.score_a


@dataclass(frozen=True)
class MetricShift:
    region_code: str
    metric_name: str
    points_a: Decimal
    points_b: Decimal

    @property
    def change(self) -> Decimal:
        return self.points_b - self.points_a


@dataclass(frozen=True)
class MonthComparison:
    month: Month
    units: list[UnitComparison]
    rho: float | None  # Spearman's ρ of the two rankings (units ranked under both)
    explained: dict[str, list[MetricShift]]  # the biggest movers' metrics, by region code


@dataclass(frozen=True)
class Comparison:
    label_a: str
    label_b: str
    months: list[MonthComparison]


def _renamed(path: Path, code: str, first: Month, folder: Path) -> Path:
    """Scheme file ``path`` as ``code`` version 1, valid from ``first``, into ``folder``."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot read the scheme file ({exc})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: not a scheme file (a YAML mapping)")
    data.update(scheme_code=code, version=1, valid_from=str(first))
    out = folder / f"{code}.yaml"
    out.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return out


_METRICS_SQL = """
    select scheme_code, region_code, coalesce(metric_name, metric_code) as metric,
           sum(item_score) as points
    from marts.region_index_items where month_start = %s and region_code = any(%s)
    group by 1, 2, 3
"""


def _spearman(units: Sequence[UnitComparison]) -> float | None:
    both = [u for u in units if u.rank_a is not None and u.rank_b is not None]
    if len(both) < 3:
        return None
    from scipy.stats import spearmanr

    return float(spearmanr([u.rank_a for u in both], [u.rank_b for u in both]).statistic)


def _read_month(conn, month: Month) -> MonthComparison:
    from pingan_transforms.publish.index_reader import read_units

    by_unit: dict[str, dict[str, object]] = {}
    for scheme in CODES:
        columns = ("region_code", "region_name", "rank_in_peer_group", "score")
        for row in read_units(conn, scheme, month, columns):
            unit = by_unit.setdefault(row["region_code"], {"name": row["region_name"]})
            unit[scheme] = (row["rank_in_peer_group"], row["score"])
    units = [
        UnitComparison(code, str(u["name"]), *(u.get(CODES[0]) or (None, None)),  # type: ignore[misc]
                       *(u.get(CODES[1]) or (None, None)))  # type: ignore[misc]
        for code, u in by_unit.items()
    ]  # fmt: skip
    units.sort(key=lambda u: (u.rank_b is None, u.rank_b or 0, u.region_code))
    movers = sorted((u for u in units if u.shift), key=lambda u: -abs(u.shift or 0))
    movers = movers[:TOP_MOVERS]
    explained: dict[str, list[MetricShift]] = {}
    if movers:
        points: dict[tuple[str, str], dict[str, Decimal]] = {}
        codes = [u.region_code for u in movers]
        for scheme, region, metric, total in conn.execute(_METRICS_SQL, (month.first_day, codes)):
            points.setdefault((region, metric), {})[scheme] = total or Decimal(0)
        for u in movers:
            shifts = [
                MetricShift(u.region_code, metric, p.get(CODES[0], Decimal(0)),
                            p.get(CODES[1], Decimal(0)))
                for (region, metric), p in points.items() if region == u.region_code
            ]  # fmt: skip
            shifts.sort(key=lambda s: (-abs(s.change), s.metric_name))
            explained[u.region_code] = [s for s in shifts if s.change][:TOP_ITEMS]
    return MonthComparison(month, units, _spearman(units), explained)


def compare_schemes(
    target: WarehouseTarget, settings: Settings, file_a: Path, file_b: Path,
    months: Sequence[Month],
) -> Comparison:  # fmt: skip
    """Score A and B over ``months`` in a scratch copy of the warehouse (module docstring)."""
    from pingan_transforms.scheme.catalogue import CATALOGUE_RELATIVE, load_catalogue
    from pingan_transforms.scheme.load import load_schemes
    from pingan_transforms.transform import run_dbt
    from pingan_transforms.warehouse.connection import clone_database, drop_database

    if not months:
        raise ConfigError("name the months to compare: --months 2024-08 2024-09")
    for path in (file_a, file_b):
        if not path.is_file():
            raise ConfigError(f"{path}: no such scheme file")
    first = min(months)
    scratch = target.with_database(f"{target.dbname}_compare_{os.getpid()}")
    folder = Path(tempfile.mkdtemp(prefix="pingan-compare-"))
    try:
        for path, code in zip((file_a, file_b), CODES, strict=True):
            _renamed(path, code, first, folder)
        try:
            clone_database(target, scratch)
        except Exception as exc:  # psycopg's ObjectInUse and friends: say what to do
            raise ConfigError(
                f"cannot copy the warehouse {target.dbname} to compare in ({exc}); "
                "nothing may be connected to it meanwhile: stop Airflow and other sessions"
            ) from None
        catalogue = load_catalogue(settings.project_dir / CATALOGUE_RELATIVE)
        with connect(scratch) as conn:
            load_schemes(conn, folder, catalogue)
        run_dbt(["run", "--select", *SCHEME_MODELS], scratch, settings)
        with connect(scratch) as conn:
            results = [_read_month(conn, month) for month in sorted(months)]
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        drop_database(scratch)
    return Comparison(str(file_a), str(file_b), results)


def format_comparison(comparison: Comparison) -> str:
    lines = [f"A = {comparison.label_a}", f"B = {comparison.label_b}"]
    for mc in comparison.months:
        rho = "—" if mc.rho is None else f"{mc.rho:.3f}"
        lines += ["", f"{mc.month}: Spearman's ρ between the two rankings = {rho}"]
        width = max([8, *(len(u.region_name) * 2 for u in mc.units)]) + 2
        heads = (("A排名", 7), ("A得分", 10), ("B排名", 7), ("B得分", 10), ("名次变化", 10),
                 ("得分变化", 12))  # fmt: skip
        lines.append(pad("单位", width) + "".join(pad(h, w, right=True) for h, w in heads))
        for u in mc.units:
            lines.append(
                f"{pad(u.region_name, width)}{_text(u.rank_a):>7}{_text(u.score_a):>10}"
                f"{_text(u.rank_b):>7}{_text(u.score_b):>10}{_signed(u.shift):>10}"
                f"{_signed(u.score_change):>12}"
            )
        for code, shifts in mc.explained.items():
            name = next(u.region_name for u in mc.units if u.region_code == code)
            words = "; ".join(f"{s.metric_name} {_signed(s.change)}" for s in shifts)
            lines.append(f"  {name}: {words or 'no metric changed its points'}")
    return "\n".join(lines)


def _text(value: object) -> str:
    return "—" if value is None else str(value)


def _signed(value: int | Decimal | None) -> str:
    if value is None:
        return "—"
    return f"+{value}" if value > 0 else str(value)


def write_comparison_xlsx(comparison: Comparison, path: Path) -> Path:
    """One sheet per month (排名对比), one with the biggest movers' metrics, and 说明."""
    from openpyxl import Workbook

    from pingan_transforms.fileio import atomic_write_bytes

    wb = Workbook()
    wb.remove(wb.active)
    for mc in comparison.months:
        ws = wb.create_sheet(f"{mc.month}排名对比")
        ws.append(["单位", "区划代码", "方案A排名", "方案A得分", "方案B排名", "方案B得分",
                   "名次变化（B较A）", "得分变化（B−A）"])  # fmt: skip
        for u in mc.units:
            ws.append([u.region_name, u.region_code, u.rank_a, u.score_a, u.rank_b, u.score_b,
                       u.shift, u.score_change])  # fmt: skip
    ws = wb.create_sheet("主要影响指标")
    ws.append(["月份", "单位", "区划代码", "指标", "方案A得分", "方案B得分", "变化"])
    for mc in comparison.months:
        names = {u.region_code: u.region_name for u in mc.units}
        for code, shifts in mc.explained.items():
            for s in shifts:
                ws.append([str(mc.month), names[code], code, s.metric_name, s.points_a,
                           s.points_b, s.change])  # fmt: skip
    ws = wb.create_sheet("说明")
    ws.append(["方案A", comparison.label_a])
    ws.append(["方案B", comparison.label_b])
    for mc in comparison.months:
        rho = None if mc.rho is None else round(mc.rho, 4)
        ws.append([f"{mc.month} 斯皮尔曼等级相关系数ρ", rho])
    ws.append(["说明", NOTE])
    buffer = io.BytesIO()
    wb.save(buffer)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, buffer.getvalue())
    return path
