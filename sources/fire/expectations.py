"""Fire department file drops (消防): fires (xlsx) and supervision inspections (GBK CSV)."""

from __future__ import annotations

import great_expectations as gx

from expectations._common import (
    AMOUNT,
    COUNT,
    DATETIME,
    FILE_META,
    MONTH,
    PER_TOWN,
    REGION_CODE,
    STRICT,
    TOWNSHIP_CODE,
    EventTime,
    QualityScope,
    RawTable,
    SuiteSpec,
    Tolerance,
    formatted,
    raw_suite,
)

#: Defective rows tolerated in one county's fire file (a few dozen rows each): one
#: mistyped date (2024-09-32, quarantined by staging) is already 3 per cent of it.
SMALL_FILE = Tolerance(0.05, rows=2)

FIRES = RawTable(
    table="raw.fire__fires",
    columns=("xh", "hzbh", "qhsj", "qhdz", "xzqhdm", "qhyy", "swrs", "ssrs", "zjccss"),
    meta=FILE_META,
    key=("hzbh",),
    selection="file",
    event=EventTime("qhsj", "datetime", lookback_months=2, outside=SMALL_FILE),
    # Offices' spreadsheets repeat a row now and then; in a small file one repeat is a
    # few per cent. Staging keeps one.
    duplicates=SMALL_FILE,
    region_column="xzqhdm",
)

INSPECTIONS = RawTable(
    table="raw.fire__inspections",
    columns=("tjyf", "xzqhdm", "xzjdmc", "jcdws", "fxyhs", "zgyhs", "zlgztzs", "xzcfs", "fkje"),
    meta=FILE_META,
    key=("tjyf", "xzqhdm"),
    selection="file",
    # One row per town for the file's month; last month's file may arrive late.
    event=EventTime("tjyf", "month", lookback_months=1, lead_days=0, outside=PER_TOWN),
    duplicates=PER_TOWN,
    region_column="xzqhdm",
)


def fire_fires(scope: QualityScope) -> gx.ExpectationSuite:
    suite = raw_suite(FIRES, scope, required_columns={"hzbh": STRICT, "qhsj": SMALL_FILE})
    t = FIRES
    for expectation in (
        formatted(t, "qhsj", DATETIME, "a date and time", SMALL_FILE),
        formatted(t, "xzqhdm", REGION_CODE, "a 6-, 9- or 12-digit region code", SMALL_FILE),
        formatted(t, "swrs", COUNT, "a count of deaths", SMALL_FILE),
        formatted(t, "ssrs", COUNT, "a count of injuries", SMALL_FILE),
        formatted(t, "zjccss", AMOUNT, "an amount in yuan", SMALL_FILE),
    ):
        suite.add_expectation(expectation)
    return suite


def fire_inspections(scope: QualityScope) -> gx.ExpectationSuite:
    suite = raw_suite(INSPECTIONS, scope, required_columns={"tjyf": STRICT, "xzqhdm": PER_TOWN})
    counts = ("jcdws", "fxyhs", "zgyhs", "zlgztzs", "xzcfs")
    t = INSPECTIONS
    for expectation in (
        formatted(t, "tjyf", MONTH, "a month (2024-11, 2024/11 or 2024年11月)", PER_TOWN),
        formatted(t, "xzqhdm", TOWNSHIP_CODE, "a 9-digit township code", PER_TOWN),
        *(formatted(t, c, COUNT, "a count", PER_TOWN) for c in counts),
        formatted(t, "fkje", AMOUNT, "an amount in yuan", PER_TOWN),
    ):
        suite.add_expectation(expectation)
    return suite


SUITES = (
    SuiteSpec(fire_fires, raw=FIRES),
    SuiteSpec(fire_inspections, raw=INSPECTIONS),
)
