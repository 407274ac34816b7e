"""The survey office's quarterly public sense-of-security workbook (群众安全感调查)."""

from __future__ import annotations

import great_expectations as gx

from ._common import (
    COUNT,
    FILE_META,
    PER_TOWN_DEFECTS,
    PER_TOWN_MOSTLY,
    QUARTER,
    ROW_REF,
    TOWNSHIP_CODE,
    EventTime,
    QualityScope,
    RawTable,
    SuiteSpec,
    matches,
    raw_suite,
    rows_where,
)

SCORES = RawTable(
    table="raw.survey__scores",
    columns=("tjjd", "xzqhdm", "xzjdmc", "ybl", "aqgdf", "mydf"),
    meta=FILE_META,
    key=("tjjd", "xzqhdm"),
    selection="file",
    # Quarterly, and published a quarter or two late (2024Q2 arrives in August); a
    # quarter's scores hold for its three months.
    event=EventTime("tjjd", "quarter", lookback_months=9, lead_days=0),
    max_duplicate_share=PER_TOWN_DEFECTS,
)

SCORE = r"^[0-9]{1,3}([.][0-9]+)?$"


def survey_scores(scope: QualityScope) -> gx.ExpectationSuite:
    suite = raw_suite(
        SCORES,
        scope,
        required_columns={
            "tjjd": 1.0,
            "xzqhdm": PER_TOWN_MOSTLY,
            "ybl": PER_TOWN_MOSTLY,
            "aqgdf": PER_TOWN_MOSTLY,
            "mydf": PER_TOWN_MOSTLY,
        },
    )
    for expectation in (
        matches("tjjd", QUARTER, "a quarter YYYYQn", mostly=PER_TOWN_MOSTLY),
        matches("xzqhdm", TOWNSHIP_CODE, "a 9-digit township code", mostly=PER_TOWN_MOSTLY),
        matches("ybl", COUNT, "a sample size", mostly=PER_TOWN_MOSTLY),
        matches("aqgdf", SCORE, "a score", mostly=PER_TOWN_MOSTLY),
        matches("mydf", SCORE, "a score", mostly=PER_TOWN_MOSTLY),
        rows_where(
            "range scores",
            "aqgdf and mydf are scores from 0 to 100",
            f"""
            select _batch_id, {ROW_REF}, aqgdf, mydf from __BATCH__
            where case when aqgdf ~ '{SCORE}' then aqgdf::numeric end > 100
               or case when mydf ~ '{SCORE}' then mydf::numeric end > 100
            """,
            max_share=PER_TOWN_DEFECTS,
        ),
    ):
        suite.add_expectation(expectation)
    return suite


SUITES = (SuiteSpec(survey_scores, raw=SCORES),)
