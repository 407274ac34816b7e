"""Governance platform (信访 / 综治): petitions, disputes and grid patrols (网格巡查)."""

from __future__ import annotations

import great_expectations as gx

from expectations._common import (
    COUNT,
    DATE,
    DATETIME,
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

PETITIONS = RawTable(
    table="raw.governance__petitions",
    columns=(
        "xfjbh",
        "djsj",
        "xzqhdm",
        "xfrdh_hash",
        "xfrsfzh_hash",
        "blzt",
        "bjrq",
        "myd",
        "sfcf",
        "sfjt",
        "sfyj",
        "gxsj",
    ),
    meta=EXTRACT_META,
    key=("xfjbh",),
    selection="extract",
    # A petition is updated until it is completed and rated (60 days by the 信访工作条例,
    # then the rating): a month's batch carries petitions received up to 3 months before.
    event=EventTime("djsj", "datetime", lookback_months=3),
    region_column="xzqhdm",
)

DISPUTES = RawTable(
    table="raw.governance__disputes",
    columns=("jfbh", "fxrq", "xzqhdm", "jflx", "tjjg", "jjrq", "gxsj"),
    meta=EXTRACT_META,
    key=("jfbh",),
    selection="extract",
    event=EventTime("fxrq", "date", lookback_months=3),
    region_column="xzqhdm",
)

GRID_PATROLS = RawTable(
    table="raw.governance__grid_patrols",
    columns=("xcbh", "xcrq", "xzqhdm", "xclx", "fxwts", "zgwts", "gxsj", "wgydh_hash"),
    meta=EXTRACT_META,
    key=("xcbh",),
    selection="extract",
    event=EventTime("xcrq", "date", lookback_months=2),
    region_column="xzqhdm",
)

# Dictionaries as the staging models map them (sources/governance/models/staging/base/):
# a value outside them becomes null there, or quarantines the record.
PETITION_STATUS = ("受理", "办理中", "办结")
PETITION_SATISFACTION = ("满意", "基本满意", "不满意", "未评价")
YES_NO = ("是", "否")
DISPUTE_TYPES = ("婚姻家庭", "邻里", "劳资", "土地", "物业", "其他")
MEDIATION_OUTCOMES = ("调解成功", "调解不成", "移交")
PATROL_TYPES = ("01", "02", "03", "04", "05")


def governance_petitions(scope: QualityScope) -> gx.ExpectationSuite:
    suite = raw_suite(
        PETITIONS,
        scope,
        required_columns={"xfjbh": STRICT, "gxsj": STRICT, "djsj": SLIP, "blzt": SLIP},
    )
    t = PETITIONS
    for expectation in (
        coded(t, "blzt", PETITION_STATUS, "办理状态 (base_governance__petitions)"),
        coded(t, "myd", PETITION_SATISFACTION, "满意度 (base_governance__petitions)"),
        coded(t, "sfcf", YES_NO, "是/否"),
        coded(t, "sfjt", YES_NO, "是/否"),
        coded(t, "sfyj", YES_NO, "是/否"),
        formatted(t, "djsj", DATETIME, "a date and time"),
        formatted(t, "bjrq", DATE, "a date"),
        formatted(t, "gxsj", DATETIME, "a date and time", STRICT),
        formatted(t, "xzqhdm", REGION_CODE, "a 6-, 9- or 12-digit region code"),
        formatted(t, "xfrdh_hash", HMAC_SHA256, "an HMAC-SHA256 hex digest", STRICT),
        formatted(t, "xfrsfzh_hash", HMAC_SHA256, "an HMAC-SHA256 hex digest", STRICT),
    ):
        suite.add_expectation(expectation)
    return suite


def governance_disputes(scope: QualityScope) -> gx.ExpectationSuite:
    suite = raw_suite(
        DISPUTES, scope, required_columns={"jfbh": STRICT, "gxsj": STRICT, "fxrq": SLIP}
    )
    t = DISPUTES
    for expectation in (
        coded(t, "jflx", DISPUTE_TYPES, "纠纷类型 (base_governance__disputes)"),
        coded(t, "tjjg", MEDIATION_OUTCOMES, "调解结果 (base_governance__disputes)"),
        formatted(t, "fxrq", DATE, "a date"),
        formatted(t, "jjrq", DATE, "a date"),
        formatted(t, "gxsj", DATETIME, "a date and time", STRICT),
        formatted(t, "xzqhdm", REGION_CODE, "a 6-, 9- or 12-digit region code"),
    ):
        suite.add_expectation(expectation)
    return suite


def governance_grid_patrols(scope: QualityScope) -> gx.ExpectationSuite:
    suite = raw_suite(
        GRID_PATROLS,
        scope,
        required_columns={"xcbh": STRICT, "gxsj": STRICT, "xcrq": SLIP, "xclx": SLIP},
    )
    t = GRID_PATROLS
    for expectation in (
        coded(t, "xclx", PATROL_TYPES, "巡查类型代码 (base_governance__grid_patrols)"),
        formatted(t, "xcrq", DATE, "a date"),
        formatted(t, "gxsj", DATETIME, "a date and time", STRICT),
        formatted(t, "xzqhdm", REGION_CODE, "a 6-, 9- or 12-digit region code"),
        # Grid workers type the counts; a few are words (若干) and are quarantined.
        formatted(t, "fxwts", COUNT, "a count"),
        formatted(t, "zgwts", COUNT, "a count"),
        formatted(t, "wgydh_hash", HMAC_SHA256, "an HMAC-SHA256 hex digest", STRICT),
    ):
        suite.add_expectation(expectation)
    return suite


SUITES = (
    SuiteSpec(governance_petitions, raw=PETITIONS),
    SuiteSpec(governance_disputes, raw=DISPUTES),
    SuiteSpec(governance_grid_patrols, raw=GRID_PATROLS),
)
