"""Load the scheme folder into the warehouse tables ``schemes.*`` (``010_schemes.sql``).

The tables mirror the folder: every load validates every ``*.yaml`` first and then,
in one transaction, replaces the tables' contents with exactly those files. So a
reload changes nothing, a deleted file's versions disappear, and dbt (which scores
every version it finds) never sees half a scheme or a file that failed validation.
Rows are deleted rather than truncated so that a dbt run reading the tables at the
same moment sees the old set until the commit, instead of waiting on a lock.

Defaults the README documents are written out (baseline 0, cap = the item's
points, min_count 0, if_no_data full, normalisation none), so the SQL never has to
know them.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from pingan_transforms.scheme.catalogue import Catalogue, load_catalogue
from pingan_transforms.scheme.model import Bands, Scheme
from pingan_transforms.scheme.regions import RegionMaster
from pingan_transforms.scheme.validate import SchemeFile, load_scheme_files
from pingan_transforms.settings import ConfigError

_LOCK = 72628  # serialises concurrent loaders (prepare_warehouse uses 72627)
_ITEM_PARAMETERS = (
    "baseline", "per_unit", "cap", "target", "floor", "compare_to", "min_count", "better",
    "threshold", "veto_points", "veto_grade",
)  # fmt: skip
# (table, columns) in insert order; deletes run in the same order.
TABLES: dict[str, tuple[str, ...]] = {
    "versions": (
        "scheme_code", "scheme_version", "scheme_name", "valid_from", "ranked_level",
        "peer_level", "scope_code", "total_points", "total_cap", "total_label", "star_method",
        "warning_red_below", "warning_yellow_below", "escalate_after", "source_file",
        "source_sha256",
    ),
    "nodes": (
        "scheme_code", "scheme_version", "node_code", "node_level", "parent_code", "node_name",
        "points", "sort_order",
    ),
    "items": (
        "scheme_code", "scheme_version", "item_code", "indicator_code", "category_code",
        "metric_code", "normalisation", "smoothing", "rule", "if_no_data", *_ITEM_PARAMETERS,
    ),
    "item_bands": (
        "scheme_code", "scheme_version", "item_code", "lower_bound", "upper_bound", "points",
    ),
    "grades": (
        "scheme_code", "scheme_version", "grade", "min_score", "max_score", "colour",
        "sort_order",
    ),
    "stars": ("scheme_code", "scheme_version", "stars", "min_score", "top_share"),
    "tie_breaks": ("scheme_code", "scheme_version", "position", "category_code"),
}  # fmt: skip

Row = tuple[Any, ...]


def scheme_files(directory: Path) -> list[Path]:
    """The folder's ``*.yaml`` files, in name order; an empty or missing folder is an error.

    Loading nothing would empty the tables and silently stop every ranking, which
    is never what a run means to do.
    """
    if not directory.is_dir():
        raise ConfigError(
            f"scheme folder {directory} does not exist — set PINGAN_SCHEMES_DIR or restore schemes/"
        )
    paths = sorted(directory.glob("*.yaml"))
    if not paths:
        raise ConfigError(f"{directory}: no *.yaml scheme files — add one (schemes/README.md)")
    return paths


def load_schemes(
    conn: psycopg.Connection,
    directory: Path,
    catalogue: Catalogue | None = None,
    regions: RegionMaster | None = None,
) -> list[tuple[str, int]]:
    """Validate every scheme file in ``directory`` and make ``schemes.*`` hold exactly them.

    Returns the (scheme_code, version) pairs loaded. Raises ``SchemeError`` (listing
    every problem of every file) before touching the tables when any file is invalid.
    A version whose file bytes are unchanged keeps its ``loaded_at``, so a reload is
    a true no-op.
    """
    directory = Path(directory)
    files = load_scheme_files(scheme_files(directory), catalogue or load_catalogue(), regions)
    folder = directory.resolve().name
    with conn.transaction():
        conn.execute("select pg_advisory_xact_lock(%s)", (_LOCK,))
        loaded_at = {
            (code, version, sha): at
            for code, version, sha, at in conn.execute(
                "select scheme_code, scheme_version, source_sha256, loaded_at from schemes.versions"
            )
        }
        for table in TABLES:
            conn.execute(sql.SQL("delete from {}").format(sql.Identifier("schemes", table)))
        for file in files:
            scheme = file.scheme
            kept = loaded_at.get((scheme.scheme_code, scheme.version, file.sha256))
            _insert_scheme(conn, file, f"{folder}/{file.path.name}", kept)
    return sorted((f.scheme.scheme_code, f.scheme.version) for f in files)


def _insert_scheme(
    conn: psycopg.Connection, file: SchemeFile, source_file: str, loaded_at: datetime | None
) -> None:
    scheme = file.scheme
    conn.execute(
        sql.SQL(
            "insert into schemes.versions ({}, loaded_at) values ({}, coalesce(%s, now()))"
        ).format(
            sql.SQL(", ").join(map(sql.Identifier, TABLES["versions"])),
            sql.SQL(", ").join(sql.Placeholder() * len(TABLES["versions"])),
        ),
        (*version_row(scheme, source_file, file.sha256), loaded_at),
    )
    rows = {
        "nodes": node_rows(scheme),
        "items": item_rows(scheme),
        "item_bands": band_rows(scheme),
        "grades": grade_rows(scheme),
        "stars": star_rows(scheme),
        "tie_breaks": tie_break_rows(scheme),
    }
    with conn.cursor() as cur:
        for table, table_rows in rows.items():
            if not table_rows:
                continue
            columns = TABLES[table]
            statement = sql.SQL("insert into {} ({}) values ({})").format(
                sql.Identifier("schemes", table),
                sql.SQL(", ").join(map(sql.Identifier, columns)),
                sql.SQL(", ").join(sql.Placeholder() * len(columns)),
            )
            cur.executemany(statement, table_rows)


def version_row(scheme: Scheme, source_file: str, sha256: str) -> Row:
    warnings = scheme.warnings
    return (
        scheme.scheme_code, scheme.version, scheme.name, scheme.valid_from_date,
        scheme.ranked_level, scheme.peer_level, scheme.scope, scheme.total_points, scheme.cap,
        scheme.total_label, scheme.stars.method if scheme.stars else "none",
        warnings.red_below if warnings else None, warnings.yellow_below if warnings else None,
        warnings.escalate_after if warnings else None, source_file, sha256,
    )  # fmt: skip


def node_rows(scheme: Scheme) -> list[Row]:
    """Categories, indicators and items; ``sort_order`` is the position among siblings."""
    key = (scheme.scheme_code, scheme.version)
    rows: list[Row] = []
    for ci, category in enumerate(scheme.categories, 1):
        rows.append((*key, category.code, "category", None, category.name, category.points, ci))
        for ii, indicator in enumerate(category.indicators, 1):
            rows.append(
                (*key, indicator.code, "indicator", category.code, indicator.name,
                 indicator.points, ii)
            )  # fmt: skip
            for ti, item in enumerate(indicator.items, 1):
                rows.append((*key, item.code, "item", indicator.code, item.name, item.points, ti))
    return rows


def item_rows(scheme: Scheme) -> list[Row]:
    rows: list[Row] = []
    for category, indicator, item in scheme.items():
        parameters = item.parameters()
        rows.append(
            (scheme.scheme_code, scheme.version, item.code, indicator.code, category.code,
             item.metric, item.normalisation, item.smoothing, item.rule, item.if_no_data,
             *(parameters.get(name) for name in _ITEM_PARAMETERS))
        )  # fmt: skip
    return rows


def band_rows(scheme: Scheme) -> list[Row]:
    return [
        (scheme.scheme_code, scheme.version, item.code, band.min, band.max, band.points)
        for _, _, item in scheme.items()
        if isinstance(item, Bands)
        for band in item.bands
    ]


def grade_rows(scheme: Scheme) -> list[Row]:
    """Grades best first: ``sort_order`` 1 is the band with the highest scores."""
    ordered = sorted(scheme.grades, key=lambda g: g.min, reverse=True)
    return [
        (scheme.scheme_code, scheme.version, g.grade, g.min, g.max, g.colour.lower(), order)
        for order, g in enumerate(ordered, 1)
    ]


def star_rows(scheme: Scheme) -> list[Row]:
    if scheme.stars is None:
        return []
    return [
        (scheme.scheme_code, scheme.version, level.stars, level.min, level.top_share)
        for level in scheme.stars.levels
    ]


def tie_break_rows(scheme: Scheme) -> list[Row]:
    return [
        (scheme.scheme_code, scheme.version, position, code)
        for position, code in enumerate(scheme.tie_break, 1)
    ]


def loaded_counts(conn: psycopg.Connection) -> dict[str, int]:
    """Rows per ``schemes.*`` table (for reports and tests)."""
    counts: dict[str, int] = {}
    for table in TABLES:
        query = sql.SQL("select count(*) from {}").format(sql.Identifier("schemes", table))
        row = conn.execute(query).fetchone()
        counts[table] = int(row[0]) if row else 0
    return counts
