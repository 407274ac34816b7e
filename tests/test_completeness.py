"""The publication gate's completeness check, on load bookkeeping written by hand."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from pingan_transforms.load.completeness import (
    SourcesIncomplete,
    check_deliveries,
    require_complete,
)
from pingan_transforms.months import Month
from pingan_transforms.sources import sources_config
from pingan_transforms.warehouse import connect, prepare_warehouse

CST = ZoneInfo("Asia/Shanghai")
SEP = Month(2024, 9)
SEP_END = datetime(2024, 10, 1, tzinfo=CST)
GRACE = timedelta(hours=48)


def _batch(conn, source, entity, window_start, window_end, watermark, n=[0]) -> None:  # noqa: B006
    n[0] += 1
    conn.execute(
        "insert into raw._batches (batch_id, source, entity, window_start, window_end, "
        "watermark_to, row_count) values (%s, %s, %s, %s, %s, %s, 1)",
        (f"b{n[0]}", source, entity, window_start, window_end, watermark),
    )


def _deliver_september(conn) -> None:
    """Everything a month needs, as the extract tasks record it."""
    for source, entity in [
        ("police", "incidents"), ("police", "fraud_warnings"), ("governance", "petitions"),
        ("governance", "disputes"), ("governance", "grid_patrols"), ("traffic", "accidents"),
    ]:  # fmt: skip
        _batch(conn, source, entity, None, SEP_END, SEP_END - timedelta(hours=3))
    _batch(conn, "traffic", "violations", SEP.start(), SEP_END, None)
    for entity in ("fires", "inspections"):
        _batch(conn, "fire", entity, None, datetime(2024, 10, 3, tzinfo=CST), None)
        conn.execute(
            "insert into raw._files (source, entity, sha256, file_path, batch_id, row_count) "
            "select 'fire', %s, %s, %s, max(batch_id), 1 from raw._batches where entity = %s",
            (entity, f"sha-{entity}", f"2024-09/通州区{entity}_2024年09月.xlsx", entity),
        )


def _check(target, month=SEP):
    with connect(target) as conn:
        return check_deliveries(
            conn, sources_config(), month, ["police", "traffic", "fire", "governance"],
            GRACE, "Asia/Shanghai",
        )  # fmt: skip


def test_a_delivered_month_is_complete_and_the_next_is_not(databases) -> None:
    warehouse, _ = databases
    prepare_warehouse(warehouse)
    with connect(warehouse) as conn:
        _deliver_september(conn)
    deliveries = _check(warehouse)
    assert len(deliveries) == 9 and all(d.delivered for d in deliveries)
    require_complete(deliveries, SEP)  # does not raise

    with pytest.raises(SourcesIncomplete) as missing:
        require_complete(_check(warehouse, Month(2024, 10)), Month(2024, 10))
    message = str(missing.value)
    assert "2024-10 is not complete: 9 source entities" in message
    assert "police.incidents (watermark)" in message
    assert "fire.inspections (file drop): 0 file(s) from the drop folder 2024-10/" in message


def test_a_stale_source_and_a_missing_snapshot_are_named(databases) -> None:
    warehouse, _ = databases
    prepare_warehouse(warehouse)
    with connect(warehouse) as conn:
        _deliver_september(conn)
        # the police front database stopped syncing on the 20th: extracted, but stale
        conn.execute(
            "update raw._batches set watermark_to = %s where source = 'police' "
            "and entity = 'incidents'",
            (datetime(2024, 9, 20, tzinfo=CST),),
        )
        conn.execute("delete from raw._batches where entity = 'violations'")
    missing = [d for d in _check(warehouse) if not d.delivered]
    assert [(d.source, d.entity) for d in missing] == [
        ("police", "incidents"),
        ("traffic", "violations"),
    ]
    assert "updates up to 2024-09-19 16:00 UTC" in missing[0].detail
    assert "within 2 days, 0:00:00 of the month's end" in missing[0].detail

    # within the grace period, a quiet last day is fine
    with connect(warehouse) as conn:
        conn.execute(
            "update raw._batches set watermark_to = %s where entity = 'incidents'",
            (SEP_END - timedelta(hours=47),),
        )
    assert [d.entity for d in _check(warehouse) if not d.delivered] == ["violations"]
