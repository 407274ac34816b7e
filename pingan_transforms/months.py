"""Calendar months as the pipeline's unit of work (a run is keyed by its month)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from pingan_transforms.settings import DEFAULT_TIMEZONE, ConfigError

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True, order=True)
class Month:
    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Month:
        match = _MONTH.match(text.strip())
        if not match or not 1 <= int(match.group(2)) <= 12:
            raise ConfigError(f"{text!r} is not a month: write it as YYYY-MM, e.g. 2024-08")
        return cls(int(match.group(1)), int(match.group(2)))

    @classmethod
    def of(cls, moment: date | datetime, tz: str = DEFAULT_TIMEZONE) -> Month:
        """The month a moment falls in, on the local (Beijing) calendar."""
        if isinstance(moment, datetime) and moment.tzinfo is not None:
            moment = moment.astimezone(ZoneInfo(tz))
        return cls(moment.year, moment.month)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def index(self) -> int:
        """Months since year 0: handy for random walks and differences."""
        return self.year * 12 + self.month - 1

    def shift(self, months: int) -> Month:
        idx = self.index + months
        return Month(idx // 12, idx % 12 + 1)

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    def start(self, tz: str = DEFAULT_TIMEZONE) -> datetime:
        return datetime(self.year, self.month, 1, tzinfo=ZoneInfo(tz))

    def end(self, tz: str = DEFAULT_TIMEZONE) -> datetime:
        return self.shift(1).start(tz)

    @property
    def days(self) -> int:
        return (self.shift(1).first_day - self.first_day).days

    def local_bounds(self) -> tuple[datetime, datetime]:
        """Naive local bounds, for source systems that store Beijing wall-clock time."""
        start = datetime(self.year, self.month, 1)
        return start, start + timedelta(days=self.days)


def month_range(first: Month, last: Month) -> list[Month]:
    return [first.shift(i) for i in range(last.index - first.index + 1)]
