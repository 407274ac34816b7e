"""A simulated governance-platform database (信访 / 综治 平台).

Three tables in the platform's own column names (pinyin abbreviations, like the
police front database's ``jq_110``) and code values; their data dictionary is
documented in ``sources/governance/models/staging/_governance__sources.yml``:

- ``xf_xfj``: petitions (信访件) with the petitioner's name, phone and ID number,
  status (受理 / 办理中 / 办结), completion date, satisfaction and the
  repeat / group / escalated flags (是 / 否);
- ``zz_mdjf``: disputes (矛盾纠纷) with type, mediation outcome and resolved date;
- ``wgxc``: grid patrols (网格巡查) by the villages' grid workers (网格员, name and
  phone recorded), with a patrol type code, the issues found and those rectified,
  typed in as text (so now and then not a number, or more rectified than found).
  Issues left open are rectified later: :func:`apply_patrol_rectifications` updates
  a share of a month's patrols after its run, as the platform does, so the next
  extract brings a second version.

As in :mod:`pingan_simulate.police`, each town has a latent level that
drifts month by month (a seeded random walk on the log scale), one per table, so
ranks really move. Counts are Poisson in the population at risk. The data for a
(village, month) depends only on the seed, the village and the month, so any month
range reproduces the same records. A configurable share of records carries a
region-code defect: no code, only the county code, or a code not in the master.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np
import psycopg

from pingan_simulate.latent import latent_level
from pingan_simulate.latent import rng as _rng
from pingan_simulate.police import _fake_id_number
from pingan_transforms.contracts.regions import Region
from pingan_transforms.months import Month

PETITIONS_TABLE, DISPUTES_TABLE, PATROLS_TABLE = "xf_xfj", "zz_mdjf", "wgxc"

GOVERNANCE_DDL = """
create table if not exists xf_xfj (
    xfjbh    varchar(32) primary key,  -- 信访件编号
    djsj     timestamp not null,       -- 登记时间 received (Beijing wall clock)
    xzqhdm   varchar(12),              -- 行政区划代码
    xfrxm    varchar(32),              -- 信访人姓名
    xfrdh    varchar(20),              -- 信访人电话
    xfrsfzh  varchar(18),              -- 信访人身份证号
    blzt     varchar(8),               -- 办理状态: 受理 / 办理中 / 办结
    bjrq     date,                     -- 办结日期
    myd      varchar(8),               -- 满意度: 满意 / 基本满意 / 不满意 / 未评价
    sfcf     varchar(2),               -- 是否重复信访: 是 / 否
    sfjt     varchar(2),               -- 是否集体访: 是 / 否
    sfyj     varchar(2),               -- 是否越级访: 是 / 否
    gxsj     timestamp not null        -- 更新时间
);
create index if not exists xf_xfj_gxsj on xf_xfj (gxsj);
create table if not exists zz_mdjf (
    jfbh     varchar(32) primary key,  -- 纠纷编号
    fxrq     date not null,            -- 发现日期
    xzqhdm   varchar(12),              -- 行政区划代码
    jflx     varchar(16),              -- 纠纷类型: 婚姻家庭 / 邻里 / 劳资 / 土地 / 物业 / 其他
    tjjg     varchar(8),               -- 调解结果: 调解成功 / 调解不成 / 移交
    jjrq     date,                     -- 化解日期
    gxsj     timestamp not null        -- 更新时间
);
create index if not exists zz_mdjf_gxsj on zz_mdjf (gxsj);
create table if not exists wgxc (
    xcbh     varchar(32) primary key,  -- 巡查编号
    xcrq     date not null,            -- 巡查日期
    xzqhdm   varchar(12),              -- 行政区划代码 (the grid's village)
    xclx     varchar(2),               -- 巡查类型代码: 01 出租屋检查 / 02 安全生产检查 /
                                       --   03 消防隐患排查 / 04 治安乱点整治 / 05 日常巡查
    fxwts    varchar(8),               -- 发现问题数 (typed in: text)
    zgwts    varchar(8),               -- 整改问题数, issues rectified so far (typed in: text)
    wgyxm    varchar(32),              -- 网格员姓名
    wgydh    varchar(20),              -- 网格员电话
    gxsj     timestamp not null        -- 更新时间
);
create index if not exists wgxc_gxsj on wgxc (gxsj);
"""

PETITION_COLUMNS = [
    "xfjbh", "djsj", "xzqhdm", "xfrxm", "xfrdh", "xfrsfzh", "blzt", "bjrq", "myd",
    "sfcf", "sfjt", "sfyj", "gxsj",
]  # fmt: skip
DISPUTE_COLUMNS = ["jfbh", "fxrq", "xzqhdm", "jflx", "tjjg", "jjrq", "gxsj"]
PATROL_COLUMNS = ["xcbh", "xcrq", "xzqhdm", "xclx", "fxwts", "zgwts", "wgyxm", "wgydh", "gxsj"]


@dataclass(frozen=True)
class PatrolType:
    code: str  # 巡查类型代码
    name: str
    per_10k: float  # monthly patrols per 10,000 people (floating people only, for rentals)
    issues: float  # mean issues found per patrol, average town
    floating_only: bool = False  # rental checks follow the floating population


PATROL_TYPES: tuple[PatrolType, ...] = (
    PatrolType("01", "出租屋检查", 12.0, 0.8, floating_only=True),
    PatrolType("02", "安全生产检查", 3.0, 1.2),
    PatrolType("03", "消防隐患排查", 3.0, 1.0),
    PatrolType("04", "治安乱点整治", 1.5, 1.5),
    PatrolType("05", "日常巡查", 6.0, 0.3),
)
# What grid workers type into the count fields now and then
_NOT_A_NUMBER = ("若干", "3个", "三", "待核", "1-2")

DISPUTE_TYPES: tuple[tuple[str, float], ...] = (  # type, share
    ("婚姻家庭", 0.25), ("邻里", 0.30), ("劳资", 0.15), ("土地", 0.10), ("物业", 0.12),
    ("其他", 0.08),
)  # fmt: skip
OUTCOMES: tuple[tuple[str, float], ...] = (("调解成功", 0.80), ("调解不成", 0.12), ("移交", 0.08))
_SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂"
_SATISFACTION = ("满意", "满意", "满意", "基本满意", "不满意", "未评价")
_STREAM = {"petitions": 11, "disputes": 12, "grid_patrols": 13}
_GRID_WORKERS_STREAM, _RECTIFY_STREAM = 15, 14


@dataclass(frozen=True)
class GovernanceSimulation:
    seed: int = 20240802
    petitions_per_10k: float = 1.5  # monthly petitions per 10,000 people at risk
    disputes_per_10k: float = 3.0  # monthly disputes per 10,000 people at risk
    town_spread: float = 0.30  # sd of the log latent level between towns
    monthly_drift: float = 0.12  # sd of the monthly random-walk step
    town_code_only_rate: float = 0.05  # records placed only at town level
    # Region-code defects (shares of all records), drawn from one uniform per row:
    missing_region_rate: float = 0.01  # no region code
    county_code_rate: float = 0.01  # only the county code
    unknown_region_rate: float = 0.005  # a code that is not in the region master
    # Grid patrols (wgxc); their own random streams, so petitions and disputes stay as they were
    patrol_rate_scale: float = 1.0  # multiplies every PATROL_TYPES rate
    grid_workers_per_village: int = 3
    rectified_on_the_spot: float = 0.6  # share of the issues found rectified at once
    malformed_count_rate: float = 0.01  # a count that is not a number, or rectified > found
    unknown_patrol_type_rate: float = 0.003  # a type code the dictionary lacks


def town_level(sim: GovernanceSimulation, town_code: str, month: Month, entity: str) -> float:
    """Latent multiplier of a town's petitions or disputes in a month (1.0 = average)."""
    stream = _STREAM[entity]
    return latent_level(sim.seed, town_code, month, sim.town_spread, sim.monthly_drift, stream)


def _region_code(
    sim: GovernanceSimulation, rng: np.random.Generator, village: Region, town: Region
) -> str | None:
    code: str | None = town.code if rng.random() < sim.town_code_only_rate else village.code
    defect = rng.random()
    cut = sim.missing_region_rate
    if defect < cut:
        return None
    if defect < (cut := cut + sim.county_code_rate):
        return town.parent_code
    if defect < cut + sim.unknown_region_rate:
        return village.code[:-3] + "999"
    return code


def _choice(rng: np.random.Generator, weighted: tuple[tuple[str, float], ...]) -> str:
    values, weights = zip(*weighted, strict=True)
    return str(rng.choice(values, p=np.array(weights) / sum(weights)))


def _flag(rng: np.random.Generator, share: float) -> str:
    return "是" if rng.random() < share else "否"


def _villages(regions: list[Region]) -> tuple[dict[str, Region], list[Region]]:
    towns = {r.code: r for r in regions if r.level == "township"}
    villages = [r for r in regions if r.level == "village" and r.parent_code in towns]
    return towns, villages


def generate_petitions(
    sim: GovernanceSimulation, regions: list[Region], months: Iterable[Month]
) -> Iterator[tuple]:
    """Rows for ``xf_xfj`` in :data:`PETITION_COLUMNS` order."""
    towns, villages = _villages(regions)
    for month in months:
        start, _ = month.local_bounds()
        seconds_in_month = month.days * 86400
        for village in villages:
            town = towns[village.parent_code]
            rng = _rng(sim.seed, int(village.code), month.index, _STREAM["petitions"])
            at_risk = village.resident_population + village.floating_population
            level = town_level(sim, town.code, month, "petitions")
            lam = sim.petitions_per_10k * at_risk / 10_000 * level
            for seq in range(1, int(rng.poisson(lam)) + 1):
                received = start + timedelta(seconds=int(rng.integers(0, seconds_in_month)))
                region_code = _region_code(sim, rng, village, town)
                days_open = int(rng.integers(3, 60))
                progress = rng.random()
                completed: date | None = None
                if progress < 0.65:
                    status = "办结"
                    completed = (received + timedelta(days=days_open)).date()
                    satisfaction = str(rng.choice(_SATISFACTION))
                    updated = datetime.combine(completed, datetime.min.time()) + timedelta(
                        hours=int(rng.integers(9, 18)), minutes=int(rng.integers(0, 60))
                    )
                else:
                    status = "办理中" if progress < 0.9 else "受理"
                    satisfaction = "未评价"
                    updated = received + timedelta(minutes=int(rng.integers(30, 2880)))
                yield (
                    f"X{village.code}{month.year:04d}{month.month:02d}{seq:04d}",
                    received,
                    region_code,
                    str(rng.choice(list(_SURNAMES))) + str(rng.choice(list(_GIVEN))),
                    "1" + str(int(rng.integers(3, 10))) + f"{int(rng.integers(0, 10**9)):09d}",
                    _fake_id_number(rng, received, village.code[:6]),
                    status,
                    completed,
                    satisfaction,
                    _flag(rng, 0.15),
                    _flag(rng, 0.05),
                    _flag(rng, 0.04),
                    updated,
                )


def generate_disputes(
    sim: GovernanceSimulation, regions: list[Region], months: Iterable[Month]
) -> Iterator[tuple]:
    """Rows for ``zz_mdjf`` in :data:`DISPUTE_COLUMNS` order."""
    towns, villages = _villages(regions)
    for month in months:
        for village in villages:
            town = towns[village.parent_code]
            rng = _rng(sim.seed, int(village.code), month.index, _STREAM["disputes"])
            at_risk = village.resident_population + village.floating_population
            level = town_level(sim, town.code, month, "disputes")
            lam = sim.disputes_per_10k * at_risk / 10_000 * level
            for seq in range(1, int(rng.poisson(lam)) + 1):
                found = month.first_day + timedelta(days=int(rng.integers(0, month.days)))
                region_code = _region_code(sim, rng, village, town)
                outcome = _choice(rng, OUTCOMES)
                resolved = (
                    found + timedelta(days=int(rng.integers(0, 30)))
                    if outcome == "调解成功"
                    else None
                )
                closed = resolved or found + timedelta(days=int(rng.integers(1, 20)))
                updated = datetime.combine(closed, datetime.min.time()) + timedelta(
                    hours=int(rng.integers(8, 20)), minutes=int(rng.integers(0, 60))
                )
                yield (
                    f"M{village.code}{month.year:04d}{month.month:02d}{seq:04d}",
                    found,
                    region_code,
                    _choice(rng, DISPUTE_TYPES),
                    outcome,
                    resolved,
                    updated,
                )


def _grid_workers(sim: GovernanceSimulation, village: Region) -> list[tuple[str, str]]:
    """The village's grid workers (name, phone): the same people month after month."""
    rng = _rng(sim.seed, int(village.code), _GRID_WORKERS_STREAM)
    return [
        (
            str(rng.choice(list(_SURNAMES))) + str(rng.choice(list(_GIVEN))),
            "1" + str(int(rng.integers(3, 10))) + f"{int(rng.integers(0, 10**9)):09d}",
        )
        for _ in range(sim.grid_workers_per_village)
    ]


def generate_grid_patrols(
    sim: GovernanceSimulation, regions: list[Region], months: Iterable[Month]
) -> Iterator[tuple]:
    """Rows for ``wgxc`` in :data:`PATROL_COLUMNS` order.

    Per village, month and patrol type a Poisson number of patrols in the people at
    risk (floating people, for rental checks) and the town's latent level; issues
    found are Poisson per patrol (more in a town with a higher level) and a share of
    them is rectified on the spot.
    """
    towns, villages = _villages(regions)
    for month in months:
        for village in villages:
            town = towns[village.parent_code]
            rng = _rng(sim.seed, int(village.code), month.index, _STREAM["grid_patrols"])
            level = town_level(sim, town.code, month, "grid_patrols")
            workers = _grid_workers(sim, village)
            seq = 0
            for ptype in PATROL_TYPES:
                people = village.floating_population
                if not ptype.floating_only:
                    people += village.resident_population
                lam = ptype.per_10k * sim.patrol_rate_scale * people / 10_000 * level
                for _ in range(int(rng.poisson(lam))):
                    seq += 1
                    patrolled = month.first_day + timedelta(days=int(rng.integers(0, month.days)))
                    region_code = _region_code(sim, rng, village, town)
                    found = int(rng.poisson(ptype.issues * level**0.5))
                    rectified = int(rng.binomial(found, sim.rectified_on_the_spot))
                    name, phone = workers[int(rng.integers(0, len(workers)))]
                    # entered the same evening or up to two days later
                    updated = datetime.combine(patrolled, datetime.min.time()) + timedelta(
                        days=int(rng.integers(0, 3)), hours=int(rng.integers(9, 22)),
                        minutes=int(rng.integers(0, 60)),
                    )  # fmt: skip
                    found_text, rectified_text = str(found), str(rectified)
                    defect, kind, odd = rng.random(), int(rng.integers(0, 3)), rng.random()
                    if defect < sim.malformed_count_rate:
                        bad = _NOT_A_NUMBER[int(odd * len(_NOT_A_NUMBER))]
                        if kind == 0:
                            found_text = bad
                        elif kind == 1:
                            rectified_text = bad
                        else:  # more rectified than found
                            rectified_text = str(found + 1 + int(odd * 3))
                    type_code = ptype.code
                    if rng.random() < sim.unknown_patrol_type_rate:
                        type_code = "09"
                    yield (
                        f"WG{village.code}{month.year:04d}{month.month:02d}{seq:04d}",
                        patrolled,
                        region_code,
                        type_code,
                        found_text,
                        rectified_text,
                        name,
                        phone,
                        updated,
                    )


def apply_patrol_rectifications(
    url: str, month: Month, share: float = 0.5, seed: int = 1, after: datetime | None = None
) -> int:
    """Rectify later a share of a month's open issues, as grid workers report back.

    Called after the month was first extracted: a share of its patrols with issues
    still open (found > rectified) get every issue rectified, with an update time
    3-20 days into the next month (moved past ``after``, local time, the month's data
    cutoff, when that is later), so the next extract brings a second version.
    Rows whose counts are not numbers are left alone. Returns the patrols changed.
    """
    lo, hi = month.local_bounds()
    with psycopg.connect(url) as conn:
        keys = [
            row[0]
            for row in conn.execute(
                "select xcbh from wgxc where xcrq >= %s and xcrq < %s "
                "and fxwts ~ '^[0-9]+$' and zgwts ~ '^[0-9]+$' "
                "and cast(zgwts as integer) < cast(fxwts as integer) order by xcbh",
                (lo.date(), hi.date()),
            ).fetchall()
        ]
        rng = _rng(seed, month.index, _RECTIFY_STREAM)
        chosen = [key for key in keys if rng.random() < share]
        for key in chosen:
            later = hi + timedelta(days=int(rng.integers(3, 21)), hours=int(rng.integers(8, 18)))
            if after is not None and later <= after:
                later = after + (later - hi)
            conn.execute("update wgxc set zgwts = fxwts, gxsj = %s where xcbh = %s", (later, key))
    return len(chosen)


def fill_governance_database(
    url: str, sim: GovernanceSimulation, regions: list[Region], months: list[Month]
) -> dict[str, int]:
    """(Re)write the given months of every table; returns rows written per entity."""
    counts = {"petitions": 0, "disputes": 0, "grid_patrols": 0}
    with psycopg.connect(url) as conn:
        conn.execute(GOVERNANCE_DDL)
        for month in months:
            lo, hi = month.local_bounds()
            conn.execute("delete from xf_xfj where djsj >= %s and djsj < %s", (lo, hi))
            conn.execute(
                "delete from zz_mdjf where fxrq >= %s and fxrq < %s", (lo.date(), hi.date())
            )
            conn.execute("delete from wgxc where xcrq >= %s and xcrq < %s", (lo.date(), hi.date()))
        plan = (
            ("petitions", PETITIONS_TABLE, PETITION_COLUMNS, generate_petitions),
            ("disputes", DISPUTES_TABLE, DISPUTE_COLUMNS, generate_disputes),
            ("grid_patrols", PATROLS_TABLE, PATROL_COLUMNS, generate_grid_patrols),
        )
        for entity, table, columns, generate in plan:
            with conn.cursor().copy(f"copy {table} ({', '.join(columns)}) from stdin") as copy:
                for row in generate(sim, regions, months):
                    copy.write_row(row)
                    counts[entity] += 1
    return counts
