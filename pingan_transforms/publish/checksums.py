"""Checksums of what the pipeline produced: every mart's rows and every spreadsheet's cells.

A change that should not alter behaviour (a refactor, a faster model, a new way to run
dbt) is shown to be one by running the same months before and after it and comparing
these lines (``pingan checksums``). They leave out what legitimately differs between
two runs of the same data: build and load times and batch ids in the marts, and a
workbook's own metadata (its creation time) in the xlsx files.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from psycopg import sql

from pingan_transforms.warehouse import WarehouseTarget, connect

MARTS_SCHEMA = "marts"


@dataclass(frozen=True)
class Checksum:
    kind: str  # mart | xlsx
    name: str
    rows: int
    digest: str

    def line(self) -> str:
        return f"{self.kind} {self.name} rows={self.rows} sha256={self.digest[:16]}"


# what identifies one run's work rather than its result: a mail's Message-ID, the data
# cut-off (the load time of the month's last batch), and the attachments' byte checksums
# (a workbook and a PDF record when they were written; the workbooks' cells are compared
# below, and the publication's own `checksum` covers its content)
RUN_SPECIFIC = frozenset({"message_id", "data_cutoff", "attachments"})


def _compared(column: str) -> bool:
    """Columns that say when, from which batch or in which mail a row was made differ
    between two runs of the same data."""
    return not column.endswith("_at") and "batch" not in column and column not in RUN_SPECIFIC


def mart_checksums(target: WarehouseTarget, schema: str = MARTS_SCHEMA) -> list[Checksum]:
    """One checksum per table of ``schema``, over its rows in a fixed order."""
    out = []
    with connect(target) as conn:
        tables = [
            name
            for (name,) in conn.execute(
                "select table_name from information_schema.tables where table_schema = %s "
                "order by table_name",
                (schema,),
            ).fetchall()
        ]
        for table in tables:
            columns = [
                name
                for (name,) in conn.execute(
                    "select column_name from information_schema.columns where table_schema "
                    "= %s and table_name = %s order by ordinal_position",
                    (schema, table),
                ).fetchall()
                if _compared(name)
            ]
            query = sql.SQL(
                "select count(*), coalesce(encode(sha256(convert_to(string_agg(r::text, "
                "E'\\n' order by r::text), 'UTF8')), 'hex'), '') "
                "from (select {} from {}.{}) as r"
            ).format(
                sql.SQL(", ").join(map(sql.Identifier, columns)),
                sql.Identifier(schema),
                sql.Identifier(table),
            )
            rows, digest = conn.execute(query).fetchone()  # type: ignore[misc]
            out.append(Checksum("mart", f"{schema}.{table}", rows, digest))
    return out


def xlsx_checksum(path: Path) -> Checksum:
    """Sheet names and cell values, not the file's bytes (a workbook records when it was
    written)."""
    from openpyxl import load_workbook

    digest = hashlib.sha256()
    rows = 0
    workbook = load_workbook(path, read_only=True)
    try:
        for sheet in workbook.worksheets:
            digest.update(f"\x00sheet {sheet.title}\n".encode())
            for row in sheet.iter_rows(values_only=True):
                digest.update((repr(row) + "\n").encode())
                rows += 1
    finally:
        workbook.close()
    return Checksum("xlsx", path.name, rows, digest.hexdigest())


def output_checksums(output_dir: Path) -> list[Checksum]:
    return [xlsx_checksum(path) for path in sorted(output_dir.rglob("*.xlsx"))]
