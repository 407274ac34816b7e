"""A simulated police 110 "front database" (前置库).

The tables ``jq_110`` (110 incidents) and ``fzyj`` (反诈预警, anti-fraud warnings
and their dissuasion results) use the source system's own column names (pinyin
abbreviations, as such front databases do) and code values; its data
dictionary is documented in ``sources/police/models/staging/_police__sources.yml``.

Each town has a latent safety level that drifts month by month (a seeded random
walk on the log scale) and each category a town-specific propensity, so ranks
really move between months. Counts are Poisson in the population at risk
(residents + floating population) with a mild seasonal swing. The data for a
(town, month) depends only on the seed, the town and the month, so any month
range reproduces the same records.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import psycopg

from pingan_simulate.latent import latent_level
from pingan_simulate.latent import rng as _rng
from pingan_transforms.contracts.regions import Region
from pingan_transforms.months import Month

FRONT_TABLE_DDL = """
create table if not exists jq_110 (
    jjdbh    varchar(32) primary key,  -- 接警单编号
    bjsj     timestamp not null,       -- 报警时间 (Beijing wall clock)
    pjsj     timestamp,                -- 派警时间
    ddsj     timestamp,                -- 到达时间
    jqlbdm   varchar(4),               -- 警情类别代码
    jqlbmc   varchar(32),              -- 警情类别名称
    jqxldm   varchar(8),               -- 警情细类代码
    xzqhdm   varchar(12),              -- 行政区划代码
    fadz     varchar(200),             -- 发案地址
    jd       numeric(10, 6),           -- 经度
    wd       numeric(10, 6),           -- 纬度
    bjrxm    varchar(32),              -- 报警人姓名
    bjrdh    varchar(20),              -- 报警人电话
    bjrsfzh  varchar(18),              -- 报警人身份证号
    hfmyd    varchar(8),               -- 回访满意度: 满意 / 基本满意 / 不满意
    gxsj     timestamp not null        -- 更新时间
);
create index if not exists jq_110_gxsj on jq_110 (gxsj);
"""

FRONT_COLUMNS = [
    "jjdbh", "bjsj", "pjsj", "ddsj", "jqlbdm", "jqlbmc", "jqxldm", "xzqhdm", "fadz",
    "jd", "wd", "bjrxm", "bjrdh", "bjrsfzh", "hfmyd", "gxsj",
]  # fmt: skip


FRAUD_TABLE_DDL = """
create table if not exists fzyj (
    yjbh     varchar(32) primary key,  -- 预警编号
    yjsj     timestamp not null,       -- 预警时间 (Beijing wall clock)
    xzqhdm   varchar(12),              -- 行政区划代码
    yjlx     varchar(16),              -- 预警类型: 电话预警 / 短信预警 / 上门劝阻
    shrxm    varchar(32),              -- 受害人姓名
    shrdh    varchar(20),              -- 受害人电话
    qzjg     varchar(16),              -- 劝阻结果: 劝阻成功 / 劝阻失败 / 未联系上
    zfje     numeric(14, 2),           -- 止付金额 (元), empty when nothing was stopped
    gxsj     timestamp not null        -- 更新时间
);
create index if not exists fzyj_gxsj on fzyj (gxsj);
"""

FRAUD_COLUMNS = ["yjbh", "yjsj", "xzqhdm", "yjlx", "shrxm", "shrdh", "qzjg", "zfje", "gxsj"]

_WARNING_TYPES = ("电话预警", "电话预警", "短信预警", "上门劝阻")
_DISSUASION = (("劝阻成功", 0.72), ("劝阻失败", 0.18), ("未联系上", 0.10))
_FRAUD_STREAM = 200  # separates the fraud-warning random streams from the incidents'


@dataclass(frozen=True)
class Category:
    code: str
    name: str
    subcodes: tuple[str, ...]
    rate_per_10k: float  # monthly incidents per 10,000 people at risk


CATEGORIES: tuple[Category, ...] = (
    Category("10", "刑事", ("1001", "1002", "1003"), 0.8),
    Category("20", "治安", ("2001", "2002", "2003"), 2.5),
    Category("30", "侵财", ("3001", "3002", "3003"), 1.8),
    Category("40", "电信网络诈骗", ("4001", "4002", "4003"), 1.2),
    Category("50", "黄赌", ("5001", "5002"), 0.3),
    Category("60", "纠纷", ("6001", "6002", "6003"), 4.0),
    Category("70", "交通", ("7001", "7002"), 3.0),
    Category("80", "火警", ("8001", "8002"), 0.4),
    Category("90", "求助", ("9001", "9002"), 5.0),
)

_SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂"
_SATISFACTION = ("满意", "满意", "满意", "基本满意", "不满意")


@dataclass(frozen=True)
class PoliceSimulation:
    seed: int = 20240801
    town_spread: float = 0.25  # sd of the log latent level between towns
    monthly_drift: float = 0.10  # sd of the monthly random-walk step
    town_code_only_rate: float = 0.05  # incidents placed only at town level
    # Real-world defects (shares of all incidents), drawn from one uniform per row:
    county_code_rate: float = 0.02  # only the county code: placeable by address text
    missing_region_rate: float = 0.01  # no region code: placeable by address text
    coordinates_only_rate: float = 0.005  # no code, no address: placeable by coordinates
    unknown_category_rate: float = 0.003  # a category code the dictionary lacks
    unplaceable_rate: float = 0.003  # a wrong region code and no usable address
    # Anti-fraud warnings (fzyj); kept apart from the incident stream above, so adding
    # them changes no incident.
    fraud_rate_per_10k: float = 3.0  # monthly warnings per 10,000 people at risk
    fraud_town_code_rate: float = 0.08  # warnings placed only at town level
    fraud_county_code_rate: float = 0.01  # only the county code: cannot be placed
    fraud_missing_region_rate: float = 0.005  # no region code: cannot be placed


def town_level(sim: PoliceSimulation, town_code: str, month: Month) -> float:
    """Latent incident multiplier of a town in a month (1.0 = average)."""
    return latent_level(sim.seed, town_code, month, sim.town_spread, sim.monthly_drift)


def fraud_level(sim: PoliceSimulation, town_code: str, month: Month) -> float:
    """Latent fraud-warning multiplier of a town in a month, its own walk (not the incidents')."""
    return latent_level(
        sim.seed, town_code, month, sim.town_spread, sim.monthly_drift, _FRAUD_STREAM
    )


def generate_incidents(
    sim: PoliceSimulation, regions: list[Region], months: Iterable[Month]
) -> Iterator[tuple]:
    """Rows for ``jq_110`` in :data:`FRONT_COLUMNS` order."""
    towns = {r.code: r for r in regions if r.level == "township"}
    villages = [r for r in regions if r.level == "village" and r.parent_code in towns]
    for month in months:
        season = 1.0 + 0.15 * math.sin(2 * math.pi * (month.month - 4) / 12)
        start, _ = month.local_bounds()
        seconds_in_month = month.days * 86400
        for village in villages:
            town = towns[village.parent_code]
            level = town_level(sim, town.code, month)
            rng = _rng(sim.seed, int(village.code), month.index)
            at_risk = village.resident_population + village.floating_population
            lon0 = village.longitude or 116.55 + (int(town.code[-3:]) % 23) * 0.012
            lat0 = village.latitude or 39.75 + (int(village.code[-3:]) % 17) * 0.01
            seq = 0
            for cat_idx, category in enumerate(CATEGORIES):
                propensity = math.exp(_rng(sim.seed, int(town.code), 100 + cat_idx).normal(0, 0.25))
                lam = category.rate_per_10k * at_risk / 10_000 * level * propensity * season
                for _ in range(int(rng.poisson(lam))):
                    seq += 1
                    reported = start + timedelta(seconds=int(rng.integers(0, seconds_in_month)))
                    dispatched = reported + timedelta(seconds=int(rng.integers(30, 300)))
                    arrived = dispatched + timedelta(seconds=int(rng.integers(180, 1500)))
                    updated = arrived + timedelta(minutes=int(rng.integers(30, 2880)))
                    placed_at_town = rng.random() < sim.town_code_only_rate
                    region_code: str | None = town.code if placed_at_town else village.code
                    address = f"{town.name}{village.name}{int(rng.integers(1, 300))}号"
                    category_code = category.code
                    defect = rng.random()
                    located = True
                    lon_jitter = float(rng.normal(0, 0.0015))
                    lat_jitter = float(rng.normal(0, 0.0015))
                    cut = sim.county_code_rate
                    if defect < cut:
                        region_code = town.parent_code
                    elif defect < (cut := cut + sim.missing_region_rate):
                        region_code = None
                    elif defect < (cut := cut + sim.coordinates_only_rate):
                        region_code, address = None, ""
                    elif defect < (cut := cut + sim.unknown_category_rate):
                        category_code = "99"
                    elif defect < cut + sim.unplaceable_rate:
                        region_code, address = village.code[:-3] + "999", "地址不详"
                        located = False  # the call came without a location fix
                    yield (
                        f"J{village.code}{month.year:04d}{month.month:02d}{seq:05d}",
                        reported,
                        dispatched,
                        arrived,
                        category_code,
                        category.name,
                        str(rng.choice(category.subcodes)),
                        region_code,
                        address,
                        round(lon0 + lon_jitter, 6) if located else None,  # within ~200 m
                        round(lat0 + lat_jitter, 6) if located else None,
                        str(rng.choice(list(_SURNAMES))) + str(rng.choice(list(_GIVEN))),
                        "1" + str(int(rng.integers(3, 10))) + f"{int(rng.integers(0, 10**9)):09d}",
                        _fake_id_number(rng, reported, village.code[:6]),
                        str(rng.choice(_SATISFACTION)),
                        updated,
                    )


def _fake_id_number(rng: np.random.Generator, ref: datetime, area: str = "110112") -> str:
    """A checksum-valid ID number issued in ``area`` (six digits, e.g. the county's code)."""
    born = ref.year - int(rng.integers(18, 80))
    body = f"{area}{born:04d}{int(rng.integers(1, 13)):02d}{int(rng.integers(1, 29)):02d}"
    body += f"{int(rng.integers(0, 1000)):03d}"
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    check = "10X98765432"[sum(int(c) * w for c, w in zip(body, weights, strict=True)) % 11]
    return body + check


def apply_late_corrections(
    url: str, month: Month, share: float = 0.02, seed: int = 1, after: datetime | None = None
) -> int:
    """Correct a share of a month's incidents after the fact, as the front desk does.

    Called after the month was first extracted: the chosen incidents get their
    callback satisfaction revised and, for one in five, the category re-coded to
    求助 (a call that turned out to be a request for help), with an update time
    ten days into the next month, or an hour after ``after`` (local time, the month's
    data cutoff) if that is later — so the next extract brings a second version.
    """
    lo, hi = month.local_bounds()
    corrected_at = max(hi + timedelta(days=10), (after or hi) + timedelta(hours=1))
    with psycopg.connect(url) as conn:
        keys = [
            r[0]
            for r in conn.execute(
                "select jjdbh from jq_110 where bjsj >= %s and bjsj < %s order by jjdbh",
                (lo, hi),
            ).fetchall()
        ]
        rng = _rng(seed, month.index, 7)
        chosen = [k for k in keys if rng.random() < share]
        for i, key in enumerate(chosen):
            if i % 5 == 0:
                conn.execute(
                    "update jq_110 set jqlbdm = '90', jqlbmc = '求助', jqxldm = '9001', "
                    "hfmyd = '满意', gxsj = %s where jjdbh = %s",
                    (corrected_at, key),
                )
            else:
                conn.execute(
                    "update jq_110 set hfmyd = '基本满意', gxsj = %s where jjdbh = %s",
                    (corrected_at, key),
                )
    return len(chosen)


def fill_front_database(
    url: str, sim: PoliceSimulation, regions: list[Region], months: list[Month]
) -> int:
    """(Re)write the given months of ``jq_110``; returns the number of rows written."""
    with psycopg.connect(url) as conn:
        conn.execute(FRONT_TABLE_DDL)
        for month in months:
            lo, hi = month.local_bounds()
            conn.execute("delete from jq_110 where bjsj >= %s and bjsj < %s", (lo, hi))
        count = 0
        with conn.cursor().copy(f"copy jq_110 ({', '.join(FRONT_COLUMNS)}) from stdin") as copy:
            for row in generate_incidents(sim, regions, months):
                copy.write_row(row)
                count += 1
    return count


def generate_fraud_warnings(
    sim: PoliceSimulation, regions: list[Region], months: Iterable[Month]
) -> Iterator[tuple]:
    """Rows for ``fzyj`` in :data:`FRAUD_COLUMNS` order.

    Each (village, month) draws from its own seeded stream, so any month range or
    region subset reproduces the same warnings, and none of the incident streams is
    consumed (the incidents stay exactly as they were).
    """
    towns = {r.code: r for r in regions if r.level == "township"}
    villages = [r for r in regions if r.level == "village" and r.parent_code in towns]
    results = [name for name, _ in _DISSUASION]
    weights = [share for _, share in _DISSUASION]
    for month in months:
        start, _ = month.local_bounds()
        seconds_in_month = month.days * 86400
        for village in villages:
            town = towns[village.parent_code]
            rng = _rng(sim.seed, int(village.code), month.index, _FRAUD_STREAM)
            at_risk = village.resident_population + village.floating_population
            lam = sim.fraud_rate_per_10k * at_risk / 10_000 * fraud_level(sim, town.code, month)
            for seq in range(1, int(rng.poisson(lam)) + 1):
                warned = start + timedelta(seconds=int(rng.integers(0, seconds_in_month)))
                updated = warned + timedelta(minutes=int(rng.integers(10, 4320)))
                region_code: str | None = village.code
                defect = rng.random()
                if defect < sim.fraud_county_code_rate:
                    region_code = town.parent_code
                elif defect < sim.fraud_county_code_rate + sim.fraud_missing_region_rate:
                    region_code = None
                elif rng.random() < sim.fraud_town_code_rate:
                    region_code = town.code
                result = str(rng.choice(results, p=weights))
                stopped = None
                if result == "劝阻成功" and rng.random() < 0.4:
                    stopped = round(float(rng.lognormal(8.5, 1.2)), 2)  # typically a few k yuan
                yield (
                    f"F{village.code}{month.year:04d}{month.month:02d}{seq:04d}",
                    warned,
                    region_code,
                    str(rng.choice(_WARNING_TYPES)),
                    str(rng.choice(list(_SURNAMES))) + str(rng.choice(list(_GIVEN))),
                    "1" + str(int(rng.integers(3, 10))) + f"{int(rng.integers(0, 10**9)):09d}",
                    result,
                    stopped,
                    updated,
                )


def fill_fraud_warnings(
    url: str, sim: PoliceSimulation, regions: list[Region], months: list[Month]
) -> int:
    """(Re)write the given months of ``fzyj``; returns the number of rows written.

    Like :func:`fill_front_database`, the months are deleted first, so refilling
    a month replaces it instead of colliding on the warning numbers.
    """
    with psycopg.connect(url) as conn:
        conn.execute(FRAUD_TABLE_DDL)
        for month in months:
            lo, hi = month.local_bounds()
            conn.execute("delete from fzyj where yjsj >= %s and yjsj < %s", (lo, hi))
        count = 0
        with conn.cursor().copy(f"copy fzyj ({', '.join(FRAUD_COLUMNS)}) from stdin") as copy:
            for row in generate_fraud_warnings(sim, regions, months):
                copy.write_row(row)
                count += 1
    return count
