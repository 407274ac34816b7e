"""Watermark extracts from a source database table, COPY text to COPY.

One function, :func:`extract_table`, serves every relational source (the police
front database, the governance platform): it reads the rows updated after the
stored high-water mark and up to the run's cut-off (the end of its data interval)
and loads them into a raw table in one transaction together with the batch record
and the new watermark. Re-running a window therefore adds nothing, and rows
corrected after a cut-off arrive in a later batch, where staging keeps the latest
version per natural key.

The rows travel as PostgreSQL COPY text from the source straight into COPY on
the warehouse: no Python objects per value, only the personal-data fields are
decoded, hashed and re-encoded, and columns left out of the mapping (names) are
never selected. That keeps the loader close to plain COPY speed and its memory
independent of the batch size (one COPY block at a time).

Which tables, columns and personal-data fields an entity has is configuration
(``sources/<name>/source.yml``, :meth:`SourcesConfig.table_extract`), so the sources need no
code of their own: :func:`extract_entity` extracts one entity of a source (police
``incidents`` and ``fraud_warnings``; governance ``petitions``, ``disputes`` and
``grid_patrols``), :func:`extract_source` every entity the sources file lists for it,
each entity with its own watermark and batch, so one can be re-run or corrected
without the others.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import psycopg
from psycopg import sql

from pingan_transforms.extract.errors import SourceUnavailable
from pingan_transforms.extract.pii import KeyedHasher
from pingan_transforms.load.batches import (
    BatchResult,
    new_batch_id,
    read_watermark,
    record_batch,
)
from pingan_transforms.settings import DEFAULT_TIMEZONE
from pingan_transforms.warehouse import WarehouseTarget, connect
from pingan_transforms.warehouse.connection import redact

if TYPE_CHECKING:
    from pingan_transforms.sources import ExtractRun, SourcesConfig

_NULL = b"\\N"
_FLUSH_ROWS = 2000  # the source sends one row per message: batch the writes


@dataclass(frozen=True)
class TableExtract:
    """How one source table maps onto one raw table.

    ``columns`` maps source column -> raw column, in the order they are selected;
    a source column absent from it is never read (that is how names are dropped).
    ``hashed`` names source columns whose values are keyed-hashed on the way.
    ``key_column`` (the natural key) goes into ``_source_ref`` as ``table:key``;
    ``watermark_column`` is the source's updated-at timestamp (Beijing wall clock).
    """

    source: str
    entity: str
    source_table: str
    raw_schema: str
    raw_table: str
    columns: Sequence[tuple[str, str]]
    key_column: str
    watermark_column: str
    hashed: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        names = [src for src, _ in self.columns]
        missing = {self.key_column, self.watermark_column, *self.hashed} - set(names)
        if missing:
            raise ValueError(f"{self.source}.{self.entity}: not in columns: {sorted(missing)}")

    @property
    def lock_name(self) -> str:
        return f"extract.{self.source}.{self.entity}"

    def select_query(self, low: datetime, high: datetime) -> sql.Composed:
        return sql.SQL("copy (select {} from {} where {} > {} and {} <= {}) to stdout").format(
            sql.SQL(", ").join(sql.Identifier(src) for src, _ in self.columns),
            sql.Identifier(self.source_table),
            sql.Identifier(self.watermark_column),
            sql.Literal(low),
            sql.Identifier(self.watermark_column),
            sql.Literal(high),
        )

    def copy_into(self) -> sql.Composed:
        raw_cols = [raw for _, raw in self.columns] + ["_batch_id", "_extracted_at", "_source_ref"]
        return sql.SQL("copy {} ({}) from stdin").format(
            sql.Identifier(self.raw_schema, self.raw_table),
            sql.SQL(", ").join(map(sql.Identifier, raw_cols)),
        )


def copy_unescape(field: bytes) -> str:
    """Decode one COPY-text field (only the personal-data fields need it)."""
    text = field.decode("utf-8")
    if "\\" not in text:
        return text
    return (
        text.replace("\\\\", "\x00").replace("\\t", "\t").replace("\\n", "\n")
        .replace("\\r", "\r").replace("\x00", "\\")
    )  # fmt: skip


def extract_table(
    spec: TableExtract,
    source_url: str,
    target: WarehouseTarget,
    *,
    cutoff: datetime,
    pii_key: bytes,
    tz: str = DEFAULT_TIMEZONE,
) -> BatchResult:
    """Extract everything of ``spec`` updated in (watermark, cutoff] into one raw batch."""
    zone = ZoneInfo(tz)
    local_cutoff = cutoff.astimezone(zone).replace(tzinfo=None)
    batch_id = new_batch_id(spec.source, spec.entity, cutoff)
    hasher = KeyedHasher(pii_key)
    names = [src for src, _ in spec.columns]
    hashed_idx = [i for i, src in enumerate(names) if src in spec.hashed]
    key_idx = names.index(spec.key_column)
    mark_idx = names.index(spec.watermark_column)
    with connect(target) as wh, _connect_source(source_url) as src:
        # One extractor per source entity at a time: a concurrent re-run waits, then
        # finds the watermark already advanced and loads nothing twice.
        wh.execute("select pg_advisory_xact_lock(hashtext(%s))", (spec.lock_name,))
        watermark = read_watermark(wh, spec.source, spec.entity)
        low = watermark.astimezone(zone).replace(tzinfo=None) if watermark else None
        extracted_at = datetime.now(zone)
        tail = f"\t{batch_id}\t{extracted_at.isoformat()}\t{spec.source_table}:".encode()
        query = spec.select_query(low or datetime(1900, 1, 1), local_cutoff)
        rows = 0
        high = b""
        rest = b""
        pending: list[bytes] = []
        with src.cursor().copy(query) as out, wh.cursor().copy(spec.copy_into()) as into:
            for block in out:
                lines = (rest + bytes(block)).split(b"\n")
                rest = lines.pop()
                converted = []
                for line in lines:
                    fields = line.split(b"\t")
                    for i in hashed_idx:
                        if fields[i] != _NULL:
                            digest = hasher(copy_unescape(fields[i]))
                            fields[i] = digest.encode() if digest else _NULL
                    mark = fields[mark_idx]
                    if mark != _NULL and mark > high:
                        high = mark
                    converted.append(b"\t".join(fields) + tail + fields[key_idx])
                rows += len(converted)
                pending.extend(converted)
                if len(pending) >= _FLUSH_ROWS:
                    into.write(b"\n".join(pending) + b"\n")
                    pending.clear()
            if pending:
                into.write(b"\n".join(pending) + b"\n")
        high_aware = datetime.fromisoformat(high.decode()).replace(tzinfo=zone) if high else None
        result = BatchResult(batch_id, spec.source, spec.entity, rows, watermark, high_aware)
        record_batch(
            wh, result, window_start=watermark, window_end=cutoff,
            source_ref=(
                f"{spec.source_table} {spec.watermark_column} in ({low}, {local_cutoff}]"
            ),
        )  # fmt: skip
    return result


def _connect_source(url: str) -> psycopg.Connection:
    try:
        return psycopg.connect(url, connect_timeout=10)
    except psycopg.OperationalError as exc:
        raise SourceUnavailable(
            f"cannot read the source database {redact(url)}: {str(exc).strip()}"
        ) from None


def extract_entity(
    source: str,
    entity: str,
    source_url: str,
    target: WarehouseTarget,
    *,
    cutoff: datetime,
    pii_key: bytes,
    tz: str = DEFAULT_TIMEZONE,
    config: SourcesConfig | None = None,
) -> BatchResult:
    """Extract one entity of a relational source, as its registry entry describes it,
    updated in (watermark, cutoff] into one raw batch."""
    from pingan_transforms.sources import sources_config

    spec = (config or sources_config()).table_extract(source, entity)
    return extract_table(spec, source_url, target, cutoff=cutoff, pii_key=pii_key, tz=tz)


def extract_source(
    source: str,
    source_url: str,
    target: WarehouseTarget,
    *,
    cutoff: datetime,
    pii_key: bytes,
    tz: str = DEFAULT_TIMEZONE,
    config: SourcesConfig | None = None,
) -> list[BatchResult]:
    """Extract every entity the registry entry lists for a relational source, one raw
    batch each, in the order listed."""
    from pingan_transforms.sources import sources_config

    config = config or sources_config()
    return [
        extract_entity(source, entity, source_url, target, cutoff=cutoff, pii_key=pii_key,
                       tz=tz, config=config)
        for entity in config.sql(source).entities
    ]  # fmt: skip


def extract(run: ExtractRun) -> dict[str, object]:
    """The connector of every ``kind: sql`` source: each entity its entry lists, updated up
    to the end of the data interval, with its own watermark and batch, so that one can
    be re-run or corrected without the others."""
    from pingan_transforms.connections import source_url

    config = run.config.sql(run.name)
    url = source_url(config.connection, run.settings, config.embedded_database)
    results = extract_source(
        run.name, url, run.target, cutoff=run.interval_end, pii_key=run.settings.pii_secret,
        tz=run.settings.timezone, config=run.config,
    )  # fmt: skip
    return {
        "source": run.name,
        "batches": {r.entity: r.batch_id for r in results},
        "rows": {r.entity: r.rows for r in results},
    }
