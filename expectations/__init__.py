"""Great Expectations suites as code: one builder per table (DESIGN.md §8).

Each builder takes a :class:`QualityScope` (the month being published) and returns a
``gx.ExpectationSuite`` named after its table. :data:`SUITES` lists them in the order
the checkpoint runs them; ``pingan_transforms.quality`` decides which data each one
validates (the month's raw batches, one by one; the marts' rows of the month) and runs
them as one checkpoint. See README.md in this folder.
"""

from __future__ import annotations

from . import (
    marts_index,
    marts_reports,
    raw_fire,
    raw_governance,
    raw_police,
    raw_regions,
    raw_survey,
    raw_traffic,
)
from ._common import ROW_REF, EventTime, MartTable, QualityScope, RawTable, SuiteSpec

SUITES: tuple[SuiteSpec, ...] = (
    *raw_regions.SUITES,
    *raw_police.SUITES,
    *raw_traffic.SUITES,
    *raw_fire.SUITES,
    *raw_governance.SUITES,
    *raw_survey.SUITES,
    *marts_index.SUITES,
    *marts_reports.SUITES,
)

__all__ = [
    "ROW_REF",
    "SUITES",
    "EventTime",
    "MartTable",
    "QualityScope",
    "RawTable",
    "SuiteSpec",
]
