"""The publishing file (``config/publishing.yml``): who sends and who receives each bulletin.

Validated on load like the sources file: every problem names the file, the key and
the fix. Addresses are ``name@domain`` or ``显示名 <name@domain>``; a scheme without
its own list gets ``default_recipients``, and a scheme with neither is an error
when it is published (:meth:`PublishingConfig.recipients`).
"""

from __future__ import annotations

from email.policy import default as default_policy
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from pingan_transforms.settings import ConfigError, Settings, cached_by_mtime, load_config

TOP_LEVEL_KEYS = "sender, default_recipients, alert_recipients, schemes"
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


class SchemeRecipients(_Strict):
    recipients: list[str] = Field(min_length=1)

    @field_validator("recipients")
    @classmethod
    def _recipients(cls, values: list[str]) -> list[str]:
        return _addresses(values)


class PublishingConfig(_Strict):
    sender: str
    default_recipients: list[str] = []
    alert_recipients: list[str] = []
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
    if err["type"] == "missing":
        return "required: add it"
    if err["type"] == "too_short":
        return (
            "empty: list at least one address, or remove the scheme so that "
            "default_recipients receive its bulletin"
        )
    if err["type"] == "extra_forbidden":
        allowed = "recipients" if key.startswith("schemes.") else TOP_LEVEL_KEYS
        return f"unknown key: remove it or correct its name (allowed: {allowed})"
    return err["msg"].removeprefix("Value error, ")


_read = cached_by_mtime(load_publishing)


def publishing_config(settings: Settings | None = None) -> PublishingConfig:
    from pingan_transforms.settings import get_settings

    return _read((settings or get_settings()).publishing_path)
