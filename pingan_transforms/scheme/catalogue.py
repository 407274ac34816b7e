"""The metric catalogue (``dbt_project/seeds/metric_catalogue.csv``), read by the validator.

The catalogue is the one place metrics are named: dbt seeds it and computes every
metric in it, and a scheme may only score metrics listed there. Reading the same
CSV here (rather than a copy of the codes in Python) keeps the validator and the
SQL from ever disagreeing about which metrics exist, how fine they go and which
are rates.
"""

from __future__ import annotations

import csv
import difflib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pingan_transforms.settings import ConfigError, get_settings

CATALOGUE_RELATIVE = Path("dbt_project") / "seeds" / "metric_catalogue.csv"
_COLUMNS = ("metric_code", "metric_name", "source", "kind", "unit", "finest_level", "description")


@dataclass(frozen=True)
class Metric:
    code: str
    name: str
    source: str
    kind: str  # count | rate: only counts can be normalised by population
    unit: str
    finest_level: str  # the finest region level the source can place the metric at
    description: str


@dataclass(frozen=True)
class Catalogue:
    metrics: dict[str, Metric]
    path: Path

    def __contains__(self, code: object) -> bool:
        return code in self.metrics

    def __getitem__(self, code: str) -> Metric:
        return self.metrics[code]

    def __iter__(self) -> Iterator[Metric]:
        return iter(self.metrics.values())

    def close_matches(self, code: str, n: int = 3) -> list[str]:
        """Codes that look like ``code``: the usual mistake is a typo or a near-synonym."""
        matches = difflib.get_close_matches(code, list(self.metrics), n=n, cutoff=0.6)
        if not matches:  # e.g. 'criminal' for 'police_incidents_criminal'
            matches = [c for c in self.metrics if code and code in c][:n]
        return matches


def default_catalogue_path() -> Path:
    return get_settings().project_dir / CATALOGUE_RELATIVE


def load_catalogue(path: Path | None = None) -> Catalogue:
    """Read the catalogue CSV; a missing file or column is a configuration error."""
    path = path or default_catalogue_path()
    try:
        with open(path, encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in _COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise ConfigError(
                    f"{path}: the header lacks column(s) {', '.join(missing)} — "
                    f"the catalogue needs {', '.join(_COLUMNS)}"
                )
            metrics = {
                row["metric_code"]: Metric(
                    code=row["metric_code"],
                    name=row["metric_name"],
                    source=row["source"],
                    kind=row["kind"],
                    unit=row["unit"],
                    finest_level=row["finest_level"],
                    description=row["description"],
                )
                for row in reader
            }
    except FileNotFoundError:
        raise ConfigError(
            f"metric catalogue {path} does not exist — restore {CATALOGUE_RELATIVE}"
        ) from None
    return Catalogue(metrics, path)
