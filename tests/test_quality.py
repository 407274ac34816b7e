"""The quality gate: every suite of expectations/ passes good data and fails crafted bad data.

The raw suites run on hand-made batches, one good and one bad batch per table in one
checkpoint (a table's batches are one validation, and its row checks judge each batch,
a delivery, on its own: a failure must name the bad batch and never the good one); the
bad batch carries, per check it must fail, more defective rows than the check tolerates,
which the failure's sample rows must show. The mart suites run on a small hand-scored month
(scheme S0: five towns, a tie on score broken by the tie-break category, a real tie
sharing rank 3, the next rank skipping to 5) and then on the same month with crafted
schemes beside it (S1…), each breaking one rule.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from pingan_transforms.months import Month
from pingan_transforms.quality import QualityGateFailed, QualityReport, run_quality_checks
from pingan_transforms.quality.runner import load_expectations, plan_validations
from pingan_transforms.settings import ConfigError, get_settings
from pingan_transforms.warehouse import connect

PROJECT = Path(__file__).resolve().parent.parent
SEP = Month(2024, 9)
SEP_END = SEP.end()  # the data interval end of the September run: 2024-10-01 00:00 +08:00
HASH = "ab" * 32
suites = load_expectations(PROJECT)
RAW = {spec.name: spec.raw for spec in suites.SUITES if spec.raw is not None}


# --- raw batches --------------------------------------------------------------------------


def _day(i: int) -> str:
    return f"2024-09-{i % 30 + 1:02d}"


def good_rows(table: str, n: int) -> list[dict[str, str | None]]:
    """``n`` rows of ``table`` that every check of its suite accepts (September 2024)."""
    rows: list[dict[str, str | None]] = []
    for i in range(n):
        town = f"110112{i + 1:03d}"
        village = f"{town}001"
        at = f"{_day(i)} 10:0{i % 10}:00"
        row: dict[str, str | None]
        if table == "raw.police__incidents":
            row = dict(jjdbh=f"J{i:05d}", bjsj=at, pjsj=at, ddsj=at, jqlbdm="10",
                       jqlbmc="刑事", jqxldm="1001", xzqhdm=village, fadz="某街1号",
                       jd="116.5", wd="39.7", bjrdh_hash=HASH, bjrsfzh_hash=HASH,
                       hfmyd="满意", gxsj=at)  # fmt: skip
        elif table == "raw.police__fraud_warnings":
            row = dict(yjbh=f"F{i:05d}", yjsj=at, xzqhdm=village, yjlx="电话预警",
                       shrdh_hash=HASH, qzjg="劝阻成功", zfje="100.50", gxsj=at)  # fmt: skip
        elif table == "raw.traffic__accidents":
            row = dict(accident_no=f"SG{i:05d}", occur_time=at, location="路口",
                       area_code=village, death_count="0", injury_count="1",
                       vehicle_types='["小型汽车"]', update_time=f"{_day(i)}T12:00:00+08:00",
                       reporter_phone_hash=HASH)  # fmt: skip
        elif table == "raw.traffic__violations":
            row = dict(area_code=town, stat_month="2024-09", violation_code="1625",
                       violation_name="闯红灯", violation_count="12",
                       update_time="2024-10-02T05:28:00+08:00")  # fmt: skip
        elif table == "raw.hotline__complaints":
            row = dict(order_no=f"RX{i:05d}", accept_time=at, area_code=village,
                       category="治安", appeal_type="投诉", status="已办结", finish_time=at,
                       satisfaction="满意", update_time=f"{_day(i)}T12:00:00+08:00",
                       caller_phone_hash=HASH)  # fmt: skip
        elif table == "raw.fire__fires":
            row = dict(xh=str(i + 1), hzbh=f"HZ{i:05d}", qhsj=at, qhdz="某街1号",
                       xzqhdm=village, qhyy="电气", swrs="0", ssrs="0",
                       zjccss="1000.5")  # fmt: skip
        elif table == "raw.fire__inspections":
            row = dict(tjyf="2024-09", xzqhdm=town, xzjdmc=f"{i}镇", jcdws="20", fxyhs="5",
                       zgyhs="4", zlgztzs="1", xzcfs="0", fkje="0")  # fmt: skip
        elif table == "raw.governance__petitions":
            row = dict(xfjbh=f"X{i:05d}", djsj=at, xzqhdm=village, xfrdh_hash=HASH,
                       xfrsfzh_hash=HASH, blzt="办结", bjrq=_day(i), myd="满意", sfcf="否",
                       sfjt="否", sfyj="否", gxsj=at)  # fmt: skip
        elif table == "raw.governance__disputes":
            row = dict(jfbh=f"M{i:05d}", fxrq=_day(i), xzqhdm=village, jflx="邻里",
                       tjjg="调解成功", jjrq=_day(i), gxsj=at)  # fmt: skip
        elif table == "raw.governance__grid_patrols":
            row = dict(xcbh=f"W{i:05d}", xcrq=_day(i), xzqhdm=village, xclx="05", fxwts="2",
                       zgwts="1", gxsj=at, wgydh_hash=HASH)  # fmt: skip
        elif table == "raw.survey__scores":
            row = dict(tjjd="2024Q2", xzqhdm=town, xzjdmc=f"{i}镇", ybl="300", aqgdf="88.5",
                       mydf="86.25")  # fmt: skip
        elif table == "raw.regions__master":
            # a county, then towns beneath it
            row = dict(code=town if i else "110112", name=f"{i}镇" if i else "通州区",
                       level="township" if i else "county", parent_code="110112" if i else None,
                       resident_population="10000", floating_population="2000",
                       valid_from="2020-01-01", valid_to=None, longitude="116.5",
                       latitude="39.7")  # fmt: skip
        else:  # pragma: no cover - a new raw table needs rows here
            raise AssertionError(f"no rows for {table}")
        rows.append(row)
    return rows


def _ref(table: str, row: dict, i: int) -> str:
    """The _row_ref of the ``i``-th row (0-based) of a batch: key @ where it came from."""
    raw = RAW[table]
    where = f"test:{i + 1}" if "_source_ref" in raw.meta else f"test.xlsx row {i + 1}"
    return "/".join(row[c] or "∅" for c in raw.key) + " @ " + where


#: Rows of a crafted bad batch, and how many rows carry each defect: more than any
#: check tolerates (2 rows, and 10 % of a delivery at most: 4 of 32 is 12.5 %).
BAD_ROWS, DEFECTIVE = 32, 4


def crafted(table: str) -> tuple[list[dict], dict[str, str]]:
    """A bad batch of ``table``: the checks it must fail, each with the key of a row that
    its sample must show. Each defect is on ``DEFECTIVE`` rows of its own."""
    rows = good_rows(table, BAD_ROWS)
    expect: dict[str, str] = {}
    event = RAW[table].event

    def spoil(check: str, first: int, column: str, value: str | None) -> None:
        for i in range(first, first + DEFECTIVE):
            rows[i][column] = value
        expect[check] = _ref(table, rows[first], first)

    def duplicate(i: int = 0) -> None:
        for copy in range(i + 1, i + 1 + DEFECTIVE):
            rows[copy] = dict(rows[i])
        # the first copy stands; the later ones are the defects
        expect["duplicate keys " + "+".join(RAW[table].key)] = _ref(table, rows[i], i + 1)

    def outside(value: str, i: int = 5) -> None:
        spoil(f"window {event.column}", i, event.column, value)

    def unknown(column: str, value: str, i: int = 9) -> None:
        spoil(f"allowed codes {column}", i, column, value)

    def missing(column: str, i: int = 13) -> None:
        spoil(f"required {column}", i, column, None)

    def malformed(column: str, value: str, i: int = 17) -> None:
        spoil(f"format {column}", i, column, value)

    if table == "raw.police__incidents":
        duplicate(), outside("2023-09-05 10:00:00"), unknown("jqlbdm", "99")
        missing("jjdbh"), malformed("bjrdh_hash", "13800138000")  # a phone in plain text
    elif table == "raw.police__fraud_warnings":
        duplicate(), outside("2024-12-30 10:00:00"), unknown("qzjg", "已报警")
        missing("yjbh")
    elif table == "raw.traffic__accidents":
        duplicate(), outside("2025-01-01 08:00:00"), missing("accident_no")
        malformed("death_count", "一人")
    elif table == "raw.traffic__violations":
        duplicate(), outside("2024-08"), unknown("violation_code", "9999")
        missing("stat_month")
    elif table == "raw.hotline__complaints":
        duplicate(), outside("2024-11-11 08:00:00"), unknown("category", "天气")
        missing("order_no"), malformed("caller_phone_hash", "13900139000")
    elif table == "raw.fire__fires":
        duplicate(), outside("2024-06-30 23:00:00"), missing("hzbh")
        malformed("zjccss", "约一万")
    elif table == "raw.fire__inspections":
        duplicate(), outside("2024-07"), missing("xzqhdm")
    elif table == "raw.governance__petitions":
        duplicate(), outside("2024-05-31 09:00:00"), unknown("blzt", "已办"), missing("xfjbh")
    elif table == "raw.governance__disputes":
        duplicate(), outside("2024-10-05"), unknown("tjjg", "和解"), missing("jfbh")
    elif table == "raw.governance__grid_patrols":
        duplicate(), outside("2023-09-01"), unknown("xclx", "09"), missing("xcbh")
        malformed("fxwts", "若干")
    elif table == "raw.survey__scores":
        duplicate(), outside("2023Q2"), missing("xzqhdm")
        spoil("range scores", 21, "aqgdf", "186.09")
    elif table == "raw.regions__master":
        duplicate(), unknown("level", "street"), missing("name")
        rows[25]["parent_code"] = "110199"
        expect["parent in master"] = _ref(table, rows[25], 25)
    return rows, expect


def insert_batch(
    conn,
    table: str,
    rows: list[dict],
    batch_id: str,
    window_end: datetime = SEP_END,
    first_load: bool = False,
    source_ref: str | None = None,
) -> None:
    """Rows and their raw._batches record; a watermarked batch continues from last month's
    cut-off unless it is the source's ``first_load``."""
    raw = RAW[table]
    source, entity = raw.source_entity
    now = datetime.now(UTC)
    columns = [*raw.columns, *raw.meta]
    extract = raw.selection == "extract" and not first_load
    with conn.cursor() as cur:
        for number, row in enumerate(rows, 1):
            meta = {"_batch_id": batch_id, "_extracted_at": now,
                    "_source_ref": f"test:{number}", "_source_file": "test.xlsx",
                    "_source_row": number}  # fmt: skip
            values = [row.get(c) for c in raw.columns] + [meta[c] for c in raw.meta]
            cur.execute(
                f"insert into {table} ({', '.join(columns)})"
                f" values ({', '.join(['%s'] * len(columns))})",
                values,
            )
        cur.execute(
            "insert into raw._batches (batch_id, source, entity, window_start, window_end,"
            " watermark_from, row_count, source_ref, extracted_at)"
            " values (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (batch_id, source, entity, SEP.start() if extract else None, window_end,
             SEP.start() if extract else None, len(rows), source_ref or f"{table} test", now),
        )  # fmt: skip


def _validation(report: QualityReport, suite: str):
    (found,) = [v for v in report.validated if v.suite == suite]
    return found


def _at_fault(report: QualityReport, batch_id: str) -> list:
    return [f for f in report.failures if batch_id in {d.batch_id for d in f.deliveries}]


def test_raw_suites_pass_good_batches_and_fail_crafted_ones(databases, tmp_path: Path) -> None:
    warehouse, _ = databases
    expected: dict[str, dict[str, str]] = {}
    with connect(warehouse) as conn:
        for table in RAW:
            name = table.split(".")[1]
            insert_batch(conn, table, good_rows(table, 8), f"good.{name}")
            rows, expected[table] = crafted(table)
            insert_batch(conn, table, rows, f"bad.{name}")
        # A first load reads the source's history up to the cut-off: old dates are fine,
        # dates after the month are not.
        history = good_rows("raw.police__incidents", 8)
        for i, row in enumerate(history):
            row["bjsj"] = f"20{19 + i % 5}-0{1 + i}-15 08:00:00"
            row["jjdbh"] = f"H{i:05d}"
        insert_batch(conn, "raw.police__incidents", history, "first.good", first_load=True)
        future = good_rows("raw.police__incidents", 8)
        for i in (3, 4, 5):
            future[i]["bjsj"] = f"2024-10-0{i} 08:00:00"
        insert_batch(conn, "raw.police__incidents", future, "first.bad", first_load=True)
        # A re-run of the month finds nothing new: an empty batch passes.
        insert_batch(conn, "raw.governance__petitions", [], "empty.rerun")
    batches = [f"{kind}.{t.split('.')[1]}" for t in RAW for kind in ("good", "bad")]
    batches += ["first.good", "first.bad", "empty.rerun"]

    report = run_quality_checks(
        warehouse, SEP, tmp_path, batch_ids=batches, layers=["raw"], data_docs=False
    )

    problems = []
    for table, checks in expected.items():
        name = table.split(".")[1]
        wrongly = _at_fault(report, f"good.{name}")
        if wrongly:
            failed = [f.describe() for f in wrongly]
            problems.append(f"{table}: the good batch failed:\n" + "\n".join(failed))
        assert not _validation(report, table).success, table
        failures = {f.check: f for f in _at_fault(report, f"bad.{name}")}
        for check, row_key in checks.items():
            failure = failures.get(check)
            if failure is None:
                problems.append(f"{table}: {check} did not fail (failed: {sorted(failures)})")
                continue
            shown = json.dumps(failure.sample_rows, ensure_ascii=False)
            if row_key not in shown or f'"_batch_id": "bad.{name}"' not in shown:
                problems.append(f"{table}: {check} does not show {row_key}: {shown}")
        unexpected = set(failures) - set(checks)
        if unexpected:
            problems.append(f"{table}: also failed {sorted(unexpected)}")
    assert not problems, "\n".join(problems)
    assert _at_fault(report, "first.good") == [] and _at_fault(report, "empty.rerun") == []
    (late,) = _at_fault(report, "first.bad")
    assert late.check == "window bjsj" and "2024-10-03 08:00:00" in str(late.sample_rows)
    assert {f.suite for f in report.failures} == set(RAW)
    assert report.not_validated == []
    # one validation per table, all of its batches in it
    assert len(report.validated) == len(RAW)
    assert _validation(report, "raw.police__incidents").batches == [
        "good.police__incidents",
        "bad.police__incidents",
        "first.good",
        "first.bad",
    ]


def test_schema_drift_fails_the_schema_check(databases, tmp_path: Path) -> None:
    warehouse, _ = databases
    with connect(warehouse) as conn:
        conn.execute("alter table raw.survey__scores add column bz text")  # 备注, unmapped
        insert_batch(conn, "raw.survey__scores", good_rows("raw.survey__scores", 4), "s.1")
    report = run_quality_checks(
        warehouse, SEP, tmp_path, batch_ids=["s.1"], layers=["raw"], data_docs=False
    )
    (failure,) = report.failures
    assert failure.check == "schema" and "bz" in failure.observed


def test_month_selects_its_batches(databases) -> None:
    """Batches cut by the month's run, file drops holding the month's rows, the master in
    force; not last month's run, nor a file of another season."""
    warehouse, _ = databases
    aug_end = Month(2024, 8).end()
    with connect(warehouse) as conn:
        insert_batch(conn, "raw.police__incidents", good_rows("raw.police__incidents", 2), "p.sep")
        insert_batch(conn, "raw.police__incidents", [], "p.aug", window_end=aug_end)
        insert_batch(conn, "raw.fire__fires", good_rows("raw.fire__fires", 2), "f.sep")
        old = [dict(r, qhsj="2023-01-05 10:00:00") for r in good_rows("raw.fire__fires", 2)]
        insert_batch(conn, "raw.fire__fires", old, "f.2023")
        insert_batch(conn, "raw.survey__scores", good_rows("raw.survey__scores", 2), "s.q2")
        master = good_rows("raw.regions__master", 2)
        insert_batch(conn, "raw.regions__master", master, "r.old", window_end=aug_end)
        insert_batch(conn, "raw.regions__master", master, "r.new", window_end=aug_end)
        conn.execute(
            "update raw._batches set extracted_at = extracted_at - interval '1 day'"
            " where batch_id = 'r.old'"
        )
        scope = suites.QualityScope(month=SEP, seeds_dir=PROJECT / "dbt_project" / "seeds")
        plan, not_validated = plan_validations(
            conn, suites.SUITES, scope, ["raw", "marts"], None, "Asia/Shanghai"
        )
    chosen = {(p.spec.name, batch) for p in plan for batch in p.batch_ids}
    assert chosen == {
        ("raw.police__incidents", "p.sep"),
        ("raw.fire__fires", "f.sep"),
        ("raw.survey__scores", "s.q2"),
        ("raw.regions__master", "r.new"),
    }
    assert "raw.traffic__accidents: no batch for 2024-09" in not_validated
    assert {p.spec.name for p in plan if p.spec.layer == "marts"} == {
        spec.name for spec in suites.SUITES if spec.mart is not None
    }


# --- marts --------------------------------------------------------------------------------


def _mart_ddl() -> str:
    """The marts as their enforced dbt contracts declare them (plus the scheme units)."""
    statements = [
        "create table intermediate.int_scheme_units_assigned (scheme_code text,"
        " scheme_version integer, region_code text, peer_group_code text)"
    ]
    for name in ("_marts__models.yml", "_marts__period_reports.yml"):
        models = yaml.safe_load((PROJECT / "dbt_project/models/marts" / name).read_text())
        for model in models["models"]:
            columns = ", ".join(f"{c['name']} {c['data_type']}" for c in model["columns"])
            statements.append(f"create table marts.{model['name']} ({columns})")
    return ";\n".join(statements)


def _insert(conn, table: str, rows: list[dict]) -> None:
    for row in rows:
        conn.execute(
            f"insert into {table} ({', '.join(row)}) values ({', '.join(['%s'] * len(row))})",
            list(row.values()),
        )


GRADES = [("优秀", 90, 100, 1), ("良好", 80, 90, 2), ("平稳", 60, 80, 3), ("较差", 0, 60, 4)]
# region, score, category A (the tie-break), category B, grade, rank
UNITS = [
    ("R1", 95, 57, 38, "优秀", 1),
    ("R2", 85, 50, 35, "良好", 2),  # ahead of R3 and R4 on the tie-break category A
    ("R3", 85, 45, 40, "良好", 3),  # a true tie with R4: both 3rd
    ("R4", 85, 45, 40, "良好", 3),
    ("R5", 50, 30, 20, "较差", 5),  # the rank after a shared 3rd is 5
]


def write_scheme(conn, code: str, units=UNITS, *, assigned=None) -> None:
    """A scheme version and its published month: units, categories and items."""
    month = SEP.first_day
    _insert(conn, "schemes.versions", [dict(
        scheme_code=code, scheme_version=1, scheme_name=code, valid_from="2024-01-01",
        ranked_level="township", peer_level="county", scope_code="110112", total_points=100,
        total_cap=100, total_label="平安指数", star_method="none", source_file="t.yaml",
        source_sha256="x")])  # fmt: skip
    _insert(conn, "schemes.grades", [
        dict(scheme_code=code, scheme_version=1, grade=g, min_score=lo, max_score=hi,
             colour="#000000", sort_order=order)
        for g, lo, hi, order in GRADES
    ])  # fmt: skip
    _insert(conn, "schemes.tie_breaks",
            [dict(scheme_code=code, scheme_version=1, position=1, category_code="A")])  # fmt: skip
    nodes = (("A", None, "category", 60), ("B", None, "category", 40),
             ("A1", "A", "item", 60), ("B1", "B", "item", 40))  # fmt: skip
    for node, parent, level, points in nodes:
        _insert(conn, "schemes.nodes", [dict(
            scheme_code=code, scheme_version=1, node_code=node, node_level=level,
            parent_code=parent, node_name=node, points=points, sort_order=1)])  # fmt: skip
        if level == "item":
            _insert(conn, "schemes.items", [dict(
                scheme_code=code, scheme_version=1, item_code=node, indicator_code=parent,
                category_code=parent, metric_code="m", normalisation="none",
                rule="deduct_per_unit", if_no_data="full")])  # fmt: skip
    for region, *_ in assigned or units:
        _insert(conn, "intermediate.int_scheme_units_assigned", [dict(
            scheme_code=code, scheme_version=1, region_code=region,
            peer_group_code="G")])  # fmt: skip
    for region, score, a, b, grade, rank in units:
        _insert(conn, "marts.region_index_monthly", [dict(
            scheme_code=code, scheme_version=1, month_start=month, region_code=region,
            peer_group_code="G", score=score, tree_score=score, adjustment_points=0,
            cap_adjustment=score - a - b, grade=grade, warning_level="green",
            veto_fired=False, rank_in_peer_group=rank, units_ranked=len(units))])  # fmt: skip
        for category, value in (("A", a), ("B", b)):
            _insert(conn, "marts.region_index_categories", [dict(
                scheme_code=code, scheme_version=1, month_start=month, region_code=region,
                category_code=category, category_points=60 if category == "A" else 40,
                category_score=value)])  # fmt: skip
            _insert(conn, "marts.region_index_items", [dict(
                scheme_code=code, scheme_version=1, month_start=month, region_code=region,
                category_code=category, item_code=category + "1",
                points=60 if category == "A" else 40, rule="deduct_per_unit",
                is_adjustment=False, item_score=value)])  # fmt: skip


def write_reports(conn, region: str, *, pct: float = 25.0, rate: float = 90.0) -> None:
    month = SEP.first_day
    _insert(conn, "marts.incident_trends", [dict(
        region_code=region, region_level="township", month_start=month,
        metric_code="police_incidents_total", incident_count=10, previous_month_count=8,
        previous_month_change_pct=pct, last_year_count=20, last_year_change_pct=-50,
        ytd_months=9, ytd_count=80, last_year_ytd_count=100, ytd_change_pct=-20)])  # fmt: skip
    _insert(conn, "marts.rate_reports", [
        dict(region_code=region, region_level="township", month_start=month,
             metric_code="petition_completion_rate", unit="%", numerator=rate / 10,
             denominator=10, value=rate, ytd_months=9, ytd_numerator=80, ytd_denominator=90,
             ytd_value=88.8889),
        dict(region_code=region, region_level="township", month_start=month,
             metric_code="police_arrival_minutes", unit="分钟", numerator=100, denominator=8,
             value=12.5, ytd_months=9),
    ])  # fmt: skip


@pytest.fixture
def good_month(databases):
    warehouse, _ = databases
    with connect(warehouse) as conn:
        conn.execute(_mart_ddl())
        write_scheme(conn, "S0")
        write_reports(conn, "110112001")
    return warehouse


def test_mart_suites_pass_on_a_good_month(good_month, tmp_path: Path) -> None:
    report = run_quality_checks(good_month, SEP, tmp_path, layers=["marts"], data_docs=False)
    assert report.success, "\n".join(f.describe() for f in report.failures)
    assert {v.suite for v in report.validated} == {
        spec.name for spec in suites.SUITES if spec.mart is not None
    }


def _units(**changes: tuple) -> list[tuple]:
    return [changes.get(u[0], u) for u in UNITS]


#: scheme → (what is wrong, the suite and check that must fail on it)
BAD_SCHEMES = {
    "S1dup": (_units(R3=("R3", 85, 45, 40, "良好", 2)), None,
              "marts.region_index_monthly", "ranks follow scores"),  # R3 is behind R2
    "S2gap": (_units(R5=("R5", 50, 30, 20, "较差", 6)), None,
              "marts.region_index_monthly", "ranks follow scores"),
    "S3cap": (_units(R1=("R1", 105, 57, 38, "优秀", 1)), None,
              "marts.region_index_monthly", "score within cap"),
    "S4grade": (_units(R2=("R2", 85, 50, 35, "优秀", 2)), None,
                "marts.region_index_monthly", "grade matches score"),
    "S5missing": (UNITS, [*UNITS, ("R6",)],
                  "marts.region_index_monthly", "peer groups complete"),
    "S6item": (_units(R1=("R1", 95, 62, 33, "优秀", 1)), None,
               "marts.region_index_items", "item score within points"),
}  # fmt: skip


def test_mart_suites_fail_on_crafted_months(good_month, tmp_path: Path) -> None:
    with connect(good_month) as conn:
        for code, (units, assigned, *_) in BAD_SCHEMES.items():
            write_scheme(conn, code, units, assigned=assigned)
        # categories that do not add up to the score, a category and an item missing,
        # a unit published twice in the items
        conn.execute(
            "update marts.region_index_categories set category_score = 30"
            " where scheme_code = 'S1dup' and region_code = 'R1' and category_code = 'B'"
        )
        conn.execute(
            "delete from marts.region_index_categories"
            " where scheme_code = 'S2gap' and region_code = 'R2' and category_code = 'B'"
        )
        conn.execute(
            "delete from marts.region_index_items"
            " where scheme_code = 'S3cap' and region_code = 'R3' and item_code = 'B1'"
        )
        conn.execute(
            "insert into marts.region_index_items select * from marts.region_index_items"
            " where scheme_code = 'S4grade' and region_code = 'R4' and item_code = 'A1'"
        )
        write_reports(conn, "110112002", pct=30.0, rate=120.0)  # 25% really; 120% is no rate

    report = run_quality_checks(good_month, SEP, tmp_path, layers=["marts"])

    expected = [(suite, check, code) for code, (*_, suite, check) in BAD_SCHEMES.items()]
    expected += [
        ("marts.region_index_monthly", "categories add up", "S1dup v1 R1"),
        ("marts.region_index_categories", "categories complete", "S2gap v1 R2 B"),
        ("marts.region_index_items", "items complete", "S3cap v1 R3 B1"),
        ("marts.region_index_items", "unique scheme_code+month_start+region_code+item_code",
         '"scheme_code": "S4grade", "month_start": "2024-09-01", "region_code": "R4"'),
        ("marts.incident_trends", "changes recomputed", "110112002"),
        ("marts.rate_reports", "percentages within 0-100", "110112002"),
    ]  # fmt: skip
    problems = []
    for suite, check, marker in expected:
        found = [f for f in report.failures if f.suite == suite and f.check == check]
        shown = json.dumps([f.sample_rows for f in found], ensure_ascii=False)
        if marker not in shown:
            problems.append(f"{suite}: {check} does not name {marker}: {shown}")
    for failure in report.failures:
        shown = json.dumps(failure.sample_rows, ensure_ascii=False)
        if "S0 v1" in shown or "110112001" in shown:
            problems.append(f"the good scheme failed: {failure.describe()}")
    assert not problems, "\n".join(problems)
    assert report.data_docs_index is not None and report.data_docs_index.exists()


def test_gate_failure_names_check_batch_and_rows(databases, tmp_path: Path) -> None:
    warehouse, _ = databases
    rows = good_rows("raw.police__incidents", 4)
    for i in (1, 2, 3):
        rows[i]["jqlbdm"] = "99"
    with connect(warehouse) as conn:
        insert_batch(conn, "raw.police__incidents", rows, "police.incidents.bad")
    report = run_quality_checks(warehouse, SEP, tmp_path, layers=["raw"])

    with pytest.raises(QualityGateFailed) as raised:
        report.raise_if_failed()
    message = str(raised.value)
    assert "raw.police__incidents, batch police.incidents.bad" in message
    assert "allowed codes jqlbdm — 3 failing row(s)" in message and "3 of 4 rows" in message
    assert "at most 1% of a delivery's rows, or 2 rows" in message
    assert '"jqlbdm": "99"' in message and "J00001 @ test:2" in message
    # kept: the GX results, this report, and the Data Docs site of the month
    month_dir = tmp_path / "quality" / "2024-09"
    assert report.results_path == month_dir / "validation_results.json"
    results = json.loads(report.results_path.read_text(encoding="utf-8"))
    assert results["success"] is False and len(results["validation_results"]) == 1
    saved = json.loads(report.report_path.read_text(encoding="utf-8"))
    assert saved["failures"][0]["deliveries"][0]["batch_id"] == "police.incidents.bad"
    assert saved["failures"][0]["action"] == "block" and saved["blocking"] == 1
    assert report.data_docs_index == month_dir / "data_docs" / "index.html"
    assert "police__incidents" in report.data_docs_index.read_text(encoding="utf-8")


def test_a_check_that_cannot_run_fails_the_gate(databases, tmp_path: Path) -> None:
    """No marts (dbt did not build them): every mart suite fails, saying why."""
    warehouse, _ = databases
    report = run_quality_checks(warehouse, SEP, tmp_path, layers=["marts"], data_docs=False)
    assert not report.success
    assert {f.suite for f in report.failures} == {
        spec.name for spec in suites.SUITES if spec.mart is not None
    }
    assert all(f.error for f in report.failures)
    assert 'relation "marts.region_index_monthly" does not exist' in report.failure_message()


# --- tolerances per delivery, units, the gate policy --------------------------------------


def _staged_master(conn) -> None:
    """The staged region master the report names units from: a county, two towns, villages."""
    conn.execute("create schema if not exists staging")
    conn.execute(
        "create table staging.stg_regions__regions (region_code text, region_name text,"
        " region_level text, parent_code text)"
    )
    conn.execute(
        "insert into staging.stg_regions__regions values"
        " ('110112', '通州区', 'county', null),"
        " ('110112001', '一镇', 'township', '110112'), ('110112002', '二镇', 'township', '110112'),"
        " ('110112001201', '甲村', 'village', '110112001'),"
        " ('110112002201', '乙村', 'village', '110112002')"
    )


def test_small_county_files_are_judged_by_a_count_and_a_share(databases, tmp_path: Path) -> None:
    """A 7-row county file with one missing town code (14 %) passes: one slip is one slip.
    The same file with every code missing fails, naming the file; so does a fire file
    with four unreadable casualty counts, naming the towns its rows are in."""
    warehouse, _ = databases
    slip = good_rows("raw.fire__inspections", 7)
    slip[3]["xzqhdm"] = None
    lost = [dict(r, xzqhdm=None) for r in good_rows("raw.fire__inspections", 7)]
    fires = good_rows("raw.fire__fires", 20)
    for i, village in ((2, "110112001201"), (3, "110112001201"), (4, "110112002201")):
        fires[i].update(xzqhdm=village, swrs="两人")
    fires[5].update(xzqhdm="110112999999", swrs="两人")  # a village the master does not know
    with connect(warehouse) as conn:
        _staged_master(conn)
        insert_batch(conn, "raw.fire__inspections", slip, "insp.a", source_ref="甲区消防.csv")
        insert_batch(conn, "raw.fire__inspections", lost, "insp.b", source_ref="乙区消防.csv")
        insert_batch(conn, "raw.fire__fires", fires, "fires.c", source_ref="丙区火灾.xlsx")
    report = run_quality_checks(
        warehouse, SEP, tmp_path, batch_ids=["insp.a", "insp.b", "fires.c"], layers=["raw"],
        data_docs=False,
    )  # fmt: skip

    failures = {(f.suite, f.check): f for f in report.failures}
    assert set(failures) == {
        ("raw.fire__inspections", "required xzqhdm"),
        ("raw.fire__fires", "format swrs"),
    }
    (missing_codes,) = [f for f in report.failures if f.check == "required xzqhdm"]
    (delivery,) = missing_codes.deliveries
    assert (delivery.batch_id, delivery.source_ref) == ("insp.b", "乙区消防.csv")
    assert (delivery.defective_rows, delivery.delivery_rows) == (7, 7)
    assert "insp.a" not in json.dumps(missing_codes.sample_rows)
    assert missing_codes.units == [] and missing_codes.unplaced_rows == 7
    casualties = failures[("raw.fire__fires", "format swrs")]
    assert casualties.units == ["110112001 一镇", "110112002 二镇"]
    assert casualties.unplaced_rows == 1
    message = report.failure_message()
    assert "batch insp.b (乙区消防.csv): 7 of 7 rows (100.0%)" in message
    assert "units: 110112001 一镇, 110112002 二镇, 1 row(s) naming no unit" in message


def test_impossible_dates_are_not_outside_the_window(databases, tmp_path: Path) -> None:
    """2024-02-30 is no date: staging quarantines it as unparseable; the window check
    neither counts it as outside the month nor stops the month for it (2025-03's four
    accidents dated 2024-02-30 used to)."""
    warehouse, _ = databases
    rows = good_rows("raw.traffic__accidents", 10)
    for i in range(4):
        rows[i]["occur_time"] = "2024-02-30 08:15:00"
    with connect(warehouse) as conn:
        insert_batch(conn, "raw.traffic__accidents", rows, "acc.1")
    report = run_quality_checks(
        warehouse, SEP, tmp_path, batch_ids=["acc.1"], layers=["raw"], data_docs=False
    )
    assert report.failures == [], report.failure_message()


def test_the_policy_reports_what_it_does_not_block(databases, tmp_path: Path) -> None:
    """Repeated rows (staging keeps one) are reported with the units they touch and let
    the month publish; a policy that blocks them stops it; a broken policy file names
    the file, the key and the fix."""
    warehouse, _ = databases
    rows = good_rows("raw.fire__fires", 10)
    for i in (1, 2, 3):
        rows[i] = dict(rows[0], xzqhdm="110112001201")
    rows[0]["xzqhdm"] = "110112001201"
    with connect(warehouse) as conn:
        _staged_master(conn)
        insert_batch(conn, "raw.fire__fires", rows, "fires.d", source_ref="丁区火灾.xlsx")

    report = run_quality_checks(
        warehouse, SEP, tmp_path, batch_ids=["fires.d"], layers=["raw"], data_docs=False
    )
    assert report.success and report.blocking == []
    (repeated,) = report.reported
    assert repeated.check == "duplicate keys hzbh" and repeated.units == ["110112001 一镇"]
    assert "rule 3" in (repeated.rule or "") and "staging keeps one copy" in repeated.rule
    assert "passed with 1 reported failure(s)" in report.summary()
    report.raise_if_failed()  # nothing blocks

    strict = tmp_path / "quality.yml"
    strict.write_text("default: block\n", encoding="utf-8")
    settings = get_settings().model_copy(update={"quality_file": strict})
    report = run_quality_checks(
        warehouse, SEP, tmp_path, batch_ids=["fires.d"], layers=["raw"], data_docs=False,
        settings=settings,
    )  # fmt: skip
    assert not report.success and [f.check for f in report.blocking] == ["duplicate keys hzbh"]
    with pytest.raises(QualityGateFailed, match="duplicate keys hzbh"):
        report.raise_if_failed()

    strict.write_text("default: warn\nrules:\n  - {check: 'window *', act: report}\n")
    settings = get_settings().model_copy(update={"quality_file": strict})
    with pytest.raises(ConfigError) as bad:
        run_quality_checks(warehouse, SEP, tmp_path, layers=["raw"], settings=settings)
    message = str(bad.value)
    assert str(strict) in message and "default: must be block or report" in message
    assert "rules.0.act: unknown key" in message and "rules.0.action: required" in message


def test_fast_date_parts_and_fixed_formats_agree_with_the_regular_expressions(server) -> None:
    """The gate's cheap forms (split_part after one match; length and a class search)
    decide exactly as the capturing regexp_match and the anchored pattern they replace."""
    from expectations._common import (
        _EVENT_PATTERNS,
        HMAC_SHA256,
        TOWNSHIP_CODE,
        EventTime,
        _mismatch_sql,
    )

    values = [
        "2024-08-03", "2024/8/3", "2024-8-3 12:00", "2024-08-03T12:00:00", "2024-02-30 08:15",
        "2024-8-3x", "2024-13-01", "abc", "", None, "2024-11", "2024/11", "2024年11月",
        "2024年1月", "2024Q2", "2024q3", "2024 Q2", "2024年第2季度", "2024年第二季度",
        "2024Q5", "a" * 64, "0f" * 32, "0F" * 32, "a" * 63 + "g", "a" * 65, "330112001",
        "33011200", "３３0112001",
    ]  # fmt: skip
    with connect(server) as conn:
        for kind, pattern in _EVENT_PATTERNS.items():
            fields = 3 if kind in ("datetime", "date") else 2
            value = "translate(t.v, '一二三四', '1234')" if kind == "quarter" else "t.v"
            rows = conn.execute(
                f"select t.v, (regexp_match({value}, '{pattern}'))[1:{fields}]::int[],"
                f" {EventTime('v', kind).parts_sql('t')}::int[]"
                " from unnest(%s::text[]) as t(v)",
                (values,),
            ).fetchall()
            assert [(v, new) for v, _, new in rows] == [(v, old) for v, old, _ in rows], kind
        for regex in (HMAC_SHA256, TOWNSHIP_CODE):
            rows = conn.execute(
                f"select t.v, t.v !~ %s, {_mismatch_sql('t.v', regex)}"
                " from unnest(%s::text[]) as t(v) where t.v is not null",
                (regex, values),
            ).fetchall()
            assert [(v, new) for v, _, new in rows] == [(v, old) for v, old, _ in rows], regex
