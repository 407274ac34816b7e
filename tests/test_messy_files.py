"""Spreadsheets as district offices send them (issue 16), through the fire source for real.

Every shape of tests/fixtures/messy/generate.py is dropped alone for 2024-10 (its own
``<shape>/2024-10/`` folder of one drop), read by the fire source's registered extract
(its entry's aliases and late window included), and staged by the dbt models. Each
test then checks one shape: exactly which rows can be staged, which are quarantined
and why, which rows were set aside as totals, footers or headings, or the refusal.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
import yaml

from pingan_transforms.extract.regions import load_region_master
from pingan_transforms.load.report import QuarantineCount, format_quarantine, quarantine_counts
from pingan_transforms.settings import ConfigError
from pingan_transforms.transform import run_dbt
from pingan_transforms.warehouse import WarehouseTarget, connect
from pingan_transforms.warehouse.connection import clone_database, drop_database
from tests.fixtures.messy.generate import SHAPES, Shape, write_corpus
from tests.helpers import TEST_REGIONS, shipped_sources, write_test_master

SHAPE_BY_NAME = {shape.name: shape for shape in SHAPES}


@dataclass(frozen=True)
class Outcome:
    files: dict[str, Path]  # shape name -> its file
    refusal: str  # the extract's error, naming every refused file
    rows: list[dict[str, object]]  # base_fire__fires and base_fire__inspections, every row
    loaded: dict[str, dict[str, object]]  # raw._files by file path
    summary: dict[str, object]  # what the extract task returned for the files it loaded
    quarantine: list[QuarantineCount]  # `pingan quarantine fire`


def _dicts(conn, sql: str) -> list[dict[str, object]]:
    cursor = conn.execute(sql)
    names = [c.name for c in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


@pytest.fixture(scope="module")
def outcome(
    server: WarehouseTarget,
    warehouse_template: WarehouseTarget,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Outcome]:
    """The whole corpus extracted once into a warehouse of its own and staged once."""
    from pingan_transforms.tasks import extract

    folder = tmp_path_factory.mktemp("messy")
    warehouse = server.with_database(f"pingan_messy_{uuid.uuid4().hex[:8]}")
    clone_database(warehouse_template, warehouse)
    config = shipped_sources()
    config["sources"]["fire"]["drop_dir"] = str(folder / "drop")
    (folder / "sources.yml").write_text(yaml.safe_dump(config, allow_unicode=True))
    with pytest.MonkeyPatch.context() as env:
        env.setenv("PINGAN_WAREHOUSE_DB", warehouse.dbname)
        env.setenv("PINGAN_SOURCES_FILE", str(folder / "sources.yml"))
        load_region_master(write_test_master(folder / "regions.csv"), warehouse)
        files = write_corpus(folder / "drop")
        # first the shapes that load (what the task reports), then the drop with the
        # refused ones back in: the good files are not loaded twice, the others refused
        refused_shapes = [shape.name for shape in SHAPES if shape.error is not None]
        for name in refused_shapes:
            (folder / "drop" / name).rename(folder / name)
        summary = extract("fire", datetime(2024, 11, 1), datetime(2024, 11, 2))
        for name in refused_shapes:
            (folder / name).rename(folder / "drop" / name)
        with pytest.raises(ConfigError) as refused:
            extract("fire", datetime(2024, 11, 1), datetime(2024, 11, 2))
        run_dbt(
            ["build", "--select", "+int_fire_batches_reconciled", "--indirect-selection",
             "cautious"],
            warehouse,
        )  # fmt: skip
        with connect(warehouse) as conn:
            rows = _dicts(
                conn,
                "select 'fires' as entity, fire_no as key, parse_issue, source_file, "
                "to_char(fired_at, 'YYYY-MM-DD HH24:MI:SS') as fired_at, region_code, "
                "deaths::text, injuries::text, direct_loss_yuan::text, null as fines_yuan "
                "from staging.base_fire__fires union all "
                "select 'inspections', concat_ws(' ', to_char(stat_month, 'YYYY-MM'), "
                "region_code), parse_issue, source_file, null, region_code, null, null, null, "
                "fines_yuan::text from staging.base_fire__inspections",
            )
            loaded = {r["file_path"]: r for r in _dicts(conn, "select * from raw._files")}
        quarantine = quarantine_counts(warehouse, source="fire")
        yield Outcome(files, str(refused.value), rows, loaded, summary, quarantine)
    drop_database(warehouse)


def _of(outcome: Outcome, shape: Shape) -> list[dict[str, object]]:
    return [r for r in outcome.rows if str(r["source_file"]).startswith(f"{shape.name}/")]


@pytest.mark.parametrize("name", list(SHAPE_BY_NAME))
def test_each_shape_loads_every_valid_row_or_is_refused_with_its_reason(
    outcome: Outcome, name: str
) -> None:
    shape = SHAPE_BY_NAME[name]
    path = outcome.files[name]
    rel = path.relative_to(path.parents[2]).as_posix()
    rows = _of(outcome, shape)
    if shape.error is not None:
        (line,) = [line for line in outcome.refusal.splitlines() if str(path) in line]
        assert shape.error in line
        assert rows == [] and rel not in outcome.loaded
        return
    assert str(path) not in outcome.refusal
    staged = {r["key"] for r in rows if r["parse_issue"] is None}
    quarantined = {(r["key"], r["parse_issue"]) for r in rows if r["parse_issue"] is not None}
    assert (staged, quarantined) == (shape.staged, shape.quarantined)
    assert outcome.loaded[rel]["skipped_rows"] == shape.skipped
    assert outcome.loaded[rel]["row_count"] == len(rows)
    by_key = {r["key"]: r for r in rows}
    for key, values in shape.values.items():
        assert {column: by_key[key][column] for column in values} == values, key


def test_the_file_record_says_how_each_file_was_read(outcome: Outcome) -> None:
    """raw._files records the format, a CSV's encoding, and the headers not read."""
    read = {
        rel.split("/")[0]: (r["file_format"], r["encoding"], r["ignored_columns"], r["period"])
        for rel, r in outcome.loaded.items()
    }
    assert read["gbk_csv_total_and_thousands"] == ("csv", "gb18030", None, "2024-10")
    assert read["excel_csv_utf8_with_bom"] == ("csv", "utf-8-sig", None, "2024-10")
    assert read["excel_unicode_text_utf16_tabs"] == ("csv", "utf-16", None, "2024-10")
    assert read["legacy_xls"] == ("xls", None, None, "2024-10")
    assert read["wps_et"] == ("xls", None, None, "2024-10")
    assert read["libreoffice_ods"] == ("ods", None, None, "2024-10")
    assert read["a_hidden_column_and_a_notes_column"] == ("xlsx", None, "内部编号, 备注", "2024-10")
    # a second data sheet: every row names its sheet
    sheets = {r["source_file"] for r in _of(outcome, SHAPE_BY_NAME["a_second_data_sheet"])}
    assert {s.rsplit("#", 1)[1] for s in sheets} == {"甲镇", "乙镇"}


def test_the_region_master_is_read_by_the_same_reader(databases, tmp_path: Path) -> None:
    """A region master as an office keeps it: a workbook with a title row and Chinese
    headers, the centroid columns left out, loads the same rows as the CSV form."""
    from openpyxl import Workbook

    warehouse, _ = databases
    wb = Workbook()
    wb.active.append(["测试区行政区划及人口（2024年）"])
    wb.active.append(["区划代码", "名称", "层级", "上级代码", "户籍人口", "流动人口",
                      "生效日期", "失效日期"])  # fmt: skip
    for row in TEST_REGIONS:
        wb.active.append([*row, "2020-01-01", None])
    wb.active.append(["制表：测试区民政局"])
    wb.save(tmp_path / "regions.xlsx")
    result = load_region_master(tmp_path / "regions.xlsx", warehouse)
    assert result is not None and result.rows == len(TEST_REGIONS)
    with connect(warehouse) as conn:
        loaded = conn.execute(
            "select code, name, level, coalesce(parent_code, ''), "
            "coalesce(resident_population, ''), coalesce(floating_population, ''), "
            "longitude, _source_row from raw.regions__master order by _source_row"
        ).fetchall()
    assert loaded == [(*row, None, n) for n, row in enumerate(TEST_REGIONS, start=3)]


def test_rows_of_another_month_are_named_by_file_in_the_summary_and_the_report(
    outcome: Outcome,
) -> None:
    """The extract's summary names the file with rows outside its month; after dbt,
    `pingan quarantine fire` counts them by file and reason."""
    late = "a_late_report_and_a_row_of_another_month/2024-10/测试区火灾情况统计表_2024年10月.xlsx"
    assert outcome.summary["rows_of_another_month"] == {late: 1}
    assert QuarantineCount("fire", late, "wrong month", 1) in outcome.quarantine
    assert [c for c in outcome.quarantine if c.reason != "wrong month"] == []
    (line,) = [x for x in format_quarantine(outcome.quarantine).splitlines() if late in x]
    assert line.split() == ["fire", late, "1", "wrong", "month"]
