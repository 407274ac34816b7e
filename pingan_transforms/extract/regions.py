"""Load the region master file (the user's own table) into ``raw.regions__master``.

The file is read by the same reader as the departments' file drops
(:mod:`pingan_transforms.extract.files`): CSV in UTF-8 (with or without a BOM) or
GB18030, ``.xlsx``/``.xls``/``.ods``, title rows, footers, and Chinese headers
(区划代码, 名称, 层级, ...) as well as the English ones the simulator writes.
The file is recorded by its SHA-256: loading an unchanged file again is a no-op,
a changed file becomes a new batch, and staging reads the latest batch.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

from pingan_transforms.contracts.regions import CENTROID_COLUMNS, MASTER_COLUMNS
from pingan_transforms.extract.files import META_COLUMNS, FileSpec, parse_file
from pingan_transforms.load.batches import BatchResult, new_batch_id, record_batch
from pingan_transforms.settings import ConfigError
from pingan_transforms.warehouse import WarehouseTarget, connect

SOURCE, ENTITY = "regions", "master"
REGION_MASTER = FileSpec(
    entity="region master",
    raw_table="raw.regions__master",
    name_patterns=("*",),
    columns={column: column for column in MASTER_COLUMNS + CENTROID_COLUMNS},
    aliases={
        "区划代码": "code",
        "行政区划代码": "code",
        "代码": "code",
        "名称": "name",
        "区划名称": "name",
        "层级": "level",
        "级别": "level",
        "上级代码": "parent_code",
        "上级区划代码": "parent_code",
        "户籍人口": "resident_population",
        "常住人口": "resident_population",
        "流动人口": "floating_population",
        "生效日期": "valid_from",
        "失效日期": "valid_to",
        "经度": "longitude",
        "纬度": "latitude",
    },  # fmt: skip
    optional=tuple(CENTROID_COLUMNS),
)


def load_region_master(path: Path, target: WarehouseTarget) -> BatchResult | None:
    """Load the file unless this exact content is already the latest batch."""
    if not path.exists():
        raise ConfigError(
            f"region master file {path} does not exist: set PINGAN_REGIONS_FILE to your "
            "CSV, or run `pingan simulate regions` to generate the demo one"
        )
    data = path.read_bytes()
    checksum = hashlib.sha256(data).hexdigest()
    source_ref = f"{path.name} sha256:{checksum}"
    parsed = parse_file(path, REGION_MASTER, data)
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
        columns = [*REGION_MASTER.raw_columns, *META_COLUMNS]
        copy = f"copy {REGION_MASTER.raw_table} ({', '.join(columns)}) from stdin"
        with conn.cursor().copy(copy) as cp:
            for number, values in parsed.rows:
                cp.write_row([*values, batch_id, now, path.name, number])
        result = BatchResult(batch_id, SOURCE, ENTITY, len(parsed.rows), None, None)
        record_batch(conn, result, window_start=None, window_end=now, source_ref=source_ref)
    return result
