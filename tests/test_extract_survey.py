"""Survey office quarterly drops: xlsx → file-drop connector → raw → dbt staging.

The hand-written workbooks here are made with openpyxl directly (not by the
simulator), so the connector is tested against files it did not produce itself;
the simulator's own files are checked end to end through dbt.
"""

from __future__ import annotations

import math
import shutil
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from pingan_simulate.latent import latent_level
from pingan_simulate.survey import (
    SurveySimulation,
    latest_complete_quarter,
    write_survey_drop,
)
from pingan_transforms import tasks
from pingan_transforms.extract.files import TotalMismatch, parse_file
from pingan_transforms.extract.survey import SURVEY_SCORES, extract_survey_drops
from pingan_transforms.months import Month
from pingan_transforms.transform import run_dbt
from pingan_transforms.warehouse import connect
from tests.helpers import tongzhou_master

HEADER = ["统计季度", "行政区划代码", "乡镇街道名称", "样本量", "安全感得分", "满意度得分"]
TITLE = "通州区2024年第二季度群众安全感和满意度调查结果"
REASONS = {
    "missing score",
    "unparseable score",
    "score out of range (0-100)",
    "region code not in the region master",
}


def survey_xlsx(path: Path, rows: list[list], total: list | None) -> Path:
    """A survey sheet as an office types it: merged title, a header with full-width
    spaces, the rows, and a final 全区 row (label merged over A:C) with ``total``."""
    wb = Workbook()
    ws = wb.active
    ws.append([TITLE])
    ws.merge_cells("A1:F1")
    ws.append([HEADER[0], HEADER[1], "乡镇 街道名称", *HEADER[3:]])
    for row in rows:
        ws.append(row)
    if total is not None:
        ws.append(["全  区", None, None, *total])
        ws.merge_cells(f"A{ws.max_row}:C{ws.max_row}")
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def fetch(warehouse, sql: str, *params) -> list[tuple]:
    with connect(warehouse) as conn:
        return conn.execute(sql, params).fetchall()  # type: ignore[arg-type]


def test_title_and_total_rows_are_handled_and_values_load_exactly(databases, tmp_path) -> None:
    warehouse, _ = databases
    rel = "2024Q2/通州区群众安全感调查_2024年第2季度.xlsx"
    survey_xlsx(
        tmp_path / "drop" / rel,
        [
            ["2024Q2", "110112001", "中仓街道", 200, 90, 88.5],
            ["2024Q2", "110112002", "新华街道", 300, 80, "86.2%"],
            ["2024Q2", "110112003", "北苑街道", 100, None, 90],
        ],
        # 安全感: (200·90 + 300·80) / 500 = 84 (the row without a score has no weight)
        [600, 84, 87.6],
    )
    (result,) = extract_survey_drops(tmp_path / "drop", warehouse)
    assert (result.source, result.entity, result.rows, result.total_row) == (
        "survey", "scores", 3, 6,
    )  # fmt: skip
    # 样本量 and 安全感 agree; 满意度 cannot be averaged over a "86.2%"
    assert result.total_mismatches == (TotalMismatch("满意度得分", "87.6", None, "全区", "样本量"),)
    assert fetch(
        warehouse,
        "select tjjd, xzqhdm, xzjdmc, ybl, aqgdf, mydf, _source_file, _source_row "
        "from raw.survey__scores order by _source_row",
    ) == [
        ("2024Q2", "110112001", "中仓街道", "200", "90", "88.5", rel, 3),
        ("2024Q2", "110112002", "新华街道", "300", "80", "86.2%", rel, 4),
        ("2024Q2", "110112003", "北苑街道", "100", None, "90", rel, 5),
    ]
    assert fetch(warehouse, "select source, entity, row_count, total_check from raw._files") == [
        ("survey", "scores", 3,
         "mismatch (row 6): 满意度得分: 全区 says 87.6, but not every row holds a number"),
    ]  # fmt: skip


def test_total_row_checks_sample_sum_and_weighted_means(tmp_path) -> None:
    rows = [
        ["2024Q2", "110112001", "中仓街道", 200, 90.1, 88],
        ["2024Q2", "110112002", "新华街道", 300, 80.2, 86],
    ]
    # weighted means: 安全感 (18020 + 24060) / 500 = 84.16, 满意度 86.8
    good = parse_file(survey_xlsx(tmp_path / "a群众安全感.xlsx", rows, [500, 84.16, 86.8]),
                      SURVEY_SCORES)  # fmt: skip
    assert good.total_row == 5 and good.total_check == "ok (row 5)"
    # a mean stated with fewer decimals is checked to the decimals it shows
    assert parse_file(survey_xlsx(tmp_path / "b群众安全感.xlsx", rows, [500, 84.2, 87]),
                      SURVEY_SCORES).total_check == "ok (row 5)"  # fmt: skip
    bad = parse_file(survey_xlsx(tmp_path / "c群众安全感.xlsx", rows, [501, 85.16, 86.8]),
                     SURVEY_SCORES)  # fmt: skip
    assert [str(m) for m in bad.total_mismatches] == [
        "样本量: 全区 says 501, the rows sum to 500",
        "安全感得分: 全区 says 85.16, the 样本量-weighted mean of the rows is 84.1600",
    ]
    # an unweighted mean (85.15) is not the 全区 figure
    assert parse_file(survey_xlsx(tmp_path / "d群众安全感.xlsx", rows, [500, 85.15, 86.8]),
                      SURVEY_SCORES).total_mismatches[0].column == "安全感得分"  # fmt: skip
    # without a 全区 row every row is data; a 全区 row above the data totals nothing
    assert parse_file(survey_xlsx(tmp_path / "e群众安全感.xlsx", rows, None),
                      SURVEY_SCORES).total_row is None  # fmt: skip
    inside = survey_xlsx(tmp_path / "f群众安全感.xlsx", [["全区", None, None, 1, 1, 1], rows[0]],
                         [200, 90.1, 88])  # fmt: skip
    parsed = parse_file(inside, SURVEY_SCORES)
    assert parsed.total_rows == (3, 5) and len(parsed.rows) == 1
    assert parsed.total_check.startswith("mismatch (row 3): 样本量: 全区 says 1, the rows sum to 0")


def test_redropped_file_is_loaded_once(databases, tmp_path) -> None:
    warehouse, _ = databases
    regions = tongzhou_master(tmp_path / "regions.csv", towns=4)
    drop = tmp_path / "drop"
    path = write_survey_drop(SurveySimulation(seed=2), regions, 2024, 2, drop)
    (first,) = extract_survey_drops(drop, warehouse)
    assert first.rows == 4 and first.source_file == "2024Q2/" + path.name
    shutil.copy(path, drop / "2024Q2" / "群众安全感调查(重发).xlsx")
    (drop / "2024Q3").mkdir()
    shutil.copy(path, drop / "2024Q3" / path.name)
    assert extract_survey_drops(drop, warehouse) == []
    assert fetch(warehouse, "select count(*) from raw.survey__scores") == [(4,)]
    assert fetch(warehouse, "select count(*) from raw._files") == [(1,)]
    assert fetch(warehouse, "select count(*) from raw._batches") == [(1,)]


def test_simulation_is_reproducible_and_scores_follow_the_latent_level(tmp_path) -> None:
    regions = tongzhou_master(tmp_path / "regions.csv")
    a = write_survey_drop(SurveySimulation(), regions, 2024, 2, tmp_path / "a")
    b = write_survey_drop(SurveySimulation(), regions, 2024, 2, tmp_path / "b")
    c = write_survey_drop(SurveySimulation(seed=6), regions, 2024, 2, tmp_path / "c")
    assert a.relative_to(tmp_path / "a").as_posix() == (
        "2024Q2/通州区群众安全感调查_2024年第2季度.xlsx"
    )
    assert a.read_bytes() == b.read_bytes()  # fixed timestamps: byte-identical
    assert a.read_bytes() != c.read_bytes()
    assert load_workbook(a).active["A1"].value == TITLE

    clean = SurveySimulation(defect_rate=0.0)
    q2 = parse_file(write_survey_drop(clean, regions, 2024, 2, tmp_path / "d"), SURVEY_SCORES)
    q3 = parse_file(write_survey_drop(clean, regions, 2024, 3, tmp_path / "d"), SURVEY_SCORES)
    assert q2.total_check == "ok (row 25)" and q3.total_check == "ok (row 25)"
    assert len(q2.rows) == 22 and {v[0] for _, v in q2.rows} == {"2024Q2"}
    scores = {v[1]: float(v[4]) for _, v in q2.rows}
    assert len(set(scores.values())) > 15  # towns differ
    assert [v[4] for _, v in q2.rows] != [v[4] for _, v in q3.rows]  # quarters differ
    assert all(0 <= float(v[c]) <= 100 for _, v in q2.rows for c in (4, 5))
    # a riskier town (higher latent level) feels less safe: strongly negative correlation
    levels = {t: math.log(latent_level(clean.seed, t, Month(2024, 5), 0.25, 0.10)) for t in scores}
    mean_l, mean_s = sum(levels.values()) / 22, sum(scores.values()) / 22
    cov = sum((levels[t] - mean_l) * (scores[t] - mean_s) for t in scores)
    var_l = sum((x - mean_l) ** 2 for x in levels.values())
    var_s = sum((x - mean_s) ** 2 for x in scores.values())
    assert cov / math.sqrt(var_l * var_s) < -0.7

    # every defect kind appears at a high rate
    noisy = parse_file(
        write_survey_drop(SurveySimulation(defect_rate=0.6), regions, 2024, 2, tmp_path / "e"),
        SURVEY_SCORES,
    ).rows
    codes = {r.code for r in regions}
    values = [v for _, v in noisy]
    assert any(v[1] not in codes for v in values)
    assert any(None in v[4:] for v in values)
    assert any(str(x).endswith("%") for v in values for x in v[4:])
    assert any(x and not x.endswith("%") and float(x) > 100 for v in values for x in v[4:])


@pytest.mark.parametrize(
    ("month", "expected"),
    [(Month(2024, 7), (2024, 2)), (Month(2024, 9), (2024, 2)), (Month(2024, 6), (2024, 1)),
     (Month(2024, 1), (2023, 4)), (Month(2024, 3), (2023, 4)), (Month(2024, 10), (2024, 3))],
)  # fmt: skip
def test_latest_complete_quarter(month, expected) -> None:
    assert latest_complete_quarter(month) == expected


def test_dbt_stages_latest_versions_quarantines_the_rest_and_reconciles(
    databases, tmp_path, monkeypatch
) -> None:
    warehouse, _ = databases
    regions = tongzhou_master(tmp_path / "regions.csv")
    monkeypatch.setenv("PINGAN_REGIONS_FILE", str(tmp_path / "regions.csv"))
    tasks.load_regions()
    drop = tmp_path / "drop"
    original = "2024Q2/通州区群众安全感调查_2024年第2季度.xlsx"
    survey_xlsx(
        drop / original,
        [
            ["2024Q2", "110112001", "中仓街道", 200, 90.5, 88],
            ["2024Q2", "110112002", "新华街道", 300, 185.3, 80],
            ["2024Q2", "110112003", "北苑街道", 250, "86.2%", 80],
            ["2024Q2", "110112004", "玉桥街道", 150, None, 80],
            ["2024Q2", "110112999", "某街道", 100, 80, 80],
            ["2024年第一季度", "110112001", "中仓街道", 210, 91.25, 89],
        ],
        [1210],
    )
    first = extract_survey_drops(drop, warehouse)
    # the office re-exports Q2, corrected for two towns
    fix = "2024Q3/通州区群众安全感调查_2024年第2季度(更正).xlsx"
    survey_xlsx(
        drop / fix,
        [["2024Q2", "110112001", "中仓街道", 200, 95, 88],
         ["2024Q2", "110112003", "北苑街道", 250, 86.2, 80]],
        [450],
    )  # fmt: skip
    second = extract_survey_drops(drop, warehouse)
    sim_path = write_survey_drop(SurveySimulation(seed=4, defect_rate=0.5), regions, 2024, 3,
                                 tmp_path / "sim")  # fmt: skip
    simulated = extract_survey_drops(tmp_path / "sim", warehouse)
    assert [r.rows for r in (*first, *second, *simulated)] == [6, 2, 22]

    run_dbt(
        [
            "build",
            "--select",
            "+int_survey_batches_reconciled",
            "--indirect-selection",
            "cautious",
        ],
        warehouse,  # fmt: skip
    )

    assert fetch(
        warehouse,
        "select quarter_start, township_code, sample_size, security_score, satisfaction_score, "
        "batch_id, source_row from staging.stg_survey__scores "
        "where quarter_start < '2024-07-01' order by 1, 2",
    ) == [
        (date(2024, 4, 1), "110112001", 200, Decimal("95.00"), Decimal("88.00"),
         second[0].batch_id, 3),
        (date(2024, 4, 1), "110112003", 250, Decimal("86.20"), Decimal("80.00"),
         second[0].batch_id, 4),
    ]  # fmt: skip
    assert sorted(
        fetch(
            warehouse,
            "select source_file, source_row, record_key, quarantine_reason "
            "from intermediate.int_survey_records_quarantined where source_file not like '%%Q3/%%'"
            " or source_file = %s",
            fix,
        )
    ) == [
        (original, 4, "2024Q2 110112002", "score out of range (0-100)"),
        (original, 6, "2024Q2 110112004", "missing score"),
        (original, 7, "2024Q2 110112999", "region code not in the region master"),
        # the first quarter's result in the second quarter's file (its name says 第2季度)
        (original, 8, "2024Q1 110112001", "wrong quarter"),
        # the "86.2%" of row 5 is not here: the correction staged 北苑街道, so it is superseded
    ]
    reconciled = {
        row[0]: row[1:]
        for row in fetch(
            warehouse,
            "select source_file, recorded_rows, raw_rows, staged_rows, quarantined_rows, "
            "superseded_rows, is_reconciled from intermediate.int_survey_batches_reconciled",
        )
    }
    assert reconciled[original] == (6, 6, 0, 4, 2, True)
    assert reconciled[fix] == (2, 2, 2, 0, 0, True)

    # the simulated quarter, against an independent reading of its rows
    codes = {r.code for r in regions}
    sim_rows = [v for _, v in parse_file(sim_path, SURVEY_SCORES).rows]

    def reason(v: list) -> str | None:
        if v[1] not in codes:
            return "region code not in the region master"
        if None in v[4:]:
            return "missing score"
        if any(x.endswith("%") for x in v[4:]):
            return "unparseable score"
        if any(float(x) > 100 for x in v[4:]):
            return "score out of range (0-100)"
        return None

    expected = sorted((v[1], reason(v)) for v in sim_rows if reason(v))
    assert {r for _, r in expected} == REASONS, "the simulated quarter should show every defect"
    assert (
        sorted(
            fetch(
                warehouse,
                "select region_code, quarantine_reason "
                "from intermediate.int_survey_records_quarantined where batch_id = %s",
                simulated[0].batch_id,
            )
        )
        == expected
    )
    assert reconciled[simulated[0].source_file] == (
        22,
        22,
        22 - len(expected),
        len(expected),
        0,
        True,
    )
