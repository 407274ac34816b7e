"""Traffic police API (交警): road accidents and monthly violation statistics."""

from __future__ import annotations

import great_expectations as gx

from ._common import (
    COUNT,
    DATETIME,
    DATETIME_WITH_OFFSET,
    EXTRACT_META,
    HMAC_SHA256,
    MONTH,
    REGION_CODE,
    TOWNSHIP_CODE,
    EventTime,
    QualityScope,
    RawTable,
    SuiteSpec,
    allowed,
    matches,
    raw_suite,
)

ACCIDENTS = RawTable(
    table="raw.traffic__accidents",
    columns=(
        "accident_no",
        "occur_time",
        "location",
        "area_code",
        "death_count",
        "injury_count",
        "vehicle_types",
        "update_time",
        "reporter_phone_hash",
    ),
    meta=EXTRACT_META,
    key=("accident_no",),
    selection="extract",
    event=EventTime("occur_time", "datetime", lookback_months=2),
    # The vendor's API serves a record twice now and then; staging keeps one.
    max_duplicate_share=0.05,
)

VIOLATIONS = RawTable(
    table="raw.traffic__violations",
    columns=(
        "area_code",
        "stat_month",
        "violation_code",
        "violation_name",
        "violation_count",
        "update_time",
    ),
    meta=EXTRACT_META,
    key=("area_code", "stat_month", "violation_code"),
    selection="extract",
    # A whole-month snapshot read with ?month=: nothing but the month belongs in it.
    event=EventTime("stat_month", "month", lookback_months=0, lead_days=0),
    max_duplicate_share=0.05,
)

JSON_ARRAY = r"^\[.*\]$"


def traffic_accidents(scope: QualityScope) -> gx.ExpectationSuite:
    suite = raw_suite(
        ACCIDENTS,
        scope,
        required_columns={"accident_no": 1.0, "update_time": 1.0, "occur_time": 0.98},
    )
    for expectation in (
        matches("occur_time", DATETIME, "a date and time"),
        matches("update_time", DATETIME_WITH_OFFSET, "an ISO 8601 time", mostly=1.0),
        matches("area_code", REGION_CODE, "a 6-, 9- or 12-digit region code"),
        matches("death_count", COUNT, "a count"),
        matches("injury_count", COUNT, "a count"),
        matches("vehicle_types", JSON_ARRAY, "a JSON array"),
        matches("reporter_phone_hash", HMAC_SHA256, "an HMAC-SHA256 hex digest", mostly=1.0),
    ):
        suite.add_expectation(expectation)
    return suite


def traffic_violations(scope: QualityScope) -> gx.ExpectationSuite:
    suite = raw_suite(
        VIOLATIONS,
        scope,
        required_columns={"stat_month": 0.98, "violation_code": 0.99, "violation_count": 0.99},
    )
    codes = scope.seed_values("traffic_violation_types", "violation_code")
    for expectation in (
        allowed("violation_code", codes, "seed traffic_violation_types"),
        matches("stat_month", MONTH, "a month YYYY-MM"),
        matches("area_code", TOWNSHIP_CODE, "a 9-digit township code"),
        matches("violation_count", COUNT, "a count"),
        matches("update_time", DATETIME_WITH_OFFSET, "an ISO 8601 time", mostly=1.0),
    ):
        suite.add_expectation(expectation)
    return suite


SUITES = (
    SuiteSpec(traffic_accidents, raw=ACCIDENTS),
    SuiteSpec(traffic_violations, raw=VIOLATIONS),
)
