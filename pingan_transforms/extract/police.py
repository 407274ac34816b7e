"""Police 110 incidents and anti-fraud warnings from the front database, by an updated-at watermark.

Each run reads the rows updated after the stored high-water mark and up to the
run's cut-off (the end of its data interval) and loads them into
``raw.police__incidents`` in one transaction together with the batch record and
the new watermark. Re-running a window therefore adds nothing, and rows corrected
after a month's cut-off arrive in a later batch, where staging keeps the latest
version per incident number.

The rows travel as PostgreSQL COPY text from the source straight into COPY on
the warehouse (:func:`pingan_transforms.extract.sql.extract_table`): no Python
objects per value, only the two personal-data fields are decoded, hashed and
re-encoded, and the caller's name is never selected. That keeps the loader close
to plain COPY speed (``make bench-load``) and its memory independent of the batch
size (one COPY block at a time).

Anti-fraud warnings (反诈预警, table ``fzyj``) travel the same way into
``raw.police__fraud_warnings``, with their own batches and watermark: the victim's
name is never selected and the victim's phone is hashed.
"""

from __future__ import annotations

from datetime import datetime

from pingan_transforms.extract.sql import extract_table
from pingan_transforms.load.batches import BatchResult
from pingan_transforms.warehouse import WarehouseTarget

SOURCE, ENTITY = "police", "incidents"
FRAUD_ENTITY = "fraud_warnings"


def extract_incidents(
    source_url: str,
    target: WarehouseTarget,
    *,
    cutoff: datetime,
    pii_key: bytes,
    tz: str = "Asia/Shanghai",
) -> BatchResult:
    """Extract everything updated in (watermark, cutoff] into one raw batch."""
    from pingan_transforms.sources import sources_config

    spec = sources_config().table_extract(SOURCE, ENTITY)  # columns and PII policy
    return extract_table(spec, source_url, target, cutoff=cutoff, pii_key=pii_key, tz=tz)


def extract_fraud_warnings(
    source_url: str,
    target: WarehouseTarget,
    *,
    cutoff: datetime,
    pii_key: bytes,
    tz: str = "Asia/Shanghai",
) -> BatchResult:
    """Extract the anti-fraud warnings updated in (watermark, cutoff] into one raw batch.

    A separate entity (own watermark, own batches), so a warning corrected after a
    cut-off arrives in a later batch without touching the incidents' watermark.
    """
    from pingan_transforms.sources import sources_config

    spec = sources_config().table_extract(SOURCE, FRAUD_ENTITY)  # columns and PII policy
    return extract_table(spec, source_url, target, cutoff=cutoff, pii_key=pii_key, tz=tz)
