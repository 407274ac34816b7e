"""Period reports: incident trends (counts against earlier periods) and rates."""

from __future__ import annotations

import great_expectations as gx
from great_expectations import expectations as gxe

from ._common import (
    ROW_REF,
    MartTable,
    QualityScope,
    SuiteSpec,
    allowed,
    between,
    mart_suite,
    meta,
    not_empty,
    required,
    rows_where,
    unique,
)

ROW = "t.region_code || ' ' || t.metric_code"
TRENDS = MartTable("marts.incident_trends", row_ref=ROW)
RATES = MartTable("marts.rate_reports", row_ref=ROW)

KEY = ["region_code", "month_start", "metric_code"]


def _pct_change(value: str, base: str) -> str:
    return f"case when {base} > 0 then round(({value} - {base}) * 100.0 / {base}, 2) end"


def incident_trends(scope: QualityScope) -> gx.ExpectationSuite:
    suite = mart_suite(TRENDS, scope)
    levels = scope.seed_values("region_levels", "region_level")
    metrics = scope.seed_values("incident_trend_metrics", "metric_code")
    changes = (
        ("previous_month_change_pct", "incident_count", "previous_month_count"),
        ("last_year_change_pct", "incident_count", "last_year_count"),
        ("ytd_change_pct", "ytd_count", "last_year_ytd_count"),
    )
    mismatch = " or ".join(
        f"{pct} is distinct from {_pct_change(value, base)}" for pct, value, base in changes
    )
    for expectation in (
        not_empty(),
        unique(KEY),
        *(
            required(column)
            for column in (*KEY, "region_level", "incident_count", "ytd_months", "ytd_count")
        ),
        allowed("region_level", levels, "seed region_levels"),
        allowed("metric_code", metrics, "seed incident_trend_metrics"),
        *(
            between(column, 0, None, "is not negative")
            for column in (
                "incident_count",
                "previous_month_count",
                "last_year_count",
                "ytd_count",
                "last_year_ytd_count",
            )
        ),
        between("ytd_months", 1, scope.month.month, f"is 1 to {scope.month.month}"),
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="ytd_count",
            column_B="incident_count",
            or_equal=True,
            description="the year to date holds at least the month",
            meta=meta("ytd covers the month"),
        ),
        rows_where(
            "changes recomputed",
            "every % change is (count − base) / base × 100 to 2 decimals, null when the base "
            "is 0 or missing",
            f"""
            select {ROW_REF}, incident_count, previous_month_count, previous_month_change_pct,
                   last_year_count, last_year_change_pct, ytd_count, last_year_ytd_count,
                   ytd_change_pct
            from __BATCH__
            where {mismatch}
            """,
        ),
    ):
        suite.add_expectation(expectation)
    return suite


def rate_reports(scope: QualityScope) -> gx.ExpectationSuite:
    suite = mart_suite(RATES, scope)
    levels = scope.seed_values("region_levels", "region_level")
    rates = scope.seed_values("metric_catalogue", "metric_code", where={"kind": "rate"})
    units = scope.seed_values("metric_catalogue", "unit", where={"kind": "rate"})
    values = (
        "value",
        "previous_month_value",
        "last_year_value",
        "ytd_value",
        "last_year_ytd_value",
    )
    for expectation in (
        not_empty(),
        unique(KEY),
        *(required(column) for column in (*KEY, "region_level", "ytd_months")),
        allowed("region_level", levels, "seed region_levels"),
        allowed("metric_code", rates, "the rates of seed metric_catalogue"),
        allowed("unit", units, "the units of the rates in seed metric_catalogue"),
        *(
            between(column, 0, None, "is not negative")
            for column in ("numerator", "denominator", "ytd_numerator", "ytd_denominator")
        ),
        between("ytd_months", 1, scope.month.month, f"is 1 to {scope.month.month}"),
        rows_where(
            "percentages within 0-100",
            "a rate in % (and a score in 分) is from 0 to 100; minutes are not negative",
            f"""
            select {ROW_REF}, unit, {", ".join(values)} from __BATCH__
            where (unit in ('%', '分')
                   and ({" or ".join(f"{v} not between 0 and 100" for v in values)}))
               or ({" or ".join(f"{v} < 0" for v in values)})
            """,
        ),
        rows_where(
            "rate recomputed",
            "value = numerator / denominator (× 100 for %), null without a denominator",
            f"""
            select {ROW_REF}, unit, numerator, denominator, value from __BATCH__
            where (coalesce(denominator, 0) = 0 and value is not null)
               or (denominator <> 0 and (value is null or abs(
                       value - numerator / denominator
                               * case when unit = '%' then 100 else 1 end) > 0.0001))
            """,
        ),
    ):
        suite.add_expectation(expectation)
    return suite


SUITES = (
    SuiteSpec(incident_trends, mart=TRENDS),
    SuiteSpec(rate_reports, mart=RATES),
)
