"""Superset's import bundle, built from the files in ``bi/superset/assets/``.

The files in the repository are Superset's own import format (databases/, datasets/,
charts/, dashboards/, metadata.yaml) with three things left to provisioning, because
they depend on the warehouse a user runs, not on the repository:

- the warehouse connection's URI (host, port, database; the password travels apart,
  in the import's ``passwords`` field, so it is never written into a file);
- each dataset's columns: read from the warehouse as the BI role sees them (a
  ``limit 0`` query), with the dbt descriptions of the marts (the Chinese part of a
  bilingual "中文 / English" description becomes the column's label);
- the dashboard's grid and native filters, written compactly under a ``pingan:`` key
  that is dropped before the import (Superset's ``position`` is a tree of a dozen
  nodes per chart), and the ranking's colour per grade, from the schemes' own colours.
"""

from __future__ import annotations

import copy
import io
import re
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

DATABASE_FILE = "databases/pingan_warehouse.yaml"
MASKED = "XXXXXXXXXX"
# a "中文 / English" description: the Chinese part labels the column in Superset
_LABEL = re.compile(r"^\s*([^/]*[\u4e00-\u9fff][^/]*?)\s*/\s")


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    is_dttm: bool


#: reads a dataset's columns from the warehouse: (schema, table or None, sql or None)
ColumnReader = Callable[[str, str | None, str | None], list[Column]]


def load_assets(directory: Path) -> dict[str, dict[str, Any]]:
    """Every YAML file of the bundle, by its path inside the bundle."""
    files = sorted(p for p in directory.rglob("*.yaml") if p.is_file())
    if not any(p.name == "metadata.yaml" for p in files):
        raise FileNotFoundError(f"{directory}/metadata.yaml is missing: it is not a bundle")
    return {str(p.relative_to(directory)): yaml.safe_load(p.read_text()) for p in files}


def dbt_column_descriptions(models_dir: Path) -> dict[str, dict[str, str]]:
    """Column descriptions of every model declared in ``models_dir``'s .yml files."""
    found: dict[str, dict[str, str]] = {}
    for path in sorted(models_dir.rglob("*.yml")):
        for model in (yaml.safe_load(path.read_text()) or {}).get("models", []) or []:
            columns = found.setdefault(model["name"], {})
            for column in model.get("columns", []) or []:
                if column.get("description"):
                    columns[column["name"]] = " ".join(str(column["description"]).split())
    return found


def label_of(description: str | None) -> str | None:
    """The Chinese label of a bilingual description ("排名 / rank ..." -> "排名")."""
    match = _LABEL.match(description or "")
    return match.group(1).strip() if match else None


def build_bundle(
    assets: dict[str, dict[str, Any]],
    *,
    sqlalchemy_uri: str,
    read_columns: ColumnReader,
    descriptions: dict[str, dict[str, str]],
    grade_colours: Iterable[tuple[str, str]] = (),
    chart_ids: dict[str, int] | None = None,
) -> dict[str, dict[str, Any]]:
    """The bundle's files as Superset imports them (see the module's docstring).

    ``chart_ids`` are the ids Superset gave the charts (by uuid) in an earlier import:
    the filters' ``chartsInScope`` name charts by id, and the import remaps the ids of
    the grid and of a filter's exclusions but not those, so a first import is followed
    by a second one with the ids it gave."""
    bundle = copy.deepcopy(assets)  # built more than once from the same files
    bundle[DATABASE_FILE]["sqlalchemy_uri"] = sqlalchemy_uri
    # charts and datasets by file name, as the dashboard's `pingan:` block names them
    stems: dict[str, dict[str, dict[str, Any]]] = {"charts": {}, "datasets": {}}
    for name, config in bundle.items():
        if name.startswith("datasets/"):
            _fill_columns(config, read_columns, descriptions)
        folder = name.split("/", 1)[0]
        if folder in stems:
            stems[folder][Path(name).stem] = config
    for name, config in bundle.items():
        if name.startswith("charts/") and Path(name).stem == "ranking":
            _colour_grades(config, grade_colours)
        if name.startswith("dashboards/"):
            _layout(config, stems, name, chart_ids or {})
    return bundle


def zip_bundle(bundle: dict[str, dict[str, Any]], root: str = "pingan_bundle") -> bytes:
    """The bundle as the ZIP file Superset's ``/api/v1/assets/import/`` reads."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, config in sorted(bundle.items()):
            text = yaml.safe_dump(config, allow_unicode=True, sort_keys=False)
            archive.writestr(f"{root}/{name}", text)
    return buffer.getvalue()


def _fill_columns(
    config: dict[str, Any],
    read_columns: ColumnReader,
    descriptions: dict[str, dict[str, str]],
) -> None:
    hints = config.pop("pingan", None) or {}
    sql = config.get("sql")
    table = None if sql else config["table_name"]
    columns = read_columns(config.get("schema") or "marts", table, sql)
    # a physical mart's own descriptions, else those of the marts a query reads
    sources = [config["table_name"]] if table else _marts_read(sql or "")
    labels = hints.get("labels", {})
    config["columns"] = []
    for column in columns:
        described = (descriptions.get(m, {}).get(column.name) for m in sources)
        description = next((d for d in described if d), None)
        config["columns"].append(
            {
                "column_name": column.name,
                "type": column.type,
                "is_dttm": column.is_dttm,
                "groupby": True,
                "filterable": True,
                "verbose_name": labels.get(column.name) or label_of(description),
                "description": description,
            }
        )
    config.setdefault("metrics", [])
    if column_names := {c.name for c in columns}:
        dttm = [c.name for c in columns if c.is_dttm]
        config["main_dttm_col"] = (
            "month_start" if "month_start" in column_names else (dttm[0] if dttm else None)
        )


def _marts_read(sql: str) -> list[str]:
    return re.findall(r"\bmarts\.(\w+)", sql)


def _colour_grades(config: dict[str, Any], grade_colours: Iterable[tuple[str, str]]) -> None:
    rules = config["params"].setdefault("conditional_formatting", [])
    seen = set()
    for grade, colour in grade_colours:
        if grade in seen or not colour:
            continue
        seen.add(grade)
        rules.append(
            {"column": "grade", "colorScheme": colour, "operator": "=", "targetValue": grade}
        )


def _layout(
    config: dict[str, Any],
    stems: dict[str, dict[str, dict[str, Any]]],
    name: str,
    known: dict[str, int],
) -> None:
    """Superset's ``position`` tree and native filters from the ``pingan:`` block."""
    spec = config.pop("pingan")
    position: dict[str, Any] = {
        "DASHBOARD_VERSION_KEY": "v2",
        "ROOT_ID": {"type": "ROOT", "id": "ROOT_ID", "children": ["GRID_ID"]},
        "GRID_ID": {"type": "GRID", "id": "GRID_ID", "children": [], "parents": ["ROOT_ID"]},
        "HEADER_ID": {
            "type": "HEADER",
            "id": "HEADER_ID",
            "meta": {"text": config["dashboard_title"]},
        },
    }
    chart_ids: dict[str, int] = {}
    for row_number, row in enumerate(spec["rows"], 1):
        row_id = f"ROW-{row_number}"
        position["GRID_ID"]["children"].append(row_id)
        position[row_id] = {
            "type": "ROW", "id": row_id, "children": [], "parents": ["ROOT_ID", "GRID_ID"],
            "meta": {"background": "BACKGROUND_TRANSPARENT"},
        }  # fmt: skip
        for stem, width, height in row:
            chart = stems["charts"].get(stem)
            if chart is None:
                raise ValueError(f"{name}: pingan.rows names {stem!r}, not a file in charts/")
            # Superset's id when known, else a placeholder the import remaps
            chart_ids[stem] = known.get(str(chart["uuid"]), 100_000 + len(chart_ids))
            chart_id = f"CHART-{stem}"
            position[row_id]["children"].append(chart_id)
            position[chart_id] = {
                "type": "CHART", "id": chart_id, "children": [],
                "parents": ["ROOT_ID", "GRID_ID", row_id],
                "meta": {"chartId": chart_ids[stem], "uuid": chart["uuid"], "width": width,
                         "height": height, "sliceName": chart["slice_name"]},
            }  # fmt: skip
    config["position"] = position
    filters = []
    for number, spec_filter in enumerate(spec.get("filters", []), 1):
        dataset = stems["datasets"].get(spec_filter["dataset"])
        if dataset is None:
            raise ValueError(
                f"{name}: filter {spec_filter['name']!r} names dataset "
                f"{spec_filter['dataset']!r}, not a file in datasets/"
            )
        excluded = [chart_ids[stem] for stem in spec_filter.get("not_on", [])]
        filters.append(
            {
                "id": f"NATIVE_FILTER-pingan-{number}",
                "name": spec_filter["name"],
                "type": "NATIVE_FILTER",
                "filterType": "filter_select",
                "targets": [
                    {"column": {"name": spec_filter["column"]}, "datasetUuid": dataset["uuid"]}
                ],
                "controlValues": {
                    "multiSelect": bool(spec_filter.get("multi", False)),
                    "defaultToFirstItem": bool(spec_filter.get("default_first", False)),
                    "enableEmptyFilter": bool(spec_filter.get("default_first", False)),
                    "sortAscending": bool(spec_filter.get("ascending", True)),
                    "searchAllOptions": False,
                    "inverseSelection": False,
                },
                "defaultDataMask": {"extraFormData": {}, "filterState": {}, "ownState": {}},
                # what Superset's filter editor saves with "select first value by
                # default": the charts wait for that value instead of loading unfiltered
                "requiredFirst": bool(spec_filter.get("default_first", False)),
                "cascadeParentIds": [],
                "scope": {"rootPath": ["ROOT_ID"], "excluded": excluded},
                "chartsInScope": [i for i in chart_ids.values() if i not in excluded],
                "description": "",
            }
        )
    config.setdefault("metadata", {})["native_filter_configuration"] = filters
