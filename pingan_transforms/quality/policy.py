"""The gate policy (``config/quality.yml``): which failed checks block a month's publication
and which are reported with the units they touch.

A check fails only beyond its tolerance (set per check in ``expectations/``); what a
failure then does is the office's decision, not the suite author's, so it lives in
configuration: the first rule whose ``suite`` and ``check`` patterns (shell-style, as
in ``fnmatch``) match the failure decides, else ``default``. A check that could not run
at all (a missing table, a broken query) always blocks, whatever the rules say: a gate
that did not look has not passed.
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

from pingan_transforms.quality.report import BLOCK, CheckFailure
from pingan_transforms.settings import Settings, cached_by_mtime, load_config

Action = Literal["block", "report"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PolicyRule(_Strict):
    suite: str = "*"  # pattern on the suite (table) name: raw.fire__*, marts.*
    check: str = "*"  # pattern on the check's short name: window *, duplicate keys *
    action: Action
    why: str | None = None  # said in the report next to the failure

    def matches(self, failure: CheckFailure) -> bool:
        return fnmatchcase(failure.suite, self.suite) and fnmatchcase(failure.check, self.check)

    def describe(self) -> str:
        return f"suite {self.suite!r}, check {self.check!r} → {self.action}"


class GatePolicy(_Strict):
    default: Action = "block"
    rules: list[PolicyRule] = []
    path: Path = Path("config/quality.yml")

    def decide(self, failure: CheckFailure) -> tuple[str, str]:
        """The failure's action and the rule (or default) that decided it."""
        if failure.error:
            return BLOCK, "a check that could not run always blocks"
        for number, rule in enumerate(self.rules, 1):
            if rule.matches(failure):
                why = f": {rule.why}" if rule.why else ""
                return rule.action, f"{self.path} rule {number} ({rule.describe()}){why}"
        return self.default, f"{self.path} default ({self.default})"


def load_policy(path: Path) -> GatePolicy:
    """Read and validate the policy file; every problem names the file, the key and the fix."""
    return load_config(
        path,
        GatePolicy,
        what="quality gate policy",
        missing=f"quality gate policy {path} does not exist: set PINGAN_QUALITY_FILE or "
        "restore config/quality.yml (default: block|report, rules: [{suite, check, action}])",
        shape="default and rules",
        explain=_explain,
    )


def _explain(key: str, err: dict) -> str:
    if err["type"] == "literal_error":
        return "must be block or report"
    if err["type"] == "missing":
        return "required: add it (block or report)"
    if err["type"] == "extra_forbidden":
        allowed = "suite, check, action, why" if key.startswith("rules.") else "default, rules"
        return f"unknown key: remove it or correct its name (allowed: {allowed})"
    return err["msg"]


_read = cached_by_mtime(load_policy)


def gate_policy(settings: Settings) -> GatePolicy:
    return _read(settings.quality_policy_path)
