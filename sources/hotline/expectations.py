"""12345 hotline platform (12345热线): work orders (工单)."""

from __future__ import annotations

import csv
from pathlib import Path

import great_expectations as gx

from expectations._common import (
    DATETIME,
    DATETIME_WITH_OFFSET,
    EXTRACT_META,
    HMAC_SHA256,
    REGION_CODE,
    SLIP,
    STRICT,
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

#: The platform's API serves a work order twice now and then; staging keeps one.
API_REPEATS = Tolerance(0.05, rows=2)

COMPLAINTS = RawTable(
    table="raw.hotline__complaints",
    columns=(
        "order_no",
        "accept_time",
        "area_code",
        "category",
        "appeal_type",
        "status",
        "finish_time",
        "satisfaction",
        "update_time",
        "caller_phone_hash",
    ),
    meta=EXTRACT_META,
    key=("order_no",),
    selection="extract",
    event=EventTime("accept_time", "datetime", lookback_months=2),
    duplicates=API_REPEATS,
    region_column="area_code",
)


def _categories() -> list[str]:
    """The categories the hotline_categories seed maps (this source's own seeds/)."""
    path = Path(__file__).parent / "seeds" / "hotline_categories.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        return sorted(row["category"] for row in csv.DictReader(handle))


def hotline_complaints(scope: QualityScope) -> gx.ExpectationSuite:
    suite = raw_suite(
        COMPLAINTS,
        scope,
        required_columns={"order_no": STRICT, "update_time": STRICT, "accept_time": TYPED},
    )
    t = COMPLAINTS
    for expectation in (
        formatted(t, "accept_time", DATETIME, "a date and time"),
        formatted(t, "finish_time", DATETIME, "a date and time"),
        formatted(t, "update_time", DATETIME_WITH_OFFSET, "an ISO 8601 time", STRICT),
        formatted(t, "area_code", REGION_CODE, "a 6-, 9- or 12-digit region code"),
        coded(t, "category", _categories(), "seed hotline_categories", SLIP),
        formatted(t, "caller_phone_hash", HMAC_SHA256, "an HMAC-SHA256 hex digest", STRICT),
    ):
        suite.add_expectation(expectation)
    return suite


SUITES = (SuiteSpec(hotline_complaints, raw=COMPLAINTS),)
