"""The publication gate through a real DAG run: a month a source has not delivered is
not published, and the gate says which source is missing."""

from __future__ import annotations

import shutil

import pytest

from pingan_simulate.sources import simulated_sources
from pingan_transforms import tasks
from pingan_transforms.load.completeness import SourcesIncomplete
from pingan_transforms.months import Month
from pingan_transforms.orchestrate import DagRunFailed, run_month
from pingan_transforms.settings import Settings, get_settings
from tests.helpers import PROJECT, tongzhou_master

AUG = Month(2024, 8)


def _three_towns(tmp_path, monkeypatch) -> Settings:
    """Settings for a region master of 3 Tongzhou towns and the majuqiao scheme."""
    master = tmp_path / "regions.csv"
    tongzhou_master(master, towns=3)
    monkeypatch.setenv("PINGAN_REGIONS_FILE", str(master))
    schemes = tmp_path / "schemes"
    schemes.mkdir()
    shutil.copy(PROJECT / "schemes" / "majuqiao.yaml", schemes)
    monkeypatch.setenv("PINGAN_SCHEMES_DIR", str(schemes))
    return get_settings()


def test_a_month_without_the_fire_drop_fails_the_gate_and_publishes_nothing(
    databases, tmp_path, monkeypatch, airflow_db
) -> None:
    settings = _three_towns(tmp_path, monkeypatch)

    with simulated_sources(settings, [AUG]) as sources:
        # the fire brigade has not sent August's files yet
        shutil.rmtree(sources.fire_drops / str(AUG))
        with pytest.raises(DagRunFailed) as failure:
            run_month(settings, AUG)

    message = str(failure.value)
    assert (
        "quality_gate failed first" in message
        and "not reached: rank_intervals, export_ranking" in message
    )
    assert not list((settings.output_dir / "rankings").glob(f"*_{AUG}.*"))
    assert not list((settings.output_dir / "bulletins").glob(f"*_{AUG}*"))
    assert not list((settings.output_dir / "mail").glob("*.eml"))

    # the gate's own words name the missing source and nothing else
    with pytest.raises(SourcesIncomplete) as missing:
        tasks.quality_gate(AUG.start(settings.timezone))
    lines = str(missing.value).splitlines()
    assert lines[0] == "2024-08 is not complete: 2 source entities have not delivered it"
    assert [line.split(" (")[0] for line in lines[1:3]] == [
        "MISSING fire.fires",
        "MISSING fire.inspections",
    ]


def test_a_stale_source_stops_the_gate_with_dbt_freshness_error(
    databases, tmp_path, monkeypatch, airflow_db
) -> None:
    """The freshness check runs beside the suites: its error still stops the gate, and
    it is the error the task raises, whatever the suites found."""
    from pingan_transforms.transform import DbtError
    from pingan_transforms.warehouse import connect, resolve_target

    settings = _three_towns(tmp_path, monkeypatch)
    start, end = AUG.start(settings.timezone), AUG.end(settings.timezone)

    with simulated_sources(settings, [AUG]):
        tasks.load_regions()
        for source in ("police", "traffic", "fire", "governance"):
            tasks.extract(source, start, end)
    # the police extract last landed 30 days ago (error_after: 7 days)
    with connect(resolve_target(settings)) as conn:
        for table in ("police__incidents", "police__fraud_warnings"):
            conn.execute(f"update raw.{table} set _extracted_at = now() - interval '30 days'")

    with pytest.raises(DbtError) as stale:
        tasks.quality_gate(AUG.start(settings.timezone))
    message = str(stale.value)
    assert message.startswith("dbt source freshness")
    assert "ERROR source.pingan.police.incidents: last loaded 30.0 days ago" in message
    assert "ERROR source.pingan.police.fraud_warnings" in message
    assert "source.pingan.traffic" not in message
