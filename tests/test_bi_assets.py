"""The Superset bundle built from bi/superset/assets/ (pingan_transforms/bi/assets.py),
without Superset: what provisioning fills in and what it must not change."""

from __future__ import annotations

import io
import zipfile

import yaml

from pingan_transforms.bi.assets import (
    DATABASE_FILE,
    Column,
    build_bundle,
    dbt_column_descriptions,
    label_of,
    load_assets,
    zip_bundle,
)
from tests.helpers import PROJECT

ASSETS = PROJECT / "bi" / "superset" / "assets"
URI = "postgresql+psycopg2://pingan_bi_reader:XXXXXXXXXX@127.0.0.1:5432/pingan"


def _columns(schema: str, table: str | None, sql: str | None) -> list[Column]:
    return [
        Column("scheme_code", "TEXT", False),
        Column("month_start", "DATE", True),
        Column("region_name", "TEXT", False),
    ]


def _build(assets=None, **kwargs):
    return build_bundle(
        assets or load_assets(ASSETS),
        sqlalchemy_uri=URI,
        read_columns=_columns,
        descriptions=dbt_column_descriptions(PROJECT / "dbt_project" / "models" / "marts"),
        grade_colours=[("优秀", "#1a9850"), ("较差", "#d73027")],
        **kwargs,
    )


def test_the_chinese_part_of_a_bilingual_description_labels_the_column() -> None:
    assert label_of("排名 / rank within the peer group (1 = best).") == "排名"
    assert label_of("Rank within the peer group.") is None
    assert label_of(None) is None


def test_the_bundle_fills_in_the_warehouse_and_builds_the_dashboard() -> None:
    bundle = _build()
    assert bundle[DATABASE_FILE]["sqlalchemy_uri"] == URI  # the password travels apart
    published = bundle["datasets/region_index_published.yaml"]
    labels = {c["column_name"]: c["verbose_name"] for c in published["columns"]}
    assert labels == {"scheme_code": "方案", "month_start": "月份", "region_name": "单位"}
    assert published["main_dttm_col"] == "month_start"
    ranking = bundle["charts/ranking.yaml"]["params"]["conditional_formatting"]
    assert {(r["column"], r["targetValue"], r["colorScheme"]) for r in ranking} >= {
        ("grade", "优秀", "#1a9850"),
        ("grade", "较差", "#d73027"),
    }
    dashboard = bundle["dashboards/pingan_index.yaml"]
    assert "pingan" not in dashboard and all("pingan" not in c for c in bundle.values())
    charts = [
        n
        for n in dashboard["position"].values()
        if isinstance(n, dict) and n.get("type") == "CHART"
    ]
    assert len(charts) == 6
    month = next(
        f for f in dashboard["metadata"]["native_filter_configuration"] if f["name"] == "月份"
    )
    trend = next(c for c in charts if c["meta"]["sliceName"] == "得分走势")
    assert month["scope"]["excluded"] == [trend["meta"]["chartId"]]
    assert trend["meta"]["chartId"] not in month["chartsInScope"]
    assert month["controlValues"]["defaultToFirstItem"] and month["requiredFirst"]


def test_building_again_gives_the_same_bundle_and_known_chart_ids_are_used() -> None:
    assets = load_assets(ASSETS)  # read once, built twice, as provisioning does
    first = _build(assets)
    first_rules = list(first["charts/ranking.yaml"]["params"]["conditional_formatting"])
    second = _build(assets)
    assert (
        first == second
        and first_rules == second["charts/ranking.yaml"]["params"]["conditional_formatting"]
    )
    # nothing accumulates in the files read once: one rule per grade, however often built
    rules = second["charts/ranking.yaml"]["params"]["conditional_formatting"]
    assert [r["targetValue"] for r in rules if r["column"] == "grade"] == ["优秀", "较差"]
    uuid = str(first["charts/ranking.yaml"]["uuid"])
    again = _build(chart_ids={uuid: 7})
    chart = again["dashboards/pingan_index.yaml"]["position"]["CHART-ranking"]
    assert chart["meta"]["chartId"] == 7


def test_the_zip_holds_every_file_under_one_folder() -> None:
    bundle = _build()
    with zipfile.ZipFile(io.BytesIO(zip_bundle(bundle))) as archive:
        names = archive.namelist()
        assert {n.split("/", 1)[0] for n in names} == {"pingan_bundle"}
        assert yaml.safe_load(archive.read("pingan_bundle/metadata.yaml"))["type"] == "assets"
    assert len(names) == len(bundle)
