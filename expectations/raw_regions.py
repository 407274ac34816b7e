"""The region master (行政区划): the code hierarchy every record is placed in."""

from __future__ import annotations

import great_expectations as gx

from pingan_transforms.contracts.regions import CENTROID_COLUMNS, MASTER_COLUMNS

from ._common import (
    COUNT,
    DATE,
    DECIMAL,
    FILE_META,
    REGION_CODE,
    ROW_REF,
    STRICT,
    QualityScope,
    RawTable,
    SuiteSpec,
    coded,
    formatted,
    raw_suite,
    rows_where,
    sql_literal,
)

MASTER = RawTable(
    table="raw.regions__master",
    columns=(*MASTER_COLUMNS, *CENTROID_COLUMNS),  # the file's format (contracts/regions.py)
    meta=FILE_META,
    key=("code",),
    # One master is in force: the latest loaded (it has no event time, so no window).
    selection="latest",
    duplicates=STRICT,
    region_column="code",
)


def regions_master(scope: QualityScope) -> gx.ExpectationSuite:
    # The master is the user's own file, the frame every record is placed in: no defect
    # is tolerated.
    suite = raw_suite(
        MASTER, scope, required_columns={"code": STRICT, "name": STRICT, "level": STRICT}
    )
    levels = scope.seed_values("region_levels", "region_level")
    t = MASTER
    for expectation in (
        coded(t, "level", levels, "seed region_levels", STRICT),
        formatted(t, "code", REGION_CODE, "a 6-, 9- or 12-digit region code", STRICT),
        formatted(t, "parent_code", REGION_CODE, "a 6-, 9- or 12-digit region code", STRICT),
        formatted(t, "resident_population", COUNT, "a head count", STRICT),
        formatted(t, "floating_population", COUNT, "a head count", STRICT),
        formatted(t, "valid_from", DATE, "a date", STRICT),
        formatted(t, "valid_to", DATE, "a date", STRICT),
        formatted(t, "longitude", DECIMAL, "a decimal longitude", STRICT),
        formatted(t, "latitude", DECIMAL, "a decimal latitude", STRICT),
        parent_in_master(scope),
    ):
        suite.add_expectation(expectation)
    return suite


def parent_in_master(scope: QualityScope) -> gx.expectations.Expectation:
    # Two branches under UNION ALL, not one OR: under an OR the NOT EXISTS was a subplan
    # run per row (15,034 × 15,034 regions of a province, 1.4 s a query); alone it is a
    # hash anti-join.
    depths = ", ".join(
        f"({sql_literal(r['region_level'])}, {int(r['depth'])})"
        for r in scope.seed_rows("region_levels")
    )
    return rows_where(
        "parent in master",
        "every region's parent is in the same master, one level or more above it; only "
        "the top level present has no parent",
        f"""
        with batch_rows as (select * from __BATCH__),
        depths (level, depth) as (values {depths}),
        placed as (
            select batch_rows.*,
                   (select d.depth from depths as d where d.level = batch_rows.level) as depth
            from batch_rows
        )
        select child._batch_id, child.{ROW_REF}, child.code, child.level, child.parent_code
        from placed as child
        where child.parent_code is null
          and child.depth > (select min(depth) from placed)
        union all
        select child._batch_id, child.{ROW_REF}, child.code, child.level, child.parent_code
        from placed as child
        where child.parent_code is not null
          and not exists (select 1 from placed as parent
                          where parent.code = child.parent_code
                            and parent.depth < child.depth)
        """,
    )


SUITES = (SuiteSpec(regions_master, raw=MASTER),)
