"""What a quality-gate run found, and the exception a DAG task raises when it failed."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

#: Rows and failures shown in an exception message; the report JSON has them all.
MESSAGE_ROWS = 3
MESSAGE_FAILURES = 12


@dataclass(frozen=True)
class CheckFailure:
    """One failed expectation: which check, on which data, with a sample of its rows."""

    suite: str  # the suite, named after its table (raw.police__incidents)
    check: str  # the short name of the check (allowed codes jqlbdm, ranks follow scores)
    expectation: str  # the GX expectation type
    description: str  # what the check expects, in words
    observed: str  # what it found, in words
    batch_id: str | None = None  # the raw source batch validated; None for a mart
    source_ref: str | None = None  # where that batch came from (raw._batches.source_ref)
    column: str | None = None
    sample_rows: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None  # the check could not run (e.g. a missing table)

    @property
    def data(self) -> str:
        """The data the check ran on, as a reader wants it named."""
        if self.batch_id is None:
            return self.suite
        where = f" ({self.source_ref})" if self.source_ref else ""
        return f"{self.suite}, batch {self.batch_id}{where}"

    def describe(self, rows: int = MESSAGE_ROWS) -> str:
        lines = [
            f"{self.data}: {self.check} — {self.observed}",
            f"    expected: {self.description}",
        ]
        if self.error:
            lines.append(f"    error: {self.error}")
        for row in self.sample_rows[:rows]:
            lines.append("    row: " + json.dumps(row, ensure_ascii=False, default=str))
        if len(self.sample_rows) > rows:
            lines.append(f"    … {len(self.sample_rows) - rows} more sample row(s) in the report")
        return "\n".join(lines)


@dataclass(frozen=True)
class ValidatedData:
    """One validation of the checkpoint: a suite on a raw batch or on a mart's month."""

    suite: str
    batch_id: str | None
    success: bool
    evaluated: int
    failed: int


@dataclass
class QualityReport:
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

    def summary(self) -> str:
        verdict = "passed" if self.success else f"FAILED ({len(self.failures)} failed)"
        return (
            f"quality gate {self.month}: {verdict}; {self.checks} checks over "
            f"{len(self.validated)} validations in {self.seconds:.1f} s; "
            f"data docs {self.data_docs_index}"
        )

    def failure_message(self) -> str:
        lines = [
            f"quality gate failed for {self.month}: {len(self.failures)} of {self.checks} "
            f"checks failed; nothing may be published until they pass.",
            f"report: {self.report_path}",
            f"data docs: {self.data_docs_index}",
        ]
        # Checks that could not run for the same reason (a missing table) are one entry.
        entries: list[str] = []
        errors: dict[tuple[str, str], list[CheckFailure]] = {}
        for failure in self.failures:
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

    def raise_if_failed(self) -> None:
        if not self.success:
            raise QualityGateFailed(self)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
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
