"""Fire department file drops (消防): fires (xlsx) and supervision inspections (GBK CSV)."""

from __future__ import annotations

import great_expectations as gx

from ._common import (
    AMOUNT,
    COUNT,
    DATETIME,
    FILE_META,
    MONTH,
    PER_TOWN_DEFECTS,
    PER_TOWN_MOSTLY,
    REGION_CODE,
    TOWNSHIP_CODE,
    EventTime,
    QualityScope,
    RawTable,
    SuiteSpec,
    matches,
    raw_suite,
)

#: Share of defective rows tolerated in one fire file (a few dozen rows each).
SMALL_FILE_DEFECTS = 0.05

FIRES = RawTable(
    table="raw.fire__fires",
    columns=("xh", "hzbh", "qhsj", "qhdz", "xzqhdm", "qhyy", "swrs", "ssrs", "zjccss"),
    meta=FILE_META,
    key=("hzbh",),
    selection="file",
    # A county's monthly file holds a few dozen fires, so one mistyped date
    # (2024-09-32, quarantined by staging) is already 3 per cent of it: the tolerances
    # for these files are per-file, not per-million.
    event=EventTime("qhsj", "datetime", lookback_months=2, max_outside_share=SMALL_FILE_DEFECTS),
    # Offices' spreadsheets repeat a row now and then; in a small file one repeat is a
    # few per cent. Staging keeps one.
    max_duplicate_share=0.05,
)

INSPECTIONS = RawTable(
    table="raw.fire__inspections",
    columns=("tjyf", "xzqhdm", "xzjdmc", "jcdws", "fxyhs", "zgyhs", "zlgztzs", "xzcfs", "fkje"),
    meta=FILE_META,
    key=("tjyf", "xzqhdm"),
    selection="file",
    # One row per town for the file's month; last month's file may arrive late.
    event=EventTime("tjyf", "month", lookback_months=1, lead_days=0),
    max_duplicate_share=PER_TOWN_DEFECTS,
)


def fire_fires(scope: QualityScope) -> gx.ExpectationSuite:
    mostly = 1 - SMALL_FILE_DEFECTS
    suite = raw_suite(FIRES, scope, required_columns={"hzbh": 1.0, "qhsj": mostly})
    for expectation in (
        matches("qhsj", DATETIME, "a date and time", mostly=mostly),
        matches("xzqhdm", REGION_CODE, "a 6-, 9- or 12-digit region code", mostly=mostly),
        matches("swrs", COUNT, "a count of deaths", mostly=mostly),
        matches("ssrs", COUNT, "a count of injuries", mostly=mostly),
        matches("zjccss", AMOUNT, "an amount in yuan", mostly=mostly),
    ):
        suite.add_expectation(expectation)
    return suite


def fire_inspections(scope: QualityScope) -> gx.ExpectationSuite:
    suite = raw_suite(INSPECTIONS, scope, required_columns={"tjyf": 1.0, "xzqhdm": PER_TOWN_MOSTLY})
    counts = ("jcdws", "fxyhs", "zgyhs", "zlgztzs", "xzcfs")
    for expectation in (
        matches("tjyf", MONTH, "a month YYYY-MM", mostly=PER_TOWN_MOSTLY),
        matches("xzqhdm", TOWNSHIP_CODE, "a 9-digit township code", mostly=PER_TOWN_MOSTLY),
        *(matches(c, COUNT, "a count", mostly=PER_TOWN_MOSTLY) for c in counts),
        matches("fkje", AMOUNT, "an amount in yuan", mostly=PER_TOWN_MOSTLY),
    ):
        suite.add_expectation(expectation)
    return suite


SUITES = (
    SuiteSpec(fire_fires, raw=FIRES),
    SuiteSpec(fire_inspections, raw=INSPECTIONS),
)
