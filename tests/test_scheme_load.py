"""Loading schemes/*.yaml into schemes.*: row counts, defaults written out, idempotent, mirrored."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from pingan_transforms.scheme import SchemeError
from pingan_transforms.scheme.load import TABLES, load_schemes, loaded_counts
from pingan_transforms.warehouse import connect

PROJECT = Path(__file__).resolve().parent.parent
SHIPPED = PROJECT / "schemes"


def _dump(conn) -> dict[str, list[tuple]]:
    """Every row of every schemes table, in a stable order."""
    return {
        table: sorted(
            conn.execute(f"select * from schemes.{table}").fetchall(),  # noqa: S608
            key=repr,
        )
        for table in TABLES
    }


def _per_scheme(conn, table: str) -> dict[tuple[str, int], int]:
    rows = conn.execute(
        f"select scheme_code, scheme_version, count(*) from schemes.{table} "  # noqa: S608
        "group by 1, 2"
    ).fetchall()
    return {(code, version): count for code, version, count in rows}


def test_load_round_trip_and_idempotent(databases) -> None:
    warehouse, _ = databases
    with connect(warehouse) as conn:
        loaded = load_schemes(conn, SHIPPED)
        assert loaded == [("majuqiao", 1), ("majuqiao", 2), ("xiaolan", 1), ("xiaolan", 2)]
        first = _dump(conn)
        counts = loaded_counts(conn)

        items = _per_scheme(conn, "items")
        assert items[("majuqiao", 1)] == 34 and items[("majuqiao", 2)] == 34
        assert items[("xiaolan", 1)] == 27 and items[("xiaolan", 2)] == 27
        # issue 15: xiaolan v2 smooths its per-capita counts of events, v1 nothing
        assert conn.execute(
            "select scheme_version, count(*) from schemes.items where scheme_code = 'xiaolan' "
            "and smoothing = 'empirical_bayes' group by 1"
        ).fetchall() == [(2, 16)]
        nodes = conn.execute(
            "select node_level, count(*) from schemes.nodes "
            "where scheme_code = 'majuqiao' and scheme_version = 1 group by 1"
        ).fetchall()
        assert dict(nodes) == {"category": 5, "indicator": 12, "item": 34}
        assert counts["versions"] == 4 and counts["grades"] == 16 and counts["stars"] == 20
        assert counts["tie_breaks"] == 12

        version = conn.execute(
            "select valid_from::text, ranked_level, peer_level, scope_code, total_points, "
            "total_cap, star_method, warning_red_below, source_file, source_sha256 "
            "from schemes.versions where scheme_code = 'majuqiao' and scheme_version = 2"
        ).fetchone()
        sha = hashlib.sha256((SHIPPED / "majuqiao_v2.yaml").read_bytes()).hexdigest()
        assert version == (
            "2024-09-01", "township", "county", "110112", 100, 100, "score_bands", 80,
            "schemes/majuqiao_v2.yaml", sha,
        )  # fmt: skip

        # points add up in the tables as they did in the file
        sums = conn.execute(
            "select parent.node_code, parent.points, sum(child.points) "
            "from schemes.nodes as child join schemes.nodes as parent "
            "  on child.scheme_code = parent.scheme_code "
            " and child.scheme_version = parent.scheme_version "
            " and child.parent_code = parent.node_code "
            "group by parent.scheme_code, parent.scheme_version, parent.node_code, parent.points"
        ).fetchall()
        assert sums and all(points == total for _, points, total in sums)

        # the README's defaults are written out, so the SQL never needs to know them
        defaults = conn.execute(
            "select item_code, rule, normalisation, if_no_data, baseline, cap, min_count, "
            "target from schemes.items where scheme_code = 'majuqiao' and scheme_version = 1 "
            "and item_code in ('JTZX_SG_03', 'SHZA_XS_03', 'SHZA_ZA_04', 'QZAQG_DC_01') "
            "order by item_code"
        ).fetchall()
        assert defaults == [
            ("JTZX_SG_03", "deduct_per_unit", "none", "full", 0, 2, None, None),
            ("QZAQG_DC_01", "survey_scale", "none", "full", None, 6, None, None),
            ("SHZA_XS_03", "change", "none", "full", None, 2, 3, None),
            ("SHZA_ZA_04", "target_ratio", "none", "full", None, None, None, 80),
        ]
        grades = conn.execute(
            "select grade, sort_order from schemes.grades where scheme_code = 'xiaolan' "
            "and scheme_version = 1 order by sort_order"
        ).fetchall()
        assert grades == [("优秀", 1), ("良好", 2), ("一般", 3), ("较差", 4)]
        bands = conn.execute(
            "select lower_bound, upper_bound, points from schemes.item_bands "
            "where scheme_code = 'majuqiao' and scheme_version = 1 order by lower_bound"
        ).fetchall()
        assert bands[-1][1] is None and [b[0] for b in bands] == [0, 20, 30, 40]

        assert load_schemes(conn, SHIPPED) == loaded
        assert _dump(conn) == first  # loaded_at included: an unchanged file is a no-op


def test_tables_mirror_the_folder(databases, tmp_path) -> None:
    warehouse, _ = databases
    folder = tmp_path / "schemes"
    folder.mkdir()
    for name in ("majuqiao.yaml", "xiaolan.yaml"):
        shutil.copy(SHIPPED / name, folder / name)
    with connect(warehouse) as conn:
        load_schemes(conn, SHIPPED)
        assert load_schemes(conn, folder) == [("majuqiao", 1), ("xiaolan", 1)]
        assert set(_per_scheme(conn, "items")) == {("majuqiao", 1), ("xiaolan", 1)}
        files = conn.execute("select source_file from schemes.versions").fetchall()
        assert sorted(files) == [("schemes/majuqiao.yaml",), ("schemes/xiaolan.yaml",)]

        before = _dump(conn)
        (folder / "broken.yaml").write_text("scheme_code: broken\n", encoding="utf-8")
        with pytest.raises(SchemeError) as info:
            load_schemes(conn, folder)
        assert f"{folder / 'broken.yaml'}: version: missing key 'version' — add version" in str(
            info.value
        )
        assert _dump(conn) == before  # nothing is loaded when any file is invalid


def test_load_schemes_task_reads_the_schemes_dir_setting(databases, tmp_path, monkeypatch) -> None:
    from pingan_transforms import tasks

    warehouse, _ = databases
    folder = tmp_path / "mine"
    folder.mkdir()
    shutil.copy(SHIPPED / "xiaolan.yaml", folder / "xiaolan.yaml")
    monkeypatch.setenv("PINGAN_SCHEMES_DIR", str(folder))
    assert tasks.load_schemes() == {"schemes_dir": str(folder), "versions": ["xiaolan v1"]}
    with connect(warehouse) as conn:
        assert conn.execute("select source_file from schemes.versions").fetchall() == [
            ("mine/xiaolan.yaml",)
        ]


def test_an_empty_folder_is_an_error_not_an_empty_load(databases, tmp_path) -> None:
    from pingan_transforms.settings import ConfigError

    warehouse, _ = databases
    with connect(warehouse) as conn, pytest.raises(ConfigError, match="no \\*.yaml scheme files"):
        load_schemes(conn, tmp_path)


def test_cli_scheme_load(databases, capsys) -> None:
    from pingan_transforms.cli import main

    assert main(["scheme", "load", "--dir", str(SHIPPED)]) == 0
    out = capsys.readouterr().out
    assert "loaded 4 scheme version(s)" in out
    assert "majuqiao v1, majuqiao v2, xiaolan v1, xiaolan v2" in out
