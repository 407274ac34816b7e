"""A simulated 12345 government service hotline (12345政务服务便民热线) and its API.

The city's hotline platform records every call or message as a work order (工单):
when it was accepted, the region it concerns, its category (诉求类别) and nature
(诉求性质), and how far it has been handled. Many 平安指数 schemes count the
complaints that concern public safety (治安, 消防, 交通, 矛盾纠纷). The platform's
open API serves them like the traffic vendor's does (bearer token, pages of
``{"data", "page", "page_size", "total", "has_more"}``, ``updated_since`` /
``updated_until`` in ISO 8601), so the pipeline reads it with its generic HTTP
connector from ``sources/hotline/source.yml`` alone.

``GET /api/v1/complaints?updated_since=…&updated_until=…&page=N&page_size=M``
    Work orders whose latest version was updated in ``(updated_since,
    updated_until]``, ordered by ``updateTime`` then ``orderNo``. Fields:
    ``orderNo`` 工单编号, ``acceptTime`` 受理时间 ("YYYY-MM-DD HH:MM:SS", Beijing),
    ``areaCode`` 行政区划代码 (village or town, may be null), ``category`` 诉求类别,
    ``appealType`` 诉求性质, ``status`` 办理状态 (办理中 / 已办结), ``finishTime``
    办结时间, ``satisfaction`` 回访满意度 (满意 / 基本满意 / 不满意, or null),
    ``callerName`` 来电人姓名 and ``callerPhone`` 来电号码 (personal data),
    ``updateTime`` 更新时间 (ISO 8601 with offset).

Complaints are Poisson in each village's residents and floating population, scaled by
a town's latent level that drifts by month (:mod:`pingan_simulate.latent`), so counts
and ranks move. Defects at configurable rates: orders served twice, missing region
codes, unparseable accept times; an order still being handled at month's end is
closed later, a second version with a later ``updateTime``.
"""

from __future__ import annotations

import hmac
import threading
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from fastapi import FastAPI, Query, Request, Response
from fastapi.responses import JSONResponse

from pingan_simulate.latent import latent_level
from pingan_simulate.latent import rng as _rng
from pingan_simulate.traffic import BAD_DATE_STRINGS, BEIJING
from pingan_transforms.contracts.regions import Region
from pingan_transforms.months import Month

#: 诉求类别 and their share of work orders; the hotline_categories seed says which
#: concern public safety.
CATEGORIES = {
    "治安": 0.10, "消防": 0.03, "交通": 0.09, "矛盾纠纷": 0.08, "市政设施": 0.22,
    "环境卫生": 0.18, "劳动社保": 0.12, "其他": 0.18,
}  # fmt: skip
APPEAL_TYPES = ("投诉", "求助", "咨询", "建议", "举报")
_APPEAL_WEIGHTS = (0.45, 0.25, 0.18, 0.07, 0.05)
SATISFACTION = ("满意", "基本满意", "不满意", None)
_SATISFACTION_WEIGHTS = (0.62, 0.22, 0.06, 0.10)


@dataclass(frozen=True)
class HotlineSimulation:
    seed: int = 20240812
    complaints_per_10k: float = 6.0  # monthly work orders per 10,000 people
    town_spread: float = 0.25
    monthly_drift: float = 0.10
    town_code_only_rate: float = 0.15  # orders placed only at town level
    duplicate_rate: float = 0.01  # orders the API serves twice
    missing_region_rate: float = 0.02
    bad_date_rate: float = 0.01  # unparseable acceptTime
    open_rate: float = 0.20  # still being handled when first served; closed later


@dataclass(frozen=True)
class Complaint:
    """One version of a work order (工单) as the hotline platform stores it."""

    order_no: str
    accept_time: str | None
    area_code: str | None
    category: str
    appeal_type: str
    status: str
    finish_time: str | None
    satisfaction: str | None
    caller_name: str  # personal data: never extracted
    caller_phone: str  # personal data: keyed-hashed at extraction
    updated_at: datetime

    def to_api(self) -> dict[str, object]:
        return {
            "orderNo": self.order_no,
            "acceptTime": self.accept_time,
            "areaCode": self.area_code,
            "category": self.category,
            "appealType": self.appeal_type,
            "status": self.status,
            "finishTime": self.finish_time,
            "satisfaction": self.satisfaction,
            "callerName": self.caller_name,
            "callerPhone": self.caller_phone,
            "updateTime": self.updated_at.astimezone(BEIJING).isoformat(timespec="seconds"),
        }


def generate_complaints(
    sim: HotlineSimulation, regions: list[Region], months: Iterable[Month]
) -> Iterator[Complaint]:
    """Every version of every work order, repeats included, in generation order."""
    towns = {r.code: r for r in regions if r.level == "township"}
    villages = [r for r in regions if r.level == "village" and r.parent_code in towns]
    categories, weights = list(CATEGORIES), list(CATEGORIES.values())
    for month in months:
        start = datetime(month.year, month.month, 1, tzinfo=BEIJING)
        for village in villages:
            town = towns[village.parent_code]
            rng = _rng(sim.seed, int(village.code), month.index, 12345)
            people = village.resident_population + village.floating_population
            level = latent_level(sim.seed, town.code, month, sim.town_spread, sim.monthly_drift)
            lam = sim.complaints_per_10k * people / 10_000 * level
            for seq in range(1, int(rng.poisson(lam)) + 1):
                accepted = start + timedelta(seconds=int(rng.integers(0, month.days * 86400)))
                town_only, no_region, bad_date, repeat, still_open = rng.random(5)
                handled = timedelta(hours=int(rng.integers(4, 240)))
                closed_late = timedelta(days=int(rng.integers(3, 25)))
                area = town.code if town_only < sim.town_code_only_rate else village.code
                bad_text = str(rng.choice(BAD_DATE_STRINGS))
                first = Complaint(
                    order_no=f"RX{village.code}{month.year:04d}{month.month:02d}{seq:04d}",
                    accept_time=bad_text if bad_date < sim.bad_date_rate
                    else accepted.strftime("%Y-%m-%d %H:%M:%S"),
                    area_code=None if no_region < sim.missing_region_rate else area,
                    category=str(rng.choice(categories, p=weights)),
                    appeal_type=str(rng.choice(APPEAL_TYPES, p=_APPEAL_WEIGHTS)),
                    status="已办结",
                    finish_time=(accepted + handled).strftime("%Y-%m-%d %H:%M:%S"),
                    satisfaction=SATISFACTION[int(rng.choice(4, p=_SATISFACTION_WEIGHTS))],
                    caller_name=f"来电人{int(rng.integers(1000, 9999))}",
                    caller_phone=f"1{int(rng.integers(3, 10))}{int(rng.integers(0, 10**9)):09d}",
                    updated_at=accepted + handled,
                )  # fmt: skip
                if still_open < sim.open_rate:
                    # first served while being handled, closed (a new version) later
                    opened = replace(
                        first, status="办理中", finish_time=None, satisfaction=None,
                        updated_at=accepted + timedelta(minutes=30),
                    )  # fmt: skip
                    yield opened
                    first = replace(
                        first,
                        finish_time=(accepted + closed_late).strftime("%Y-%m-%d %H:%M:%S"),
                        updated_at=accepted + closed_late,
                    )
                yield first
                if repeat < sim.duplicate_rate:
                    yield first


class HotlineStore:
    """What the hotline platform holds: every version of every work order (thread-safe)."""

    def __init__(self, complaints: Iterable[Complaint] = ()) -> None:
        self._lock = threading.Lock()
        self._versions = list(complaints)
        # the answer of the last read: a client pages through one (since, until) read
        # page by page, and recomputing it for each of 135 pages of a province month
        # (70,000 versions) made the simulator, not the pipeline, the extract's cost
        self._answered: tuple[tuple[datetime | None, datetime | None], list] | None = None

    @classmethod
    def generate(
        cls, sim: HotlineSimulation, regions: list[Region], months: list[Month]
    ) -> HotlineStore:
        return cls(generate_complaints(sim, regions, months))

    @property
    def versions(self) -> list[Complaint]:
        with self._lock:
            return list(self._versions)

    def updated(self, since: datetime | None = None, until: datetime | None = None) -> list:
        """An incremental read of (since, until] as the API answers it at ``until``: each
        order's latest version updated by ``until``, if after ``since`` (repeats as often
        as they occur), ordered by update time and order number."""
        with self._lock:
            if self._answered is not None and self._answered[0] == (since, until):
                return self._answered[1]
            versions = list(self._versions)
        latest: dict[str, datetime] = {}
        for version in versions:
            if until is None or version.updated_at <= until:
                seen = latest.get(version.order_no)
                if seen is None or version.updated_at > seen:
                    latest[version.order_no] = version.updated_at
        answer = [
            v
            for v in versions
            if latest.get(v.order_no) == v.updated_at and (since is None or v.updated_at > since)
        ]
        answer.sort(key=lambda v: (v.updated_at, v.order_no))
        with self._lock:
            self._answered = ((since, until), answer)
        return answer


def _local(moment: datetime | None) -> datetime | None:
    return moment if moment is None or moment.tzinfo else moment.replace(tzinfo=BEIJING)


def create_hotline_app(store: HotlineStore, *, token: str) -> FastAPI:
    """The hotline platform's open API over ``store`` (serve it with
    :func:`pingan_simulate.traffic_api.serve_traffic_api`)."""
    if not token:
        raise ValueError("the hotline API needs a non-empty bearer token")
    app = FastAPI(title="12345热线工单接口 (simulated)", version="1.0")
    expected = f"Bearer {token}".encode()

    @app.middleware("http")
    async def authenticate(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        given = request.headers.get("authorization", "").encode()
        if request.url.path.startswith("/api/") and not hmac.compare_digest(given, expected):
            return JSONResponse(
                {"code": 401, "message": "令牌无效或缺失 (invalid or missing token)"},
                status_code=401, headers={"WWW-Authenticate": "Bearer"},
            )  # fmt: skip
        return await call_next(request)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/api/v1/complaints")
    def complaints(
        updated_since: datetime | None = None,
        updated_until: datetime | None = None,
        page: int = Query(1, ge=1),
        page_size: int = Query(500, ge=1, le=1000),
    ) -> dict[str, object]:
        found = store.updated(_local(updated_since), _local(updated_until))
        first = (page - 1) * page_size
        return {
            "data": [c.to_api() for c in found[first : first + page_size]],
            "page": page,
            "page_size": page_size,
            "total": len(found),
            "has_more": first + page_size < len(found),
        }

    return app
