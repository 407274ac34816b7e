"""The HTTP connector: any paged JSON API that its registry entry describes.

A ``kind: http`` source needs no code of its own when its API follows the protocol
every department vendor here speaks (:mod:`pingan_transforms.extract.http`: a bearer
token, pages of ``{"data", "page", "page_size", "total", "has_more"}``). Its entry
says, per entity, the endpoint, how it is read, the raw table, the API field behind
every raw column, and the personal-data policy (:class:`ApiEntity`):

- ``read: watermark``: every record updated in (stored watermark, the run's cut-off],
  asked for with ``updated_since`` / ``updated_until`` (ISO 8601), page by page,
  COPYed into the raw table in one transaction with the batch record and the new
  watermark (the highest ``watermark`` field loaded). Re-running a window loads
  nothing; a correction after a cut-off arrives in a later batch, where staging keeps
  the latest version per key.
- ``read: month``: the whole month again (``month=YYYY-MM``) into a new batch whose
  window is the month, which is how staging knows the latest snapshot of a month.

If the source fails for good (every retry spent, or the token refused) the
transaction rolls back: no batch, no rows, the watermark unchanged. Raw keeps every
field as text (lists and objects as their JSON text) plus ``_batch_id``,
``_extracted_at`` and ``_source_ref`` (endpoint, query, page and 1-based index in the
page). A ``drop`` field is never written, a ``hash`` field is keyed-hashed into
``<field in snake_case>_hash`` (or left null when no key is given); fields the entry
does not name are ignored, with a warning naming them (never their values).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal
from zoneinfo import ZoneInfo

from pingan_transforms.extract.http import PagedJsonClient, RetryPolicy, SourceUnavailable
from pingan_transforms.extract.pii import keyed_hash
from pingan_transforms.load.batches import BatchResult, new_batch_id, read_watermark, record_batch
from pingan_transforms.months import Month
from pingan_transforms.settings import DEFAULT_TIMEZONE
from pingan_transforms.warehouse import WarehouseTarget, connect

if TYPE_CHECKING:
    from pingan_transforms.sources import ExtractRun

log = logging.getLogger(__name__)

_META = ("_batch_id", "_extracted_at", "_source_ref")


@dataclass(frozen=True)
class ApiEntity:
    """One entity of an HTTP source as its entry describes it (:meth:`SourcesConfig.api_entity`)."""

    source: str
    entity: str
    path: str
    read: Literal["watermark", "month"]
    raw_table: str  # in schema raw
    fields: Mapping[str, str]  # API field -> raw column
    hashed: Mapping[str, str]  # API field -> raw column of its keyed hash
    dropped: frozenset[str]
    key: str | None = None  # API field naming the record, for messages
    watermark: str | None = None  # API field: the record's updated-at

    @property
    def columns(self) -> list[str]:
        return [*self.fields.values(), *self.hashed.values(), *_META]


def _text(value: object) -> str | None:
    """A JSON value as text: strings as they are, lists and objects as JSON, numbers as written."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _parse_time(value: object, tz: str) -> datetime | None:
    """An ISO 8601 time as an aware datetime (Beijing when it has no offset), or None."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(tz))


class _UnknownFields:
    """Remembers field names the entry does not know, to warn once per batch.

    Their values are not kept: an unknown field may carry personal data.
    """

    def __init__(self, spec: ApiEntity) -> None:
        self.known = set(spec.fields) | set(spec.hashed) | spec.dropped
        self.seen: set[str] = set()

    def check(self, record: Mapping[str, Any]) -> None:
        extra = record.keys() - self.known
        if extra:
            self.seen |= extra

    def warn(self, spec: ApiEntity) -> None:
        if self.seen:
            log.warning(
                "%s.%s: ignored fields not in the contract: %s",
                spec.source, spec.entity, sorted(self.seen),
            )  # fmt: skip


def _row(
    spec: ApiEntity, record: Mapping[str, Any], pii_key: bytes | None, meta: tuple
) -> list[object]:
    hashes = [keyed_hash(pii_key, record.get(field)) if pii_key else None for field in spec.hashed]
    return [*(_text(record.get(field)) for field in spec.fields), *hashes, *meta]


def extract_watermarked(
    spec: ApiEntity,
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
    """Extract every record updated in (watermark, cutoff] into one raw batch."""
    assert spec.watermark is not None, f"{spec.source}.{spec.entity} has no watermark field"
    if cutoff.tzinfo is None:  # a naive cut-off is local (Beijing) time
        cutoff = cutoff.replace(tzinfo=ZoneInfo(tz))
    batch_id = new_batch_id(spec.source, spec.entity, cutoff)
    unknown = _UnknownFields(spec)
    with (
        connect(target) as wh,
        PagedJsonClient(base_url, token, retry=retry, timeout=timeout) as api,
    ):
        # One extractor per entity at a time: a concurrent re-run waits, then finds
        # the watermark already advanced and loads nothing twice.
        wh.execute(
            "select pg_advisory_xact_lock(hashtext(%s))", (f"extract.{spec.source}.{spec.entity}",)
        )
        watermark = read_watermark(wh, spec.source, spec.entity)
        params = {"updated_until": cutoff.isoformat()}
        if watermark is not None:
            params["updated_since"] = watermark.isoformat()
        extracted_at = datetime.now(ZoneInfo(tz))
        rows = 0
        high: datetime | None = None
        with wh.cursor().copy(
            f"copy raw.{spec.raw_table} ({', '.join(spec.columns)}) from stdin"
        ) as copy:
            for page in api.iter_pages(spec.path, params, page_size=page_size):
                for index, record in enumerate(page.records, start=1):
                    unknown.check(record)
                    ref = f"{spec.path}?page={page.number}#{index}"
                    copy.write_row(_row(spec, record, pii_key, (batch_id, extracted_at, ref)))
                    rows += 1
                    updated = _parse_time(record.get(spec.watermark), tz)
                    if updated is None:
                        name = record.get(spec.key) if spec.key else ref
                        log.warning("%s %s: unreadable %s", spec.entity, name, spec.watermark)
                    elif high is None or updated > high:
                        high = updated
        unknown.warn(spec)
        if high is not None and high > cutoff:
            raise SourceUnavailable(
                f"GET {base_url}{spec.path} returned {spec.watermark} {high.isoformat()} after "
                f"updated_until {cutoff.isoformat()}: the API ignores the window"
            )
        result = BatchResult(batch_id, spec.source, spec.entity, rows, watermark, high)
        record_batch(
            wh, result, window_start=watermark, window_end=cutoff,
            source_ref=f"{spec.path} {spec.watermark} in ({params.get('updated_since')}, "
            f"{params['updated_until']}]",
        )  # fmt: skip
    return result


def extract_month(
    spec: ApiEntity,
    base_url: str,
    token: str,
    target: WarehouseTarget,
    *,
    month: Month,
    pii_key: bytes | None = None,
    tz: str = DEFAULT_TIMEZONE,
    page_size: int = 500,
    retry: RetryPolicy | None = None,
    timeout: float = 30.0,
) -> BatchResult:
    """Extract one month's snapshot, whole, into a new raw batch whose window is the month
    (``raw._batches.window_start`` is its first instant: staging keeps the latest batch
    of each month)."""
    batch_id = new_batch_id(spec.source, spec.entity, month.end(tz))
    unknown = _UnknownFields(spec)
    params = {"month": str(month)}
    with (
        connect(target) as wh,
        PagedJsonClient(base_url, token, retry=retry, timeout=timeout) as api,
    ):
        wh.execute(
            "select pg_advisory_xact_lock(hashtext(%s))", (f"extract.{spec.source}.{spec.entity}",)
        )
        extracted_at = datetime.now(ZoneInfo(tz))
        rows = 0
        with wh.cursor().copy(
            f"copy raw.{spec.raw_table} ({', '.join(spec.columns)}) from stdin"
        ) as copy:
            for page in api.iter_pages(spec.path, params, page_size=page_size):
                for index, record in enumerate(page.records, start=1):
                    unknown.check(record)
                    ref = f"{spec.path}?month={month}&page={page.number}#{index}"
                    copy.write_row(_row(spec, record, pii_key, (batch_id, extracted_at, ref)))
                    rows += 1
        unknown.warn(spec)
        result = BatchResult(batch_id, spec.source, spec.entity, rows, None, None)
        record_batch(
            wh, result, window_start=month.start(tz), window_end=month.end(tz),
            source_ref=f"{spec.path}?month={month}",
        )  # fmt: skip
    return result


def extract(run: ExtractRun) -> dict[str, object]:
    """The connector of a ``kind: http`` source: every entity its entry lists, in order,
    each into its own batch (watermark entities up to the end of the data interval,
    month snapshots of the interval's month)."""
    from pingan_transforms.connections import http_source

    settings = run.settings
    config = run.config.http(run.name)
    api = http_source(config.connection)
    retry = RetryPolicy(
        attempts=settings.http_attempts, base_delay=settings.http_base_delay_seconds
    )
    common = {"pii_key": settings.pii_secret, "tz": settings.timezone, "retry": retry}
    results: dict[str, BatchResult] = {}
    for entity in config.entities:
        spec = run.config.api_entity(run.name, entity)
        if spec.read == "watermark":
            results[entity] = extract_watermarked(
                spec, api.base_url, api.token, run.target, cutoff=run.interval_end, **common
            )
        else:
            month = Month.of(run.interval_start, settings.timezone)
            results[entity] = extract_month(
                spec, api.base_url, api.token, run.target, month=month, **common
            )
    return {
        "source": run.name,
        "batches": {entity: r.batch_id for entity, r in results.items()},
        "rows": {entity: r.rows for entity, r in results.items()},
    }
