"""A simulated traffic police (交警) system: accidents and monthly violation statistics.

The records are what the vendor API of :mod:`pingan_simulate.traffic_api`
serves, field for field (camelCase keys, documented in
``sources/traffic/models/staging/_traffic__sources.yml``).

Each town has a latent traffic-risk level that drifts month by month (a seeded
random walk on the log scale, as in :mod:`pingan_simulate.police`), and
each violation type a town-specific propensity, so counts and ranks really move.
Accidents are Poisson in the people at risk (residents + floating population) of
each village, with a summer peak; violations are Poisson per town and type. The data
for a (village or town, month) depends only on the seed, the region and the month,
so any month range reproduces the same records.

Real-world defects are injected at configurable rates, each decided by a random
draw that is taken whether or not the defect applies (so changing one rate does not
reshuffle everything else): exact duplicates (the vendor serves a record twice),
missing region codes, unparseable date strings, and late corrections (a second
version of an accident with a later ``updateTime``).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from pingan_simulate.latent import latent_level
from pingan_simulate.latent import rng as _rng
from pingan_transforms.contracts.regions import Region
from pingan_transforms.months import Month

BEIJING = ZoneInfo("Asia/Shanghai")

VEHICLE_TYPES = ("小型汽车", "电动自行车", "摩托车", "大型货车", "中型客车", "自行车", "三轮车")
_VEHICLE_WEIGHTS = (0.40, 0.25, 0.10, 0.08, 0.05, 0.07, 0.05)
_ROADS = ("路口", "辅路", "主路", "环岛", "桥下", "公交站附近", "学校门口", "农贸市场门口")
# What broken exports really contain: MySQL zero dates, impossible days and hours,
# free text, another format.
BAD_DATE_STRINGS = (
    "0000-00-00 00:00:00",
    "2024-02-30 08:15:00",
    "2024-08-05 25:10:00",
    "未知",
    "2024/8/5 下午3点",
)


@dataclass(frozen=True)
class ViolationType:
    code: str  # the simulated vendor's 违法行为代码 (not the national code table)
    name: str  # 违法类型
    rate_per_10k: float  # monthly violations recorded per 10,000 people at risk


VIOLATION_TYPES: tuple[ViolationType, ...] = (
    ViolationType("1625", "闯红灯", 20.0),
    ViolationType("1352", "超速", 35.0),
    ViolationType("1711", "酒驾", 1.5),
    ViolationType("2001", "未戴头盔", 45.0),
    ViolationType("1039", "违法停车", 60.0),
    ViolationType("1344", "不按规定让行", 8.0),
)


@dataclass(frozen=True)
class TrafficSimulation:
    seed: int = 20240803
    town_spread: float = 0.30  # sd of the log latent level between towns
    monthly_drift: float = 0.12  # sd of the monthly random-walk step
    accidents_per_10k: float = 1.2  # monthly accidents per 10,000 people at risk
    town_code_only_rate: float = 0.10  # accidents placed only at town level
    duplicate_rate: float = 0.01  # records the vendor serves twice
    missing_region_rate: float = 0.02  # records without a region code
    bad_date_rate: float = 0.01  # accidents with an unparseable occurTime, violations statMonth
    correction_rate: float = 0.05  # accidents corrected later (a second version)

    def with_defect_rate(self, rate: float) -> TrafficSimulation:
        """The same simulation with one rate for duplicates, missing regions and bad dates."""
        return replace(self, duplicate_rate=rate, missing_region_rate=rate, bad_date_rate=rate)


@dataclass(frozen=True)
class Accident:
    """One version of an accident (事故) as the vendor stores it."""

    accident_no: str  # 事故编号
    occur_time: str | None  # 事故发生时间, Beijing wall clock text (malformed when defective)
    location: str  # 事故地点
    area_code: str | None  # 行政区划代码: village (12 digits) or town (9), or missing
    death_count: int  # 死亡人数
    injury_count: int  # 受伤人数
    vehicle_types: tuple[str, ...]  # 涉事车辆类型
    reporter_name: str  # 报警人姓名 (personal data: never extracted)
    reporter_phone: str  # 报警人电话 (personal data: keyed-hashed at extraction)
    updated_at: datetime  # 更新时间, aware

    def to_api(self) -> dict[str, object]:
        return {
            "accidentNo": self.accident_no,
            "occurTime": self.occur_time,
            "location": self.location,
            "areaCode": self.area_code,
            "deathCount": self.death_count,
            "injuryCount": self.injury_count,
            "vehicleTypes": list(self.vehicle_types),
            "reporterName": self.reporter_name,
            "reporterPhone": self.reporter_phone,
            "updateTime": _iso(self.updated_at),
        }


@dataclass(frozen=True)
class ViolationStat:
    """Violations of one type in one region and month (违法统计)."""

    month: Month  # the month the vendor files it under (what ?month= selects)
    area_code: str | None  # 行政区划代码 (town), or missing
    stat_month: str  # 统计月份 "YYYY-MM" (malformed when defective)
    violation_code: str  # 违法行为代码
    violation_name: str  # 违法类型
    violation_count: int  # 违法起数
    updated_at: datetime  # 更新时间, aware

    def to_api(self) -> dict[str, object]:
        return {
            "areaCode": self.area_code,
            "statMonth": self.stat_month,
            "violationCode": self.violation_code,
            "violationName": self.violation_name,
            "violationCount": self.violation_count,
            "updateTime": _iso(self.updated_at),
        }


def _iso(moment: datetime) -> str:
    return moment.astimezone(BEIJING).isoformat(timespec="seconds")


def town_level(sim: TrafficSimulation, town_code: str, month: Month) -> float:
    """Latent traffic-risk multiplier of a town in a month (1.0 = average)."""
    return latent_level(sim.seed, town_code, month, sim.town_spread, sim.monthly_drift)


def _season(month: Month) -> float:
    return 1.0 + 0.20 * math.sin(2 * math.pi * (month.month - 4) / 12)  # peaks in July


def _towns_and_villages(regions: list[Region]) -> tuple[dict[str, Region], list[Region]]:
    towns = {r.code: r for r in regions if r.level == "township"}
    villages = [r for r in regions if r.level == "village" and r.parent_code in towns]
    return towns, villages


def generate_accidents(
    sim: TrafficSimulation, regions: list[Region], months: Iterable[Month]
) -> Iterator[Accident]:
    """Every version of every accident, duplicates included, in generation order."""
    towns, villages = _towns_and_villages(regions)
    for month in months:
        start = datetime(month.year, month.month, 1, tzinfo=BEIJING)
        seconds_in_month = month.days * 86400
        for village in villages:
            town = towns[village.parent_code]
            rng = _rng(sim.seed, int(village.code), month.index, 7)
            at_risk = village.resident_population + village.floating_population
            lam = (
                sim.accidents_per_10k * at_risk / 10_000
                * town_level(sim, town.code, month) * _season(month)
            )  # fmt: skip
            for seq in range(1, int(rng.poisson(lam)) + 1):
                occurred = start + timedelta(seconds=int(rng.integers(0, seconds_in_month)))
                vehicles = rng.choice(VEHICLE_TYPES, size=1 + int(rng.binomial(2, 0.35)),
                                      p=_VEHICLE_WEIGHTS)  # fmt: skip
                town_only, no_region, bad_date, duplicate, corrected = rng.random(5)
                occur_text = occurred.strftime("%Y-%m-%d %H:%M:%S")
                bad_text = str(rng.choice(BAD_DATE_STRINGS))
                area = town.code if town_only < sim.town_code_only_rate else village.code
                first = Accident(
                    accident_no=f"SG{village.code}{month.year:04d}{month.month:02d}{seq:04d}",
                    occur_time=bad_text if bad_date < sim.bad_date_rate else occur_text,
                    location=f"{town.name}{village.name}{rng.choice(_ROADS)}",
                    area_code=None if no_region < sim.missing_region_rate else area,
                    death_count=int(rng.random() < 0.03) + int(rng.random() < 0.005),
                    injury_count=int(rng.poisson(0.9)),
                    vehicle_types=tuple(str(v) for v in vehicles),
                    reporter_name=f"报警人{int(rng.integers(1000, 9999))}",
                    reporter_phone="1" + str(int(rng.integers(3, 10)))
                    + f"{int(rng.integers(0, 10**9)):09d}",
                    updated_at=occurred + timedelta(minutes=int(rng.integers(60, 4320))),
                )  # fmt: skip
                later = timedelta(days=int(rng.integers(2, 21)), minutes=int(rng.integers(0, 600)))
                extra_injured = int(rng.integers(1, 3))
                yield first
                if duplicate < sim.duplicate_rate:
                    yield first
                if corrected < sim.correction_rate:
                    # the final report: more injured than first recorded, region filled in
                    yield replace(
                        first,
                        injury_count=first.injury_count + extra_injured,
                        area_code=first.area_code or village.code,
                        updated_at=first.updated_at + later,
                    )


def generate_violations(
    sim: TrafficSimulation, regions: list[Region], months: Iterable[Month]
) -> Iterator[ViolationStat]:
    """Monthly violation counts per town and type (types with no violations are omitted)."""
    towns, villages = _towns_and_villages(regions)
    at_risk: dict[str, int] = dict.fromkeys(towns, 0)
    for village in villages:
        at_risk[village.parent_code] += village.resident_population + village.floating_population
    for month in months:
        compiled = month.end() + timedelta(days=1, hours=2)  # statistics close after the month
        for town in towns.values():
            level = town_level(sim, town.code, month)
            rng = _rng(sim.seed, int(town.code), month.index, 11)
            for idx, vtype in enumerate(VIOLATION_TYPES):
                propensity = math.exp(_rng(sim.seed, int(town.code), 200 + idx).normal(0, 0.3))
                lam = vtype.rate_per_10k * at_risk[town.code] / 10_000 * level * propensity
                count = int(rng.poisson(lam))
                no_region, bad_date, duplicate = rng.random(3)
                updated = compiled + timedelta(minutes=int(rng.integers(0, 2880)))
                if count == 0:
                    continue
                stat = ViolationStat(
                    month=month,
                    area_code=None if no_region < sim.missing_region_rate else town.code,
                    stat_month=(
                        f"{month.year}年{month.month:02d}月"
                        if bad_date < sim.bad_date_rate
                        else str(month)
                    ),
                    violation_code=vtype.code,
                    violation_name=vtype.name,
                    violation_count=count,
                    updated_at=updated,
                )
                yield stat
                if duplicate < sim.duplicate_rate:
                    yield stat


class TrafficStore:
    """What the vendor system holds: every accident version and the monthly statistics.

    Thread-safe, because the API serves it from uvicorn's worker threads while a
    test (or a demo) adds corrections from another thread.
    """

    def __init__(
        self, accidents: Iterable[Accident] = (), violations: Iterable[ViolationStat] = ()
    ) -> None:
        self._lock = threading.Lock()
        self._accidents: list[Accident] = []
        self._violations: dict[Month, list[ViolationStat]] = {}
        self._cache: tuple[tuple[object, ...], list[Accident]] | None = None
        self.add_accidents(accidents)
        self.add_violations(violations)

    @classmethod
    def generate(
        cls, sim: TrafficSimulation, regions: list[Region], months: list[Month]
    ) -> TrafficStore:
        return cls(
            generate_accidents(sim, regions, months), generate_violations(sim, regions, months)
        )

    def add_accidents(self, versions: Iterable[Accident]) -> None:
        """Add accident versions (a correction is a version with a later ``updated_at``)."""
        with self._lock:
            self._accidents.extend(versions)
            self._cache = None

    def add_violations(self, stats: Iterable[ViolationStat]) -> None:
        with self._lock:
            for stat in stats:
                self._violations.setdefault(stat.month, []).append(stat)

    def revise_violation(
        self, month: Month, area_code: str | None, violation_code: str, count: int, at: datetime
    ) -> int:
        """The vendor revises a month's figure in place; returns how many rows changed."""
        with self._lock:
            rows = self._violations.get(month, [])
            changed = 0
            for i, stat in enumerate(rows):
                if stat.area_code == area_code and stat.violation_code == violation_code:
                    rows[i] = replace(stat, violation_count=count, updated_at=at)
                    changed += 1
            return changed

    def accidents_updated(
        self, since: datetime | None = None, until: datetime | None = None
    ) -> list[Accident]:
        """The answer to an incremental read of (since, until], as the API gives it at ``until``.

        For every accident: its latest version updated at or before ``until``, if that
        update is after ``since``. Answering as of ``until`` (rather than as of the
        wall clock) lets a backfill of past months see late corrections arrive in the
        window after the original, as a deployment reading monthly would have seen
        them. Exact duplicates are served as often as they occur. Ordered by update
        time, then accident number, so that offset paging is stable.
        """
        with self._lock:
            key = (since, until, len(self._accidents))
            if self._cache is not None and self._cache[0] == key:
                return self._cache[1]
            latest: dict[str, datetime] = {}
            for acc in self._accidents:
                if until is None or acc.updated_at <= until:
                    seen = latest.get(acc.accident_no)
                    if seen is None or acc.updated_at > seen:
                        latest[acc.accident_no] = acc.updated_at
            answer = [
                acc
                for acc in self._accidents
                if latest.get(acc.accident_no) == acc.updated_at
                and (since is None or acc.updated_at > since)
            ]
            answer.sort(key=lambda a: (a.updated_at, a.accident_no))
            self._cache = (key, answer)
            return answer

    def violations_for(self, month: Month) -> list[ViolationStat]:
        with self._lock:
            return list(self._violations.get(month, []))

    @property
    def accident_versions(self) -> list[Accident]:
        with self._lock:
            return list(self._accidents)
