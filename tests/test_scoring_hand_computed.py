"""A hand-computed case: three towns, a handful of incidents, scores checked to 2 decimals.

The scheme is a YAML file written by the test (HAND_SCHEME below) and loaded by
the pipeline's load_schemes task; every item is normalised per 10,000 residents +
floating population, rule deduct_per_unit: lose per_unit points per unit above the
baseline, capped at the item's points.

  item     baseline per_unit points
  刑事      0.7      2        15
  侵财      1.6      2        15
  电诈      1.0      2        10
  纠纷      4.0      1.5      20
  火警      0.3      4        20
  交通      2.5      1.5      20

August (T1 and T2 have 10,000 people at risk, T3 5,000 so its rates double):
  T1 甲镇: 刑事 3 → (3−0.7)×2 = 4.60; 侵财 1 → 0; 火警 1 → (1−0.3)×4 = 2.80  ⇒ 92.60 良好
  T2 乙镇: 刑事 1 → 0.60; 纠纷 10 → (10−4)×1.5 = 9.00; 交通 3 → 0.75      ⇒ 89.65 平稳
  T3 丙街道: 刑事 1 → rate 2 → 2.60; 电诈 1 → rate 2 → 2.00;
           火警 4 → rate 8 → 30.8, capped at 20                          ⇒ 75.40 较差
September: only T2 has an incident (火警 1 → 2.80 ⇒ 97.20); T1 and T3 score 100
and tie for rank 1 (the tie-break category 社会治安 is 40 for both), T2 is 3rd.
Stars by rank share (top third 3 stars, next 2, last 1): the tie shares 3 stars.
"""

from __future__ import annotations

import csv
import os
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from openpyxl import load_workbook

from pingan_simulate.police import FRAUD_TABLE_DDL, FRONT_COLUMNS, FRONT_TABLE_DDL
from pingan_transforms import tasks
from pingan_transforms.contracts.regions import CENTROID_COLUMNS, MASTER_COLUMNS
from pingan_transforms.months import Month
from pingan_transforms.settings import get_settings
from pingan_transforms.warehouse import connect

REGIONS = [
    ("110000", "北京市", "province", "", "", ""),
    ("110199", "测试区", "county", "110000", "", ""),
    ("110199001", "甲镇", "township", "110199", "", ""),
    ("110199002", "乙镇", "township", "110199", "", ""),
    ("110199003", "丙街道", "township", "110199", "", ""),
    ("110199001201", "甲村", "village", "110199001", "10000", "0"),
    ("110199002201", "乙村", "village", "110199002", "8000", "2000"),
    ("110199003001", "丙社区", "village", "110199003", "4000", "1000"),
]
CENTROIDS = {"110199001201": (116.50, 39.70), "110199002201": (116.60, 39.75),
             "110199003001": (116.70, 39.80)}  # fmt: skip
SEP_FIRE = datetime(2024, 9, 3, 8)
HAND_SCHEME = """
scheme_code: hand
version: 1
valid_from: 2024-01
name: 手算方案
total_label: 平安指数
ranked_level: township
peer_level: county
scope: "110199"
total_points: 100
tie_break: [SHZA]
grades:
  - {grade: 优秀, min: 95, max: 100, colour: "#1a9850"}
  - {grade: 良好, min: 90, max: 95, colour: "#91cf60"}
  - {grade: 平稳, min: 80, max: 90, colour: "#fee08b"}
  - {grade: 较差, min: 0, max: 80, colour: "#d73027"}
stars:
  method: rank_share
  levels:
    - {stars: 3, top_share: 0.3}
    - {stars: 2, top_share: 0.6}
    - {stars: 1, top_share: 1.0}
categories:
  - code: SHZA
    name: 社会治安
    points: 40
    indicators:
      - code: SHZA_A
        name: 刑事治安
        points: 40
        items:
          - {code: SHZA_01, name: 刑事警情, points: 15, metric: police_incidents_criminal,
             normalisation: per_10k_residents_floating, rule: deduct_per_unit,
             baseline: 0.7, per_unit: 2}
          - {code: SHZA_02, name: 侵财警情, points: 15, metric: police_incidents_property,
             normalisation: per_10k_residents_floating, rule: deduct_per_unit,
             baseline: 1.6, per_unit: 2}
          - {code: SHZA_03, name: 电信网络诈骗警情, points: 10,
             metric: police_incidents_telecom_fraud,
             normalisation: per_10k_residents_floating, rule: deduct_per_unit,
             baseline: 1.0, per_unit: 2}
  - code: MDJF
    name: 矛盾纠纷
    points: 20
    indicators:
      - code: MDJF_A
        name: 纠纷
        points: 20
        items:
          - {code: MDJF_01, name: 纠纷警情, points: 20, metric: police_incidents_dispute,
             normalisation: per_10k_residents_floating, rule: deduct_per_unit,
             baseline: 4.0, per_unit: 1.5}
  - code: AQYH
    name: 安全隐患
    points: 20
    indicators:
      - code: AQYH_A
        name: 火灾
        points: 20
        items:
          - {code: AQYH_01, name: 火警警情, points: 20, metric: police_incidents_fire,
             normalisation: per_10k_residents_floating, rule: deduct_per_unit,
             baseline: 0.3, per_unit: 4}
  - code: JTZX
    name: 交通秩序
    points: 20
    indicators:
      - code: JTZX_A
        name: 交通
        points: 20
        items:
          - {code: JTZX_01, name: 交通警情, points: 20, metric: police_incidents_traffic,
             normalisation: per_10k_residents_floating, rule: deduct_per_unit,
             baseline: 2.5, per_unit: 1.5}
"""
CATEGORY = {"刑事": "10", "侵财": "30", "电信网络诈骗": "40", "纠纷": "60", "交通": "70",
            "火警": "80", "求助": "90"}  # fmt: skip


def _incident(
    no: str,
    region: str | None,
    category: str,
    reported: datetime,
    updated: datetime,
    address: str = "测试地址",
):
    row = dict.fromkeys(FRONT_COLUMNS)
    row.update(
        jjdbh=no, bjsj=reported, pjsj=reported + timedelta(minutes=2),
        ddsj=reported + timedelta(minutes=12), jqlbdm=CATEGORY[category], jqlbmc=category,
        jqxldm=CATEGORY[category] + "01", xzqhdm=region, fadz=address, jd=116.6, wd=39.9,
        bjrxm="张三", bjrdh="13800000000", bjrsfzh="110112199001010011", hfmyd="满意",
        gxsj=updated,
    )  # fmt: skip
    return tuple(row[c] for c in FRONT_COLUMNS)


def _august_incidents():
    day = datetime(2024, 8, 5, 10, 0)
    later = day + timedelta(hours=3)
    plan = [
        ("110199001201", "刑事", 4),  # one of these is corrected to 求助 later
        ("110199001201", "侵财", 1),
        ("110199001201", "火警", 1),
        ("110199002201", "刑事", 1),
        ("110199002201", "纠纷", 10),
        ("110199002201", "交通", 3),
        ("110199003001", "刑事", 1),
        ("110199003", "电信网络诈骗", 1),  # placed by its town-level code
        ("110199003001", "火警", 4),
        ("110199999201", "刑事", 1),  # unknown region: quarantined
    ]
    rows, n = [], 0
    for region, category, count in plan:
        for _ in range(count):
            n += 1
            rows.append(_incident(f"H{n:04d}", region, category, day, later))
    # placed by address text: only the county code, or no code at all (求助 is not scored)
    rows.append(_incident("H0028", "110199", "求助", day, later, address="测试区甲镇甲村5号"))
    rows.append(_incident("H0029", None, "求助", day, later, address="乙镇某路8号"))
    # no code, no address, a location fix 150 m from 丙社区's centroid: placed by coordinates
    near = _incident("H0030", None, "求助", day, later, address="")
    near = tuple(
        {"jd": 116.7015, "wd": 39.8008}.get(col, value)
        for col, value in zip(FRONT_COLUMNS, near, strict=True)
    )
    rows.append(near)
    return rows


@pytest.fixture
def hand_case(databases, tmp_path, monkeypatch):
    warehouse, police = databases
    master = tmp_path / "regions.csv"
    with open(master, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(MASTER_COLUMNS + CENTROID_COLUMNS)
        for row in REGIONS:
            writer.writerow([*row, "2020-01-01", "", *CENTROIDS.get(row[0], ("", ""))])
    monkeypatch.setenv("PINGAN_REGIONS_FILE", str(master))
    schemes = tmp_path / "schemes"
    schemes.mkdir()
    (schemes / "hand.yaml").write_text(HAND_SCHEME, encoding="utf-8")
    monkeypatch.setenv("PINGAN_SCHEMES_DIR", str(schemes))
    # only the police source exists here, so a month is scored once police delivered it
    monkeypatch.setenv("PINGAN_SCORED_MONTH_SOURCES", '["police"]')
    with psycopg.connect(police.url) as conn:
        conn.execute(FRONT_TABLE_DDL)
        conn.execute(FRAUD_TABLE_DDL)  # the front database has both tables; no warnings here
        with conn.cursor().copy(f"copy jq_110 ({', '.join(FRONT_COLUMNS)}) from stdin") as cp:
            for row in _august_incidents():
                cp.write_row(row)
    return warehouse, police


def _scores(warehouse, month: str):
    with connect(warehouse) as conn:
        return {
            r[0]: r[1:]
            for r in conn.execute(
                "select region_name, score, grade, rank_in_peer_group, previous_rank, "
                "rank_change, score_change_pct, stars from marts.region_index_monthly "
                "where month_start = %s",
                (Month.parse(month).first_day,),
            ).fetchall()
        }


def test_hand_computed_scores_ranks_and_month_on_month(hand_case, tmp_path, capsys) -> None:
    warehouse, police = hand_case
    tasks.load_regions()
    tasks.load_schemes()
    # first extract sees H0001 as 刑事; the front desk then corrects it to 求助
    tasks.extract(
        "police",
        datetime.fromisoformat("2024-08-01T00:00:00+08:00"),
        datetime.fromisoformat("2024-08-20T00:00:00+08:00"),
    )
    with psycopg.connect(police.url) as conn:
        conn.execute(
            "update jq_110 set jqlbdm = '90', jqlbmc = '求助', jqxldm = '9001', "
            "gxsj = '2024-08-25 09:00' where jjdbh = 'H0001'"
        )
        conn.execute(
            f"insert into jq_110 ({', '.join(FRONT_COLUMNS)}) values "
            f"({', '.join(['%s'] * len(FRONT_COLUMNS))})",
            _incident("S0001", "110199002201", "火警", SEP_FIRE, SEP_FIRE + timedelta(hours=1)),
        )
    tasks.extract(
        "police",
        datetime.fromisoformat("2024-09-01T00:00:00+08:00"),
        datetime.fromisoformat("2024-10-01T00:00:00+08:00"),
    )
    tasks.build_models()

    aug = _scores(warehouse, "2024-08")
    assert aug == {
        "甲镇": (Decimal("92.60"), "良好", 1, None, None, None, 3),
        "乙镇": (Decimal("89.65"), "平稳", 2, None, None, None, 2),
        "丙街道": (Decimal("75.40"), "较差", 3, None, None, None, 1),
    }
    sep = _scores(warehouse, "2024-09")
    assert sep == {
        "甲镇": (Decimal("100.00"), "优秀", 1, 1, 0, Decimal("7.99"), 3),
        "丙街道": (Decimal("100.00"), "优秀", 1, 3, 2, Decimal("32.63"), 3),
        "乙镇": (Decimal("97.20"), "优秀", 3, 2, -1, Decimal("8.42"), 1),
    }

    with connect(warehouse) as conn:
        # the corrected version replaced the first one in staging
        assert conn.execute(
            "select category_key from staging.stg_police__incidents where incident_no = 'H0001'"
        ).fetchone() == ("assistance",)
        assert conn.execute(
            "select count(*) from raw.police__incidents where jjdbh = 'H0001'"
        ).fetchone() == (2,)
        # the unplaceable incident is quarantined with its reason, not silently dropped
        assert conn.execute(
            "select incident_no, quarantine_reason "
            "from intermediate.int_police_incidents_quarantined"
        ).fetchall() == [
            ("H0027", "region code 110199999201 not placeable, no placeable address or coordinates")
        ]
        placed = conn.execute(
            "select incident_no, village_code, township_code, placement_method "
            "from intermediate.int_police_incidents_located "
            "where incident_no in ('H0028', 'H0029', 'H0030') order by incident_no"
        ).fetchall()
        assert placed == [
            ("H0028", "110199001201", "110199001", "address_village"),
            ("H0029", None, "110199002", "address_town"),
            ("H0030", "110199003001", "110199003", "coordinates"),
        ]
        # traceability: 丙街道's fire item explains the cap
        assert conn.execute(
            "select metric_value, normalised_value, item_score, scoring_note "
            "from marts.region_index_items where region_code = '110199003' "
            "and item_code = 'AQYH_01' and month_start = '2024-08-01'"
        ).fetchone() == (Decimal("4.0000"), Decimal("8.0000"), Decimal("0.00"), None)
        # and every score is the sum of its items
        assert conn.execute(
            "select count(*) from marts.region_index_monthly m where score <> ("
            "  select sum(item_score) from marts.region_index_items i "
            "  where i.region_code = m.region_code and i.month_start = m.month_start)"
        ).fetchone() == (0,)
        # rollup: a town's count is the sum of its villages' plus what was placed only at
        # the town; the county's is the sum of its towns'
        rows = dict(
            conn.execute(
                "select region_code, value from intermediate.int_region_metrics_rolled_up "
                "where metric_code = 'police_incidents_criminal' and month_start = '2024-08-01'"
            ).fetchall()
        )
        assert rows["110199"] == Decimal("5") == sum(rows[t] for t in
            ("110199001", "110199002", "110199003"))  # fmt: skip
        assert rows["110199001"] == rows["110199001201"] == Decimal("3")

    # Traceability to the record (issue 14): 甲镇 lost 4.60 on 刑事 for H0002-H0004 (H0001
    # was re-coded 求助 and left it) and 2.80 on 火警 for H0006; the records are raw's
    from pingan_transforms.cli import main as pingan

    saved = tmp_path / "jia.csv"
    assert pingan(["explain", "hand", "2024-08", "甲镇", "--all", "--csv", str(saved)]) == 0
    printed = capsys.readouterr().out
    assert printed.splitlines()[0].startswith("2024-08 甲镇（110199001）平安指数 92.60 良好 第1名")
    assert "SHZA_01 刑事警情：满分 15.00，得分 10.40，扣分 4.60；" in printed
    assert "AQYH_01 火警警情：满分 20.00，得分 17.20，扣分 2.80；" in printed
    with saved.open(encoding="utf-8-sig", newline="") as handle:
        saved_rows = list(csv.DictReader(handle))
    by_item: dict[str, list[str]] = {}
    for row in saved_rows:
        by_item.setdefault(row["指标代码"], []).append(row["记录编号"])
    assert by_item == {"SHZA_01": ["H0002", "H0003", "H0004"], "SHZA_02": ["H0005"],
                       "AQYH_01": ["H0006"]}  # fmt: skip
    with connect(warehouse) as conn:
        for row in saved_rows:  # each is the version raw holds, in the batch it names
            assert conn.execute(
                "select count(*) from raw.police__incidents where jjdbh = %s and _batch_id = %s",
                (row["记录编号"], row["批次"]),
            ).fetchone() == (1,)
        # every count item's records add up to its metric value (as the dbt test checks)
        assert (
            conn.execute(
                "select i.item_code, i.metric_value, count(r.record_key) "
                "from marts.region_index_items i left join marts.region_index_records r "
                "using (scheme_code, scheme_version, month_start, region_code, item_code) "
                "where i.region_code = '110199002' and i.month_start = '2024-08-01' "
                "group by 1, 2 having i.metric_value <> count(r.record_key)"
            ).fetchall()
            == []
        )
    assert pingan(["explain", "hand", "2024-08", "丁镇"]) == 1
    assert "no unit of scheme 'hand' in 2024-08 named or coded '丁镇'" in capsys.readouterr().err

    # A second version from September halves the fire item's per_unit (4 → 2).
    # August keeps its v1 scores; September is scored with v2, and its comparison
    # with August is restated under v2 and marked so:
    #   August under v2: 甲镇 100 − 4.60 − (1−0.3)×2 = 94.00; 乙镇 89.65 (no fire);
    #   丙街道 100 − 2.60 − 2.00 − min(20, (8−0.3)×2 = 15.40) = 80.00
    #   September under v2: 乙镇 100 − (1−0.3)×2 = 98.60; 甲镇 and 丙街道 100
    schemes = Path(os.environ["PINGAN_SCHEMES_DIR"])
    v2 = HAND_SCHEME.replace("version: 1", "version: 2").replace(
        "valid_from: 2024-01", "valid_from: 2024-09"
    )
    v2 = v2.replace("baseline: 0.3, per_unit: 4}", "baseline: 0.3, per_unit: 2}")
    (schemes / "hand_v2.yaml").write_text(v2, encoding="utf-8")
    tasks.load_schemes()
    tasks.build_models()
    assert _scores(warehouse, "2024-08") == aug
    with connect(warehouse) as conn:
        sep_v2 = {
            r[0]: r[1:]
            for r in conn.execute(
                "select region_name, scheme_version, score, rank_in_peer_group, previous_score, "
                "previous_rank, rank_change, score_change_pct, previous_restated "
                "from marts.region_index_monthly where month_start = '2024-09-01'"
            ).fetchall()
        }
        assert conn.execute(
            "select distinct scheme_version from marts.region_index_monthly "
            "where month_start = '2024-08-01'"
        ).fetchall() == [(1,)]
    assert sep_v2 == {
        "甲镇": (2, Decimal("100.00"), 1, Decimal("94.00"), 1, 0, Decimal("6.38"), True),
        "丙街道": (2, Decimal("100.00"), 1, Decimal("80.00"), 3, 2, Decimal("25.00"), True),
        "乙镇": (2, Decimal("98.60"), 3, Decimal("89.65"), 2, -1, Decimal("9.98"), True),
    }

    # `pingan scheme compare` (issue 15) scores two files over the same months in a copy of
    # the warehouse, publishing nothing. v1 against a B whose fire item deducts 0.5 a
    # case (not 4): August under B is 甲镇 100 − 4.60 − 0.7 × 0.5 = 95.05, 乙镇 89.65,
    # 丙街道 100 − 2.60 − 2.00 − 7.7 × 0.5 = 91.55: 丙街道 passes 乙镇 (ρ = 1 − 6·2/24 = 0.5),
    # and its fire item, 0 points under A, gives 16.15 under B.
    gentle = HAND_SCHEME.replace("baseline: 0.3, per_unit: 4}", "baseline: 0.3, per_unit: 0.5}")
    (tmp_path / "gentle.yaml").write_text(gentle, encoding="utf-8")
    (tmp_path / "hand.yaml").write_text(HAND_SCHEME, encoding="utf-8")
    files = [str(tmp_path / "hand.yaml"), str(tmp_path / "gentle.yaml")]
    xlsx = str(tmp_path / "compare.xlsx")
    assert pingan(["scheme", "compare", *files, "--months", "2024-08", "--xlsx", xlsx]) == 0
    printed = capsys.readouterr().out
    assert "2024-08: Spearman's ρ between the two rankings = 0.500" in printed
    rows = {
        r[0]: r[2:]
        for r in load_workbook(tmp_path / "compare.xlsx")["2024-08排名对比"].iter_rows(
            min_row=2, values_only=True
        )
    }
    assert rows == {
        "甲镇": (1, 92.6, 1, 95.05, 0, 2.45),
        "丙街道": (3, 75.4, 2, 91.55, 1, 16.15),
        "乙镇": (2, 89.65, 3, 89.65, -1, 0),
    }
    explained = list(
        load_workbook(tmp_path / "compare.xlsx")["主要影响指标"].iter_rows(
            min_row=2, values_only=True
        )
    )
    assert explained == [("2024-08", "丙街道", "110199003", "火警警情", 0, 16.15, 16.15)]
    assert _scores(warehouse, "2024-08") == aug  # the real warehouse is as it was

    # `pingan docs` (issue 18): the dbt docs site as one static page, with the exposures
    assert pingan(["docs"]) == 0
    site = get_settings().output_dir / "dbt-docs" / "index.html"
    assert "dbt docs:" in capsys.readouterr().out and site.exists()
    text = site.read_text(encoding="utf-8")
    assert "monthly_bulletin" in text and "region_index_monthly" in text

    # Appeals (申诉, issue 14). 甲镇 contests two of its three August 刑事 records: H0003
    # repeats H0002 (taken out), H0004 happened in 乙镇 (moved there). Accepted, the next
    # build scores 甲镇 刑事 1 → (1−0.7)×2 = 0.60 ⇒ 96.60 and 乙镇 刑事 2 → 2.60 ⇒ 87.65;
    # 丙街道, which nobody appealed about, keeps 75.40 and its rank.
    def appeal(*args: str) -> tuple[int, str, str]:
        code = pingan(["appeal", *args])
        out, err = capsys.readouterr()
        return code, out, err

    code, out, _ = appeal("file", "hand", "2024-08", "甲镇", "--records", "H0003",
                          "--reason", "与H0002重复录入", "--by", "甲镇综治办")  # fmt: skip
    assert code == 0 and out.startswith("appeal 1 filed: 申诉第1号（甲镇，1条记录：H0003；")
    assert appeal("file", "hand", "2024-08", "110199001", "--records", "H0004",
                  "--reason", "发生在乙镇辖区")[0] == 0  # fmt: skip
    # bad input: one line that says what is wrong, nothing recorded
    for args, says in [
        (("甲镇", "--records", "H9999"), "unknown record key 'H9999'"),
        (("乙镇", "--records", "H0002"), "record 'H0002' is not counted in 乙镇 in 2024-08 "
                                         "(it is counted in 甲村 in 2024-08)"),
        (("甲镇", "--records", "H0003"), "record 'H0003' is already in appeal 1 (待复核)"),
    ]:  # fmt: skip
        code, _, err = appeal("file", "hand", "2024-08", *args, "--reason", "不属本单位")
        assert code == 1 and err.startswith("pingan appeal: " + says), err
    assert appeal("decide", "1", "accept", "--by", "张三")[0] == 0
    code, out, _ = appeal("decide", "2", "accept", "--by", "张三", "--move-to", "乙镇")
    assert code == 0 and "已采纳，改计入乙镇" in out and "pingan run 2024-08" in out
    code, _, err = appeal("decide", "1", "reject", "--by", "李四")
    assert code == 1 and "appeal 1 was already decided (已采纳 by 张三" in err
    code, out, _ = appeal("list", "hand", "2024-08")
    assert code == 0 and "police.incidents H0004 @ 110199001" in out and "→ 乙镇" in out
    with connect(warehouse) as conn:
        assert conn.execute(
            "select appeal_id, event, actor from publish.appeal_events order by event_id"
        ).fetchall() == [(1, "filed", "甲镇综治办"), (2, "filed", None),
                         (1, "accepted", "张三"), (2, "accepted", "张三")]  # fmt: skip

    items_query = (
        "select r.region_name, i.item_code, i.item_score, i.metric_value "
        "from marts.region_index_items i join marts.region_index_monthly r "
        "using (scheme_code, scheme_version, month_start, region_code) "
        "where i.month_start = '2024-08-01'"
    )
    with connect(warehouse) as conn:
        items_before = {r[:2]: r[2:] for r in conn.execute(items_query).fetchall()}
    tasks.build_models()
    with connect(warehouse) as conn:
        items_after = {r[:2]: r[2:] for r in conn.execute(items_query).fetchall()}
    # only the items the contested records counted in moved, for 甲镇 and 乙镇 alone
    moved = {k: (items_before[k], v) for k, v in items_after.items() if items_before[k] != v}
    assert moved == {
        ("甲镇", "SHZA_01"): ((Decimal("10.40"), Decimal("3.0000")),
                              (Decimal("14.40"), Decimal("1.0000"))),
        ("乙镇", "SHZA_01"): ((Decimal("14.40"), Decimal("1.0000")),
                              (Decimal("12.40"), Decimal("2.0000"))),
    }  # fmt: skip
    appealed = _scores(warehouse, "2024-08")
    assert {name: row[:3] for name, row in appealed.items()} == {
        "甲镇": (Decimal("96.60"), "优秀", 1),
        "乙镇": (Decimal("87.65"), "平稳", 2),
        "丙街道": (Decimal("75.40"), "较差", 3),
    }
    with connect(warehouse) as conn:
        records = conn.execute(
            "select region_code, record_key, placement_method, appeal_id "
            "from marts.region_index_records where month_start = '2024-08-01' "
            "and item_code = 'SHZA_01' order by region_code, record_key"
        ).fetchall()
    jia = [r[1:] for r in records if r[0] == "110199001"]
    yi = [r[1:] for r in records if r[0] == "110199002"]
    assert jia == [("H0002", "region_code", None)]  # H0003 out, H0004 moved
    assert len(yi) == 2 and ("H0004", "appeal", 2) in yi
