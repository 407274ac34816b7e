"""The data cutoff (考核截止日): the moment up to which a month's source data is scored.

An assessment office scores a month on what the sources hold at a fixed moment after
it (by default the 3rd of the next month at 24:00, Beijing time), so that every unit
is judged on the same data and what was published can be reproduced. The rule is the
``cutoff`` key of ``config/publishing.yml``; it lives here, below the publishing
layer, because three layers use it: the monthly run's extracts stop at it
(:mod:`pingan_transforms.tasks`), dbt measures cohort rates at it (the ``cutoff_offset``
var, :func:`dbt_vars`), and the publisher records it with every draft.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from pingan_transforms.months import Month
from pingan_transforms.settings import Settings, cached_by_mtime, load_config

CUTOFF_KEYS = "day, time"


class Cutoff(BaseModel):
    """``time`` (HH:MM, 24:00 = the end of the day) of day ``day`` of the month after the
    scored one, in the pipeline's time zone. The default, the 3rd at 24:00, leaves two
    days to the publishing deadline (the 5th) for the gate and the sign-off.
    ``day: 1`` with ``time: "00:00"`` cuts at the month's end."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    day: int = Field(default=3, ge=1, le=27)
    time: str = "24:00"

    @field_validator("time")
    @classmethod
    def _time(cls, value: str) -> str:
        if not isinstance(value, str) or not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d|24:00", value):
            raise ValueError(
                f"{value!r} is not a time of day: write it as HH:MM in quotes, "
                '"00:00" to "24:00" (24:00 = the end of the day)'
            )
        return value

    @property
    def after_month_end(self) -> timedelta:
        hours, minutes = (int(part) for part in self.time.split(":"))
        return timedelta(days=self.day - 1, hours=hours, minutes=minutes)

    def at(self, month: Month, tz: str) -> datetime:
        """The cutoff of ``month`` as an aware datetime."""
        return month.end(tz) + self.after_month_end


def explain(key: str, err: dict) -> str | None:
    """The fix for a problem under ``cutoff`` (None: not one of its keys)."""
    if not key.startswith("cutoff"):
        return None
    if err["type"] == "extra_forbidden":
        return f"unknown key: remove it or correct its name (allowed: {CUTOFF_KEYS})"
    if key == "cutoff.day" and err["type"] in (
        "greater_than_equal", "less_than_equal", "int_parsing", "int_from_float",
    ):  # fmt: skip
        return f"{err['msg']}: write the day of the following month, 1 to 27 (e.g. 3)"
    return err["msg"].removeprefix("Value error, ")


class _CutoffOnly(BaseModel):
    """The publishing file as the layers below publishing read it: its cutoff only (the
    publisher validates the whole file, :mod:`pingan_transforms.publish.config`)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    cutoff: Cutoff = Cutoff()
    path: Path = Path("config/publishing.yml")


def _load(path: Path) -> _CutoffOnly:
    return load_config(
        path, _CutoffOnly, what="publishing file",
        missing=f"publishing file {path} does not exist: set PINGAN_PUBLISHING_FILE or restore "
        "config/publishing.yml",
        explain=lambda key, err: explain(key, err) or err["msg"],
    )  # fmt: skip


_read = cached_by_mtime(_load)


def read_cutoff(settings: Settings) -> Cutoff:
    """The cutoff rule of the publishing file (the default when it sets none)."""
    return _read(settings.publishing_path).cutoff


def dbt_vars(settings: Settings) -> dict[str, object]:
    """Every dbt call's vars: the settings' and the cutoff, as a PostgreSQL interval after
    the month's end (``cutoff_offset``, read by the ``month_cutoff`` macro)."""
    offset = read_cutoff(settings).after_month_end
    hours, seconds = divmod(offset.seconds, 3600)
    return {
        **settings.dbt_vars(),
        "cutoff_offset": f"{offset.days} days {hours:02d}:{seconds // 60:02d}",
    }
