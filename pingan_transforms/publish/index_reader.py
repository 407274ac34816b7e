"""The one reader of ``marts.region_index_monthly`` (issue 21).

Ranking, exports, bulletin, publications and the transform DAG's summary all read the
published index through these functions, so what "a scheme's month" is (its filter and
its ranking order) is written once. A change of the mart's grain or of the ranking order
is a change here, and tests/test_layering.py keeps every other module from querying the
table itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from pingan_transforms.months import Month

INDEX_SCHEMA = "marts"
INDEX_TABLE = "region_index_monthly"
INDEX_RELATION = f"{INDEX_SCHEMA}.{INDEX_TABLE}"
# the published order: by peer group, then rank; a tie in rank by region code
RANKING_ORDER = ("peer_group_code", "rank_in_peer_group", "region_code")


def _table() -> sql.Identifier:
    return sql.Identifier(INDEX_SCHEMA, INDEX_TABLE)


def published_schemes(conn: psycopg.Connection, month: Month) -> list[str]:
    """Codes of the schemes with a published ranking for the month."""
    query = sql.SQL(
        "select distinct scheme_code from {} where month_start = %s order by scheme_code"
    ).format(_table())
    return [row[0] for row in conn.execute(query, (month.first_day,)).fetchall()]


def read_units(
    conn: psycopg.Connection, scheme_code: str, month: Month, columns: Sequence[str]
) -> list[dict[str, Any]]:
    """The scheme's units in the month, in ranking order, as ``{column: value}``.

    ``columns`` are the mart's column names; an empty list means the scheme did not
    publish the month.
    """
    query = sql.SQL(
        "select {columns} from {table} where scheme_code = %s and month_start = %s order by {order}"
    ).format(
        columns=sql.SQL(", ").join(sql.Identifier(c) for c in columns),
        table=_table(),
        order=sql.SQL(", ").join(sql.Identifier(c) for c in RANKING_ORDER),
    )
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(query, (scheme_code, month.first_day)).fetchall()


def read_rank_intervals(
    conn: psycopg.Connection, scheme_code: str, month: Month
) -> dict[str, tuple[int, int]]:
    """Each unit's rank interval (rank_low, rank_high) from
    ``marts.region_index_rank_intervals``, when it was computed from the index as it
    stands (same rank and score; else the month was rebuilt since and it is stale)."""
    query = sql.SQL(
        "select i.region_code, i.rank_low, i.rank_high "
        "from marts.region_index_rank_intervals as i join {} as m "
        "on m.scheme_code = i.scheme_code and m.month_start = i.month_start "
        "and m.region_code = i.region_code and m.scheme_version = i.scheme_version "
        "and m.rank_in_peer_group = i.published_rank and m.score = i.published_score "
        "where i.scheme_code = %s and i.month_start = %s"
    ).format(_table())
    rows = conn.execute(query, (scheme_code, month.first_day)).fetchall()
    return {code: (low, high) for code, low, high in rows}


def keep_unit_rows(conn: psycopg.Connection, scheme_code: str, month: Month, revision: int) -> None:
    """Copy each unit's row, in full, into the revision's snapshot
    (``publish.publication_units.row``: what ``marts.region_index_published`` shows)."""
    query = sql.SQL(
        "update publish.publication_units as u set row = to_jsonb(m) from {} as m "
        "where u.scheme_code = %s and u.month_start = %s and u.revision = %s "
        "and m.scheme_code = u.scheme_code and m.month_start = u.month_start "
        "and m.region_code = u.region_code"
    ).format(_table())
    conn.execute(query, (scheme_code, month.first_day, revision))


def score_history(
    conn: psycopg.Connection, scheme_code: str, after: Month, through: Month
) -> list[dict[str, Any]]:
    """Per month in ``(after, through]``: the scheme version and the units' mean, lowest
    and highest score (floats: they are drawn, not published)."""
    query = sql.SQL(
        "select month_start, max(scheme_version) as version, avg(score)::float8 as mean, "
        "min(score)::float8 as low, max(score)::float8 as high from {} "
        "where scheme_code = %s and month_start > %s and month_start <= %s "
        "group by month_start order by month_start"
    ).format(_table())
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(query, (scheme_code, after.first_day, through.first_day)).fetchall()


def scored_months(conn: psycopg.Connection) -> list[tuple[str, int, date, date, int]]:
    """Per scheme: how many months it scored, the first and last, and its rows."""
    query = sql.SQL(
        "select scheme_code, count(distinct month_start), min(month_start), "
        "max(month_start), count(*) from {} group by 1 order by 1"
    ).format(_table())
    return conn.execute(query).fetchall()
