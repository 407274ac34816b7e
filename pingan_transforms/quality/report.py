"""What a quality-gate run found, and the exception a DAG task raises when it failed."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

#: Rows and failures shown in an exception message; the report JSON has them all.
MESSAGE_ROWS = 3
MESSAGE_FAILURES = 12


#: What a failed check does to the month's publication (config/quality.yml).
BLOCK, REPORT = "block", "report"


@dataclass(frozen=True)
class Delivery:
    """A source batch a failed raw check found at fault, with its counts when the check
    judges deliveries (defective rows of the delivery's rows)."""

    batch_id: str
    source_ref: str | None = None  # the file, or the extract's watermark range
    defective_rows: int | None = None
    delivery_rows: int | None = None

    def describe(self) -> str:
        where = f" ({self.source_ref})" if self.source_ref else ""
        counts = ""
        if self.defective_rows is not None and self.delivery_rows:
            share = self.defective_rows / self.delivery_rows * 100
            counts = f": {self.defective_rows} of {self.delivery_rows} rows ({share:.1f}%)"
        return f"batch {self.batch_id}{where}{counts}"


@dataclass(frozen=True)
class CheckFailure:
    """One failed expectation: which check, on which data, with a sample of its rows,
    the deliveries at fault, the units (towns) its rows touch, and what it does to the
    publication (``action``: block or report, by the gate policy)."""

    suite: str  # the suite, named after its table (raw.police__incidents)
    check: str  # the short name of the check (allowed codes jqlbdm, ranks follow scores)
    expectation: str  # the GX expectation type
    description: str  # what the check expects, in words
    observed: str  # what it found, in words
    deliveries: list[Delivery] = field(default_factory=list)  # raw: the batches at fault
    column: str | None = None
    sample_rows: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None  # the check could not run (e.g. a missing table)
    units: list[str] = field(default_factory=list)  # "110112109 马驹桥镇", as the rows name them
    unplaced_rows: int = 0  # failing rows whose region code names no unit of the master
    action: str = BLOCK
    rule: str | None = None  # the policy rule that decided the action

    @property
    def batch_id(self) -> str | None:
        """The delivery at fault when there is one (the first, when several)."""
        return self.deliveries[0].batch_id if self.deliveries else None

    @property
    def data(self) -> str:
        """The data the check ran on, as a reader wants it named."""
        if not self.deliveries:
            return self.suite
        if len(self.deliveries) == 1:
            return f"{self.suite}, {self.deliveries[0].describe()}"
        return f"{self.suite}, {len(self.deliveries)} deliveries"

    def describe(self, rows: int = MESSAGE_ROWS) -> str:
        lines = [
            f"{self.data}: {self.check} — {self.observed}",
            f"    expected: {self.description}",
        ]
        if len(self.deliveries) > 1:
            lines.extend(f"    delivery: {d.describe()}" for d in self.deliveries[:rows])
            if len(self.deliveries) > rows:
                lines.append(f"    … {len(self.deliveries) - rows} more deliveries in the report")
        if self.units or self.unplaced_rows:
            lines.append("    units: " + self.units_text())
        if self.error:
            lines.append(f"    error: {self.error}")
        for row in self.sample_rows[:rows]:
            lines.append("    row: " + json.dumps(row, ensure_ascii=False, default=str))
        if len(self.sample_rows) > rows:
            lines.append(f"    … {len(self.sample_rows) - rows} more sample row(s) in the report")
        return "\n".join(lines)

    def units_text(self, limit: int = 8) -> str:
        parts = list(self.units[:limit])
        if len(self.units) > limit:
            parts.append(f"… {len(self.units) - limit} more")
        if self.unplaced_rows:
            parts.append(f"{self.unplaced_rows} row(s) naming no unit of the master")
        return ", ".join(parts)


@dataclass(frozen=True)
class ValidatedData:
    """One validation of the checkpoint: a suite on the month's raw batches of its table,
    or on a mart's rows of the month."""

    suite: str
    batches: list[str]  # the raw source batches validated together; none for a mart
    success: bool
    evaluated: int
    failed: int


@dataclass
class QualityReport:
    """A gate run: ``success`` is false when a failure blocks publication; failures the
    policy reports are in ``failures`` too (``action == "report"``), with their units."""

    month: str
    success: bool
    failures: list[CheckFailure]
    validated: list[ValidatedData]
    not_validated: list[str]  # suites that had no data this month, and why
    directory: Path  # <out_dir>/quality/<YYYY-MM>
    results_path: Path  # GX validation results (JSON)
    report_path: Path  # this report (JSON)
    data_docs_index: Path | None
    seconds: float

    @property
    def checks(self) -> int:
        return sum(v.evaluated for v in self.validated)

    @property
    def blocking(self) -> list[CheckFailure]:
        return [f for f in self.failures if f.action == BLOCK]

    @property
    def reported(self) -> list[CheckFailure]:
        return [f for f in self.failures if f.action == REPORT]

    def summary(self) -> str:
        if self.success:
            verdict = "passed"
            if self.reported:
                verdict += f" with {len(self.reported)} reported failure(s)"
        else:
            verdict = f"FAILED ({len(self.blocking)} blocking"
            verdict += f", {len(self.reported)} reported)" if self.reported else ")"
        return (
            f"quality gate {self.month}: {verdict}; {self.checks} checks over "
            f"{len(self.validated)} validations in {self.seconds:.1f} s; "
            f"data docs {self.data_docs_index}"
        )

    def failure_message(self) -> str:
        blocking = self.blocking
        lines = [
            f"quality gate failed for {self.month}: {len(blocking)} of {self.checks} "
            f"checks failed and block publication (config/quality.yml); nothing may be "
            f"published until they pass.",
            f"report: {self.report_path}",
            f"data docs: {self.data_docs_index}",
        ]
        if self.reported:
            lines.append(
                f"({len(self.reported)} more failed check(s) are reported, not blocking: "
                "see the report)"
            )
        # Checks that could not run for the same reason (a missing table) are one entry.
        entries: list[str] = []
        errors: dict[tuple[str, str], list[CheckFailure]] = {}
        for failure in blocking:
            if failure.error:
                errors.setdefault((failure.data, failure.error), []).append(failure)
            else:
                entries.append(failure.describe())
        for (data, error), failures in errors.items():
            checks = ", ".join(f.check for f in failures)
            entries.append(f"{data}: {len(failures)} check(s) could not run ({checks}): {error}")
        for number, entry in enumerate(entries[:MESSAGE_FAILURES], 1):
            lines.append(f"{number}. {entry}")
        if len(entries) > MESSAGE_FAILURES:
            lines.append(f"… and {len(entries) - MESSAGE_FAILURES} more in the report")
        return "\n".join(lines)

    def reported_message(self) -> str:
        """The failures the policy lets through, for the task log and the bulletin's note."""
        lines = [f"{self.month}: {len(self.reported)} failed check(s) reported, not blocking"]
        lines.extend(f"{n}. {f.describe()}" for n, f in enumerate(self.reported, 1))
        return "\n".join(lines)

    def raise_if_failed(self) -> None:
        if not self.success:
            raise QualityGateFailed(self)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["blocking"] = len(self.blocking)
        data["reported"] = len(self.reported)
        for key in ("directory", "results_path", "report_path", "data_docs_index"):
            data[key] = str(data[key]) if data[key] is not None else None
        return data


class QualityGateFailed(RuntimeError):
    """A quality gate failed: the message names each failed check, its data (suite, source
    batch) and sample rows; ``report`` has everything."""

    def __init__(self, report: QualityReport | str) -> None:
        self.report = report if isinstance(report, QualityReport) else None
        super().__init__(report.failure_message() if self.report else report)

    def __reduce__(self):  # picklable (the message survives, the report object does not)
        return (QualityGateFailed, (str(self),))
