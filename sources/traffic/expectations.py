"""Traffic police API (交警): road accidents and monthly violation statistics."""

from __future__ import annotations

import great_expectations as gx

from expectations._common import (
    COUNT,
    DATETIME,
    DATETIME_WITH_OFFSET,
    EXTRACT_META,
    HMAC_SHA256,
    MONTH,
    REGION_CODE,
    SLIP,
    STRICT,
    TOWNSHIP_CODE,
    TYPED,
    EventTime,
    QualityScope,
    RawTable,
    SuiteSpec,
    Tolerance,
    coded,
    formatted,
    raw_suite,
)

#: The vendor's API serves a record twice now and then; staging keeps one.
API_REPEATS = Tolerance(0.05, rows=2)

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
    duplicates=API_REPEATS,
    region_column="area_code",
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
    duplicates=API_REPEATS,
    region_column="area_code",
)

JSON_ARRAY = r"^\[.*\]$"


def traffic_accidents(scope: QualityScope) -> gx.ExpectationSuite:
    suite = raw_suite(
        ACCIDENTS,
        scope,
        required_columns={"accident_no": STRICT, "update_time": STRICT, "occur_time": TYPED},
    )
    t = ACCIDENTS
    for expectation in (
        formatted(t, "occur_time", DATETIME, "a date and time"),
        formatted(t, "update_time", DATETIME_WITH_OFFSET, "an ISO 8601 time", STRICT),
        formatted(t, "area_code", REGION_CODE, "a 6-, 9- or 12-digit region code"),
        formatted(t, "death_count", COUNT, "a count"),
        formatted(t, "injury_count", COUNT, "a count"),
        formatted(t, "vehicle_types", JSON_ARRAY, "a JSON array"),
        formatted(t, "reporter_phone_hash", HMAC_SHA256, "an HMAC-SHA256 hex digest", STRICT),
    ):
        suite.add_expectation(expectation)
    return suite


def traffic_violations(scope: QualityScope) -> gx.ExpectationSuite:
    suite = raw_suite(
        VIOLATIONS,
        scope,
        required_columns={"stat_month": TYPED, "violation_code": SLIP, "violation_count": SLIP},
    )
    codes = scope.seed_values("traffic_violation_types", "violation_code")
    t = VIOLATIONS
    for expectation in (
        coded(t, "violation_code", codes, "seed traffic_violation_types"),
        formatted(t, "stat_month", MONTH, "a month (2024-11, 2024/11 or 2024年11月)"),
        formatted(t, "area_code", TOWNSHIP_CODE, "a 9-digit township code"),
        formatted(t, "violation_count", COUNT, "a count"),
        formatted(t, "update_time", DATETIME_WITH_OFFSET, "an ISO 8601 time", STRICT),
    ):
        suite.add_expectation(expectation)
    return suite


SUITES = (
    SuiteSpec(traffic_accidents, raw=ACCIDENTS),
    SuiteSpec(traffic_violations, raw=VIOLATIONS),
)
