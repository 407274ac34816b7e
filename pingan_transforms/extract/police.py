"""Police 110 incidents from the front database, by an updated-at watermark.

Each run reads the rows updated after the stored high-water mark and up to the
run's cut-off (the end of its data interval), streams them through a
server-side cursor, hashes personal data, and COPYs them into
``raw.police__incidents`` in one transaction together with the batch record and
the new watermark. Re-running a window therefore adds nothing, and rows corrected
after a month's cut-off arrive in a later batch, where staging keeps the latest
version per incident number.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import psycopg

from pingan_transforms.extract.pii import keyed_hash
from pingan_transforms.load.batches import (
    BatchResult,
    new_batch_id,
    read_watermark,
    record_batch,
)
from pingan_transforms.warehouse import WarehouseTarget, connect

SOURCE, ENTITY = "police", "incidents"
SOURCE_TABLE = "jq_110"
RAW_COLUMNS = [
    "jjdbh", "bjsj", "pjsj", "ddsj", "jqlbdm", "jqlbmc", "jqxldm", "xzqhdm", "fadz", "jd", "wd",
    "bjrdh_hash", "bjrsfzh_hash", "hfmyd", "gxsj", "_batch_id", "_extracted_at", "_source_ref",
]  # fmt: skip
# bjrxm (caller name) is deliberately not selected: names are dropped at the door.
_SELECT = (
    "select jjdbh, bjsj, pjsj, ddsj, jqlbdm, jqlbmc, jqxldm, xzqhdm, fadz, jd, wd, "
    "bjrdh, bjrsfzh, hfmyd, gxsj from jq_110 "
    "where gxsj > %(low)s and gxsj <= %(high)s order by gxsj"
)


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    return str(value)


def extract_incidents(
    source_url: str,
    target: WarehouseTarget,
    *,
    cutoff: datetime,
    pii_key: bytes,
    tz: str = "Asia/Shanghai",
    fetch_size: int = 10_000,
) -> BatchResult:
    """Extract everything updated in (watermark, cutoff] into one raw batch."""
    local_cutoff = cutoff.astimezone(ZoneInfo(tz)).replace(tzinfo=None)
    batch_id = new_batch_id(SOURCE, ENTITY, cutoff)
    with connect(target) as wh, psycopg.connect(source_url) as src:
        # One extractor per source at a time: a concurrent re-run waits, then finds
        # the watermark already advanced and loads nothing twice.
        wh.execute("select pg_advisory_xact_lock(hashtext('extract.police.incidents'))")
        watermark = read_watermark(wh, SOURCE, ENTITY)
        low = watermark.astimezone(ZoneInfo(tz)).replace(tzinfo=None) if watermark else datetime.min
        extracted_at = datetime.now(ZoneInfo(tz))
        rows = 0
        high: datetime | None = None
        with (
            src.cursor(name="pingan_extract") as cur,
            wh.cursor().copy(
                f"copy raw.police__incidents ({', '.join(RAW_COLUMNS)}) from stdin"
            ) as copy,
        ):
            cur.itersize = fetch_size
            cur.execute(_SELECT, {"low": low, "high": local_cutoff})
            for rec in cur:
                (jjdbh, bjsj, pjsj, ddsj, lb, lbmc, xl, xzqh, fadz, jd, wd,
                 phone, idno, hfmyd, gxsj) = rec  # fmt: skip
                copy.write_row(
                    (
                        _text(jjdbh), _text(bjsj), _text(pjsj), _text(ddsj), _text(lb),
                        _text(lbmc), _text(xl), _text(xzqh), _text(fadz), _text(jd), _text(wd),
                        keyed_hash(pii_key, phone), keyed_hash(pii_key, idno), _text(hfmyd),
                        _text(gxsj), batch_id, extracted_at, f"{SOURCE_TABLE}:{jjdbh}",
                    )
                )  # fmt: skip
                rows += 1
                high = gxsj
        high_aware = high.replace(tzinfo=ZoneInfo(tz)) if high else None
        result = BatchResult(batch_id, SOURCE, ENTITY, rows, watermark, high_aware)
        record_batch(
            wh, result, window_start=watermark, window_end=cutoff,
            source_ref=f"{SOURCE_TABLE} gxsj in ({low}, {local_cutoff}]",
        )  # fmt: skip
    return result
