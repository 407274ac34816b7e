"""Load the region master file (the user's own CSV) into ``raw.regions__master``.

The file is recorded by its SHA-256: loading an unchanged file again is a no-op,
a changed file becomes a new batch, and staging reads the latest batch.
"""

from __future__ import annotations

import csv
import hashlib
from datetime import UTC, datetime
from pathlib import Path

from pingan_transforms.contracts.regions import CENTROID_COLUMNS, MASTER_COLUMNS
from pingan_transforms.load.batches import BatchResult, new_batch_id, record_batch
from pingan_transforms.settings import ConfigError
from pingan_transforms.warehouse import WarehouseTarget, connect

SOURCE, ENTITY = "regions", "master"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def load_region_master(path: Path, target: WarehouseTarget) -> BatchResult | None:
    """Load the file unless this exact content is already the latest batch."""
    if not path.exists():
        raise ConfigError(
            f"region master file {path} does not exist: set PINGAN_REGIONS_FILE to your "
            "CSV, or run `pingan simulate regions` to generate the demo one"
        )
    checksum = file_sha256(path)
    source_ref = f"{path.name} sha256:{checksum}"
    with open(path, encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in MASTER_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise ConfigError(
                f"{path}: the header lacks column(s) {', '.join(missing)}; "
                f"the region master needs: {', '.join(MASTER_COLUMNS)}"
            )
        now = datetime.now(UTC)
        with connect(target) as conn:
            conn.execute("select pg_advisory_xact_lock(hashtext('load.regions.master'))")
            latest = conn.execute(
                "select source_ref from raw._batches where source = %s and entity = %s "
                "order by extracted_at desc limit 1",
                (SOURCE, ENTITY),
            ).fetchone()
            if latest and latest[0] == source_ref:
                return None
            batch_id = new_batch_id(SOURCE, ENTITY, now)
            optional = [c for c in CENTROID_COLUMNS if c in (reader.fieldnames or [])]
            data_cols = [*MASTER_COLUMNS, *optional]
            cols = [*data_cols, "_batch_id", "_extracted_at", "_source_file", "_source_row"]
            rows = 0
            with conn.cursor().copy(
                f"copy raw.regions__master ({', '.join(cols)}) from stdin"
            ) as copy:
                for line_no, record in enumerate(reader, start=2):
                    values = [(record.get(c) or None) for c in data_cols]
                    copy.write_row([*values, batch_id, now, path.name, line_no])
                    rows += 1
            result = BatchResult(batch_id, SOURCE, ENTITY, rows, None, None)
            record_batch(conn, result, window_start=None, window_end=now, source_ref=source_ref)
    return result
