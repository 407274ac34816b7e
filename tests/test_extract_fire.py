"""Fire department file drops: simulated exports → file-drop connector → raw → dbt staging.

The spreadsheets here are written by hand with openpyxl (not by the simulator), the
way an office's export looks, so the connector is tested against files it did not
produce itself; the simulator's own files are checked end to end through dbt.
"""

from __future__ import annotations

import shutil
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import Workbook

from pingan_simulate.fire import FireSimulation, write_fire_drops
from pingan_transforms.contracts.regions import read_master
from pingan_transforms.extract.files import (
    FIRE_FIRES,
    FIRE_INSPECTIONS,
    TotalMismatch,
    extract_fire_drops,
    parse_file,
)
from pingan_transforms.extract.regions import load_region_master
from pingan_transforms.months import Month
from pingan_transforms.settings import ConfigError
from pingan_transforms.transform import run_dbt
from pingan_transforms.warehouse import connect
from tests.helpers import TEST_REGIONS, tongzhou_master, write_test_master

AUG = Month(2024, 8)
TITLE = "测试区消防救援支队2024年8月火灾情况统计表"
INSPECTION_HEADER = (
    "统计月份,行政区划代码,乡镇街道名称,检查单位数,发现隐患数,整改隐患数,"
    "下发责令改正通知书数,行政处罚数,罚款金额(元)"
)
REGIONS = TEST_REGIONS


def fires_xlsx(path: Path, rows: list[tuple], *, total: tuple | None = None) -> Path:
    """A fires sheet as an office exports it: a merged title, a two-row merged header
    (full-width brackets and a line break, as people type them), the rows (None = a
    blank row), and a 合计 row with the given totals (default: the correct ones)."""
    wb = Workbook()
    ws = wb.active
    ws.append([TITLE])
    ws.merge_cells("A1:I1")
    ws.append(["序号", "火灾编号", "起火时间", "起火地址", "行政区划代码", "起火原因", "伤亡情况",
               None, "直接财产损失（元）"])  # fmt: skip
    ws.append([None] * 6 + ["死亡人数", "受伤\n人数", None])
    for col in "ABCDEFI":
        ws.merge_cells(f"{col}2:{col}3")
    ws.merge_cells("G2:H2")
    for row in rows:
        ws.append(list(row) if row is not None else [])
    if total is None:
        data = [r for r in rows if r is not None]
        total = tuple(sum(r[c] for r in data if isinstance(r[c], int | float)) for c in (6, 7, 8))
    ws.append(["合计", None, None, None, None, None, *total])
    ws.merge_cells(f"A{ws.max_row}:F{ws.max_row}")
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def aug(day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2024, 8, day, hour, minute)


def gbk_csv(path: Path, lines: list[str], encoding: str = "gbk") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes("\r\n".join([INSPECTION_HEADER, *lines, ""]).encode(encoding))
    return path


def fetch(warehouse, sql: str, *params) -> list[tuple]:
    with connect(warehouse) as conn:
        return conn.execute(sql, params).fetchall()  # type: ignore[arg-type]


def test_xlsx_with_title_merged_header_and_total_row_loads_its_data_rows(
    databases, tmp_path
) -> None:
    warehouse, _ = databases
    fires_xlsx(
        tmp_path / "drop" / "2024-08" / "测试区火灾情况统计表_2024年08月.xlsx",
        [
            (1, "F001", aug(3, 14, 25), "甲镇甲村1号", "110199001201", "电气",
             0, 1, 1200.5),
            (2, "F002", aug(5, 9, 0), "乙镇乙村2号", "110199002201", "用火不慎",
             1, 0, 30000),
            None,
            (3, "F003", "2024-08-32 10:15", "甲镇3号", "110199001", "放火", 0, 2, 0.25),
        ],
    )  # fmt: skip
    (result,) = extract_fire_drops(tmp_path / "drop", warehouse)

    assert (result.source, result.entity, result.rows) == ("fire", "fires", 3)
    assert result.total_row == 8 and result.totals_agree
    assert fetch(
        warehouse,
        "select xh, hzbh, qhsj, qhdz, xzqhdm, qhyy, swrs, ssrs, zjccss, _source_file, "
        "_source_row from raw.fire__fires where _batch_id = %s order by _source_row",
        result.batch_id,
    ) == [
        ("1", "F001", "2024-08-03 14:25:00", "甲镇甲村1号", "110199001201", "电气", "0", "1",
         "1200.5", "2024-08/测试区火灾情况统计表_2024年08月.xlsx", 4),
        ("2", "F002", "2024-08-05 09:00:00", "乙镇乙村2号", "110199002201", "用火不慎", "1", "0",
         "30000", "2024-08/测试区火灾情况统计表_2024年08月.xlsx", 5),
        # the blank row 6 is skipped; a bad date is loaded as the text it is
        ("3", "F003", "2024-08-32 10:15", "甲镇3号", "110199001", "放火", "0", "2",
         "0.25", "2024-08/测试区火灾情况统计表_2024年08月.xlsx", 7),
    ]  # fmt: skip
    assert fetch(
        warehouse, "select source, entity, file_path, batch_id, row_count, total_check "
        "from raw._files"
    ) == [("fire", "fires", "2024-08/测试区火灾情况统计表_2024年08月.xlsx", result.batch_id, 3,
           "ok (row 8)")]  # fmt: skip
    assert fetch(warehouse, "select row_count from raw._batches") == [(3,)]


def test_total_row_that_disagrees_still_loads_and_is_reported(databases, tmp_path) -> None:
    warehouse, _ = databases
    rows = [
        (1, "F001", aug(3, 14, 25), "甲村", "110199001201", "电气", 0, 1, 1200.5),
        (2, "F002", aug(5, 9, 0), "乙村", "110199002201", "吸烟", 1, 0, 30000),
    ]
    fires_xlsx(tmp_path / "drop" / "火灾情况统计表.xlsx", rows, total=(1, 1, 99999))
    (result,) = extract_fire_drops(tmp_path / "drop", warehouse)
    assert result.rows == 2 and not result.totals_agree
    assert result.total_mismatches == (
        TotalMismatch("直接财产损失(元)", "99999", Decimal("31200.5")),
    )
    (check,) = fetch(warehouse, "select total_check from raw._files")[0]
    assert check.startswith("mismatch (row 6)") and "99999" in check and "31200.5" in check
    assert fetch(warehouse, "select count(*) from raw.fire__fires") == [(2,)]


def test_total_rows_in_csv_are_checked_wherever_they_stand(tmp_path) -> None:
    path = gbk_csv(
        tmp_path / "消防监督检查情况.csv",
        ["2024-08,110199001,甲镇,5,4,3,2,1,100", "2024-08,110199002,乙镇,5,4,3,2,x,100",
         "合计,,,10,8,6,4,1,300"],
    )  # fmt: skip
    parsed = parse_file(path, FIRE_INSPECTIONS)
    assert [n for n, _ in parsed.rows] == [2, 3] and parsed.total_row == 4
    assert [str(m) for m in parsed.total_mismatches] == [
        "行政处罚数: 合计 says 1, but not every row holds a number",
        "罚款金额(元): 合计 says 300, the rows sum to 200",
    ]
    # a 小计 under each block is checked against its block, the 合计 against every row
    gbk_csv(
        path,
        ["2024-08,110199001,甲镇,5,4,3,2,1,100", "小计,,,5,4,3,2,1,100",
         "2024-08,110199002,乙镇,5,4,3,2,1,100", "小计,,,5,4,3,2,1,101",
         "合计,,,10,8,6,4,2,200"],
    )  # fmt: skip
    parsed = parse_file(path, FIRE_INSPECTIONS)
    assert [n for n, _ in parsed.rows] == [2, 4] and parsed.total_rows == (3, 5, 6)
    assert parsed.total_check == (
        "mismatch (row 5): 罚款金额(元): 小计 says 101, the rows sum to 100"
    )


def test_gbk_csv_loads_chinese_text_with_line_numbers(databases, tmp_path) -> None:
    warehouse, _ = databases
    gbk_csv(
        tmp_path / "drop" / "2024-08" / "测试区消防监督检查情况_2024年08月.csv",
        [
            "2024-08,110112117,漷县镇,50,40,35,12,2,5000",
            '2024-08,110112106,"宋庄镇\n(含小堡)",30,20,18,5,1,"2,000"',
            "",
            "2024-08,110112109,马驹桥镇,0,0,0,0,0,0",
        ],
    )
    (result,) = extract_fire_drops(tmp_path / "drop", warehouse)
    assert (result.entity, result.rows, result.total_row) == ("inspections", 3, None)
    assert fetch(
        warehouse,
        "select tjyf, xzqhdm, xzjdmc, jcdws, fkje, _source_row from raw.fire__inspections "
        "order by _source_row",
    ) == [
        ("2024-08", "110112117", "漷县镇", "50", "5000", 2),
        ("2024-08", "110112106", "宋庄镇\n(含小堡)", "30", "2,000", 3),  # a field over 2 lines
        ("2024-08", "110112109", "马驹桥镇", "0", "0", 6),
    ]
    assert fetch(warehouse, "select total_check from raw._files") == [(None,)]


def test_identical_file_is_loaded_once_even_under_another_name(databases, tmp_path) -> None:
    warehouse, _ = databases
    drop = tmp_path / "drop"
    original = fires_xlsx(
        drop / "2024-08" / "测试区火灾情况统计表_2024年08月.xlsx",
        [(1, "F001", aug(3), "甲村", "110199001201", "电气", 0, 0, 100)],
    )
    shutil.copy(original, drop / "2024-08" / "火灾情况统计表(重发).xlsx")
    first = extract_fire_drops(drop, warehouse)
    assert [r.source_file for r in first] == ["2024-08/测试区火灾情况统计表_2024年08月.xlsx"]

    (drop / "2024-09").mkdir()
    shutil.copy(original, drop / "2024-09" / "8月火灾补报.xlsx")
    assert extract_fire_drops(drop, warehouse) == []
    assert fetch(warehouse, "select count(*) from raw.fire__fires") == [(1,)]
    assert fetch(warehouse, "select count(*) from raw._batches") == [(1,)]
    assert fetch(warehouse, "select count(*) from raw._files") == [(1,)]

    # a changed file (a corrected re-export) is a new batch
    fires_xlsx(
        drop / "2024-09" / "8月火灾补报.xlsx",
        [(1, "F001", aug(3), "甲村", "110199001201", "电气", 0, 0, 150)],
    )
    (corrected,) = extract_fire_drops(drop, warehouse)
    assert corrected.rows == 1 and corrected.batch_id != first[0].batch_id


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("消防监督检查情况_乱码.csv", b"\x81\x30\xff\x00,1", "neither a workbook nor text"),
        ("火灾情况统计表_旧表头.xlsx", "no_cause", "missing column(s) 起火原因"),
        ("火灾情况统计表_损坏.xlsx", b"PK\x03\x04 truncated", "not a readable .xlsx workbook"),
        ("消防监督检查情况_错行.csv", "ragged", "line 3 has 7 fields, the header has 9"),
    ],
)
def test_unparseable_file_raises_naming_it_and_loads_nothing_of_it(
    databases, tmp_path, name, content, message
) -> None:
    warehouse, _ = databases
    drop = tmp_path / "drop"
    line = "2024-08,110199001,甲镇,1,1,1,1,1,1"
    good = gbk_csv(drop / "2024-08" / "消防监督检查情况_好.csv", [line])
    bad = drop / "2024-08" / name
    if content == "no_cause":
        wb = Workbook()
        wb.active.append(["序号", "火灾编号", "起火时间", "起火地址", "行政区划代码",
                          "死亡人数", "受伤人数", "直接财产损失(元)"])  # fmt: skip
        wb.active.append([1, "F1", "2024-08-01 10:00", "甲村", "110199001201", 0, 0, 1])
        wb.save(bad)
    elif content == "ragged":
        gbk_csv(bad, ["2024-08,110199001,甲镇,1,1,1,1,1,1", "2024-08,110199002,乙镇,1,1,1,1"])
    else:
        bad.write_bytes(content)

    with pytest.raises(ConfigError) as info:
        extract_fire_drops(drop, warehouse)
    assert str(bad) in str(info.value) and message in str(info.value)
    assert str(good) not in str(info.value)
    # the good file of the same drop is loaded; nothing of the bad one is
    assert fetch(warehouse, "select file_path from raw._files") == [
        ("2024-08/消防监督检查情况_好.csv",)
    ]
    assert fetch(
        warehouse,
        "select _source_file, count(*) from raw.fire__fires group by 1 union all "
        "select _source_file, count(*) from raw.fire__inspections group by 1",
    ) == [("2024-08/消防监督检查情况_好.csv", 1)]
    assert fetch(warehouse, "select count(*) from raw._batches") == [(1,)]
    # once the bad file is taken away, the drop loads cleanly and nothing twice
    bad.unlink()
    assert extract_fire_drops(drop, warehouse) == []


def test_simulation_is_reproducible_and_varies_between_towns(tmp_path) -> None:
    regions = tongzhou_master(tmp_path / "regions.csv", towns=6)
    sim = FireSimulation(seed=5, defect_rate=0.3)
    first = write_fire_drops(sim, regions, [AUG], tmp_path / "a")
    again = write_fire_drops(sim, regions, [AUG], tmp_path / "b")
    other_sim = FireSimulation(seed=6, defect_rate=0.3)
    other = write_fire_drops(other_sim, regions, [AUG], tmp_path / "c")
    (a,), (b,), (c,) = first, again, other
    assert a.fires.name == "通州区火灾情况统计表_2024年08月.xlsx"
    assert a.fires.parent.name == "2024-08"
    fires_a, fires_b = parse_file(a.fires, FIRE_FIRES), parse_file(b.fires, FIRE_FIRES)
    assert fires_a == fires_b and len(fires_a.rows) > 20
    assert fires_a.rows != parse_file(c.fires, FIRE_FIRES).rows
    # the CSV, and even the workbook (fixed timestamps), are byte-identical
    assert a.inspections.read_bytes() == b.inspections.read_bytes()
    assert a.fires.read_bytes() == b.fires.read_bytes()
    assert a.inspections.read_bytes() != c.inspections.read_bytes()

    inspections = parse_file(a.inspections, FIRE_INSPECTIONS).rows
    assert len({values[3] for _, values in inspections}) > 3  # units inspected differ by town
    per_town: dict[str, int] = {}
    for _, values in fires_a.rows:
        if values[4]:
            per_town[values[4][:9]] = per_town.get(values[4][:9], 0) + 1
    assert len(set(per_town.values())) > 2

    # defects of every kind are there at this rate
    codes = {r.code for r in regions}
    fire_values = [v for _, v in fires_a.rows]
    assert any(v[4] is None for v in fire_values)
    assert any(v[4] and v[4] not in codes for v in fire_values)
    assert any(not v[2].startswith("2024-08-") for v in fire_values if v[2])
    assert len({v[1] for v in fire_values}) < len(fire_values)  # a repeated fire number


def test_dbt_stages_latest_versions_quarantines_the_rest_and_reconciles(
    databases, tmp_path
) -> None:
    warehouse, _ = databases
    load_region_master(write_test_master(tmp_path / "regions.csv"), warehouse)
    drop = tmp_path / "drop"
    aug_file = "2024-08/测试区火灾情况统计表_2024年08月.xlsx"
    fires_xlsx(
        drop / aug_file,
        [
            (1, "F001", aug(3, 14, 25), "甲村", "110199001201", "电气", 0, 1, 1200.5),
            (2, "F002", aug(5, 9, 0), "乙村", "110199002201", "用火不慎", 1, 0, 30000),
            (3, "F002", aug(5, 9, 0), "乙村", "110199002201", "用火不慎", 1, 0, 30000),
            (4, "F003", "2024-08-32 10:15", "甲村", "110199001201", "吸烟", 0, 0, 10),
            (5, "F004", aug(7, 1, 0), "某地", None, "其他", 0, 0, 10),
            (6, "F005", aug(9, 2, 0), "甲村", "110199001999", "电气", 0, 0, 10),
            (7, "F006", aug(10, 3, 0), "乙镇", "110199002", "自燃", 0, 0, 10),
            (8, "F007", aug(11, 4, 0), "甲村", "110199001201", "玩火", "两人", 0, 10),
        ],
    )  # fmt: skip
    inspections = "2024-08/测试区消防监督检查情况_2024年08月.csv"
    gbk_csv(
        drop / inspections,
        [
            "2024-08,110199001,甲镇,50,40,35,12,2,5000",
            "2024-08,110199002,乙镇,30,20,18,5,1,2000",
            "2024-08,110199002,乙镇,30,20,18,5,1,2000",
            "2024-13,110199001,甲镇,1,1,1,1,1,1",
            "2024-08,,丙镇,1,1,1,1,1,1",
            "2024-08,110199001201,甲村,1,1,1,1,1,1",
            "2024年9月,110199001,甲镇,45,30,30,10,0,0",
        ],
    )
    first = {r.source_file: r for r in extract_fire_drops(drop, warehouse)}
    # the office re-exports August, corrected: F002's loss, F003's date; F008 is new
    fix = "2024-09/测试区火灾情况统计表_2024年08月(更正).xlsx"
    fires_xlsx(
        drop / fix,
        [
            (1, "F001", aug(3, 14, 25), "甲村", "110199001201", "电气", 0, 1, 1200.5),
            (2, "F002", aug(5, 9, 0), "乙村", "110199002201", "用火不慎", 1, 0, 32000),
            (3, "F003", "2024-08-31 10:15", "甲村", "110199001201", "吸烟", 0, 0, 10),
            (4, "F004", aug(7, 1, 0), "某地", None, "其他", 0, 0, 10),
            (5, "F008", aug(30, 5, 0), "乙村", "110199002201", "雷击", 0, 0, 10),
        ],
    )  # fmt: skip
    (second,) = extract_fire_drops(drop, warehouse)
    # a simulated month with many defects, through the same path
    sim_drop = tmp_path / "sim"
    (sim_files,) = write_fire_drops(
        FireSimulation(seed=3, fires_per_10k=15, defect_rate=0.3),
        read_master(tmp_path / "regions.csv"), [Month(2024, 10)], sim_drop,
    )  # fmt: skip
    simulated = extract_fire_drops(sim_drop, warehouse)

    run_dbt(
        ["build", "--select", "+int_fire_batches_reconciled", "--indirect-selection", "cautious"],
        warehouse,
    )  # fmt: skip

    assert fetch(
        warehouse,
        "select fire_no, fired_at, township_code, village_code, cause_key, deaths, "
        "direct_loss_yuan, batch_id, source_row from staging.stg_fire__fires "
        "where fire_no like 'F%%' order by fire_no",
    ) == [
        ("F001", aug(3, 14, 25), "110199001", "110199001201", "electrical", 0,
         Decimal("1200.50"), second.batch_id, 4),
        ("F002", aug(5, 9, 0), "110199002", "110199002201", "careless_use_of_fire",
         1, Decimal("32000.00"), second.batch_id, 5),
        ("F003", aug(31, 10, 15), "110199001", "110199001201", "smoking", 0,
         Decimal("10.00"), second.batch_id, 6),
        ("F006", aug(10, 3, 0), "110199002", None, "spontaneous_combustion", 0,
         Decimal("10.00"), first[aug_file].batch_id, 10),
        ("F008", aug(30, 5, 0), "110199002", "110199002201", "lightning", 0,
         Decimal("10.00"), second.batch_id, 8),
    ]  # fmt: skip
    assert fetch(
        warehouse,
        "select stat_month, township_code, units_inspected, fines_yuan, source_row "
        "from staging.stg_fire__inspections where batch_id = %s order by 1, 2",
        first[inspections].batch_id,
    ) == [
        (date(2024, 8, 1), "110199001", 50, Decimal("5000.00"), 2),
        (date(2024, 8, 1), "110199002", 30, Decimal("2000.00"), 4),  # the lower copy
    ]
    quarantined = fetch(
        warehouse,
        "select source_file, source_row, record_key, quarantine_reason "
        "from intermediate.int_fire_records_quarantined where source_file not like '2024-10/%%'",
    )
    assert sorted(quarantined) == sorted(
        [
            (aug_file, 8, "F004", "missing region code"),
            (aug_file, 9, "F005", "region code not in the region master"),
            (aug_file, 11, "F007", "unparseable casualty or loss figure"),
            (inspections, 5, "2024-13 110199001", "unparseable statistics month"),
            (inspections, 6, "2024-08", "missing region code"),
            (inspections, 7, "2024-08 110199001201", "region code is not a township"),
            # September's statistics in August's file (its name and folder say 2024-08)
            (inspections, 8, "2024年9月 110199001", "wrong month"),
            # F003's bad date is not here: the re-export fixed it, so row 7 is a duplicate
            (fix, 7, "F004", "missing region code"),
        ]
    )

    reconciled = {
        row[0]: row[1:]
        for row in fetch(
            warehouse,
            "select source_file, raw_rows, staged_rows, quarantined_rows, superseded_rows, "
            "unaccounted_rows from intermediate.int_fire_batches_reconciled",
        )
    }
    # raw = staged + quarantined + superseded, worked out by hand:
    #   August: F006 staged; F004, F005, F007 quarantined; both F002 rows, F001 and the
    #   bad-date F003 are earlier versions of records the correction stages
    assert reconciled[aug_file] == (8, 1, 3, 4, 0)
    assert reconciled[inspections] == (7, 2, 4, 1, 0)
    assert reconciled[fix] == (5, 4, 1, 0, 0)
    assert first[aug_file].rows == 8 and first[inspections].rows == 7 and second.rows == 5

    # the simulated month, checked against an independent count of its parsed rows
    codes = {r[0]: r[2] for r in REGIONS}
    parsed = parse_file(sim_files.fires, FIRE_FIRES).rows
    clean = [
        v for _, v in parsed
        if v[4] is not None and codes.get(v[4]) in ("village", "township")
        and v[2] is not None and v[2][:7] == "2024-10" and v[2][8:10].isdigit()
        and int(v[2][8:10]) <= 31
    ]  # fmt: skip
    staged = len({v[1] for v in clean})
    expected = (len(parsed), staged, len(parsed) - len(clean), len(clean) - staged, 0)
    assert min(expected[1:4]) > 0, "the simulated month should exercise every outcome"
    sim_fires = next(r for r in simulated if r.entity == "fires")
    assert reconciled[sim_fires.source_file] == expected
    for result in simulated:
        assert reconciled[result.source_file][0] == result.rows
        assert reconciled[result.source_file][4] == 0


def test_the_daily_fire_dag_lands_a_new_drop_once_then_skips(
    databases, tmp_path, monkeypatch
) -> None:
    """``pingan_extract_fire``'s task: a new file lands (an Asset event); a day with no
    new file ends skipped, which records no Asset event and so starts no transform."""
    import yaml
    from airflow.sdk.exceptions import AirflowSkipException

    from pingan_transforms.tasks import extract_source
    from tests.helpers import shipped_sources

    config = shipped_sources()
    config["sources"]["fire"]["drop_dir"] = str(tmp_path / "drop")
    sources_file = tmp_path / "sources.yml"
    sources_file.write_text(yaml.safe_dump(config, allow_unicode=True))
    monkeypatch.setenv("PINGAN_SOURCES_FILE", str(sources_file))
    fires_xlsx(
        tmp_path / "drop" / "2024-08" / "测试区火灾情况统计表_2024年08月.xlsx",
        [(1, "F001", aug(3), "甲村", "110199001201", "电气", 0, 0, 100)],
    )
    day = (datetime(2024, 9, 1), datetime(2024, 9, 2))
    landed = extract_source("fire", *day)
    assert landed["files"] == ["2024-08/测试区火灾情况统计表_2024年08月.xlsx"]
    with pytest.raises(AirflowSkipException, match="no new file in"):
        extract_source("fire", *day)
    assert fetch(databases[0], "select count(*) from raw.fire__fires") == [(1,)]
