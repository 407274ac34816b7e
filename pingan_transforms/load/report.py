"""Per source: rows loaded into raw and rows quarantined by the models (after ``dbt build``)."""

from __future__ import annotations

from dataclasses import dataclass

from pingan_transforms.warehouse import WarehouseTarget, connect

# source -> (raw tables, query counting its quarantined rows)
_SOURCES: dict[str, tuple[tuple[str, ...], str]] = {
    "police": (
        ("police__incidents", "police__fraud_warnings"),
        "select (select count(*) from intermediate.int_police_incidents_quarantined) "
        "+ (select count(*) from intermediate.int_police_fraud_warnings_quarantined)",
    ),
    "traffic": (
        ("traffic__accidents", "traffic__violations"),
        "select count(*) from intermediate.int_traffic_records_quarantined",
    ),
    "fire": (
        ("fire__fires", "fire__inspections"),
        "select count(*) from intermediate.int_fire_records_quarantined",
    ),
    "governance": (
        ("governance__petitions", "governance__disputes", "governance__grid_patrols"),
        "select (select count(*) from intermediate.int_governance_records_located "
        "where quarantine_reason is not null) "
        "+ (select count(*) from intermediate.int_governance_grid_patrols_located "
        "where quarantine_reason is not null)",
    ),
    "survey": (
        ("survey__scores",),
        "select count(*) from intermediate.int_survey_records_quarantined",
    ),
}


@dataclass(frozen=True)
class SourceCounts:
    source: str
    batches: int
    raw_rows: int
    quarantined: int


def source_counts(target: WarehouseTarget) -> list[SourceCounts]:
    out = []
    with connect(target) as conn:
        for source, (tables, quarantine_sql) in _SOURCES.items():
            raw = sum(
                conn.execute(f"select count(*) from raw.{table}").fetchone()[0]  # type: ignore[index]
                for table in tables
            )
            batches = conn.execute(
                "select count(*) from raw._batches where source = %s", (source,)
            ).fetchone()[0]  # type: ignore[index]
            quarantined = conn.execute(quarantine_sql).fetchone()[0]  # type: ignore[index]
            out.append(SourceCounts(source, batches, raw, quarantined))
    return out


def format_counts(counts: list[SourceCounts], given: dict[str, int]) -> str:
    lines = [f"{'source':<12}{'given':>10}{'batches':>9}{'loaded':>10}{'quarantined':>13}"]
    for c in counts:
        total = sum(v for k, v in given.items() if k.split(".")[0] == c.source)
        shown = f"{total:,}" if total else "—"
        lines.append(
            f"{c.source:<12}{shown:>10}{c.batches:>9}{c.raw_rows:>10,}{c.quarantined:>13,}"
        )
    return "\n".join(lines)
