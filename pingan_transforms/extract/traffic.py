"""Traffic police (交警) accidents and violations from the vendor's HTTP JSON API.

Accidents are read incrementally, exactly like police incidents: everything updated
in (stored watermark, the run's cut-off], page by page, COPYed into
``raw.traffic__accidents`` in one transaction together with the batch record and
the new watermark (the highest ``updateTime`` loaded). Re-running a window loads
nothing; a correction made after a cut-off arrives in a later batch, where staging
keeps the latest version per accident number.

Violations are monthly statistics the vendor may revise, so each run reads the whole
month again into a new batch; staging keeps the latest batch of each month (one
row per region × month × type), so a re-run never duplicates what staging sees.

If the source fails for good (every retry spent, or the token refused) the
transaction is rolled back: no batch, no rows, the watermark unchanged.

Raw keeps every field as text (the vehicle-type list as its JSON text) plus
``_batch_id``, ``_extracted_at`` and ``_source_ref`` (endpoint, query, page and
1-based index in the page). The reporter's name is never written and the phone
number is keyed-hashed, or dropped when no key is given.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from pingan_transforms.extract.http import PagedJsonClient, RetryPolicy, SourceUnavailable
from pingan_transforms.extract.pii import keyed_hash
from pingan_transforms.load.batches import (
    BatchResult,
    new_batch_id,
    read_watermark,
    record_batch,
)
from pingan_transforms.months import Month
from pingan_transforms.settings import DEFAULT_TIMEZONE
from pingan_transforms.warehouse import WarehouseTarget, connect

if TYPE_CHECKING:
    from pingan_transforms.sources import ExtractRun, HttpSource

log = logging.getLogger(__name__)

SOURCE = "traffic"
ACCIDENTS_PATH = "/api/v1/accidents"
VIOLATIONS_PATH = "/api/v1/violations"

# API field -> raw column; raw columns are the API names in snake_case.
ACCIDENT_FIELDS = {
    "accidentNo": "accident_no",
    "occurTime": "occur_time",
    "location": "location",
    "areaCode": "area_code",
    "deathCount": "death_count",
    "injuryCount": "injury_count",
    "vehicleTypes": "vehicle_types",
    "updateTime": "update_time",
}
VIOLATION_FIELDS = {
    "areaCode": "area_code",
    "statMonth": "stat_month",
    "violationCode": "violation_code",
    "violationName": "violation_name",
    "violationCount": "violation_count",
    "updateTime": "update_time",
}
# Personal data: the name is dropped at the door, the phone number keyed-hashed.
_DROPPED = {"reporterName"}
_HASHED = {"reporterPhone": "reporter_phone_hash"}
_META = ["_batch_id", "_extracted_at", "_source_ref"]


def _text(value: object) -> str | None:
    """A JSON value as text: strings as they are, lists and objects as JSON, numbers as written."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _parse_update_time(value: object, tz: str) -> datetime | None:
    """An ``updateTime`` as an aware datetime (Beijing when it has no offset), or None."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(tz))


class _UnknownFields:
    """Remembers field names the contract does not know, to warn once per batch.

    Their values are not kept: an unknown field may carry personal data.
    """

    def __init__(self, known: set[str]) -> None:
        self.known = known
        self.seen: set[str] = set()

    def check(self, record: Mapping[str, Any]) -> None:
        extra = record.keys() - self.known
        if extra:
            self.seen |= extra

    def warn(self, what: str) -> None:
        if self.seen:
            log.warning("%s: ignored fields not in the contract: %s", what, sorted(self.seen))


def check_contract(config: HttpSource) -> None:
    """Fail unless the sources file states exactly this connector's endpoints and PII handling."""
    from pingan_transforms.settings import ConfigError

    implemented = {**dict.fromkeys(_DROPPED, "drop"), **dict.fromkeys(_HASHED, "hash")}
    expected = {
        "accidents": (ACCIDENTS_PATH, "watermark", implemented),
        "violations": (VIOLATIONS_PATH, "month", {}),
    }
    declared = {
        name: (entity.path, entity.read, dict(entity.personal_data))
        for name, entity in config.entities.items()
    }
    if declared != expected:
        raise ConfigError(
            f"sources file: sources.traffic.entities is {declared}, but the traffic connector "
            f"implements {expected}: state exactly that (path, read, personal_data)"
        )


def extract_accidents(
    base_url: str,
    token: str,
    target: WarehouseTarget,
    *,
    cutoff: datetime,
    pii_key: bytes | None = None,
    tz: str = DEFAULT_TIMEZONE,
    page_size: int = 500,
    retry: RetryPolicy | None = None,
    timeout: float = 30.0,
) -> BatchResult:
    """Extract every accident updated in (watermark, cutoff] into one raw batch."""
    entity = "accidents"
    if cutoff.tzinfo is None:  # a naive cut-off is local (Beijing) time
        cutoff = cutoff.replace(tzinfo=ZoneInfo(tz))
    batch_id = new_batch_id(SOURCE, entity, cutoff)
    columns = [*ACCIDENT_FIELDS.values(), *_HASHED.values(), *_META]
    unknown = _UnknownFields(set(ACCIDENT_FIELDS) | _DROPPED | set(_HASHED))
    with (
        connect(target) as wh,
        PagedJsonClient(base_url, token, retry=retry, timeout=timeout) as api,
    ):
        # One extractor per entity at a time: a concurrent re-run waits, then finds
        # the watermark already advanced and loads nothing twice.
        wh.execute("select pg_advisory_xact_lock(hashtext('extract.traffic.accidents'))")
        watermark = read_watermark(wh, SOURCE, entity)
        params = {"updated_until": cutoff.isoformat()}
        if watermark is not None:
            params["updated_since"] = watermark.isoformat()
        extracted_at = datetime.now(ZoneInfo(tz))
        rows = 0
        high: datetime | None = None
        with wh.cursor().copy(
            f"copy raw.traffic__accidents ({', '.join(columns)}) from stdin"
        ) as copy:
            for page in api.iter_pages(ACCIDENTS_PATH, params, page_size=page_size):
                for index, record in enumerate(page.records, start=1):
                    unknown.check(record)
                    phone = keyed_hash(pii_key, record.get("reporterPhone")) if pii_key else None
                    copy.write_row(
                        [
                            *(_text(record.get(f)) for f in ACCIDENT_FIELDS),
                            phone,
                            batch_id,
                            extracted_at,
                            f"{ACCIDENTS_PATH}?page={page.number}#{index}",
                        ]
                    )
                    rows += 1
                    updated = _parse_update_time(record.get("updateTime"), tz)
                    if updated is None:
                        log.warning("accident %s: unreadable updateTime", record.get("accidentNo"))
                    elif high is None or updated > high:
                        high = updated
        unknown.warn(f"{SOURCE}.{entity}")
        if high is not None and high > cutoff:
            raise SourceUnavailable(
                f"GET {base_url}{ACCIDENTS_PATH} returned updateTime {high.isoformat()} after "
                f"updated_until {cutoff.isoformat()}: the API ignores the window"
            )
        result = BatchResult(batch_id, SOURCE, entity, rows, watermark, high)
        record_batch(
            wh, result, window_start=watermark, window_end=cutoff,
            source_ref=f"{ACCIDENTS_PATH} updateTime in ({params.get('updated_since')}, "
            f"{params['updated_until']}]",
        )  # fmt: skip
    return result


def extract_violations(
    base_url: str,
    token: str,
    target: WarehouseTarget,
    *,
    month: Month,
    tz: str = DEFAULT_TIMEZONE,
    page_size: int = 500,
    retry: RetryPolicy | None = None,
    timeout: float = 30.0,
) -> BatchResult:
    """Extract one month's violation statistics, whole, into a new raw batch.

    The batch's window is the month (``raw._batches.window_start`` is its first
    instant), which is how staging knows which batch is the latest for a month.
    """
    entity = "violations"
    batch_id = new_batch_id(SOURCE, entity, month.end(tz))
    columns = [*VIOLATION_FIELDS.values(), *_META]
    unknown = _UnknownFields(set(VIOLATION_FIELDS))
    params = {"month": str(month)}
    with (
        connect(target) as wh,
        PagedJsonClient(base_url, token, retry=retry, timeout=timeout) as api,
    ):
        wh.execute("select pg_advisory_xact_lock(hashtext('extract.traffic.violations'))")
        extracted_at = datetime.now(ZoneInfo(tz))
        rows = 0
        with wh.cursor().copy(
            f"copy raw.traffic__violations ({', '.join(columns)}) from stdin"
        ) as copy:
            for page in api.iter_pages(VIOLATIONS_PATH, params, page_size=page_size):
                for index, record in enumerate(page.records, start=1):
                    unknown.check(record)
                    copy.write_row(
                        [
                            *(_text(record.get(f)) for f in VIOLATION_FIELDS),
                            batch_id,
                            extracted_at,
                            f"{VIOLATIONS_PATH}?month={month}&page={page.number}#{index}",
                        ]
                    )
                    rows += 1
        unknown.warn(f"{SOURCE}.{entity}")
        result = BatchResult(batch_id, SOURCE, entity, rows, None, None)
        record_batch(
            wh, result, window_start=month.start(tz), window_end=month.end(tz),
            source_ref=f"{VIOLATIONS_PATH}?month={month}",
        )  # fmt: skip
    return result


__all__ = ["SourceUnavailable", "extract_accidents", "extract_violations"]


def extract(run: ExtractRun) -> dict[str, object]:
    """The registry's entry point (``sources/traffic``): accidents updated up to the end of
    the data interval, and the interval month's violation statistics."""
    from pingan_transforms.connections import http_source

    settings, config = run.settings, run.config.http(run.name)
    check_contract(config)
    api = http_source(config.connection)
    retry = RetryPolicy(
        attempts=settings.http_attempts, base_delay=settings.http_base_delay_seconds
    )
    accidents = extract_accidents(
        api.base_url, api.token, run.target, cutoff=run.interval_end,
        pii_key=settings.pii_secret, tz=settings.timezone, retry=retry,
    )  # fmt: skip
    month = Month.of(run.interval_start, settings.timezone)
    violations = extract_violations(
        api.base_url, api.token, run.target, month=month, tz=settings.timezone, retry=retry
    )
    return {
        "source": run.name,
        "batches": {"accidents": accidents.batch_id, "violations": violations.batch_id},
        "rows": {"accidents": accidents.rows, "violations": violations.rows},
    }
