"""Has every source delivered the month? The publication gate's first question.

A month's index must not be published while a source is still behind: a front
database that stopped syncing on the 20th would make its towns look safe. The
answer comes from the load bookkeeping (``raw._batches``, ``raw._files``), so it
is exact for any month, including a backfilled one, and needs no clock:

- a watermark source (``kind: sql``, or ``http`` with ``read: watermark``) has
  delivered the month when an extract ran with a cut-off at or after the month's
  end, and the source's own latest update then loaded (the watermark) reaches
  the month's end minus the grace period: a source with nothing new in the last
  days of the month is stale, not quiet;
- a month-snapshot entity (``http`` with ``read: month``) when a snapshot of the
  month was loaded;
- a file drop (``kind: files``) when a file from the month's drop folder
  (``<YYYY-MM>/``) was loaded for the entity.

Only the sources a month needs are checked (``PINGAN_SCORED_MONTH_SOURCES``, the
same list dbt uses to decide which months to score): the quarterly survey is not
a monthly delivery.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg

from pingan_transforms.months import Month
from pingan_transforms.sources import FilesSource, HttpSource, SourcesConfig, SqlSource


@dataclass(frozen=True)
class Delivery:
    """One source entity's delivery of the month, and why it counts or not."""

    source: str
    entity: str
    rule: str
    delivered: bool
    detail: str

    def describe(self) -> str:
        mark = "ok" if self.delivered else "MISSING"
        return f"{mark:7} {self.source}.{self.entity} ({self.rule}): {self.detail}"


class SourcesIncomplete(RuntimeError):
    """A month cannot be published yet: the message names every source still missing."""

    def __init__(self, month: Month, deliveries: list[Delivery]) -> None:
        self.month = month
        self.deliveries = deliveries
        missing = [d for d in deliveries if not d.delivered]
        lines = [
            f"{month} is not complete: {len(missing)} source "
            f"{'entity has' if len(missing) == 1 else 'entities have'} not delivered it",
            *(d.describe() for d in missing),
            "re-run the month once they have (the extract tasks load what is new)",
        ]
        super().__init__("\n".join(lines))


def _at(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M %Z}"


def _watermark(
    conn: psycopg.Connection, source: str, entity: str, month_end: datetime, grace: timedelta
) -> Delivery:
    cutoff, watermark = conn.execute(
        "select max(window_end), max(watermark_to) from raw._batches "
        "where source = %s and entity = %s and window_end >= %s",
        (source, entity, month_end),
    ).fetchone()
    if cutoff is None:
        detail = f"no extract has run with a cut-off at or after {_at(month_end)}"
        return Delivery(source, entity, "watermark", False, detail)
    if watermark is None or watermark < month_end - grace:
        seen = "nothing" if watermark is None else f"updates up to {_at(watermark)}"
        detail = f"the source has {seen}; expected updates within {grace} of the month's end"
        return Delivery(source, entity, "watermark", False, detail)
    detail = f"extracted to {_at(cutoff)}, latest update {_at(watermark)}"
    return Delivery(source, entity, "watermark", True, detail)


def _snapshot(conn: psycopg.Connection, source: str, entity: str, start: datetime,
              end: datetime) -> Delivery:  # fmt: skip
    (batches,) = conn.execute(
        "select count(*) from raw._batches where source = %s and entity = %s "
        "and window_start <= %s and window_end >= %s",
        (source, entity, start, end),
    ).fetchone()
    return Delivery(source, entity, "month snapshot", batches > 0,
                    f"{batches} snapshot(s) of the month loaded")  # fmt: skip


def _files(conn: psycopg.Connection, source: str, entity: str, month: Month) -> Delivery:
    (files,) = conn.execute(
        "select count(*) from raw._files where source = %s and entity = %s and file_path like %s",
        (source, entity, f"{month}/%"),
    ).fetchone()
    return Delivery(source, entity, "file drop", files > 0,
                    f"{files} file(s) from the drop folder {month}/ loaded")  # fmt: skip


def check_deliveries(
    conn: psycopg.Connection,
    config: SourcesConfig,
    month: Month,
    required: list[str],
    grace: timedelta,
    tz: str,
) -> list[Delivery]:
    """Every entity of every required source, delivered or not (in config order)."""
    start, end = month.start(tz), month.end(tz)
    deliveries: list[Delivery] = []
    for name, source in config.sources.items():
        if name not in required:
            continue
        if isinstance(source, SqlSource):
            deliveries += [_watermark(conn, name, e, end, grace) for e in source.entities]
        elif isinstance(source, HttpSource):
            for entity, spec in source.entities.items():
                if spec.read == "month":
                    deliveries.append(_snapshot(conn, name, entity, start, end))
                else:
                    deliveries.append(_watermark(conn, name, entity, end, grace))
        elif isinstance(source, FilesSource):
            deliveries += [_files(conn, name, e, month) for e in source.entities]
    unknown = sorted(set(required) - set(config.sources))
    deliveries += [
        Delivery(name, "*", "configured", False, f"not a source in {config.path}")
        for name in unknown
    ]
    return deliveries


def require_complete(deliveries: list[Delivery], month: Month) -> None:
    """Raise SourcesIncomplete unless every delivery is there."""
    if any(not d.delivered for d in deliveries):
        raise SourcesIncomplete(month, deliveries)
