"""The quality gate (DESIGN.md §8): the suites of ``expectations/`` run as one Great
Expectations checkpoint over a month's raw batches and marts.

``run_quality_checks`` returns a :class:`QualityReport`; a DAG task that must stop
publication calls ``report.raise_if_failed()`` (or :func:`check_quality_gate`), which
raises :class:`QualityGateFailed` naming each failed check that blocks publication (by
the gate policy, ``config/quality.yml``), the deliveries at fault, rows and units.
"""

from pingan_transforms.quality.report import (
    CheckFailure,
    Delivery,
    QualityGateFailed,
    QualityReport,
    ValidatedData,
)
from pingan_transforms.quality.runner import check_quality_gate, run_quality_checks

__all__ = [
    "CheckFailure",
    "Delivery",
    "QualityGateFailed",
    "QualityReport",
    "ValidatedData",
    "check_quality_gate",
    "run_quality_checks",
]
