"""Petitions, disputes and grid patrols from the governance platform's database (信访 / 综治).

Each entity has its own updated-at (gxsj) watermark in ``raw._watermarks``
(source ``governance``, entities ``petitions`` / ``disputes`` / ``grid_patrols``);
each run loads the rows updated in (watermark, cut-off] into
``raw.governance__<entity>`` in one transaction with its batch record and new
watermark, by the same COPY-to-COPY loop as the police extract
(:func:`pingan_transforms.extract.sql.extract_table`). Names (the petitioner's
xfrxm, the grid worker's wgyxm) are never selected; phone and ID numbers are
keyed-hashed on the way. :func:`extract_all` extracts every entity the sources file
lists for the governance source.
"""

from __future__ import annotations

from datetime import datetime

from pingan_transforms.extract.sql import extract_table
from pingan_transforms.load.batches import BatchResult
from pingan_transforms.sources import sources_config
from pingan_transforms.warehouse import WarehouseTarget

SOURCE = "governance"


def extract_petitions(
    source_url: str,
    target: WarehouseTarget,
    *,
    cutoff: datetime,
    pii_key: bytes,
    tz: str = "Asia/Shanghai",
) -> BatchResult:
    """Extract petitions updated in (watermark, cutoff] into one raw batch."""
    return extract_table(
        sources_config().table_extract(SOURCE, "petitions"),
        source_url,
        target,
        cutoff=cutoff,
        pii_key=pii_key,
        tz=tz,
    )


def extract_disputes(
    source_url: str,
    target: WarehouseTarget,
    *,
    cutoff: datetime,
    pii_key: bytes,
    tz: str = "Asia/Shanghai",
) -> BatchResult:
    """Extract disputes updated in (watermark, cutoff] into one raw batch."""
    return extract_table(
        sources_config().table_extract(SOURCE, "disputes"),
        source_url,
        target,
        cutoff=cutoff,
        pii_key=pii_key,
        tz=tz,
    )


def extract_grid_patrols(
    source_url: str,
    target: WarehouseTarget,
    *,
    cutoff: datetime,
    pii_key: bytes,
    tz: str = "Asia/Shanghai",
) -> BatchResult:
    """Extract grid patrols (网格巡查) updated in (watermark, cutoff] into one raw batch."""
    return extract_table(
        sources_config().table_extract(SOURCE, "grid_patrols"),
        source_url,
        target,
        cutoff=cutoff,
        pii_key=pii_key,
        tz=tz,
    )


def extract_all(
    source_url: str,
    target: WarehouseTarget,
    *,
    cutoff: datetime,
    pii_key: bytes,
    tz: str = "Asia/Shanghai",
) -> list[BatchResult]:
    """Extract every governance entity of the sources file, one raw batch each."""
    config = sources_config()
    specs = [config.table_extract(SOURCE, entity) for entity in config.sql(SOURCE).entities]
    return [
        extract_table(spec, source_url, target, cutoff=cutoff, pii_key=pii_key, tz=tz)
        for spec in specs
    ]
