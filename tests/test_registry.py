"""The source registry (issue 21): every source is one folder, sources/<name>/, complete
in itself, and everything derived from it is current.

A folder holds its entry (source.yml), its raw tables (raw.sql), their Great
Expectations suites (expectations.py) and its dbt models (models/: staging with the
dbt source definition, batch reconciliation, metric facts); its entry names a
connector module with ``extract(run)``. dbt_project.yml mirrors the registry
(model paths, vars), written by ``pingan generate``.
"""

from __future__ import annotations

import ast
import re
import shutil
from pathlib import Path

import pytest
import yaml

from pingan_transforms.settings import ConfigError
from pingan_transforms.sources import generate_dbt_project, load_sources
from tests.helpers import PROJECT

REGISTRY = PROJECT / "sources"
DBT_PROJECT = PROJECT / "dbt_project"
SHIPPED = load_sources(REGISTRY)


def test_dbt_project_mirrors_the_registry() -> None:
    """`pingan generate` has nothing to change: model paths and vars are the registry's."""
    assert generate_dbt_project(SHIPPED, DBT_PROJECT, write=False) == []
    project = yaml.safe_load((DBT_PROJECT / "dbt_project.yml").read_text(encoding="utf-8"))
    assert project["model-paths"] == ["models", *(f"sources/{n}/models" for n in SHIPPED.sources)]
    assert (DBT_PROJECT / "sources").resolve() == REGISTRY.resolve()
    assert project["vars"]["scored_month_sources"] == SHIPPED.scored_month
    assert "survey" not in SHIPPED.scored_month  # quarterly: months are scored without it


def test_generate_rewrites_what_the_registry_changed(tmp_path: Path) -> None:
    registry, dbt_dir = tmp_path / "sources", tmp_path / "dbt_project"
    shutil.copytree(REGISTRY, registry)
    dbt_dir.mkdir()
    shutil.copy(DBT_PROJECT / "dbt_project.yml", dbt_dir)
    (dbt_dir / "sources").symlink_to("../sources")
    shutil.rmtree(registry / "survey")
    fire = registry / "fire" / "source.yml"
    fire.write_text(fire.read_text().replace("scored_month: true", "scored_month: false"))
    config = load_sources(registry)

    changed = generate_dbt_project(config, dbt_dir, write=True)
    keys = {line.split(":")[0].strip() for line in changed}
    assert keys == {"model-paths", "scored_month_sources", "metric_models", "metric_record_models"}
    project = yaml.safe_load((dbt_dir / "dbt_project.yml").read_text())
    assert "sources/survey/models" not in project["model-paths"]
    assert project["vars"]["scored_month_sources"] == ["governance", "police", "traffic"]
    assert "int_survey_metrics_aggregated" not in project["vars"]["metric_models"]
    assert "int_survey_metric_records" not in project["vars"]["metric_record_models"]
    assert generate_dbt_project(config, dbt_dir, write=False) == []


@pytest.mark.parametrize("name", sorted(SHIPPED.sources))
def test_every_source_folder_is_complete(name: str) -> None:
    folder = REGISTRY / name
    tables = set(SHIPPED.raw_tables(name))

    ddl = (folder / "raw.sql").read_text(encoding="utf-8")
    created = set(re.findall(r"create table if not exists raw\.(\w+)", ddl))
    assert created == tables, f"{folder}/raw.sql creates {created}, the entry lands {tables}"

    suites = ast.parse((folder / "expectations.py").read_text(encoding="utf-8"))
    defined = {
        ast.unparse(node.target if isinstance(node, ast.AnnAssign) else node.targets[0])
        for node in suites.body
        if isinstance(node, ast.AnnAssign | ast.Assign)
    }
    assert "SUITES" in defined, f"{folder}/expectations.py defines no SUITES"
    checked = set(re.findall(r"table=['\"]raw\.(\w+)", ast.unparse(suites)))
    assert tables <= checked, f"{folder}/expectations.py checks {checked}, not all of {tables}"

    (dbt_sources,) = (folder / "models" / "staging").glob(f"_{name}__sources.yml")
    (declared,) = yaml.safe_load(dbt_sources.read_text(encoding="utf-8"))["sources"]
    assert declared["name"] == name and declared["schema"] == "raw"
    identifiers = {t.get("identifier", t["name"]) for t in declared["tables"]}
    assert tables <= identifiers

    reconciled = folder / "models" / "intermediate" / f"int_{name}_batches_reconciled.sql"
    assert "{{ batches_reconciled() }}" in reconciled.read_text(encoding="utf-8")

    assert callable(SHIPPED.extract_function(name))


def test_a_mistake_in_an_entry_names_its_file_and_key(tmp_path: Path) -> None:
    registry = tmp_path / "sources"
    shutil.copytree(REGISTRY, registry, ignore=shutil.ignore_patterns("models"))
    entry = registry / "police" / "source.yml"
    data = yaml.safe_load(entry.read_text())
    data["entities"]["incidents"]["watermark"] = "gxsj2"
    data["colour"] = "blue"
    entry.write_text(yaml.safe_dump(data, allow_unicode=True))
    with pytest.raises(ConfigError) as error:
        load_sources(registry)
    message = str(error.value)
    assert message.startswith(f"{entry}: invalid source entry")
    assert "entities.incidents: Value error, 'gxsj2' must be one of the columns" in message
    assert "  colour: Extra inputs are not permitted" in message


@pytest.mark.parametrize(
    ("connector", "message"),
    [
        ("pingan_transforms.extract.nope", "cannot import 'pingan_transforms.extract.nope'"),
        ("pingan_transforms.months", "module 'pingan_transforms.months' has no function extract"),
    ],
)
def test_a_connector_that_cannot_extract_is_named_with_its_entry(
    tmp_path: Path, connector: str, message: str
) -> None:
    registry = tmp_path / "sources"
    shutil.copytree(REGISTRY, registry, ignore=shutil.ignore_patterns("models"))
    entry = registry / "hotline" / "source.yml"
    entry.write_text(entry.read_text() + f"connector: {connector}\n")
    config = load_sources(registry)
    with pytest.raises(ConfigError) as error:
        config.extract_function("hotline")
    assert str(error.value).startswith(f"{entry}: connector: ") and message in str(error.value)


def test_an_empty_registry_says_what_a_source_is(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="every source is a folder <name>/ holding source.yml"):
        load_sources(tmp_path)


@pytest.mark.slow  # imports Airflow
def test_the_transform_schedule_follows_the_registry(tmp_path: Path) -> None:
    from airflow.sdk import Asset, AssetAll, AssetAny

    from pingan_transforms.assets import transform_schedule

    def uri(name: str) -> str:
        return f"pingan://warehouse/raw/{name}"

    shipped = transform_schedule(load_sources(REGISTRY))
    assert isinstance(shipped, AssetAny)
    together, *alone = shipped.objects
    assert isinstance(together, AssetAll)  # every daily source that day, together
    assert {a.uri for a in together.objects} == {
        uri(n) for n in ("police", "traffic", "governance", "hotline")
    }
    assert [a.uri for a in alone] == [uri("fire"), uri("survey"), uri("regions")]

    # a registry of file drops only: no daily condition, any drop rebuilds
    registry = tmp_path / "sources"
    for name in ("fire", "survey"):
        shutil.copytree(REGISTRY / name, registry / name, ignore=shutil.ignore_patterns("models"))
    files_only = transform_schedule(load_sources(registry))
    assert all(isinstance(a, Asset) for a in files_only.objects)
    assert [a.uri for a in files_only.objects] == [uri("fire"), uri("survey"), uri("regions")]
