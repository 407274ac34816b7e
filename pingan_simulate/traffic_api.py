"""The simulated traffic police (交警) HTTP JSON API, served from a :class:`TrafficStore`.

It behaves like the vendor interface a deployment would call, so that
:mod:`pingan_transforms.extract.api` (driven by ``sources/traffic/source.yml``) is the code
that would run in the field.

Contract
--------
Every ``/api/v1/*`` request needs ``Authorization: Bearer <token>``; without it, or
with another token, the answer is ``401`` with ``WWW-Authenticate: Bearer``.

``GET /api/v1/accidents?updated_since=…&updated_until=…&page=N&page_size=M``
    Accidents (事故) whose latest version was updated in ``(updated_since,
    updated_until]`` (ISO 8601; without an offset a time is Beijing time; either
    bound may be omitted), ordered by ``updateTime`` then ``accidentNo``.
    Record fields: ``accidentNo`` 事故编号, ``occurTime`` 事故发生时间 ("YYYY-MM-DD
    HH:MM:SS", Beijing wall clock), ``location`` 事故地点, ``areaCode`` 行政区划代码
    (village 12 digits or town 9 digits, may be null), ``deathCount`` 死亡人数,
    ``injuryCount`` 受伤人数, ``vehicleTypes`` 涉事车辆类型 (list of strings),
    ``reporterName`` 报警人姓名, ``reporterPhone`` 报警人电话, ``updateTime`` 更新时间
    (ISO 8601 with offset).

``GET /api/v1/violations?month=YYYY-MM&page=N&page_size=M``
    Violation statistics (违法统计) of one month by region and type. Record fields:
    ``areaCode`` 行政区划代码 (town), ``statMonth`` 统计月份, ``violationCode``
    违法行为代码, ``violationName`` 违法类型, ``violationCount`` 违法起数,
    ``updateTime`` 更新时间.

Both answer ``{"data": [...], "page": 1, "page_size": 500, "total": 1234,
"has_more": true}``; ``page`` starts at 1, ``page_size`` is 1..1000 (default 500).
Errors answer ``{"code": <status>, "message": "..."}``.

Fault injection (:class:`FaultSchedule`) makes chosen requests, counted from 1 in
arrival order over all ``/api/v1/*`` requests, answer ``429`` (with
``Retry-After``) or ``503`` before authentication, as a gateway in front of the
vendor system would. Every ``/api/v1/*`` request and its status is logged in
``app.state.traffic.log`` so that tests can count retries on the server side.
``GET /healthz`` is neither authenticated, faulted nor logged.

Run it as a process with ``python -m pingan_simulate.traffic_api --port 8765
--token secret --months 2024-08 2024-09`` (regions from the configured region master).
"""

from __future__ import annotations

import argparse
import hmac
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import httpx
import uvicorn
from fastapi import FastAPI, Query, Request, Response
from fastapi.responses import JSONResponse

from pingan_simulate.traffic import (
    BEIJING,
    Accident,
    TrafficSimulation,
    TrafficStore,
    ViolationStat,
)
from pingan_transforms.months import Month

API_PREFIX = "/api/v1"
DEFAULT_PAGE_SIZE = 500
MAX_PAGE_SIZE = 1000


@dataclass(frozen=True)
class FaultSchedule:
    """Which requests fail, deterministically, by their 1-based arrival number.

    A request fails when it is among the first ``fail_first``, or its number is a
    multiple of ``every`` (0 = never), or it comes after ``fail_after`` requests
    (``None`` = never: use it for a source that goes down mid-read). Failing
    requests take their status from ``statuses`` in turn (the first failure the
    first status, and so on, cycling), so ``FaultSchedule(fail_first=2)`` answers
    429 then 503 and then serves normally.
    """

    fail_first: int = 0
    every: int = 0
    fail_after: int | None = None
    statuses: tuple[int, ...] = (429, 503)
    retry_after: int = 1  # seconds, sent with every 429

    def __post_init__(self) -> None:
        if not self.statuses:
            raise ValueError("FaultSchedule.statuses needs at least one status")

    @classmethod
    def always(cls, status: int = 503) -> FaultSchedule:
        return cls(fail_after=0, statuses=(status,))

    def fails(self, number: int) -> bool:
        return (
            number <= self.fail_first
            or (self.every > 0 and number % self.every == 0)
            or (self.fail_after is not None and number > self.fail_after)
        )


@dataclass(frozen=True)
class LoggedRequest:
    number: int
    path: str
    query: str
    status: int


@dataclass
class TrafficApiState:
    store: TrafficStore
    token: str
    faults: FaultSchedule = field(default_factory=FaultSchedule)
    log: list[LoggedRequest] = field(default_factory=list)
    _requests: int = 0
    _failures: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def admit(self) -> tuple[int, int | None]:
        """Number the request; return it and the fault status to answer with, if any."""
        with self._lock:
            self._requests += 1
            number = self._requests
            if not self.faults.fails(number):
                return number, None
            status = self.faults.statuses[self._failures % len(self.faults.statuses)]
            self._failures += 1
            return number, status

    def record(self, entry: LoggedRequest) -> None:
        with self._lock:
            self.log.append(entry)

    def statuses(self, endpoint: str | None = None) -> list[int]:
        """Statuses answered so far, in arrival order (optionally for one endpoint only)."""
        with self._lock:
            entries = sorted(self.log, key=lambda e: e.number)
        return [e.status for e in entries if endpoint is None or e.path.endswith(endpoint)]


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"code": status, "message": message}, status_code=status, headers=headers)


def _local(moment: datetime | None) -> datetime | None:
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=BEIJING)


def _page(
    items: Sequence[Accident] | Sequence[ViolationStat], page: int, page_size: int
) -> dict[str, object]:
    """The paging envelope; only the requested page's records are rendered."""
    start = (page - 1) * page_size
    return {
        "data": [item.to_api() for item in items[start : start + page_size]],
        "page": page,
        "page_size": page_size,
        "total": len(items),
        "has_more": start + page_size < len(items),
    }


def create_app(store: TrafficStore, *, token: str, faults: FaultSchedule | None = None) -> FastAPI:
    """The API over ``store``; its state (log, fault counter) is ``app.state.traffic``."""
    if not token:
        raise ValueError("the traffic API needs a non-empty bearer token")
    state = TrafficApiState(store, token, faults or FaultSchedule())
    app = FastAPI(title="交警数据接口 (simulated)", version="1.0")
    app.state.traffic = state
    expected = f"Bearer {token}".encode()

    @app.middleware("http")
    async def gateway(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        if not request.url.path.startswith(API_PREFIX + "/"):
            return await call_next(request)
        number, fault = state.admit()
        if fault == 429:
            retry = str(state.faults.retry_after)
            response: Response = _error(429, "请求过于频繁 (rate limited)", {"Retry-After": retry})
        elif fault is not None:
            response = _error(fault, "服务暂不可用 (service unavailable)")
        elif not hmac.compare_digest(request.headers.get("authorization", "").encode(), expected):
            response = _error(
                401, "令牌无效或缺失 (invalid or missing token)", {"WWW-Authenticate": "Bearer"}
            )
        else:
            response = await call_next(request)
        state.record(
            LoggedRequest(number, request.url.path, request.url.query, response.status_code)
        )
        return response

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get(f"{API_PREFIX}/accidents")
    def accidents(
        updated_since: datetime | None = None,
        updated_until: datetime | None = None,
        page: int = Query(1, ge=1),
        page_size: int = Query(DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE),
    ) -> dict[str, object]:
        found = state.store.accidents_updated(_local(updated_since), _local(updated_until))
        return _page(found, page, page_size)

    @app.get(f"{API_PREFIX}/violations")
    def violations(
        month: str = Query(..., pattern=r"^\d{4}-(0[1-9]|1[0-2])$"),
        page: int = Query(1, ge=1),
        page_size: int = Query(DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE),
    ) -> dict[str, object]:
        return _page(state.store.violations_for(Month.parse(month)), page, page_size)

    return app


def _bind(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    return sock


@contextmanager
def serve_traffic_api(
    app: FastAPI, *, host: str = "127.0.0.1", port: int = 0, startup_timeout: float = 10.0
) -> Iterator[str]:
    """Serve ``app`` with uvicorn in a background thread; yield its base URL once it answers.

    The socket is bound here (port 0 = a free port chosen by the OS) and handed to
    uvicorn, so there is no window in which another process can take the port.
    """
    sock = _bind(host, port)
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="traffic-api", daemon=True
    )
    base_url = f"http://{host}:{sock.getsockname()[1]}"
    thread.start()
    try:
        _wait_until_ready(base_url, thread, startup_timeout)
        yield base_url
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def _wait_until_ready(base_url: str, thread: threading.Thread, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if not thread.is_alive():
            raise RuntimeError(f"the traffic API server at {base_url} stopped while starting")
        try:
            if httpx.get(f"{base_url}/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"the traffic API server at {base_url} did not answer in {timeout}s")
        time.sleep(0.02)


def main(argv: list[str] | None = None) -> None:
    from pingan_transforms.contracts.regions import read_master
    from pingan_transforms.settings import get_settings

    parser = argparse.ArgumentParser(
        prog="python -m pingan_simulate.traffic_api",
        description="Serve the simulated traffic police API on a local port.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 = a free port (printed)")
    parser.add_argument("--token", required=True, help="the bearer token clients must send")
    parser.add_argument("--months", nargs="+", required=True, metavar="YYYY-MM")
    parser.add_argument("--regions", type=Path, help="region master CSV (default: configured)")
    parser.add_argument("--seed", type=int, default=TrafficSimulation.seed)
    parser.add_argument("--defect-rate", type=float, help="one rate for every injected defect")
    parser.add_argument("--fail-first", type=int, default=0, help="fail the first N requests")
    parser.add_argument("--fail-every", type=int, default=0, help="fail every k-th request")
    parser.add_argument("--retry-after", type=int, default=1, help="seconds, sent with 429")
    args = parser.parse_args(argv)

    regions = read_master(args.regions or get_settings().region_master_path)
    sim = TrafficSimulation(seed=args.seed)
    if args.defect_rate is not None:
        sim = sim.with_defect_rate(args.defect_rate)
    store = TrafficStore.generate(sim, regions, [Month.parse(m) for m in args.months])
    faults = FaultSchedule(
        fail_first=args.fail_first, every=args.fail_every, retry_after=args.retry_after
    )
    app = create_app(store, token=args.token, faults=faults)
    sock = _bind(args.host, args.port)
    base_url = f"http://{args.host}:{sock.getsockname()[1]}"
    print(f"traffic API on {base_url} (endpoints under {API_PREFIX}/)", flush=True)
    uvicorn.Server(uvicorn.Config(app, log_level="info")).run(sockets=[sock])


if __name__ == "__main__":
    main()
