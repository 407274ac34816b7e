"""pingan_monthly end to end through Airflow's own dag.test(), two consecutive months."""

from __future__ import annotations

import csv

from pingan_transforms.months import Month
from pingan_transforms.orchestrate import run_month
from pingan_transforms.settings import get_settings
from pingan_transforms.simulate.police import PoliceSimulation, fill_front_database
from pingan_transforms.warehouse import connect
from tests.helpers import tongzhou_master

AUG, SEP = Month(2024, 8), Month(2024, 9)
MART_QUERY = (
    "select scheme_code, scheme_version, month_start, region_code, score, grade, "
    "rank_in_peer_group, previous_rank, rank_change, previous_score, score_change_pct "
    "from marts.region_index_monthly order by month_start, region_code"
)


def _read_ranking(path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def test_two_months_rank_every_town_once_and_reruns_are_identical(
    databases, tmp_path, monkeypatch, airflow_db
) -> None:
    warehouse, police = databases
    master = tmp_path / "regions.csv"
    regions = tongzhou_master(master)
    monkeypatch.setenv("PINGAN_REGIONS_FILE", str(master))
    fill_front_database(police.url, PoliceSimulation(), regions, [AUG, SEP])
    settings = get_settings()
    towns = {r.code: r.name for r in regions if r.level == "township"}
    assert len(towns) == 22

    for month in (AUG, SEP):
        states = run_month(settings, month)
        assert set(states.values()) == {"success"}, states
        ranking = _read_ranking(settings.output_dir / "rankings" / f"tongzhou_basic_{month}.csv")
        assert sorted(r["区划代码"] for r in ranking) == sorted(towns)
        assert {r["区划代码"]: r["乡镇街道"] for r in ranking} == towns
        ranks = [int(r["排名"]) for r in ranking]
        assert ranks == sorted(ranks) and ranks[0] == 1 and ranks[-1] <= 22

    with connect(warehouse) as conn:
        before = conn.execute(MART_QUERY).fetchall()
        raw_before = conn.execute("select count(*) from raw.police__incidents").fetchone()[0]

    # the second month's rank change refers to the first month
    by_key = {(r[2], r[3]): r for r in before}
    moved = 0
    for (month_start, code), row in by_key.items():
        if month_start == SEP.first_day:
            aug_row = by_key[(AUG.first_day, code)]
            assert row[7] == aug_row[6]  # previous_rank = August rank
            assert row[8] == aug_row[6] - row[6]  # rank_change = previous - current
            moved += row[8] != 0
    assert moved > 0, "simulated latent trends should move some ranks"

    # re-running a month changes nothing: no duplicate rows, identical marts
    run_month(settings, SEP)
    with connect(warehouse) as conn:
        assert conn.execute(MART_QUERY).fetchall() == before
        assert (
            conn.execute("select count(*) from raw.police__incidents").fetchone()[0] == raw_before
        )
