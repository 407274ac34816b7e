"""The published index: scores, ranks and grades, with their categories and items.

Each suite reads the mart's rows of the month being published (``__BATCH__``); SQL
checks join them to the scheme tables (``schemes.*``, what the scores were computed
from), to the other index marts of the same month and to
``intermediate.int_scheme_units_assigned`` (the units each scheme version ranks).
"""

from __future__ import annotations

import great_expectations as gx

from ._common import (
    ROW_REF,
    MartTable,
    QualityScope,
    SuiteSpec,
    allowed,
    between,
    mart_suite,
    not_empty,
    required,
    rows_where,
    unique,
)


def unit_ref(alias: str, *more: str) -> str:
    """How a report names an index row: ``S0 v1 110112001`` (+ category or item code)."""
    parts = [f"{alias}.scheme_code || ' v' || {alias}.scheme_version", f"{alias}.region_code"]
    return " || ' ' || ".join([*parts, *(f"{alias}.{m}" for m in more)])


MONTHLY = MartTable("marts.region_index_monthly", row_ref=unit_ref("t"))
CATEGORIES = MartTable("marts.region_index_categories", row_ref=unit_ref("t", "category_code"))
ITEMS = MartTable("marts.region_index_items", row_ref=unit_ref("t", "item_code"))

#: Scores are numeric(6, 2); sums of them are exact, but allow for a rounding.
CENT = 0.005


def _month(scope: QualityScope) -> str:
    return f"date '{scope.first_day.isoformat()}'"


def region_index_monthly(scope: QualityScope) -> gx.ExpectationSuite:
    suite = mart_suite(MONTHLY, scope)
    month = _month(scope)
    for expectation in (
        not_empty(),
        unique(["scheme_code", "month_start", "region_code"]),
        *(
            required(column)
            for column in (
                "scheme_code",
                "scheme_version",
                "month_start",
                "region_code",
                "peer_group_code",
                "score",
                "grade",
                "rank_in_peer_group",
                "units_ranked",
            )
        ),
        allowed("warning_level", ["red", "yellow", "green"], "warning levels"),
        between("rank_in_peer_group", 1, None, "is 1 or more"),
        rows_where(
            "score within cap",
            "score is within [0, total_cap] of its scheme version (schemes.versions)",
            f"""
            with batch_rows as (select * from __BATCH__)
            select b.{ROW_REF}, b.score, v.total_cap
            from batch_rows as b
            left join schemes.versions as v
                on v.scheme_code = b.scheme_code and v.scheme_version = b.scheme_version
            where v.total_cap is null or b.score < 0 or b.score > v.total_cap
            """,
        ),
        rows_where(
            "ranks follow scores",
            "rank = 1 + the number of units of the peer group with a strictly better "
            "position (higher score, then the scheme's tie-break category scores in order, "
            "a missing one last): ties share a rank, the next rank skips (1, 2, 2, 4)",
            f"""
            with batch_rows as (select * from __BATCH__),
            tie_values as (
                -- one set-based join, not a lookup per unit (a province ranks 1,365)
                select b.scheme_code, b.scheme_version, b.month_start, b.region_code,
                       array_agg(coalesce(c.category_score, -1e9) order by t.position)
                           as tie_breaks
                from batch_rows as b
                inner join schemes.tie_breaks as t
                    on t.scheme_code = b.scheme_code and t.scheme_version = b.scheme_version
                left join marts.region_index_categories as c
                    on c.scheme_code = b.scheme_code
                    and c.month_start = b.month_start
                    and c.region_code = b.region_code
                    and c.category_code = t.category_code
                group by b.scheme_code, b.scheme_version, b.month_start, b.region_code
            ),
            positioned as (
                select b.*, coalesce(v.tie_breaks, '{{}}') as tie_breaks
                from batch_rows as b
                left join tie_values as v
                    on v.scheme_code = b.scheme_code
                    and v.scheme_version = b.scheme_version
                    and v.month_start = b.month_start
                    and v.region_code = b.region_code
            ),
            expected as (
                select positioned.*,
                       rank() over (
                           partition by scheme_code, scheme_version, month_start, peer_group_code
                           order by score desc, tie_breaks desc
                       ) as expected_rank
                from positioned
            )
            select {ROW_REF}, peer_group_code, score, tie_breaks, rank_in_peer_group,
                   expected_rank
            from expected
            where rank_in_peer_group is distinct from expected_rank
            order by scheme_code, peer_group_code, expected_rank
            """,
        ),
        rows_where(
            "peer groups complete",
            "every unit the scheme version ranks (intermediate.int_scheme_units_assigned) "
            "has exactly its row in its peer group, and units_ranked counts them",
            f"""
            with batch_rows as (select * from __BATCH__),
            versions as (select distinct scheme_code, scheme_version from batch_rows),
            assigned as (
                select a.scheme_code, a.scheme_version, a.region_code, a.peer_group_code
                from intermediate.int_scheme_units_assigned as a
                inner join versions as v
                    on a.scheme_code = v.scheme_code and a.scheme_version = v.scheme_version
            ),
            group_sizes as (
                select scheme_code, peer_group_code, count(*) as units
                from batch_rows group by scheme_code, peer_group_code
            )
            select {unit_ref("a")} as {ROW_REF},
                   a.peer_group_code, 'not ranked' as problem
            from assigned as a
            where not exists (
                select 1 from batch_rows as b
                where b.scheme_code = a.scheme_code and b.region_code = a.region_code
                  and b.peer_group_code = a.peer_group_code
            )
            union all
            select b.{ROW_REF}, b.peer_group_code, 'not a unit of this peer group'
            from batch_rows as b
            where not exists (
                select 1 from assigned as a
                where a.scheme_code = b.scheme_code and a.scheme_version = b.scheme_version
                  and a.region_code = b.region_code and a.peer_group_code = b.peer_group_code
            )
            union all
            select b.{ROW_REF}, b.peer_group_code,
                   'units_ranked ' || b.units_ranked || ', but ' || g.units || ' ranked'
            from batch_rows as b
            inner join group_sizes as g
                on g.scheme_code = b.scheme_code and g.peer_group_code = b.peer_group_code
            where b.units_ranked is distinct from g.units
            """,
        ),
        rows_where(
            "categories add up",
            "the category scores (marts.region_index_categories) plus cap_adjustment equal "
            "the score",
            f"""
            with batch_rows as (select * from __BATCH__),
            sums as (
                select scheme_code, region_code, sum(category_score) as category_total
                from marts.region_index_categories
                where month_start = {month}
                group by scheme_code, region_code
            )
            select b.{ROW_REF}, b.score, b.cap_adjustment, s.category_total
            from batch_rows as b
            left join sums as s
                on s.scheme_code = b.scheme_code and s.region_code = b.region_code
            where s.category_total is null
               or abs(s.category_total + coalesce(b.cap_adjustment, 0) - b.score) > {CENT}
            """,
        ),
        rows_where(
            "grade matches score",
            "the grade is the band of schemes.grades holding the score (max exclusive but "
            "the top band's), or a lower one when a veto fired",
            f"""
            with batch_rows as (select * from __BATCH__),
            graded as (
                select b.{ROW_REF}, b.score, b.grade, b.veto_fired,
                       (select g.grade from schemes.grades as g
                        where g.scheme_code = b.scheme_code
                          and g.scheme_version = b.scheme_version
                          and b.score >= g.min_score
                          and (b.score < g.max_score
                               or (g.sort_order = 1 and b.score <= g.max_score))
                        order by g.sort_order limit 1) as band_grade,
                       (select g.sort_order from schemes.grades as g
                        where g.scheme_code = b.scheme_code
                          and g.scheme_version = b.scheme_version
                          and b.score >= g.min_score
                          and (b.score < g.max_score
                               or (g.sort_order = 1 and b.score <= g.max_score))
                        order by g.sort_order limit 1) as band_order,
                       (select g.sort_order from schemes.grades as g
                        where g.scheme_code = b.scheme_code
                          and g.scheme_version = b.scheme_version
                          and g.grade = b.grade) as grade_order
                from batch_rows as b
            )
            select {ROW_REF}, score, grade, band_grade, veto_fired from graded
            where band_order is null or grade_order is null
               or (not coalesce(veto_fired, false) and grade is distinct from band_grade)
               or (coalesce(veto_fired, false) and grade_order < band_order)
            """,
        ),
    ):
        suite.add_expectation(expectation)
    return suite


def region_index_categories(scope: QualityScope) -> gx.ExpectationSuite:
    suite = mart_suite(CATEGORIES, scope)
    month = _month(scope)
    for expectation in (
        not_empty(),
        unique(["scheme_code", "month_start", "region_code", "category_code"]),
        *(
            required(column)
            for column in (
                "scheme_code",
                "scheme_version",
                "month_start",
                "region_code",
                "category_code",
                "category_score",
            )
        ),
        rows_where(
            "categories complete",
            "every published unit has one row per category of its scheme version "
            "(schemes.nodes) and no other",
            f"""
            with batch_rows as (select * from __BATCH__),
            units as (
                select scheme_code, scheme_version, region_code
                from marts.region_index_monthly where month_start = {month}
            ),
            expected as (
                select u.scheme_code, u.scheme_version, u.region_code, n.node_code
                from units as u
                inner join schemes.nodes as n
                    on n.scheme_code = u.scheme_code and n.scheme_version = u.scheme_version
                    and n.node_level = 'category'
            )
            select {unit_ref("e", "node_code")} as {ROW_REF}, 'missing' as problem
            from expected as e
            where not exists (
                select 1 from batch_rows as b
                where b.scheme_code = e.scheme_code and b.scheme_version = e.scheme_version
                  and b.region_code = e.region_code and b.category_code = e.node_code
            )
            union all
            select b.{ROW_REF}, 'not a category of a published unit'
            from batch_rows as b
            where not exists (
                select 1 from expected as e
                where b.scheme_code = e.scheme_code and b.scheme_version = e.scheme_version
                  and b.region_code = e.region_code and b.category_code = e.node_code
            )
            """,
        ),
    ):
        suite.add_expectation(expectation)
    return suite


def region_index_items(scope: QualityScope) -> gx.ExpectationSuite:
    suite = mart_suite(ITEMS, scope)
    month = _month(scope)
    for expectation in (
        not_empty(),
        unique(["scheme_code", "month_start", "region_code", "item_code"]),
        *(
            required(column)
            for column in (
                "scheme_code",
                "scheme_version",
                "month_start",
                "region_code",
                "item_code",
                "item_score",
            )
        ),
        rows_where(
            "item score within points",
            "an item of the tree scores from 0 to its points (adjustments, veto and rank "
            "movement, may be negative)",
            f"""
            select {ROW_REF}, rule, points, item_score from __BATCH__
            where not coalesce(is_adjustment, false)
              and (item_score < 0 or item_score > points)
            """,
        ),
        rows_where(
            "items complete",
            "every published unit has one row per item of its scheme version (schemes.items) "
            "and no other",
            f"""
            with batch_rows as (select * from __BATCH__),
            units as (
                select scheme_code, scheme_version, region_code
                from marts.region_index_monthly where month_start = {month}
            ),
            expected as (
                select u.scheme_code, u.scheme_version, u.region_code, i.item_code
                from units as u
                inner join schemes.items as i
                    on i.scheme_code = u.scheme_code and i.scheme_version = u.scheme_version
            )
            select {unit_ref("e", "item_code")} as {ROW_REF}, 'missing' as problem
            from expected as e
            where not exists (
                select 1 from batch_rows as b
                where b.scheme_code = e.scheme_code and b.scheme_version = e.scheme_version
                  and b.region_code = e.region_code and b.item_code = e.item_code
            )
            union all
            select b.{ROW_REF}, 'not an item of a published unit'
            from batch_rows as b
            where not exists (
                select 1 from expected as e
                where b.scheme_code = e.scheme_code and b.scheme_version = e.scheme_version
                  and b.region_code = e.region_code and b.item_code = e.item_code
            )
            """,
        ),
        rows_where(
            "items add up",
            "the item scores plus the total's cap_adjustment equal the published score",
            f"""
            with batch_rows as (select * from __BATCH__),
            sums as (
                select scheme_code, region_code, sum(item_score) as item_total
                from batch_rows group by scheme_code, region_code
            )
            select {unit_ref("m")} as {ROW_REF},
                   m.score, m.cap_adjustment, s.item_total
            from marts.region_index_monthly as m
            left join sums as s
                on s.scheme_code = m.scheme_code and s.region_code = m.region_code
            where m.month_start = {month}
              and (s.item_total is null
                   or abs(s.item_total + coalesce(m.cap_adjustment, 0) - m.score) > {CENT})
            """,
        ),
    ):
        suite.add_expectation(expectation)
    return suite


SUITES = (
    SuiteSpec(region_index_monthly, mart=MONTHLY),
    SuiteSpec(region_index_categories, mart=CATEGORIES),
    SuiteSpec(region_index_items, mart=ITEMS),
)
