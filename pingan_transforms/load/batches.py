"""Batch bookkeeping in ``raw._batches`` and extract watermarks in ``raw._watermarks``.

A batch is written in the same transaction as its rows and its watermark, so a
killed run leaves either the whole batch or nothing.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

import psycopg


@dataclass(frozen=True)
class BatchResult:
    batch_id: str
    source: str
    entity: str
    rows: int
    watermark_from: datetime | None
    watermark_to: datetime | None

    def summary(self) -> str:
        return f"{self.source}.{self.entity}: {self.rows} rows in batch {self.batch_id}"


def new_batch_id(source: str, entity: str, window_end: datetime) -> str:
    """Readable and unique: source, entity, the window it belongs to, a random tail."""
    stamp = window_end.astimezone(UTC).strftime("%Y%m%dT%H%M")
    return f"{source}.{entity}.{stamp}.{secrets.token_hex(4)}"


def read_watermark(conn: psycopg.Connection, source: str, entity: str) -> datetime | None:
    row = conn.execute(
        "select high_water from raw._watermarks where source = %s and entity = %s",
        (source, entity),
    ).fetchone()
    return row[0] if row else None


def record_batch(
    conn: psycopg.Connection,
    result: BatchResult,
    *,
    window_start: datetime | None,
    window_end: datetime,
    source_ref: str,
) -> None:
    conn.execute(
        """
        insert into raw._batches (batch_id, source, entity, window_start, window_end,
                                  watermark_from, watermark_to, row_count, source_ref)
        values (%s, %s, %s, %s, %s, %s, %s, %s, %s)
        """,
        (
            result.batch_id, result.source, result.entity, window_start, window_end,
            result.watermark_from, result.watermark_to, result.rows, source_ref,
        ),
    )  # fmt: skip
    if result.watermark_to is not None:
        conn.execute(
            """
            insert into raw._watermarks (source, entity, high_water, batch_id)
            values (%s, %s, %s, %s)
            on conflict (source, entity) do update
               set high_water = greatest(raw._watermarks.high_water, excluded.high_water),
                   batch_id = excluded.batch_id,
                   updated_at = now()
            """,
            (result.source, result.entity, result.watermark_to, result.batch_id),
        )
