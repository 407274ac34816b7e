"""The region master file: the one format every region list in the pipeline uses.

Production owns it (``extract/regions.py`` reads it into ``raw.regions__master``); the
simulator writes it for the demo and imports it from here, never the other way round.
One row per region (county, township, village), with the village populations the
rates are per capita of, and an optional centroid that places coordinate-only records.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

MASTER_COLUMNS = [
    "code",
    "name",
    "level",
    "parent_code",
    "resident_population",
    "floating_population",
    "valid_from",
    "valid_to",
]
# Optional: a village's centroid (WGS84), used to place records that carry only coordinates.
CENTROID_COLUMNS = ["longitude", "latitude"]


@dataclass(frozen=True)
class Region:
    code: str
    name: str
    level: str
    parent_code: str
    resident_population: int = 0
    floating_population: int = 0
    valid_from: str = "2020-01-01"
    valid_to: str = ""
    longitude: float | None = None
    latitude: float | None = None

    def as_row(self) -> dict[str, str]:
        return {
            "code": self.code,
            "name": self.name,
            "level": self.level,
            "parent_code": self.parent_code,
            "resident_population": str(self.resident_population) if self.level == "village" else "",
            "floating_population": str(self.floating_population) if self.level == "village" else "",
            "valid_from": self.valid_from,
            "valid_to": self.valid_to,
            "longitude": "" if self.longitude is None else f"{self.longitude:.6f}",
            "latitude": "" if self.latitude is None else f"{self.latitude:.6f}",
        }


def write_master(regions: list[Region], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=MASTER_COLUMNS + CENTROID_COLUMNS)
        writer.writeheader()
        for region in regions:
            writer.writerow(region.as_row())
    return path


def read_master(path: Path) -> list[Region]:
    with open(path, encoding="utf-8", newline="") as handle:
        return [
            Region(
                r["code"],
                r["name"],
                r["level"],
                r["parent_code"],
                int(r["resident_population"] or 0),
                int(r["floating_population"] or 0),
                r["valid_from"],
                r["valid_to"],
                float(r["longitude"]) if r.get("longitude") else None,
                float(r["latitude"]) if r.get("latitude") else None,
            )
            for r in csv.DictReader(handle)
        ]
