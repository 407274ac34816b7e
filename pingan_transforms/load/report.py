"""Per source: rows loaded into raw and rows quarantined by the models (after ``dbt build``).

Every registered source (``sources/<name>/``): its raw tables are the ones its entry
lands, its quarantined rows those its batch reconciliation model
(``int_<name>_batches_reconciled``, which every source has) counts.
"""

from __future__ import annotations

from dataclasses import dataclass

from psycopg import sql

from pingan_transforms.sources import SourcesConfig, sources_config
from pingan_transforms.textwidth import display_width, pad
from pingan_transforms.warehouse import WarehouseTarget, connect


@dataclass(frozen=True)
class SourceCounts:
    source: str
    batches: int
    raw_rows: int
    quarantined: int | None  # None: its reconciliation model is not built (yet)


def _quarantined(conn, relation: str) -> int | None:
    (exists,) = conn.execute("select to_regclass(%s) is not null", (relation,)).fetchone()
    if not exists:
        return None
    schema, name = relation.split(".")
    (rows,) = conn.execute(
        sql.SQL("select coalesce(sum(quarantined_rows), 0) from {}").format(
            sql.Identifier(schema, name)
        )
    ).fetchone()
    return int(rows)


def source_counts(
    target: WarehouseTarget, config: SourcesConfig | None = None
) -> list[SourceCounts]:
    config = config or sources_config()
    out = []
    with connect(target) as conn:
        for source in config.sources:
            raw = sum(
                conn.execute(  # type: ignore[index]
                    sql.SQL("select count(*) from raw.{}").format(sql.Identifier(table))
                ).fetchone()[0]
                for table in config.raw_tables(source)
            )
            batches = conn.execute(
                "select count(*) from raw._batches where source = %s", (source,)
            ).fetchone()[0]  # type: ignore[index]
            quarantined = _quarantined(conn, f"intermediate.int_{source}_batches_reconciled")
            out.append(SourceCounts(source, batches, raw, quarantined))
    return out


def format_counts(counts: list[SourceCounts], given: dict[str, int]) -> str:
    lines = [f"{'source':<12}{'given':>10}{'batches':>9}{'loaded':>10}{'quarantined':>13}"]
    for c in counts:
        total = sum(v for k, v in given.items() if k.split(".")[0] == c.source)
        shown = f"{total:,}" if total else "—"
        quarantined = "—" if c.quarantined is None else f"{c.quarantined:,}"
        lines.append(f"{c.source:<12}{shown:>10}{c.batches:>9}{c.raw_rows:>10,}{quarantined:>13}")
    return "\n".join(lines)


@dataclass(frozen=True)
class QuarantineCount:
    source: str
    delivery: str  # the file (file sources) or the batch the rows came in
    reason: str
    rows: int


def quarantine_counts(
    target: WarehouseTarget, config: SourcesConfig | None = None, source: str | None = None
) -> list[QuarantineCount]:
    """Quarantined rows per source, file (or batch) and reason, from each source's
    ``int_<source>_records_quarantined`` (sources without one, or not built yet, have none).
    """
    config = config or sources_config()
    names = [source] if source else list(config.sources)
    out: list[QuarantineCount] = []
    with connect(target) as conn:
        for name in names:
            relation = ("intermediate", f"int_{name}_records_quarantined")
            columns = {
                row[0]
                for row in conn.execute(
                    "select column_name from information_schema.columns "
                    "where table_schema = %s and table_name = %s",
                    relation,
                ).fetchall()
            }
            if not columns:
                continue
            delivery = "source_file" if "source_file" in columns else "batch_id"
            query = sql.SQL(
                "select {d}, quarantine_reason, count(*) from {t} group by 1, 2 order by 1, 2"
            ).format(d=sql.Identifier(delivery), t=sql.Identifier(*relation))
            rows = conn.execute(query).fetchall()
            out += [QuarantineCount(name, str(d), str(r), int(n)) for d, r, n in rows]
    return out


def format_quarantine(counts: list[QuarantineCount]) -> str:
    """One line per source, file (or batch) and reason: what a clerk is asked to correct."""
    if not counts:
        return "no quarantined rows"
    width = max(display_width(c.delivery) for c in counts) + 2
    lines = [f"{'source':<10}{pad('file or batch', width)}{'rows':>6}  reason"]
    lines += [f"{c.source:<10}{pad(c.delivery, width)}{c.rows:>6}  {c.reason}" for c in counts]
    return "\n".join(lines)
