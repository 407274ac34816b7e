"""Police 110 incidents from the front database, by an updated-at watermark.

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
"""

from __future__ import annotations

from datetime import datetime

from pingan_transforms.extract.sql import TableExtract, extract_table
from pingan_transforms.load.batches import BatchResult
from pingan_transforms.warehouse import WarehouseTarget

SOURCE, ENTITY = "police", "incidents"
SOURCE_TABLE = "jq_110"
# source column -> raw column; bjrxm (caller name) is deliberately absent: names are dropped.
COLUMNS = [
    ("jjdbh", "jjdbh"), ("bjsj", "bjsj"), ("pjsj", "pjsj"), ("ddsj", "ddsj"),
    ("jqlbdm", "jqlbdm"), ("jqlbmc", "jqlbmc"), ("jqxldm", "jqxldm"), ("xzqhdm", "xzqhdm"),
    ("fadz", "fadz"), ("jd", "jd"), ("wd", "wd"), ("bjrdh", "bjrdh_hash"),
    ("bjrsfzh", "bjrsfzh_hash"), ("hfmyd", "hfmyd"), ("gxsj", "gxsj"),
]  # fmt: skip
HASHED = {"bjrdh", "bjrsfzh"}

INCIDENTS = TableExtract(
    source=SOURCE,
    entity=ENTITY,
    source_table=SOURCE_TABLE,
    raw_schema="raw",
    raw_table="police__incidents",
    columns=tuple(COLUMNS),
    key_column="jjdbh",
    watermark_column="gxsj",
    hashed=frozenset(HASHED),
)


def extract_incidents(
    source_url: str,
    target: WarehouseTarget,
    *,
    cutoff: datetime,
    pii_key: bytes,
    tz: str = "Asia/Shanghai",
) -> BatchResult:
    """Extract everything updated in (watermark, cutoff] into one raw batch."""
    return extract_table(INCIDENTS, source_url, target, cutoff=cutoff, pii_key=pii_key, tz=tz)
