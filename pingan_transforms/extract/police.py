"""Police 110 incidents from the front database, by an updated-at watermark.

Each run reads the rows updated after the stored high-water mark and up to the
run's cut-off (the end of its data interval) and loads them into
``raw.police__incidents`` in one transaction together with the batch record and
the new watermark. Re-running a window therefore adds nothing, and rows corrected
after a month's cut-off arrive in a later batch, where staging keeps the latest
version per incident number.

The rows travel as PostgreSQL COPY text from the source straight into COPY on
the warehouse: no Python objects per value, only the two personal-data fields
are decoded, hashed and re-encoded, and the caller's name is never selected.
That keeps the loader close to plain COPY speed (``make bench-load``) and its
memory independent of the batch size (one COPY block at a time).
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import psycopg

from pingan_transforms.extract.pii import KeyedHasher
from pingan_transforms.load.batches import (
    BatchResult,
    new_batch_id,
    read_watermark,
    record_batch,
)
from pingan_transforms.warehouse import WarehouseTarget, connect

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
_NULL = b"\\N"


def _select_sql() -> str:
    cols = ", ".join(src for src, _ in COLUMNS)
    return (
        f"copy (select {cols} from {SOURCE_TABLE} "
        "where gxsj > {low} and gxsj <= {high}) to stdout"
    )


def _copy_unescape(field: bytes) -> str:
    """Decode one COPY-text field (only the personal-data fields need it)."""
    text = field.decode("utf-8")
    if "\\" not in text:
        return text
    return (
        text.replace("\\\\", "\x00").replace("\\t", "\t").replace("\\n", "\n")
        .replace("\\r", "\r").replace("\x00", "\\")
    )  # fmt: skip


def extract_incidents(
    source_url: str,
    target: WarehouseTarget,
    *,
    cutoff: datetime,
    pii_key: bytes,
    tz: str = "Asia/Shanghai",
) -> BatchResult:
    """Extract everything updated in (watermark, cutoff] into one raw batch."""
    from psycopg import sql

    local_cutoff = cutoff.astimezone(ZoneInfo(tz)).replace(tzinfo=None)
    batch_id = new_batch_id(SOURCE, ENTITY, cutoff)
    hasher = KeyedHasher(pii_key)
    hashed_idx = [i for i, (src, _) in enumerate(COLUMNS) if src in HASHED]
    key_idx = 0
    gxsj_idx = [src for src, _ in COLUMNS].index("gxsj")
    raw_cols = [raw for _, raw in COLUMNS] + ["_batch_id", "_extracted_at", "_source_ref"]
    with connect(target) as wh, psycopg.connect(source_url) as src:
        # One extractor per source at a time: a concurrent re-run waits, then finds
        # the watermark already advanced and loads nothing twice.
        wh.execute("select pg_advisory_xact_lock(hashtext('extract.police.incidents'))")
        watermark = read_watermark(wh, SOURCE, ENTITY)
        low = watermark.astimezone(ZoneInfo(tz)).replace(tzinfo=None) if watermark else None
        extracted_at = datetime.now(ZoneInfo(tz))
        tail = f"\t{batch_id}\t{extracted_at.isoformat()}\t{SOURCE_TABLE}:".encode()
        query = sql.SQL(_select_sql()).format(
            low=sql.Literal(low or datetime(1900, 1, 1)), high=sql.Literal(local_cutoff)
        )
        rows = 0
        high = b""
        rest = b""
        pending: list[bytes] = []
        with (
            src.cursor().copy(query) as out,
            wh.cursor().copy(
                sql.SQL("copy raw.police__incidents ({}) from stdin").format(
                    sql.SQL(", ").join(map(sql.Identifier, raw_cols))
                )
            ) as into,
        ):
            for block in out:
                lines = (rest + bytes(block)).split(b"\n")
                rest = lines.pop()
                converted = []
                for line in lines:
                    fields = line.split(b"\t")
                    for i in hashed_idx:
                        if fields[i] != _NULL:
                            digest = hasher(_copy_unescape(fields[i]))
                            fields[i] = digest.encode() if digest else _NULL
                    if fields[gxsj_idx] > high:
                        high = fields[gxsj_idx]
                    converted.append(b"\t".join(fields) + tail + fields[key_idx])
                rows += len(converted)
                pending.extend(converted)
                if len(pending) >= 2000:  # the source sends one row per message: batch writes
                    into.write(b"\n".join(pending) + b"\n")
                    pending.clear()
            if pending:
                into.write(b"\n".join(pending) + b"\n")
        high_aware = (
            datetime.fromisoformat(high.decode()).replace(tzinfo=ZoneInfo(tz)) if high else None
        )
        result = BatchResult(batch_id, SOURCE, ENTITY, rows, watermark, high_aware)
        record_batch(
            wh, result, window_start=watermark, window_end=cutoff,
            source_ref=f"{SOURCE_TABLE} gxsj in ({low}, {local_cutoff}]",
        )  # fmt: skip
    return result
