"""The regions a scheme's scope is checked against.

Either the region master the pipeline loads (``code,name,level,parent_code,...``) or,
before one exists, the static division files ``data/regions/*.csv``
(``level,code,parent_code,name``). Only codes and levels matter here: the validator
asks whether the scope exists and how high it sits, nothing about populations.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pingan_transforms.settings import ConfigError, Settings

# Coarsest first: a level's index says how high it sits.
LEVELS: tuple[str, ...] = ("province", "city", "county", "township", "village")


@dataclass(frozen=True)
class RegionRow:
    code: str
    level: str
    name: str
    parent_code: str


@dataclass(frozen=True)
class RegionMaster:
    regions: dict[str, RegionRow]
    sources: tuple[Path, ...]

    @property
    def described(self) -> str:
        return ", ".join(str(p) for p in self.sources)


def default_region_files(settings: Settings) -> list[Path]:
    """The region master when it exists, else the static division files."""
    if settings.region_master_path.exists():
        return [settings.region_master_path]
    return sorted((settings.project_dir / "data" / "regions").glob("*.csv"))


def read_regions(paths: Sequence[Path]) -> RegionMaster:
    """Read one or more region CSVs (master or division files) into one code index."""
    regions: dict[str, RegionRow] = {}
    for path in paths:
        try:
            with open(path, encoding="utf-8-sig", newline="") as handle:
                reader = csv.DictReader(handle)
                missing = [c for c in ("code", "level") if c not in (reader.fieldnames or [])]
                if missing:
                    raise ConfigError(
                        f"{path}: the header lacks column(s) {', '.join(missing)} — a region "
                        "file needs code and level (and usually name, parent_code)"
                    )
                for row in reader:
                    code = (row["code"] or "").strip()
                    if code:
                        regions[code] = RegionRow(
                            code=code,
                            level=(row["level"] or "").strip(),
                            name=(row.get("name") or "").strip(),
                            parent_code=(row.get("parent_code") or "").strip(),
                        )
        except FileNotFoundError:
            raise ConfigError(f"region file {path} does not exist — check the path") from None
    return RegionMaster(regions, tuple(paths))
