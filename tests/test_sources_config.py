"""The source registry: the shipped one is valid and drives the SQL connector; mistakes are
named (the entry's file and key), in the registry and in a single sources file."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from pingan_transforms.settings import ConfigError
from pingan_transforms.sources import load_sources
from tests.helpers import shipped_sources

SHIPPED = Path(__file__).resolve().parent.parent / "sources"


def _write(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / "sources.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def _shipped() -> dict:
    return shipped_sources()


def test_shipped_file_is_valid_and_agrees_with_the_connectors() -> None:
    from pingan_transforms.extract.files import FIRE_SPECS
    from pingan_transforms.extract.survey import SURVEY_SPECS

    config = load_sources(SHIPPED)
    spec = config.table_extract("police", "incidents")
    read = [src for src, _ in spec.columns]
    assert "bjrxm" not in read  # names are dropped: never even selected
    assert dict(spec.columns)["bjrdh"] == "bjrdh_hash" and spec.hashed == {"bjrdh", "bjrsfzh"}
    assert spec.watermark_column == "gxsj" and spec.key_column == "jjdbh"
    accidents = config.api_entity("traffic", "accidents")
    assert accidents.hashed == {"reporterPhone": "reporter_phone_hash"}
    assert accidents.dropped == {"reporterName"} and "reporterName" not in accidents.fields
    assert accidents.columns[-4:] == ["reporter_phone_hash", "_batch_id", "_extracted_at",
                                      "_source_ref"]  # fmt: skip
    assert sorted(config.files("fire").entities) == sorted(s.entity for s in FIRE_SPECS)
    assert config.files("survey").entities == [s.entity for s in SURVEY_SPECS]


def test_a_changed_policy_changes_what_is_read(tmp_path: Path) -> None:
    data = _shipped()
    data["sources"]["police"]["entities"]["incidents"]["personal_data"]["bjrsfzh"] = "drop"
    spec = load_sources(_write(tmp_path, data)).table_extract("police", "incidents")
    assert "bjrsfzh" not in [src for src, _ in spec.columns]
    assert spec.hashed == {"bjrdh"}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["sources"]["police"].update(kind="ftp"), "sources.police"),
        (
            lambda d: d["sources"]["police"]["entities"]["incidents"].update(watermark="gxsj2"),
            "sources.police.entities.incidents: Value error, 'gxsj2' must be one of the columns",
        ),
        (
            lambda d: d["sources"]["police"]["entities"]["incidents"]["columns"].append("bjrdh"),
            "listed both as plain columns and under personal_data",
        ),
        (
            lambda d: d["sources"]["police"]["entities"]["incidents"]["personal_data"].update(
                bjrdh="encrypt"
            ),
            "sources.police.entities.incidents.personal_data.bjrdh",
        ),
        (lambda d: d["sources"]["traffic"].update(colour="blue"), "sources.traffic.colour"),
    ],
)
def test_mistakes_name_the_file_and_the_key(tmp_path: Path, change, message: str) -> None:
    data = _shipped()
    change(data)
    path = _write(tmp_path, data)
    with pytest.raises(ConfigError) as error:
        load_sources(path)
    assert str(path) in str(error.value) and message in str(error.value)


def test_the_traffic_entry_drives_the_http_connector(tmp_path: Path) -> None:
    """The HTTP connector reads what the entry says: a field dropped by policy is not
    read, a field the entry no longer lists is not kept, and a watermark outside the
    fields is refused with the file and key."""
    data = _shipped()
    accidents = data["sources"]["traffic"]["entities"]["accidents"]
    accidents["personal_data"]["reporterPhone"] = "drop"
    del accidents["fields"]["location"]
    spec = load_sources(_write(tmp_path, data)).api_entity("traffic", "accidents")
    assert spec.hashed == {} and spec.dropped == {"reporterName", "reporterPhone"}
    assert "location" not in spec.columns and "reporter_phone_hash" not in spec.columns

    accidents["watermark"] = "changedAt"
    path = _write(tmp_path, data)
    with pytest.raises(ConfigError) as error:
        load_sources(path)
    assert str(path) in str(error.value)
    expected = (
        "sources.traffic.entities.accidents: Value error, watermark 'changedAt' must be one of "
        "the fields"
    )
    assert expected in str(error.value)


def test_missing_file_says_which_setting(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="PINGAN_SOURCES_FILE"):
        load_sources(tmp_path / "nope.yml")


def test_the_sources_a_month_waits_for_are_written_once_in_the_dbt_project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """settings.scored_month_sources defaults to the dbt project's var, so a bare
    `dbt build` and the pipeline agree; a project without it is refused by name."""
    from pingan_transforms.settings import PROJECT_DIR, Settings

    monkeypatch.delenv("PINGAN_SCORED_MONTH_SOURCES", raising=False)
    shipped = yaml.safe_load((PROJECT_DIR / "dbt_project" / "dbt_project.yml").read_text())
    assert Settings().scored_month_sources == shipped["vars"]["scored_month_sources"]
    assert Settings().dbt_vars() == {
        "scored_month_sources": shipped["vars"]["scored_month_sources"]
    }

    (tmp_path / "dbt_project").mkdir()
    project = tmp_path / "dbt_project" / "dbt_project.yml"
    project.write_text("name: pingan\nvars:\n  scored_month_sources: [police, fire]\n")
    assert Settings(project_dir=tmp_path).scored_month_sources == ["police", "fire"]
    monkeypatch.setenv("PINGAN_SCORED_MONTH_SOURCES", '["police"]')
    assert Settings(project_dir=tmp_path).scored_month_sources == ["police"]
    monkeypatch.delenv("PINGAN_SCORED_MONTH_SOURCES")

    project.write_text("name: pingan\nvars: {}\n")
    with pytest.raises(ConfigError, match=r"dbt_project.yml: vars.scored_month_sources must list"):
        Settings(project_dir=tmp_path)
