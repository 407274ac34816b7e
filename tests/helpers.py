"""Small builders shared by the tests."""

from __future__ import annotations

import csv
from pathlib import Path

from pingan_simulate import regions as sim_regions
from pingan_transforms.contracts.regions import MASTER_COLUMNS, write_master

PROJECT = Path(__file__).resolve().parent.parent


# two towns with a village each: the file-reader tests' region master
TEST_REGIONS = [
    ("110000", "北京市", "province", "", "", ""),
    ("110199", "测试区", "county", "110000", "", ""),
    ("110199001", "甲镇", "township", "110199", "", ""),
    ("110199002", "乙镇", "township", "110199", "", ""),
    ("110199001201", "甲村", "village", "110199001", "10000", "500"),
    ("110199002201", "乙村", "village", "110199002", "8000", "2000"),
]


def write_test_master(path: Path) -> Path:
    """:data:`TEST_REGIONS` as a region master CSV."""
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(MASTER_COLUMNS)
        for row in TEST_REGIONS:
            writer.writerow([*row, "2020-01-01", ""])
    return path


def tongzhou_master(path: Path, towns: int | None = None, seed: int = 7) -> list:
    """The demo region master (all 22 towns, or the first ``towns``) written to ``path``."""
    divisions = sim_regions.read_divisions(PROJECT / "data" / "regions" / "tongzhou_towns.csv")
    if towns is not None:
        keep = {d.code for d in divisions if d.level == "township"}
        keep = set(sorted(keep)[:towns])
        divisions = [d for d in divisions if d.level != "township" or d.code in keep]
    master = sim_regions.generate_master(divisions, seed=seed)
    write_master(master, path)
    return master


def tongzhou_majuqiao(tmp_path: Path, monkeypatch) -> list:
    """The demo's 22 Tongzhou towns as the region master and the shipped Majuqiao-shape
    scheme, version 1 only (comparisons stay within it), both set in the environment;
    returns the master's regions."""
    import shutil

    master = tmp_path / "regions.csv"
    regions = tongzhou_master(master)
    monkeypatch.setenv("PINGAN_REGIONS_FILE", str(master))
    schemes = tmp_path / "schemes"
    schemes.mkdir()
    shutil.copy(PROJECT / "schemes" / "majuqiao.yaml", schemes)
    monkeypatch.setenv("PINGAN_SCHEMES_DIR", str(schemes))
    return regions


def shipped_sources() -> dict:
    """The shipped source registry (sources/<name>/source.yml) as one sources file's data,
    ``{"sources": {name: entry}}``, for tests that write a changed copy of it."""
    import yaml

    return {
        "sources": {
            entry.parent.name: yaml.safe_load(entry.read_text(encoding="utf-8"))
            for entry in sorted((PROJECT / "sources").glob("*/source.yml"))
        }
    }


# every mart, row for row, by its key, without the columns that say when or from which
# batch it was built
MART_KEYS = {
    "region_index_monthly": "scheme_code, month_start, region_code",
    "region_index_categories": "scheme_code, month_start, region_code, category_code",
    "region_index_items": "scheme_code, month_start, region_code, item_code",
    "incident_trends": "month_start, region_code, metric_code",
    "rate_reports": "month_start, region_code, metric_code",
}


def mart_rows(target) -> dict[str, list[tuple]]:
    """The marts' content, to compare two ways of building them."""
    from pingan_transforms.warehouse import connect

    out: dict[str, list[tuple]] = {}
    with connect(target) as conn:
        for table, order in MART_KEYS.items():
            columns = [
                name
                for (name,) in conn.execute(
                    "select column_name from information_schema.columns where table_schema "
                    "= 'marts' and table_name = %s order by ordinal_position",
                    (table,),
                ).fetchall()
                if not name.endswith("_at") and "batch" not in name
            ]
            assert columns, f"marts.{table} is missing in {target.dbname}"
            select = ", ".join(f'"{c}"' for c in columns)
            query = f"select {select} from marts.{table} order by {order}"
            out[table] = conn.execute(query).fetchall()  # type: ignore[arg-type]
    return out
