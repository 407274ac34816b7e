"""The survey office's quarterly public sense-of-security workbook (群众安全感调查)."""

from __future__ import annotations

import great_expectations as gx

from expectations._common import (
    COUNT,
    FILE_META,
    PER_TOWN,
    QUARTER,
    STRICT,
    TOWNSHIP_CODE,
    EventTime,
    QualityScope,
    RawTable,
    SuiteSpec,
    defects,
    formatted,
    raw_suite,
)

SCORES = RawTable(
    table="raw.survey__scores",
    columns=("tjjd", "xzqhdm", "xzjdmc", "ybl", "aqgdf", "mydf"),
    meta=FILE_META,
    key=("tjjd", "xzqhdm"),
    selection="file",
    # Quarterly, and published a quarter or two late (2024Q2 arrives in August); a
    # quarter's scores hold for its three months.
    event=EventTime("tjjd", "quarter", lookback_months=9, lead_days=0, outside=PER_TOWN),
    duplicates=PER_TOWN,
    region_column="xzqhdm",
)

SCORE = r"^[0-9]{1,3}([.][0-9]+)?$"


def survey_scores(scope: QualityScope) -> gx.ExpectationSuite:
    suite = raw_suite(
        SCORES,
        scope,
        required_columns={
            "tjjd": STRICT,
            "xzqhdm": PER_TOWN,
            "ybl": PER_TOWN,
            "aqgdf": PER_TOWN,
            "mydf": PER_TOWN,
        },
    )
    t = SCORES
    for expectation in (
        formatted(t, "tjjd", QUARTER, "a quarter YYYYQn", PER_TOWN),
        formatted(t, "xzqhdm", TOWNSHIP_CODE, "a 9-digit township code", PER_TOWN),
        formatted(t, "ybl", COUNT, "a sample size", PER_TOWN),
        formatted(t, "aqgdf", SCORE, "a score", PER_TOWN),
        formatted(t, "mydf", SCORE, "a score", PER_TOWN),
        defects(
            t,
            "range scores",
            "aqgdf and mydf are scores from 0 to 100",
            f"""
            case when batch_rows.aqgdf ~ '{SCORE}' then cast(batch_rows.aqgdf as numeric) end > 100
            or case when batch_rows.mydf ~ '{SCORE}' then cast(batch_rows.mydf as numeric) end > 100
            """,
            PER_TOWN,
            shown=["aqgdf", "mydf"],
        ),
    ):
        suite.add_expectation(expectation)
    return suite


SUITES = (SuiteSpec(survey_scores, raw=SCORES),)
