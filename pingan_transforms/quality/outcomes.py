"""Every run of the quality gate, recorded for its month: passed, or why not.

A month whose gate failed still has its scores in the marts (dbt built them before the
gate judged them), but nothing of it was published. The BI role must be able to tell
(``marts.month_status``), and an office must see why without opening Airflow's logs,
so the gate's outcome is a row in ``publish.gate_results`` beside the publications.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from pingan_transforms.months import Month
from pingan_transforms.warehouse import WarehouseTarget, connect

log = logging.getLogger(__name__)
REASON_CHARS = 4000  # the first lines of the error: the message names the check


@contextmanager
def record_gate(target: WarehouseTarget, month: Month, run_id: str | None) -> Iterator[None]:
    """Record the outcome of the gate run in the block: passed when it returns, failed
    with the error's message when it raises (the error is raised again unchanged)."""
    try:
        yield
    except Exception as exc:
        _record(target, month, run_id, passed=False, reason=f"{type(exc).__name__}: {exc}")
        raise
    _record(target, month, run_id, passed=True, reason=None)


def _record(
    target: WarehouseTarget, month: Month, run_id: str | None, *, passed: bool, reason: str | None
) -> None:
    try:
        with connect(target) as conn:
            conn.execute(
                "insert into publish.gate_results (month_start, passed, reason, dag_run_id) "
                "values (%s, %s, %s, %s)",
                (month.first_day, passed, reason[:REASON_CHARS] if reason else None, run_id),
            )
    except Exception:  # the gate's own outcome matters more than its record
        if passed:
            raise
        log.exception("the failed gate of %s could not be recorded", month)
