"""The publication gate through a real DAG run: a month a source has not delivered is
not published, and the gate says which source is missing."""

from __future__ import annotations

import shutil

import pytest

from pingan_transforms import tasks
from pingan_transforms.load.completeness import SourcesIncomplete
from pingan_transforms.months import Month
from pingan_transforms.orchestrate import DagRunFailed, run_month
from pingan_transforms.settings import get_settings
from pingan_transforms.simulate.sources import simulated_sources
from tests.helpers import PROJECT, tongzhou_master

AUG = Month(2024, 8)


def test_a_month_without_the_fire_drop_fails_the_gate_and_publishes_nothing(
    databases, tmp_path, monkeypatch, airflow_db
) -> None:
    master = tmp_path / "regions.csv"
    tongzhou_master(master, towns=3)
    monkeypatch.setenv("PINGAN_REGIONS_FILE", str(master))
    schemes = tmp_path / "schemes"
    schemes.mkdir()
    shutil.copy(PROJECT / "schemes" / "majuqiao.yaml", schemes)
    monkeypatch.setenv("PINGAN_SCHEMES_DIR", str(schemes))
    settings = get_settings()

    with simulated_sources(settings, [AUG]) as sources:
        # the fire brigade has not sent August's files yet
        shutil.rmtree(sources.fire_drops / str(AUG))
        with pytest.raises(DagRunFailed) as failure:
            run_month(settings, AUG)

    message = str(failure.value)
    assert "quality_gate" in message and "export_ranking" in message
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
