"""A simulated fire department (消防救援支队) that drops its monthly exports in a folder.

Each county's brigade (or a city's, for a city without counties such as 中山市)
exports two files per month into ``<drop_dir>/<YYYY-MM>/``, the way such offices do:

- ``<区县>火灾情况统计表_<YYYY>年<MM>月.xlsx``: a merged title row
  (``通州区消防救援支队2024年8月火灾情况统计表``), a two-row header with merged cells
  (``伤亡情况`` over ``死亡人数`` / ``受伤人数``), one row per fire and a final ``合计``
  row with the totals of the numeric columns;
- ``<区县>消防监督检查情况_<YYYY>年<MM>月.csv``: GBK-encoded (what Excel writes on a
  Chinese Windows), Chinese headers, one row per town and month.

The data dictionary is in ``sources/fire/models/staging/_fire__sources.yml``.

Each town has a latent fire level that drifts month by month (a seeded random walk
on the log scale, as in :mod:`pingan_simulate.police`) and a latent
inspection intensity, so counts differ between towns and move between months.
Fires are Poisson in the population at risk with a winter peak (heating season).
Everything for a (county, month) depends only on the seed, the regions and the
month, and the files carry fixed timestamps, so re-simulating a month writes
byte-identical files (which the file-drop connector then recognises as already
loaded).

A configurable share of rows carries the defects real exports have: a row
exported twice, a missing region code, a date that is not a date, a region code
that is not in the master; and a share of fire sheets whose ``合计`` row no longer
matches the data (a row was deleted after the totals were typed).
"""

from __future__ import annotations

import csv
import io
import math
import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from pingan_simulate.latent import latent_level
from pingan_simulate.latent import rng as _rng
from pingan_transforms.contracts.regions import Region
from pingan_transforms.months import Month

# Two header rows per column: (top, bottom); bottom None = the top cell is merged down.
FIRE_HEADER: tuple[tuple[str, str | None], ...] = (
    ("序号", None),
    ("火灾编号", None),
    ("起火时间", None),
    ("起火地址", None),
    ("行政区划代码", None),
    ("起火原因", None),
    ("伤亡情况", "死亡人数"),
    ("伤亡情况", "受伤人数"),
    ("直接财产损失(元)", None),
)
FIRE_TOTAL_COLUMNS = (6, 7, 8)  # 0-based columns the 合计 row adds up
INSPECTION_HEADER: tuple[str, ...] = (
    "统计月份",
    "行政区划代码",
    "乡镇街道名称",
    "检查单位数",
    "发现隐患数",
    "整改隐患数",
    "下发责令改正通知书数",
    "行政处罚数",
    "罚款金额(元)",
)

# (cause as the fire statistics write it, share of fires)
CAUSES: tuple[tuple[str, float], ...] = (
    ("电气", 0.34),
    ("用火不慎", 0.18),
    ("吸烟", 0.09),
    ("生产作业", 0.06),
    ("玩火", 0.03),
    ("自燃", 0.04),
    ("雷击", 0.01),
    ("放火", 0.02),
    ("其他", 0.13),
    ("原因不明", 0.10),
)
DEFECT_KINDS = ("duplicate", "missing_region", "bad_date", "unknown_region")
# A brigade (支队) exports for a county, or for a city without counties (中山市).
BRIGADE_LEVELS = ("county", "city")


@dataclass(frozen=True)
class FireSimulation:
    seed: int = 20240803
    fires_per_10k: float = 0.5  # monthly fires per 10,000 people at risk, average town
    town_spread: float = 0.35  # sd of the log latent fire level between towns
    monthly_drift: float = 0.12  # sd of its monthly random-walk step
    town_code_only_rate: float = 0.08  # fires placed only at town level
    inspections_per_town: float = 60.0  # units inspected per month, town of 50,000
    defect_rate: float = 0.02  # share of rows carrying one defect (DEFECT_KINDS)
    total_mismatch_rate: float = 0.02  # share of fire sheets whose 合计 row is stale


@dataclass(frozen=True)
class DropFiles:
    """The two files one county's brigade exported for one month."""

    county_code: str
    month: Month
    fires: Path
    inspections: Path


def town_fire_level(sim: FireSimulation, town_code: str, month: Month) -> float:
    """Latent fire multiplier of a town in a month (1.0 = average)."""
    return latent_level(sim.seed, town_code, month, sim.town_spread, sim.monthly_drift)


def town_inspection_intensity(sim: FireSimulation, town_code: str) -> float:
    """How hard a town's fire supervisors work (1.0 = average); stable over time."""
    return float(math.exp(_rng(sim.seed, int(town_code), 2).normal(0.0, 0.3)))


def _hierarchy(
    regions: list[Region], levels: tuple[str, ...] = ("county",)
) -> dict[str, dict[str, list[Region]]]:
    """county code → town code → villages, for the towns that have a county.

    ``levels`` names the levels a town's parent may have: the fire brigades also
    cover a city without counties (中山市, whose towns sit directly beneath it).
    """
    counties = {r.code for r in regions if r.level in levels}
    out: dict[str, dict[str, list[Region]]] = {}
    towns = {r.code: r for r in regions if r.level == "township" and r.parent_code in counties}
    for town in towns.values():
        out.setdefault(town.parent_code, {})[town.code] = []
    for village in regions:
        if village.level == "village" and village.parent_code in towns:
            county = towns[village.parent_code].parent_code
            out[county][village.parent_code].append(village)
    return out


def generate_fires(
    sim: FireSimulation, regions: list[Region], county_code: str, month: Month
) -> list[list[object]]:
    """Clean fire rows of a county and month in :data:`FIRE_HEADER` order, by fire time.

    序号 (column 0) is left None: it is the row number of the exported sheet and is
    assigned when the sheet is written.
    """
    towns = {r.code: r for r in regions if r.level == "township"}
    villages = _hierarchy(regions, BRIGADE_LEVELS).get(county_code, {})
    season = 1.0 + 0.25 * math.cos(2 * math.pi * (month.month - 1) / 12)  # January peak
    start, _ = month.local_bounds()
    causes = [c for c, _ in CAUSES]
    weights = np.array([w for _, w in CAUSES]) / sum(w for _, w in CAUSES)
    rows: list[list[object]] = []
    for town_code, town_villages in sorted(villages.items()):
        level = town_fire_level(sim, town_code, month)
        for village in town_villages:
            rng = _rng(sim.seed, int(village.code), month.index)
            at_risk = village.resident_population + village.floating_population
            lam = sim.fires_per_10k * at_risk / 10_000 * level * season
            for seq in range(1, int(rng.poisson(lam)) + 1):
                # fires cluster in the afternoon and evening: hour ~ 6..29 folded into a day
                hour = int(rng.triangular(6, 17, 30)) % 24
                at = start + timedelta(
                    days=int(rng.integers(0, month.days)), hours=hour,
                    minutes=int(rng.integers(0, 60)),
                )  # fmt: skip
                placed_at_town = rng.random() < sim.town_code_only_rate
                rows.append(
                    [
                        None,
                        f"HZ{village.code}{month.year:04d}{month.month:02d}{seq:03d}",
                        at,
                        f"{towns[town_code].name}{village.name}{int(rng.integers(1, 300))}号",
                        town_code if placed_at_town else village.code,
                        str(rng.choice(causes, p=weights)),
                        int(rng.poisson(0.015)),
                        int(rng.poisson(0.06)),
                        round(float(rng.lognormal(7.6, 1.4)), 2),
                    ]
                )
    rows.sort(key=lambda r: (r[2], r[1]))  # type: ignore[arg-type,return-value]
    return rows


def generate_inspections(
    sim: FireSimulation, regions: list[Region], county_code: str, month: Month
) -> list[list[object]]:
    """Clean supervision-inspection rows (one per town) in :data:`INSPECTION_HEADER` order."""
    towns = {r.code: r for r in regions if r.level == "township"}
    rows: list[list[object]] = []
    brigade = _hierarchy(regions, BRIGADE_LEVELS).get(county_code, {})
    for town_code, town_villages in sorted(brigade.items()):
        rng = _rng(sim.seed, int(town_code), month.index, 4)
        people = sum(v.resident_population + v.floating_population for v in town_villages)
        intensity = town_inspection_intensity(sim, town_code)
        hazard = math.sqrt(town_fire_level(sim, town_code, month))  # more fires, more hazards
        units = int(rng.poisson(sim.inspections_per_town * intensity * max(people, 5000) / 50_000))
        hazards = int(rng.poisson(units * 0.8 * hazard))
        rectified = int(rng.binomial(hazards, 0.85))
        notices = int(rng.binomial(hazards, 0.35))
        penalties = int(rng.binomial(notices, 0.15))
        fines = int(rng.integers(5, 50, size=penalties).sum()) * 100
        rows.append(
            [str(month), town_code, towns[town_code].name, units, hazards, rectified, notices,
             penalties, fines]
        )  # fmt: skip
    return rows


def _with_defects(
    rows: list[list[object]],
    rng: np.random.Generator,
    rate: float,
    corrupt: dict[str, int],
    bad_dates: list[str],
) -> list[list[object]]:
    """Rows with a share ``rate`` carrying one defect; ``corrupt`` names the region/date columns."""
    out: list[list[object]] = []
    for row in rows:
        if rng.random() >= rate:
            out.append(row)
            continue
        kind = str(rng.choice(DEFECT_KINDS))
        bad = list(row)
        region = str(row[corrupt["region"]])
        if kind == "duplicate":
            out.append(row)
        elif kind == "missing_region":
            bad[corrupt["region"]] = None
        elif kind == "bad_date":
            bad[corrupt["date"]] = str(rng.choice(bad_dates))
        else:  # unknown_region: same shape, but no such village/town in the master
            bad[corrupt["region"]] = region[:9] + "999" if len(region) == 12 else region[:6] + "999"
        out.append(bad)
    return out


def fire_title(county_name: str, month: Month) -> str:
    return f"{county_name}消防救援支队{month.year}年{month.month}月火灾情况统计表"


def _export_stamp(month: Month) -> datetime:
    """When the office exported the month: the 3rd of the next month, 09:00."""
    return datetime.combine(month.shift(1).first_day, datetime.min.time()).replace(day=3, hour=9)


def write_fire_sheet(
    path: Path, title: str, rows: list[list[object]], *, stamp: datetime, stale_total: bool = False
) -> Path:
    """The fires workbook as the brigade exports it (see the module docstring).

    ``stale_total`` computes the 合计 row and then deletes the last data row, as
    when someone removes a row after typing the totals.
    """
    data = [list(r) for r in rows]
    totals = [sum((Decimal(str(r[c])) for r in data), Decimal(0)) for c in FIRE_TOTAL_COLUMNS]
    if stale_total and data:
        data.pop()
    for number, row in enumerate(data, start=1):
        row[0] = number
    wb = Workbook()
    ws = wb.active
    ws.title = "火灾情况"
    width = len(FIRE_HEADER)
    ws.cell(1, 1, title).font = Font(bold=True, size=14)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    col = 1
    while col <= width:
        top, bottom = FIRE_HEADER[col - 1]
        span = 1
        while col + span <= width and FIRE_HEADER[col + span - 1][0] == top and bottom:
            span += 1
        ws.cell(2, col, top)
        if bottom is None:
            ws.merge_cells(start_row=2, start_column=col, end_row=3, end_column=col)
        else:
            if span > 1:
                ws.merge_cells(start_row=2, start_column=col, end_row=2, end_column=col + span - 1)
            for k in range(span):
                ws.cell(3, col + k, FIRE_HEADER[col + k - 1][1])
        col += span
    for header_row in ws.iter_rows(min_row=2, max_row=3):
        for cell in header_row:
            cell.font = Font(bold=True)
            cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for r, row in enumerate(data, start=4):
        for c, value in enumerate(row, start=1):
            cell = ws.cell(r, c, value)
            if isinstance(value, datetime):
                cell.number_format = "yyyy-mm-dd hh:mm"
    total_row = 4 + len(data)
    ws.cell(total_row, 1, "合计")
    ws.merge_cells(start_row=total_row, start_column=1, end_row=total_row, end_column=6)
    for c, total in zip(FIRE_TOTAL_COLUMNS, totals, strict=True):
        ws.cell(total_row, c + 1, int(total) if total == total.to_integral() else float(total))
    for letter, w in zip("ABCDEFGHI", (6, 26, 18, 40, 16, 10, 10, 10, 16), strict=True):
        ws.column_dimensions[letter].width = w
    _save_reproducibly(wb, path, stamp)
    return path


def _save_reproducibly(wb: Workbook, path: Path, stamp: datetime) -> None:
    """Save with fixed document and zip-entry timestamps so equal data gives equal bytes."""
    wb.properties.created = stamp
    buffer = io.BytesIO()
    wb.save(buffer)
    iso = stamp.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    with (
        zipfile.ZipFile(buffer) as src,
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>" + iso, data)
            entry = zipfile.ZipInfo(info.filename, date_time=stamp.timetuple()[:6])
            dst.writestr(entry, data, compress_type=zipfile.ZIP_DEFLATED)


def write_inspection_csv(path: Path, rows: list[list[object]]) -> Path:
    """GBK-encoded CSV with Chinese headers and CRLF line ends, as Excel saves it.

    Encoded as GB18030, GBK's superset (byte for byte the same on every GBK
    character), because a few statutory town names are outside GBK (浙江's 干𬒗镇 and
    鿎石街道, met by the province benchmark); the extractor reads GB18030 anyway."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(INSPECTION_HEADER)
    writer.writerows(["" if v is None else v for v in row] for row in rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buffer.getvalue().encode("gb18030"))
    return path


def write_fire_drops(
    sim: FireSimulation, regions: list[Region], months: Iterable[Month], drop_dir: Path
) -> list[DropFiles]:
    """Write each county's monthly exports under ``drop_dir/<YYYY-MM>/``; returns the files."""
    names = {r.code: r.name for r in regions}
    written: list[DropFiles] = []
    for month in months:
        folder = drop_dir / str(month)
        suffix = f"{month.year}年{month.month:02d}月"
        for county_code in sorted(_hierarchy(regions, BRIGADE_LEVELS)):
            county = names[county_code]
            defects = _rng(sim.seed, int(county_code), month.index, 90)
            fires = _with_defects(
                generate_fires(sim, regions, county_code, month), defects, sim.defect_rate,
                {"region": 4, "date": 2},
                [f"{month.year}-{month.month:02d}-32 10:15", "待核实", f"{month.year}.13.05"],
            )  # fmt: skip
            inspections = _with_defects(
                generate_inspections(sim, regions, county_code, month), defects, sim.defect_rate,
                {"region": 1, "date": 0},
                [f"{month.year}-{month.month + 12:02d}", "待核实"],
            )  # fmt: skip
            stale = bool(defects.random() < sim.total_mismatch_rate)
            fires_path = folder / f"{county}火灾情况统计表_{suffix}.xlsx"
            write_fire_sheet(
                fires_path, fire_title(county, month), fires, stamp=_export_stamp(month),
                stale_total=stale,
            )  # fmt: skip
            csv_path = folder / f"{county}消防监督检查情况_{suffix}.csv"
            write_inspection_csv(csv_path, inspections)
            written.append(DropFiles(county_code, month, fires_path, csv_path))
    return written
