"""Traffic police (交警) accidents and violations from the vendor's HTTP JSON API.

The API speaks the protocol of :mod:`pingan_transforms.extract.api`, which reads it
from the registry entry (``sources/traffic/source.yml``: endpoints, fields, the
personal-data policy) like any other HTTP source. Accidents are read incrementally,
exactly like police incidents (everything updated in (stored watermark, the run's
cut-off]); violations are monthly statistics the vendor may revise, so each run reads
the whole month again into a new batch and staging keeps the latest batch of each
month. The reporter's name is never written and the phone number is keyed-hashed,
or left null when no key is given.

These two functions are the entity-level entry points the tests and benchmarks call.
"""

from __future__ import annotations

from datetime import datetime

from pingan_transforms.extract.api import ApiEntity, extract_month, extract_watermarked
from pingan_transforms.extract.http import RetryPolicy, SourceUnavailable
from pingan_transforms.load.batches import BatchResult
from pingan_transforms.months import Month
from pingan_transforms.settings import DEFAULT_TIMEZONE
from pingan_transforms.warehouse import WarehouseTarget

SOURCE = "traffic"


def _spec(entity: str) -> ApiEntity:
    from pingan_transforms.sources import sources_config

    return sources_config().api_entity(SOURCE, entity)


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
    return extract_watermarked(
        _spec("accidents"), base_url, token, target, cutoff=cutoff, pii_key=pii_key, tz=tz,
        page_size=page_size, retry=retry, timeout=timeout,
    )  # fmt: skip


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
    """Extract one month's violation statistics, whole, into a new raw batch."""
    return extract_month(
        _spec("violations"), base_url, token, target, month=month, tz=tz,
        page_size=page_size, retry=retry, timeout=timeout,
    )  # fmt: skip


__all__ = ["SourceUnavailable", "extract_accidents", "extract_violations"]
