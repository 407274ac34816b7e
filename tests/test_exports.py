"""Rankings export (publish/exports.py): xlsx sheets, styles and widths, csv, json, and
the month's files from marts tables created here (no dbt run)."""

from __future__ import annotations

import csv
import json
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from pingan_transforms.months import Month
from pingan_transforms.publish import exports
from pingan_transforms.publish.exports import (
    Category,
    CategoryScore,
    PublishedRanking,
    PublishedUnit,
    sheet_title,
)
from pingan_transforms.publish.index_reader import published_schemes
from pingan_transforms.publish.ranking import RankingRow, fetch_ranking
from pingan_transforms.warehouse import connect

SEP = Month(2024, 9)
LONG_NAME = "矛盾纠纷/信访:化解[专项]*整治?工作\\以及一个很长很长的分类名称用来超过三十一个字"
CATEGORIES = (
    Category("A", "社会治安", Decimal("60.00"), 1),
    Category("B", LONG_NAME, Decimal("40.00"), 2),
)

# (rank, name, code, score, grade, colour, stars, warning, previous rank, change, pct)
TOWNS = [
    (1, "于家务回族乡", "110112209", "91.20", "优秀", "#1a9850", 5, "green", 4, 3, "5.10"),
    (2, "台湖镇", "110112114", "85.00", "平稳", "#fee08b", 3, "yellow", None, None, None),
    (3, "西集镇", "110112110", "80.50", "平稳", "#fee08b", 2, "yellow", 3, 0, "0.00"),
    (4, "马驹桥镇", "110112115", "60.25", "较差", "#d73027", 1, "red", 2, -2, "-12.34"),
]


def _unit(spec: tuple, level: str = "township", restated: bool = True) -> PublishedUnit:
    rank, name, code, score, grade, colour, stars, warning, previous, change, pct = spec
    row = RankingRow(
        scheme_code="majuqiao", scheme_version=2, total_label="平安指数", region_level=level,
        peer_group_name="通州区", rank=rank, region_name=name, region_code=code,
        score=Decimal(score), grade=grade, stars=stars, warning_level=warning,
        previous_rank=previous, rank_change=change,
        score_change_pct=None if pct is None else Decimal(pct), previous_restated=restated,
    )  # fmt: skip
    categories = {
        "A": CategoryScore("A", Decimal(score) * Decimal("0.6"), Decimal("50.00")),
        # 台湖镇 has no 矛盾纠纷 score: the cell stays empty, json leaves it out
        **({} if name == "台湖镇" else {"B": CategoryScore("B", Decimal("30.00"), None)}),
    }
    return PublishedUnit(row, "110112", colour, 4, Decimal("80.00"), categories)


def _ranking() -> PublishedRanking:
    return PublishedRanking(
        "majuqiao", "马驹桥平安指数", 2, "平安指数", SEP,
        tuple(_unit(t) for t in TOWNS), CATEGORIES,
    )  # fmt: skip


@pytest.fixture
def workbook(tmp_path: Path) -> openpyxl.Workbook:
    path = exports.write_xlsx(_ranking(), tmp_path / "r.xlsx")
    return openpyxl.load_workbook(path)


def test_xlsx_has_ranking_sheets_then_categories_then_deductions_then_notes(workbook) -> None:
    long_title = workbook.sheetnames[2]
    assert workbook.sheetnames == [
        "乡镇街道排名",
        "社会治安",
        long_title,
        "乡镇街道扣分明细",
        "说明",
    ]
    assert len(long_title) == 31 and not set("[]:*?/\\") & set(long_title)
    assert long_title.startswith("矛盾纠纷_信访_化解_专项__整治_工作_")
    ranking = workbook["乡镇街道排名"]
    rows = list(ranking.iter_rows(values_only=True))
    assert rows[0] == ("排名", "乡镇街道", "区划代码", "排名分组", "平安指数", "等级", "星级",
                       "预警", "上月排名", "排名变化", "环比(%)")  # fmt: skip
    assert [r[:3] for r in rows[1:]] == [(t[0], t[1], t[2]) for t in TOWNS]
    first = rows[1]
    assert first[3:] == ("通州区", 91.2, "优秀", "★★★★★", "绿色", 4, 3, 5.1)
    assert rows[2][8:] == (None, None, None)  # new unit: no previous rank or change
    for sheet in workbook.worksheets:
        assert sheet.freeze_panes == "A2", sheet.title


def test_grade_cells_are_filled_with_the_grade_colour(workbook) -> None:
    sheet = workbook["乡镇街道排名"]
    for row, town in enumerate(TOWNS, start=2):
        cell = sheet.cell(row=row, column=6)
        assert cell.value == town[4]
        assert cell.fill.fill_type == "solid"
        assert cell.fill.fgColor.rgb[-6:] == town[5].lstrip("#").upper()
    # white text on the dark red, black on the pale yellow
    assert sheet["F5"].font.color.rgb[-6:] == "FFFFFF"
    assert sheet["F3"].font.color.rgb[-6:] == "000000"
    warnings = [sheet.cell(row=r, column=8) for r in range(2, 6)]
    assert [c.value for c in warnings] == ["绿色", "黄色", "黄色", "红色"]
    assert warnings[3].fill.fgColor.rgb[-6:] == "FFC7CE"


def test_rank_change_shows_arrows_in_green_and_red(workbook) -> None:
    sheet = workbook["乡镇街道排名"]
    changes = [sheet.cell(row=r, column=10) for r in range(2, 6)]
    assert [c.value for c in changes] == [3, None, 0, -2]  # numbers, for sorting
    up, _, same, down = changes
    # positive;negative;zero sections: ↑3, ↓2 (Excel drops the minus), –
    assert up.number_format == '"↑"0;"↓"0;"–"' == down.number_format == same.number_format
    assert up.font.color.rgb[-6:] == exports.UP_FONT
    assert down.font.color.rgb[-6:] == exports.DOWN_FONT
    assert sheet.cell(row=5, column=11).number_format == "+0.00;-0.00;0.00"


def test_columns_are_wide_enough_for_chinese_text(workbook) -> None:
    sheet = workbook["乡镇街道排名"]
    width = {c: sheet.column_dimensions[c].width for c in "ABCG"}
    # 于家务回族乡: six wide characters = 12 columns, wider than the 9-digit code
    assert width["B"] >= 12 > width["A"]
    assert width["B"] > width["C"] >= 9
    assert width["G"] >= 10  # ★★★★★ is drawn wide in Chinese fonts
    notes = workbook["说明"]
    assert notes.column_dimensions["B"].width > 40


def test_category_sheets_list_score_points_and_last_month(workbook) -> None:
    rows = list(workbook["社会治安"].iter_rows(values_only=True))
    assert rows[0] == ("总排名", "乡镇街道", "区划代码", "排名分组", "得分", "满分", "得分率(%)",
                       "上月得分", "较上月")  # fmt: skip
    assert rows[1] == (1, "于家务回族乡", "110112209", "通州区", 54.72, 60, 91.2, 50, 4.72)
    long_rows = list(workbook.worksheets[2].iter_rows(values_only=True))
    assert long_rows[2][1] == "台湖镇" and long_rows[2][4:] == (None, 40, None, None, None)
    assert long_rows[1][4:] == (30, 40, 75, None, None)


def test_scheme_version_and_month_are_in_properties_and_notes(workbook) -> None:
    assert workbook.properties.keywords == "scheme=majuqiao;version=2;month=2024-09"
    assert "2024-09" in workbook.properties.title
    notes = dict(workbook["说明"].iter_rows(min_row=2, values_only=True))
    assert notes["方案代码"] == "majuqiao" and notes["方案版本"] == "2"
    assert notes["月份"] == "2024-09"
    assert "第 2 版" in notes["上月数据"]  # restated comparison is stated


def test_village_scheme_names_its_sheet_and_total(tmp_path: Path) -> None:
    village = (1, "沙口社区", "442000118001", "88.00", "A", "#1a9850", 5, None, 1, 0, "1.00")
    unit = _unit(village, level="village", restated=False)
    unit = replace(unit, row=replace(unit.row, total_label="平安形势指数"), categories={})
    ranking = PublishedRanking("xiaolan", "小榄", 1, "平安形势指数", SEP, (unit,))
    book = openpyxl.load_workbook(exports.write_xlsx(ranking, tmp_path / "v.xlsx"))
    assert book.sheetnames == ["村社区排名", "村社区扣分明细", "说明"]
    header = next(book["村社区排名"].iter_rows(values_only=True))
    assert header[1] == "村社区" and header[4] == "平安形势指数"
    assert "上月数据" not in dict(book["说明"].iter_rows(min_row=2, values_only=True))


def test_sheet_titles_are_valid_and_unique() -> None:
    taken = {"说明"}
    assert sheet_title("a/b:c", taken) == "a_b_c"
    assert sheet_title("A/B:C", taken) == "A_B_C(2)"  # Excel ignores case
    assert sheet_title("说明", taken) == "说明(2)"
    long = sheet_title("字" * 40, taken)
    assert long == "字" * 31
    again = sheet_title("字" * 40, taken)
    assert again == "字" * 28 + "(2)" and len(again) == 31
    assert sheet_title("[]", taken) == "__"
    assert sheet_title("  ", taken) == "分类"


def test_json_round_trips_with_chinese_names_and_decimal_strings(tmp_path: Path) -> None:
    path = exports.write_json(_ranking(), tmp_path / "r.json")
    text = path.read_text(encoding="utf-8")
    assert "于家务回族乡" in text and "\\u" not in text  # ensure_ascii=False
    doc = json.loads(text)
    assert doc["scheme"] == {"code": "majuqiao", "name": "马驹桥平安指数", "version": 2,
                             "total_label": "平安指数"}  # fmt: skip
    assert doc["month"] == "2024-09" and doc["month_start"] == "2024-09-01"
    assert doc["previous_restated"] is True
    assert [c["name"] for c in doc["categories"]] == ["社会治安", LONG_NAME]
    first = doc["units"][0]
    assert first["region_name"] == "于家务回族乡" and first["rank"] == 1
    assert first["score"] == "91.20" and first["score_change_pct"] == "5.10"
    assert first["rank_change"] == 3 and first["grade_colour"] == "#1a9850"
    assert first["categories"][0] == {"code": "A", "name": "社会治安", "score": "54.72",
                                      "points": "60.00", "previous_score": "50.00"}  # fmt: skip
    assert [c["code"] for c in doc["units"][1]["categories"]] == ["A"]
    assert doc["units"][1]["previous_rank"] is None
    assert doc == exports.ranking_document(_ranking())


def test_files_replace_old_ones_and_leave_no_temporary_files(tmp_path: Path) -> None:
    (tmp_path / "majuqiao_2024-09.xlsx").write_text("old, half written")
    paths = exports.write_ranking_files(_ranking(), tmp_path)
    assert [p.name for p in paths] == [f"majuqiao_2024-09.{ext}" for ext in exports.FORMATS]
    # beside them only the stamp of what they were written from (no temporary file)
    stamp = ".majuqiao_2024-09.written.json"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([stamp, *(p.name for p in paths)])
    openpyxl.load_workbook(paths[0])  # the old text file was replaced
    raw = paths[1].read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM, for Excel
    with open(paths[1], encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0])[:4] == ["排名", "乡镇街道", "区划代码", "平安指数"]
    assert rows[0]["乡镇街道"] == "于家务回族乡" and rows[0]["平安指数"] == "91.20"


def test_the_same_ranking_is_not_written_twice_but_anything_else_is(tmp_path: Path) -> None:
    """The monthly run writes a ranking as the export, then again for the draft: the
    second time the files are kept. Other content, or a file changed since, is written."""
    ranking = _ranking()
    paths = exports.write_ranking_files(ranking, tmp_path)
    inodes = {p.name: p.stat().st_ino for p in paths}  # a rewrite renames a new file in
    assert exports.write_ranking_files(ranking, tmp_path) == paths
    assert {p.name: p.stat().st_ino for p in paths} == inodes

    paths[1].write_text("edited by hand", encoding="utf-8")
    exports.write_ranking_files(ranking, tmp_path)
    assert paths[1].read_bytes().startswith(b"\xef\xbb\xbf")  # the csv again
    assert paths[0].stat().st_ino != inodes[paths[0].name]  # every file, rewritten

    inodes = {p.name: p.stat().st_ino for p in paths}
    first = ranking.units[0]
    renamed = replace(first, row=replace(first.row, region_name="改名镇"))
    changed = replace(ranking, units=(renamed, *ranking.units[1:]))
    exports.write_ranking_files(changed, tmp_path)
    assert all(p.stat().st_ino != inodes[p.name] for p in paths)
    with open(paths[1], encoding="utf-8-sig", newline="") as handle:
        assert next(csv.DictReader(handle))["乡镇街道"] == "改名镇"


# --- from the warehouse -------------------------------------------------------------

MARTS_DDL = """
create table marts.region_index_monthly (
    scheme_code text not null, scheme_name text, scheme_version integer not null,
    total_label text, month_start date not null, region_code text not null,
    region_name text, region_level text, peer_group_code text, peer_group_name text,
    score numeric(6,2) not null, grade text not null, grade_colour text, stars integer,
    warning_level text, rank_in_peer_group integer not null, units_ranked integer,
    previous_rank integer, rank_change integer, previous_score numeric(6,2),
    score_change_pct numeric(8,2), previous_restated boolean
);
create table marts.region_index_categories (
    scheme_code text not null, scheme_version integer not null, month_start date not null,
    region_code text not null, category_code text not null, category_name text,
    category_points numeric(6,2), sort_order integer, category_score numeric(6,2) not null,
    previous_category_score numeric(6,2)
);
create table marts.region_index_items (
    scheme_code text not null, month_start date not null, region_code text not null,
    category_name text, item_code text not null, item_name text, sort_order integer,
    metric_name text, metric_value numeric(18,4), points numeric(8,2),
    item_score numeric(8,2), is_adjustment boolean
);
create table marts.region_index_records (
    scheme_code text not null, month_start date not null, region_code text not null,
    item_code text not null, record_key text not null, contribution numeric not null,
    denominator numeric
);
"""

MONTHLY = [
    # scheme, name, v, label, month, code, region, level, peer, peer name, score, grade,
    # colour, stars, warning, rank, n, prev rank, change, prev score, pct, restated
    ("majuqiao", "马驹桥", 2, "平安指数", "2024-09-01", "110112115", "马驹桥镇", "township",
     "110112", "通州区", 80.5, "良好", "#91cf60", 4, "green", 2, 2, 1, -1, 82.0, -1.83, True),
    ("majuqiao", "马驹桥", 2, "平安指数", "2024-09-01", "110112114", "台湖镇", "township",
     "110112", "通州区", 90.0, "优秀", "#1a9850", 5, "green", 1, 2, 2, 1, 81.0, 11.11, True),
    ("majuqiao", "马驹桥", 1, "平安指数", "2024-08-01", "110112114", "台湖镇", "township",
     "110112", "通州区", 81.0, "良好", "#91cf60", 4, "green", 1, 1, None, None, None, None,
     False),
    ("xiaolan", "小榄", 1, "平安形势指数", "2024-09-01", "442000118001", "沙口社区", "village",
     "442000118", "小榄镇", 77.0, "B", "#fee08b", 3, "yellow", 1, 1, None, None, None, None,
     False),
]  # fmt: skip
CATEGORY_ROWS = [
    ("majuqiao", 2, "2024-09-01", "110112114", "B", "群众", 40, 2, 35, 30),
    ("majuqiao", 2, "2024-09-01", "110112114", "A", "社会治安", 60, 1, 55, 51),
    ("majuqiao", 2, "2024-09-01", "110112115", "A", "社会治安", 60, 1, 50.5, None),
    ("majuqiao", 2, "2024-09-01", "110112115", "B", "群众", 40, 2, 30, 31),
]

# scheme, month, unit, category, item, name, order, metric, value, points, score, adjustment
ITEM_ROWS = [
    ("majuqiao", "2024-09-01", "110112115", "社会治安", "XS_01", "刑事警情", 1, "刑事警情", 3,
     4, 2.5, False),
    ("majuqiao", "2024-09-01", "110112115", "社会治安", "ZA_04", "回访满意率", 2, "满意率",
     66.6667, 2, 1.8, False),
    ("majuqiao", "2024-09-01", "110112115", "群众", "JF_01", "见义勇为", 3, None, None, 0, 1,
     True),
    ("majuqiao", "2024-09-01", "110112114", "社会治安", "XS_01", "刑事警情", 1, "刑事警情", 0,
     4, 4, False),  # full marks: nothing to explain
]  # fmt: skip
RECORD_ROWS = [
    ("majuqiao", "2024-09-01", "110112115", "XS_01", key, 1, None) for key in ("J1", "J2", "J3")
] + [
    ("majuqiao", "2024-09-01", "110112115", "ZA_04", key, value, 1)
    for key, value in (("J1", 1), ("J2", 0), ("J3", 1))
]


@pytest.fixture
def marts(databases):
    warehouse, _ = databases
    with connect(warehouse) as conn:
        conn.execute(MARTS_DDL)
        with conn.cursor() as cur:
            cur.executemany(
                f"insert into marts.region_index_monthly values ({', '.join(['%s'] * 22)})",
                MONTHLY,
            )
            cur.executemany(
                f"insert into marts.region_index_categories values ({', '.join(['%s'] * 10)})",
                CATEGORY_ROWS,
            )
            cur.executemany(
                f"insert into marts.region_index_items values ({', '.join(['%s'] * 12)})",
                ITEM_ROWS,
            )
            cur.executemany(
                f"insert into marts.region_index_records values ({', '.join(['%s'] * 7)})",
                RECORD_ROWS,
            )
    return warehouse


def test_read_published_orders_units_and_categories(marts) -> None:
    with connect(marts) as conn:
        assert published_schemes(conn, SEP) == ["majuqiao", "xiaolan"]
        ranking = exports.read_published(conn, "majuqiao", SEP)
        assert exports.read_published(conn, "majuqiao", Month(2024, 7)) is None
    assert ranking is not None
    assert ranking.scheme_version == 2 and ranking.scheme_name == "马驹桥"
    assert [u.row.region_name for u in ranking.units] == ["台湖镇", "马驹桥镇"]
    assert [c.name for c in ranking.categories] == ["社会治安", "群众"]
    assert ranking.units[0].categories["B"].previous_score == Decimal("30.00")
    assert ranking.units[1].grade_colour == "#91cf60" and ranking.previous_restated
    # the CSV/terminal query still reads the same table
    assert [r.region_name for r in fetch_ranking(marts, SEP)["majuqiao"]] == ["台湖镇", "马驹桥镇"]


def test_export_month_writes_every_published_scheme(marts, tmp_path: Path) -> None:
    paths = exports.export_month(marts, SEP, tmp_path)
    assert [p.relative_to(tmp_path).as_posix() for p in paths] == [
        f"rankings/{scheme}_2024-09.{ext}"
        for scheme in ("majuqiao", "xiaolan")
        for ext in ("xlsx", "csv", "json")
    ]
    book = openpyxl.load_workbook(tmp_path / "rankings" / "majuqiao_2024-09.xlsx")
    assert book.sheetnames == ["乡镇街道排名", "社会治安", "群众", "乡镇街道扣分明细", "说明"]
    # each item a town lost or gained points on, in ranking then item order, with the
    # records behind it (a rate's: how many did not count in full); full marks are left out
    deductions = list(book["乡镇街道扣分明细"].iter_rows(values_only=True))
    assert deductions == [
        ("排名", "乡镇街道", "区划代码", "一级指标", "指标代码", "指标", "满分", "得分", "扣减分",
         "指标值", "记录数", "其中未全额计入"),
        (2, "马驹桥镇", "110112115", "社会治安", "XS_01", "刑事警情", 4, 2.5, -1.5, 3, 3, None),
        (2, "马驹桥镇", "110112115", "社会治安", "ZA_04", "回访满意率", 2, 1.8, -0.2,
         pytest.approx(66.6667), 3, 1),
        (2, "马驹桥镇", "110112115", "群众", "JF_01", "见义勇为", 0, 1, 1, None, 0, None),
    ]  # fmt: skip
    assert book["乡镇街道排名"]["F2"].fill.fgColor.rgb[-6:] == "1A9850"
    village = openpyxl.load_workbook(tmp_path / "rankings" / "xiaolan_2024-09.xlsx")
    assert village.sheetnames == ["村社区排名", "村社区扣分明细", "说明"]
    assert village["村社区排名"]["E1"].value == "平安形势指数"
    doc = json.loads((tmp_path / "rankings" / "xiaolan_2024-09.json").read_text("utf-8"))
    assert doc["units"][0]["region_name"] == "沙口社区" and doc["units"][0]["score"] == "77.00"
    assert exports.export_month(marts, Month(2024, 7), tmp_path / "none") == []


def test_export_ranking_task_writes_the_interval_month(marts) -> None:
    from pingan_transforms.settings import get_settings
    from pingan_transforms.tasks import export_ranking

    start = datetime(2024, 9, 1, tzinfo=ZoneInfo("Asia/Shanghai"))
    summary = export_ranking(start)
    assert summary["month"] == "2024-09"
    assert summary["schemes"] == {
        code: [f"{code}_2024-09.{ext}" for ext in ("xlsx", "csv", "json")]
        for code in ("majuqiao", "xiaolan")
    }
    assert (get_settings().output_dir / "rankings" / "xiaolan_2024-09.csv").exists()
    with pytest.raises(RuntimeError, match="no scores for 2024-07"):
        export_ranking(datetime(2024, 7, 1, tzinfo=ZoneInfo("Asia/Shanghai")))
