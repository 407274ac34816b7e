"""The publishing file (``config/publishing.yml``): who sends and who receives each bulletin.

Validated on load like the sources file: every problem names the file, the key and
the fix. Addresses are ``name@domain`` or ``显示名 <name@domain>``; a scheme without
its own list gets ``default_recipients``, and a scheme with neither is an error
when it is published (:meth:`PublishingConfig.recipients`).

``revisions`` is the revision policy (issue 17): which later changes of a published
month are material enough to draft a revision for sign-off; each scheme may set its
own (``schemes.<code>.revisions``), key by key over the file's.

``cutoff`` is the data cutoff (考核截止日): a month is scored on the source data updated
up to it (:meth:`PublishingConfig.cutoff_at`). It is one for the file, not per scheme:
the schemes share the sources and one extract, so a scheme-specific cutoff would need
a second scoring of the same month as at another moment.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from email.policy import default as default_policy
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field, field_validator

from pingan_transforms.cutoff import Cutoff
from pingan_transforms.cutoff import explain as explain_cutoff
from pingan_transforms.settings import ConfigError, Settings, cached_by_mtime, load_config

if TYPE_CHECKING:
    from pingan_transforms.months import Month
    from pingan_transforms.publish.publications import UnitSnapshot

TOP_LEVEL_KEYS = "sender, default_recipients, alert_recipients, cutoff, revisions, schemes"
POLICY_KEYS = "grade_change, rank_change, score_change"
ADDRESS_FORM = 'write it as "name@domain" or "显示名 <name@domain>"'


def check_address(value: str) -> str:
    """One mail address, with or without a display name; returns it trimmed."""
    text = value.strip() if isinstance(value, str) else value
    if not isinstance(text, str) or not text:
        raise ValueError(f"an address is required: {ADDRESS_FORM}")
    header = default_policy.header_factory("to", text)
    addresses = header.addresses
    if header.defects or len(addresses) != 1 or not addresses[0].domain:
        raise ValueError(f"{value!r} is not one mail address: {ADDRESS_FORM}")
    return text


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _addresses(values: list[str]) -> list[str]:
    checked = [check_address(v) for v in values]
    seen: set[str] = set()
    for address in checked:
        spec = default_policy.header_factory("to", address).addresses[0].addr_spec.lower()
        if spec in seen:
            raise ValueError(f"{spec} is listed twice: list every address once")
        seen.add(spec)
    return checked


class RevisionPolicy(_Strict):
    """What makes a later change of a published month material: a unit's grade changed
    (``grade_change``), it moved ``rank_change`` places or more, or its score moved
    ``score_change`` points or more (``null`` turns a test off). A unit that appears in
    or drops out of the ranking is always material. The defaults are the shipped file's."""

    grade_change: bool = True
    rank_change: int | None = Field(default=3, ge=1)
    score_change: Decimal | None = Field(default=Decimal("2.0"), gt=0)

    def reasons(self, before: UnitSnapshot | None, after: UnitSnapshot | None) -> list[str]:
        """Why the unit's change is material (empty: it is not)."""
        if before is None or after is None:
            return ["unit " + ("added" if before is None else "removed")]
        found = []
        if self.grade_change and before.grade != after.grade:
            found.append(f"grade {before.grade}→{after.grade}")
        if self.rank_change is not None and abs(after.rank - before.rank) >= self.rank_change:
            found.append(f"rank {before.rank}→{after.rank} (≥{self.rank_change} places)")
        moved = abs(Decimal(after.score) - Decimal(before.score))
        if self.score_change is not None and moved >= self.score_change:
            found.append(f"score {before.score}→{after.score} (≥{self.score_change} points)")
        return found

    def material(
        self, before: Sequence[UnitSnapshot], after: Sequence[UnitSnapshot]
    ) -> dict[str, list[str]]:
        """The units whose change is material, each with its reasons."""
        old = {u.region_code: u for u in before}
        new = {u.region_code: u for u in after}
        found = {}
        for code in dict.fromkeys([*new, *old]):
            reasons = self.reasons(old.get(code), new.get(code))
            if reasons:
                found[code] = reasons
        return found

    def describe(self) -> dict[str, object]:
        """As recorded with each review (``publish.revision_reviews.policy``)."""
        return {
            "grade_change": self.grade_change,
            "rank_change": self.rank_change,
            "score_change": None if self.score_change is None else str(self.score_change),
        }


class PolicyOverride(_Strict):
    grade_change: bool | None = None
    rank_change: int | None = Field(default=None, ge=1)
    score_change: Decimal | None = Field(default=None, gt=0)


class SchemeRecipients(_Strict):
    recipients: list[str] = Field(min_length=1)
    revisions: PolicyOverride | None = None

    @field_validator("recipients")
    @classmethod
    def _recipients(cls, values: list[str]) -> list[str]:
        return _addresses(values)


def publish_deadline(month: Month, settings: Settings) -> datetime:
    """When the month's bulletin is overdue: the end of day ``publish_deadline_day`` of
    the month after it, local time (day 5 → the 6th, 00:00 Beijing time)."""
    return month.end(settings.timezone) + timedelta(days=settings.publish_deadline_day)


class PublishingConfig(_Strict):
    sender: str
    default_recipients: list[str] = []
    alert_recipients: list[str] = []
    cutoff: Cutoff = Cutoff()
    revisions: RevisionPolicy = RevisionPolicy()
    schemes: dict[str, SchemeRecipients] = {}
    path: Path = Path("config/publishing.yml")

    @field_validator("sender")
    @classmethod
    def _sender(cls, value: str) -> str:
        return check_address(value)

    @field_validator("default_recipients", "alert_recipients")
    @classmethod
    def _default(cls, values: list[str]) -> list[str]:
        return _addresses(values)

    def alert_list(self) -> list[str]:
        """Who is told that a run failed or a month is overdue: ``alert_recipients``,
        else ``default_recipients``."""
        recipients = list(self.alert_recipients or self.default_recipients)
        if not recipients:
            raise ConfigError(
                f"{self.path}: nobody receives failure alerts: add alert_recipients "
                "(a list of addresses) or default_recipients"
            )
        return recipients

    def cutoff_at(self, month: Month, settings: Settings) -> datetime:
        """When ``month``'s data is cut: what is updated at the source up to this moment
        is scored in its first publication, what comes later is a revision candidate.
        It must fall before the publishing deadline, or no month could be on time."""
        cut = self.cutoff.at(month, settings.timezone)
        deadline = publish_deadline(month, settings)
        if cut >= deadline:
            raise ConfigError(
                f"{self.path}: cutoff (day {self.cutoff.day}, {self.cutoff.time}) is not before "
                f"the publishing deadline, the end of day {settings.publish_deadline_day} "
                "(PINGAN_PUBLISH_DEADLINE_DAY): set cutoff.day below "
                f"{settings.publish_deadline_day}, or move the deadline later"
            )
        return cut

    def revision_policy(self, scheme_code: str) -> RevisionPolicy:
        """The file's policy with the scheme's own keys over it."""
        scheme = self.schemes.get(scheme_code)
        if scheme is None or scheme.revisions is None:
            return self.revisions
        return self.revisions.model_copy(update=scheme.revisions.model_dump(exclude_unset=True))

    def recipients(self, scheme_code: str) -> list[str]:
        """The scheme's list, else the default list; neither is a configuration error."""
        scheme = self.schemes.get(scheme_code)
        if scheme is not None:
            return list(scheme.recipients)
        if self.default_recipients:
            return list(self.default_recipients)
        raise ConfigError(
            f"{self.path}: nobody receives the bulletin of scheme {scheme_code!r}: add "
            f"schemes.{scheme_code}.recipients (a list of addresses) or default_recipients"
        )


def load_publishing(path: Path) -> PublishingConfig:
    """Read and validate the publishing file; every problem names the file, the key and the fix."""
    return load_config(
        path,
        PublishingConfig,
        what="publishing file",
        missing=f"publishing file {path} does not exist: set PINGAN_PUBLISHING_FILE or restore "
        "config/publishing.yml (sender, default_recipients, schemes.<code>.recipients)",
        shape="sender, default_recipients and schemes",
        explain=_explain,
    )


def _explain(key: str, err: dict) -> str:
    cutoff_fix = explain_cutoff(key, err)
    if cutoff_fix is not None:
        return cutoff_fix
    if err["type"] == "missing":
        return "required: add it"
    if err["type"] == "too_short":
        return (
            "empty: list at least one address, or remove the scheme so that "
            "default_recipients receive its bulletin"
        )
    if err["type"] == "extra_forbidden":
        if "revisions." in key or key.startswith("revisions"):
            allowed = POLICY_KEYS
        elif key.startswith("schemes."):
            allowed = "recipients, revisions"
        else:
            allowed = TOP_LEVEL_KEYS
        return f"unknown key: remove it or correct its name (allowed: {allowed})"
    if key.endswith(("rank_change", "score_change")) and err["type"] in (
        "greater_than", "greater_than_equal", "int_parsing", "int_from_float", "decimal_parsing",
    ):  # fmt: skip
        unit = "places (a whole number, 1 or more)" if "rank" in key else "points (above 0)"
        return f"{err['msg']}: write the smallest material change in {unit}, or null for none"
    return err["msg"].removeprefix("Value error, ")


_read = cached_by_mtime(load_publishing)


def publishing_config(settings: Settings | None = None) -> PublishingConfig:
    from pingan_transforms.settings import get_settings

    return _read((settings or get_settings()).publishing_path)
