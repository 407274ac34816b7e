"""A simulated survey office that drops its quarterly 群众安全感 results in a folder.

Each county's results for a quarter are one workbook in ``<drop_dir>/<YYYY>Q<q>/``,
``<区县>群众安全感调查_<YYYY>年第<N>季度.xlsx``: a merged title row
(``通州区2024年第二季度群众安全感和满意度调查结果``), one header row (统计季度,
行政区划代码, 乡镇街道名称, 样本量, 安全感得分, 满意度得分), one row per township and a
final ``全区`` row with the total sample and the sample-weighted mean scores.

Scores follow the police simulation's latent safety level (same default seed,
spread and drift, :func:`pingan_simulate.latent.latent_level`) taken at
the quarter's middle month, inverted: a town with more incidents feels less safe
and is less satisfied. So scores differ between towns and move between quarters.
The workbook carries fixed timestamps, so re-simulating a quarter writes
byte-identical files.

A small share of rows carries a defect as typed by hand (:data:`DEFECT_KINDS`): a
missing score, a score above 100, a score written with a % sign, a region code
that is not in the master. The ``全区`` row is computed from the clean figures, so
a file with a garbled score reports a total mismatch (the file still loads).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from pingan_simulate.fire import _hierarchy, _save_reproducibly
from pingan_simulate.latent import latent_level
from pingan_simulate.latent import rng as _rng
from pingan_transforms.contracts.regions import Region
from pingan_transforms.months import Month

SURVEY_HEADER: tuple[str, ...] = (
    "统计季度",
    "行政区划代码",
    "乡镇街道名称",
    "样本量",
    "安全感得分",
    "满意度得分",
)
TOTAL_LABEL = "全区"
DEFECT_KINDS = ("missing_score", "score_above_100", "percent_sign", "unknown_region")
QUARTER_NAMES = ("一", "二", "三", "四")
_CENT = Decimal("0.01")


@dataclass(frozen=True)
class SurveySimulation:
    seed: int = 20240801  # the police simulation's seed: scores track its latent level
    town_spread: float = 0.25  # sd of the log latent level between towns (as police)
    monthly_drift: float = 0.10  # sd of its monthly random-walk step (as police)
    security_mean: float = 90.0  # sense-of-security score of an average town
    satisfaction_mean: float = 87.0  # satisfaction score of an average town
    sensitivity: float = 10.0  # score points lost per unit of log latent level
    respondents_per_10k: float = 40.0  # sample size per 10,000 residents (at least 100)
    defect_rate: float = 0.03  # share of rows carrying one defect (DEFECT_KINDS)


def latest_complete_quarter(month: Month) -> tuple[int, int]:
    """(year, quarter) of the last quarter that ended before ``month`` starts."""
    quarter = (month.month - 1) // 3 + 1
    return (month.year, quarter - 1) if quarter > 1 else (month.year - 1, 4)


def quarter_label(year: int, quarter: int) -> str:
    """How the survey writes a quarter: 2024Q2."""
    return f"{year}Q{quarter}"


def survey_title(county_name: str, year: int, quarter: int) -> str:
    return f"{county_name}{year}年第{QUARTER_NAMES[quarter - 1]}季度群众安全感和满意度调查结果"


def _check_quarter(year: int, quarter: int) -> None:
    if not 1 <= quarter <= 4:
        raise ValueError(f"quarter must be 1-4, not {quarter}")
    if year < 1000:
        raise ValueError(f"year must have four digits, not {year}")


def _score(mean: float, sensitivity: float, level: float, noise: float) -> Decimal:
    value = min(max(mean - sensitivity * math.log(level) + noise, 0.0), 100.0)
    return Decimal(repr(value)).quantize(_CENT, ROUND_HALF_UP)


def generate_scores(
    sim: SurveySimulation, regions: list[Region], county_code: str, year: int, quarter: int
) -> list[list[object]]:
    """Clean rows (one per township of the county) in :data:`SURVEY_HEADER` order.

    Sample sizes are ints, scores Decimals with two places (0-100).
    """
    _check_quarter(year, quarter)
    towns = {r.code: r for r in regions if r.level == "township"}
    middle = Month(year, 3 * quarter - 1)
    rows: list[list[object]] = []
    for town_code, villages in sorted(_hierarchy(regions).get(county_code, {}).items()):
        level = latent_level(sim.seed, town_code, middle, sim.town_spread, sim.monthly_drift)
        rng = _rng(sim.seed, int(town_code), year, quarter, 7)
        people = sum(v.resident_population for v in villages)
        sample = max(100, int(rng.poisson(sim.respondents_per_10k * people / 10_000)))
        sd = 30.0 / math.sqrt(sample)  # sampling noise shrinks with the sample
        security = _score(sim.security_mean, sim.sensitivity, level, rng.normal(0.0, sd))
        satisfaction = _score(
            sim.satisfaction_mean, sim.sensitivity * 0.8, level, rng.normal(0.0, sd)
        )
        rows.append(
            [quarter_label(year, quarter), town_code, towns[town_code].name, sample, security,
             satisfaction]
        )  # fmt: skip
    return rows


def _with_defects(
    rows: list[list[object]], sim: SurveySimulation, year: int, quarter: int
) -> list[list[object]]:
    """Rows with a share ``sim.defect_rate`` carrying one defect of :data:`DEFECT_KINDS`."""
    out: list[list[object]] = []
    rate = sim.defect_rate
    for row in rows:
        rng = _rng(sim.seed, int(str(row[1])), year, quarter, 91)
        if rng.random() >= rate:
            out.append(row)
            continue
        kind = str(rng.choice(DEFECT_KINDS))
        bad = list(row)
        column = 4 + int(rng.integers(0, 2))  # the security or the satisfaction score
        if kind == "missing_score":
            bad[column] = None
        elif kind == "score_above_100":
            bad[column] = Decimal(str(row[column])) + 100  # a slipped digit: 185.30
        elif kind == "percent_sign":
            bad[column] = f"{row[column]}%"
        else:  # unknown_region: same shape, but no such town in the master
            bad[1] = str(row[1])[:6] + "999"
        out.append(bad)
    return out


def _totals(rows: list[list[object]]) -> list[object]:
    """The 全区 figures: total sample and sample-weighted mean scores (two places)."""
    sample = sum(int(r[3]) for r in rows)  # type: ignore[call-overload]
    means: list[object] = []
    for c in (4, 5):
        weighted = sum((Decimal(str(r[c])) * int(r[3]) for r in rows), Decimal(0))  # type: ignore[call-overload]
        means.append(float((weighted / sample).quantize(_CENT, ROUND_HALF_UP)) if sample else None)
    return [sample, *means]


def _export_stamp(year: int, quarter: int) -> datetime:
    """When the office exported the quarter: the 10th of the next quarter's first month."""
    first = Month(year, 3 * quarter).shift(1)
    return datetime(first.year, first.month, 10, 9, 0)


def write_survey_sheet(
    path: Path, title: str, rows: list[list[object]], totals: list[object], *, stamp: datetime
) -> Path:
    """The survey workbook as the office exports it (see the module docstring)."""
    wb = Workbook()
    ws = wb.active
    ws.title = "调查结果"
    width = len(SURVEY_HEADER)
    ws.cell(1, 1, title).font = Font(bold=True, size=14)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    for c, name in enumerate(SURVEY_HEADER, start=1):
        cell = ws.cell(2, c, name)
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center", vertical="center")
    for r, row in enumerate(rows, start=3):
        for c, value in enumerate(row, start=1):
            # scores are numbers in the sheet; a typed "85.3%" stays text
            ws.cell(r, c, float(value) if isinstance(value, Decimal) else value)
    total_row = 3 + len(rows)
    ws.cell(total_row, 1, TOTAL_LABEL)
    ws.merge_cells(start_row=total_row, start_column=1, end_row=total_row, end_column=3)
    for c, value in enumerate(totals, start=4):
        ws.cell(total_row, c, value)
    for letter, w in zip("ABCDEF", (10, 14, 16, 8, 12, 12), strict=True):
        ws.column_dimensions[letter].width = w
    _save_reproducibly(wb, path, stamp)
    return path


def write_survey_drop(
    sim: SurveySimulation, regions: list[Region], year: int, quarter: int, drop_dir: Path
) -> Path:
    """Write the quarter's workbook under ``drop_dir/<YYYY>Q<q>/``; returns its path.

    One workbook for the (single) county of the region master; a master with several
    counties gets one workbook each, and the first county's path is returned. Only
    counties run this survey: towns directly under a city (小榄镇 under 中山市 in the
    demo master) get none.
    """
    _check_quarter(year, quarter)
    names = {r.code: r.name for r in regions}
    folder = drop_dir / quarter_label(year, quarter)
    written: list[Path] = []
    for county_code in sorted(_hierarchy(regions)):
        county = names[county_code]
        clean = generate_scores(sim, regions, county_code, year, quarter)
        rows = _with_defects(clean, sim, year, quarter)
        path = folder / f"{county}群众安全感调查_{year}年第{quarter}季度.xlsx"
        write_survey_sheet(
            path, survey_title(county, year, quarter), rows, _totals(clean),
            stamp=_export_stamp(year, quarter),
        )  # fmt: skip
        written.append(path)
    if not written:
        raise ValueError("the region master has no county with townships")
    return written[0]
