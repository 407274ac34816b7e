"""`pingan checksums`: equal for two runs of the same data, different when a result is."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import Workbook

from pingan_transforms.cli import main
from pingan_transforms.publish.checksums import mart_checksums, xlsx_checksum
from pingan_transforms.warehouse import connect


def _mart(target, rows: list[tuple]) -> None:
    with connect(target) as conn:
        conn.execute("create schema if not exists marts")
        conn.execute("drop table if exists marts.ranks")
        conn.execute(
            "create table marts.ranks (region_code text, score numeric(5, 2), "
            "built_at timestamptz, source_batch_id text, message_id text)"
        )
        for row in rows:
            conn.execute("insert into marts.ranks values (%s, %s, now(), %s, %s)", row)


def _ranks(checksums) -> str:
    (found,) = [c for c in checksums if c.name == "marts.ranks"]
    assert found.rows == 2
    return found.digest


def test_marts_compare_by_rows_not_by_order_build_time_batch_or_mail(databases) -> None:
    warehouse, _ = databases
    _mart(warehouse, [("110112001", 80.1, "b1", "<a@x>"), ("110112002", 75.0, "b1", "<b@x>")])
    first = _ranks(mart_checksums(warehouse))
    # rebuilt in another order, later, from other batches, mailed again
    _mart(warehouse, [("110112002", 75.0, "b9", "<c@x>"), ("110112001", 80.1, "b9", "<d@x>")])
    assert _ranks(mart_checksums(warehouse)) == first
    _mart(warehouse, [("110112002", 75.0, "b9", "<c@x>"), ("110112001", 80.35, "b9", "<d@x>")])
    assert _ranks(mart_checksums(warehouse)) != first


def _workbook(path: Path, created: datetime, score: float) -> Path:
    book = Workbook()
    sheet = book.active
    sheet.title = "乡镇街道"
    sheet.append(["排名", "乡镇街道", "平安指数"])
    sheet.append([1, "新华街道", score])
    book.properties.created = created
    book.save(path)
    return path


def test_workbooks_compare_by_cells_not_by_when_they_were_written(tmp_path: Path) -> None:
    a = xlsx_checksum(_workbook(tmp_path / "a.xlsx", datetime(2024, 9, 1), 80.35))
    b = xlsx_checksum(_workbook(tmp_path / "b.xlsx", datetime(2026, 12, 6), 80.35))
    c = xlsx_checksum(_workbook(tmp_path / "c.xlsx", datetime(2024, 9, 1), 80.10))
    assert (tmp_path / "a.xlsx").read_bytes() != (tmp_path / "b.xlsx").read_bytes()
    assert a.digest == b.digest and a.rows == 2
    assert c.digest != a.digest


def test_the_command_prints_a_line_per_mart_and_workbook(
    databases, capsys: pytest.CaptureFixture[str]
) -> None:
    from pingan_transforms.settings import get_settings

    warehouse, _ = databases
    _mart(warehouse, [("110112001", 80.1, "b1", None), ("110112002", 75.0, "b1", None)])
    output = get_settings().output_dir
    (output / "rankings").mkdir(parents=True)
    _workbook(output / "rankings" / "majuqiao_2024-08.xlsx", datetime(2024, 9, 1), 80.35)
    assert main(["checksums"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert any(line.startswith("mart marts.ranks rows=2 sha256=") for line in lines)
    assert any(line.startswith("xlsx majuqiao_2024-08.xlsx rows=2 sha256=") for line in lines)
