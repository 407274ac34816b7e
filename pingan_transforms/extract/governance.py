"""Petitions and disputes from the governance platform's database (信访 / 综治).

Each entity has its own updated-at (gxsj) watermark in ``raw._watermarks``
(source ``governance``, entities ``petitions`` / ``disputes``); each run loads the
rows updated in (watermark, cut-off] into ``raw.governance__petitions`` or
``raw.governance__disputes`` in one transaction with its batch record and new
watermark, by the same COPY-to-COPY loop as the police extract
(:func:`pingan_transforms.extract.sql.extract_table`). The petitioner's name
(xfrxm) is never selected; phone and ID number are keyed-hashed on the way.
"""

from __future__ import annotations

from datetime import datetime

from pingan_transforms.extract.sql import TableExtract, extract_table
from pingan_transforms.load.batches import BatchResult
from pingan_transforms.warehouse import WarehouseTarget

SOURCE = "governance"

PETITIONS = TableExtract(
    source=SOURCE,
    entity="petitions",
    source_table="xf_xfj",
    raw_schema="raw",
    raw_table="governance__petitions",
    # xfrxm (petitioner name) is deliberately absent: names are dropped.
    columns=(
        ("xfjbh", "xfjbh"),
        ("djsj", "djsj"),
        ("xzqhdm", "xzqhdm"),
        ("xfrdh", "xfrdh_hash"),
        ("xfrsfzh", "xfrsfzh_hash"),
        ("blzt", "blzt"),
        ("bjrq", "bjrq"),
        ("myd", "myd"),
        ("sfcf", "sfcf"),
        ("sfjt", "sfjt"),
        ("sfyj", "sfyj"),
        ("gxsj", "gxsj"),
    ),  # fmt: skip
    key_column="xfjbh",
    watermark_column="gxsj",
    hashed=frozenset({"xfrdh", "xfrsfzh"}),
)

DISPUTES = TableExtract(
    source=SOURCE,
    entity="disputes",
    source_table="zz_mdjf",
    raw_schema="raw",
    raw_table="governance__disputes",
    columns=tuple((c, c) for c in ("jfbh", "fxrq", "xzqhdm", "jflx", "tjjg", "jjrq", "gxsj")),
    key_column="jfbh",
    watermark_column="gxsj",
)


def extract_petitions(
    source_url: str,
    target: WarehouseTarget,
    *,
    cutoff: datetime,
    pii_key: bytes,
    tz: str = "Asia/Shanghai",
) -> BatchResult:
    """Extract petitions updated in (watermark, cutoff] into one raw batch."""
    return extract_table(PETITIONS, source_url, target, cutoff=cutoff, pii_key=pii_key, tz=tz)


def extract_disputes(
    source_url: str,
    target: WarehouseTarget,
    *,
    cutoff: datetime,
    pii_key: bytes,
    tz: str = "Asia/Shanghai",
) -> BatchResult:
    """Extract disputes updated in (watermark, cutoff] into one raw batch."""
    return extract_table(DISPUTES, source_url, target, cutoff=cutoff, pii_key=pii_key, tz=tz)
