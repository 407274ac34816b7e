"""Police front database (公安前置库): 110 incidents and anti-fraud warnings."""

from __future__ import annotations

import great_expectations as gx

from expectations._common import (
    AMOUNT,
    DATETIME,
    DECIMAL,
    EXTRACT_META,
    HMAC_SHA256,
    REGION_CODE,
    SLIP,
    STRICT,
    EventTime,
    QualityScope,
    RawTable,
    SuiteSpec,
    coded,
    formatted,
    raw_suite,
)

INCIDENTS = RawTable(
    table="raw.police__incidents",
    columns=(
        "jjdbh",
        "bjsj",
        "pjsj",
        "ddsj",
        "jqlbdm",
        "jqlbmc",
        "jqxldm",
        "xzqhdm",
        "fadz",
        "jd",
        "wd",
        "bjrdh_hash",
        "bjrsfzh_hash",
        "hfmyd",
        "gxsj",
    ),
    meta=EXTRACT_META,
    key=("jjdbh",),
    selection="extract",
    # A month's batch carries corrections of the previous months' incidents.
    event=EventTime("bjsj", "datetime", lookback_months=2),
    duplicates=SLIP,  # the front table's primary key: a repeat is an extract fault
    region_column="xzqhdm",
)

FRAUD_WARNINGS = RawTable(
    table="raw.police__fraud_warnings",
    columns=("yjbh", "yjsj", "xzqhdm", "yjlx", "shrdh_hash", "qzjg", "zfje", "gxsj"),
    meta=EXTRACT_META,
    key=("yjbh",),
    selection="extract",
    event=EventTime("yjsj", "datetime", lookback_months=2),
    region_column="xzqhdm",
)

#: 回访满意度 as int_police_metrics_aggregated counts it (satisfied share of the three).
CALLBACK_SATISFACTION = ("满意", "基本满意", "不满意")
#: The front database's dictionaries of warning types and dissuasion results (劝阻成功
#: is the numerator of fraud_dissuasion_rate).
WARNING_TYPES = ("电话预警", "短信预警", "上门劝阻")
DISSUASION_RESULTS = ("劝阻成功", "劝阻失败", "未联系上")


def police_incidents(scope: QualityScope) -> gx.ExpectationSuite:
    suite = raw_suite(
        INCIDENTS,
        scope,
        required_columns={"jjdbh": STRICT, "gxsj": STRICT, "bjsj": SLIP, "jqlbdm": SLIP},
    )
    categories = scope.seed_values("police_incident_categories", "category_code")
    subcategories = scope.seed_values("police_incident_subcategories", "subcategory_code")
    t = INCIDENTS
    for expectation in (
        coded(t, "jqlbdm", categories, "seed police_incident_categories"),
        coded(t, "jqxldm", subcategories, "seed police_incident_subcategories"),
        coded(t, "hfmyd", CALLBACK_SATISFACTION, "回访满意度 (int_police_metrics_aggregated)"),
        formatted(t, "bjsj", DATETIME, "a date and time"),
        formatted(t, "pjsj", DATETIME, "a date and time"),
        formatted(t, "ddsj", DATETIME, "a date and time"),
        formatted(t, "gxsj", DATETIME, "a date and time", STRICT),
        formatted(t, "xzqhdm", REGION_CODE, "a 6-, 9- or 12-digit region code"),
        formatted(t, "jd", DECIMAL, "a decimal longitude"),
        formatted(t, "wd", DECIMAL, "a decimal latitude"),
        # Personal data lands keyed-hashed or not at all: a plain phone or ID number fails.
        formatted(t, "bjrdh_hash", HMAC_SHA256, "an HMAC-SHA256 hex digest", STRICT),
        formatted(t, "bjrsfzh_hash", HMAC_SHA256, "an HMAC-SHA256 hex digest", STRICT),
    ):
        suite.add_expectation(expectation)
    return suite


def police_fraud_warnings(scope: QualityScope) -> gx.ExpectationSuite:
    suite = raw_suite(
        FRAUD_WARNINGS, scope, required_columns={"yjbh": STRICT, "gxsj": STRICT, "yjsj": SLIP}
    )
    t = FRAUD_WARNINGS
    for expectation in (
        coded(t, "yjlx", WARNING_TYPES, "预警类型 (front database dictionary)"),
        coded(t, "qzjg", DISSUASION_RESULTS, "劝阻结果 (front database dictionary)"),
        formatted(t, "yjsj", DATETIME, "a date and time"),
        formatted(t, "gxsj", DATETIME, "a date and time", STRICT),
        formatted(t, "xzqhdm", REGION_CODE, "a 6-, 9- or 12-digit region code"),
        formatted(t, "zfje", AMOUNT, "an amount in yuan"),
        formatted(t, "shrdh_hash", HMAC_SHA256, "an HMAC-SHA256 hex digest", STRICT),
    ):
        suite.add_expectation(expectation)
    return suite


SUITES = (
    SuiteSpec(police_incidents, raw=INCIDENTS),
    SuiteSpec(police_fraud_warnings, raw=FRAUD_WARNINGS),
)
