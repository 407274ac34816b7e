"""The demo region set: Tongzhou's towns and 小榄镇's communities, in every source and placed."""

from __future__ import annotations

import math
from pathlib import Path

from pingan_simulate import regions as sim_regions
from pingan_transforms.contracts.regions import Region, read_master, write_master
from pingan_transforms.months import Month
from tests.helpers import PROJECT

AUG, SEP = Month(2024, 8), Month(2024, 9)
XIAOLAN, ZHONGSHAN = "442000118", "442000"
KEY = b"unit-test-key"


def _divisions(tongzhou_towns: int | None = None) -> list[Region]:
    """Every division file, Tongzhou cut to its first towns if asked."""
    divisions = [
        d
        for path in sorted((PROJECT / "data" / "regions").glob("*.csv"))
        for d in sim_regions.read_divisions(path)
    ]
    if tongzhou_towns is None:
        return divisions
    keep = sorted(d.code for d in divisions if d.level == "township" and d.parent_code == "110112")
    drop = set(keep[tongzhou_towns:])
    return [d for d in divisions if d.code not in drop]


def _xiaolan_master(path: Path) -> list[Region]:
    master = sim_regions.generate_master(_divisions(tongzhou_towns=2), seed=7)
    write_master(master, path)
    return master


def test_demo_master_lists_xiaolan_and_leaves_tongzhou_unchanged(tmp_path, monkeypatch) -> None:
    from pingan_transforms.cli import _write_demo_regions
    from pingan_transforms.settings import get_settings

    monkeypatch.setenv("PINGAN_REGIONS_FILE", str(tmp_path / "master.csv"))
    master = read_master(_write_demo_regions(get_settings(), 20240801))
    by_code = {r.code: r for r in master}
    assert (by_code[ZHONGSHAN].level, by_code[ZHONGSHAN].parent_code) == ("city", "440000")
    assert (by_code[XIAOLAN].level, by_code[XIAOLAN].parent_code) == ("township", ZHONGSHAN)

    # the listed communities are kept, and none is generated beneath 小榄镇
    listed = [
        d
        for d in sim_regions.read_divisions(PROJECT / "data" / "regions" / "zhongshan_xiaolan.csv")
        if d.level == "village"
    ]
    xiaolan = [r for r in master if r.parent_code == XIAOLAN]
    assert [(r.code, r.name) for r in xiaolan] == [(d.code, d.name) for d in listed]
    assert 15 <= len(xiaolan) <= 25
    assert all(r.code.startswith(XIAOLAN) and len(r.code) == 12 for r in xiaolan)
    people = sum(r.resident_population + r.floating_population for r in xiaolan)
    assert 400_000 < people < 600_000  # 小榄镇: about half a million, migrants included
    assert all(r.floating_population > 0.5 * r.resident_population for r in xiaolan)

    # centroids around 113.25°E 22.66°N, about 1 km apart, far from Tongzhou's grid
    assert all(113.20 < r.longitude < 113.30 and 22.62 < r.latitude < 22.70 for r in xiaolan)

    def km(a, b) -> float:
        dx = (a.longitude - b.longitude) * math.cos(math.radians(a.latitude)) * 111.32
        return math.hypot(dx, (a.latitude - b.latitude) * 110.57)

    nearest = [min(km(a, b) for b in xiaolan if b is not a) for a in xiaolan]
    assert min(nearest) > 0.7 and max(nearest) < 1.4

    # Tongzhou is what the generator gave before 小榄镇 was added, for the same seed
    tongzhou = sim_regions.generate_master(
        sim_regions.read_divisions(PROJECT / "data" / "regions" / "tongzhou_towns.csv"),
        seed=20240801,
    )
    assert [r.as_row() for r in master if not r.code.startswith("44")] == [
        r.as_row() for r in tongzhou
    ]


def test_every_source_simulates_xiaolan_but_the_district_survey(tmp_path) -> None:
    from pingan_simulate.fire import FireSimulation, write_fire_drops
    from pingan_simulate.governance import (
        GovernanceSimulation,
        generate_disputes,
        generate_grid_patrols,
        generate_petitions,
    )
    from pingan_simulate.police import (
        PoliceSimulation,
        generate_fraud_warnings,
        generate_incidents,
    )
    from pingan_simulate.survey import SurveySimulation, write_survey_drop
    from pingan_simulate.traffic import (
        TrafficSimulation,
        generate_accidents,
        generate_violations,
    )
    from pingan_transforms.extract.files import FIRE_FIRES, FIRE_INSPECTIONS, parse_file
    from pingan_transforms.extract.survey import SURVEY_SCORES

    regions = _xiaolan_master(tmp_path / "master.csv")
    xiaolan = {r.code for r in regions if r.parent_code == XIAOLAN}

    def in_xiaolan(code: str | None) -> bool:
        return code is not None and code.startswith(XIAOLAN)

    incidents = list(generate_incidents(PoliceSimulation(), regions, [AUG]))
    ours = [r for r in incidents if r[0][1:13] in xiaolan]
    assert len(ours) > 300 and sum(in_xiaolan(r[7]) for r in ours) > 0.9 * len(ours)
    assert all(r[8] in ("", "地址不详") or r[8].startswith("小榄镇") for r in ours)
    located = [r for r in ours if r[9] is not None]
    assert all(113.2 < r[9] < 113.3 and 22.6 < r[10] < 22.7 for r in located)
    assert {r[13][:6] for r in ours} == {ZHONGSHAN}  # ID numbers issued there
    for rows, code_at in (
        (generate_fraud_warnings(PoliceSimulation(), regions, [AUG]), 2),
        (generate_petitions(GovernanceSimulation(), regions, [AUG]), 2),
        (generate_disputes(GovernanceSimulation(), regions, [AUG]), 2),
        (generate_grid_patrols(GovernanceSimulation(), regions, [AUG]), 2),
    ):
        assert sum(in_xiaolan(r[code_at]) for r in rows) > 20
    accidents = list(generate_accidents(TrafficSimulation(), regions, [AUG]))
    assert sum(in_xiaolan(a.area_code) and "小榄镇" in a.location for a in accidents) > 20
    violations = list(generate_violations(TrafficSimulation(), regions, [AUG]))
    assert {v.area_code for v in violations} >= {XIAOLAN}

    # the city's fire brigade drops its own files; 小榄镇 is a township in the inspections
    drops = write_fire_drops(FireSimulation(defect_rate=0.0), regions, [AUG], tmp_path / "fire")
    zhongshan = [d for d in drops if d.county_code == ZHONGSHAN]
    assert len(drops) == 2 and len(zhongshan) == 1
    assert zhongshan[0].fires.name.startswith("中山市火灾")
    fires = parse_file(zhongshan[0].fires, FIRE_FIRES).rows
    assert len(fires) > 10 and all(in_xiaolan(values[4]) for _, values in fires)
    inspections = parse_file(zhongshan[0].inspections, FIRE_INSPECTIONS).rows
    assert [values[1] for _, values in inspections] == [XIAOLAN]

    # the quarterly survey is Tongzhou's district survey: no 小榄镇 row, its 全区 row holds
    survey = write_survey_drop(SurveySimulation(defect_rate=0.0), regions, 2024, 2, tmp_path)
    assert [p.name for p in survey.parent.iterdir()] == [survey.name]
    parsed = parse_file(survey, SURVEY_SCORES)
    assert {values[1][:6] for _, values in parsed.rows} == {"110112"}
    assert parsed.total_row is not None and not parsed.total_mismatches


def test_xiaolan_records_are_placed_by_code_address_and_coordinates(
    databases, tmp_path, monkeypatch
) -> None:
    from pingan_simulate.police import PoliceSimulation, fill_front_database
    from pingan_transforms import tasks
    from pingan_transforms.extract.sql import extract_entity
    from pingan_transforms.transform import run_dbt
    from pingan_transforms.warehouse import connect

    warehouse, police = databases
    master = tmp_path / "master.csv"
    regions = _xiaolan_master(master)
    monkeypatch.setenv("PINGAN_REGIONS_FILE", str(master))
    tasks.load_regions()
    # more defects than usual, so that every fallback is taken in one month
    sim = PoliceSimulation(county_code_rate=0.05, missing_region_rate=0.03,
                           coordinates_only_rate=0.03)  # fmt: skip
    fill_front_database(police.url, sim, regions, [AUG])
    extract_entity("police", "incidents", police.url, warehouse, cutoff=SEP.end(), pii_key=KEY)
    run_dbt(
        ["build", "--select", "+int_police_batches_reconciled", "--indirect-selection", "cautious"],
        warehouse,
    )
    with connect(warehouse) as conn:
        placed = dict(
            conn.execute(
                "select coalesce(placement_method, 'unplaced'), count(*) "
                "from intermediate.int_police_incidents_located "
                "where incident_no like %s group by 1",
                (f"J{XIAOLAN}%",),
            ).fetchall()
        )
        # every Xiaolan incident placed lands in 小榄镇, never in a Tongzhou town
        elsewhere = conn.execute(
            "select count(*) from intermediate.int_police_incidents_located "
            "where incident_no like %s and township_code <> %s",
            (f"J{XIAOLAN}%", XIAOLAN),
        ).fetchone()[0]
        city_coded = conn.execute(
            "select count(*) from intermediate.int_police_incidents_located "
            "where region_code = %s and placement_method = 'address_village'",
            (ZHONGSHAN,),
        ).fetchone()[0]
        assert conn.execute(
            "select bool_and(is_reconciled) from intermediate.int_police_batches_reconciled"
        ).fetchone() == (True,)
    assert placed["region_code"] > 500
    assert placed["address_village"] > 10 and placed["coordinates"] > 10
    assert elsewhere == 0 and city_coded > 0  # a city-level code falls back to the address
    assert len([r for r in regions if r.parent_code == XIAOLAN]) == 21
