"""Small builders shared by the tests."""

from __future__ import annotations

from pathlib import Path

from pingan_simulate import regions as sim_regions
from pingan_transforms.contracts.regions import write_master

PROJECT = Path(__file__).resolve().parent.parent


def tongzhou_master(path: Path, towns: int | None = None, seed: int = 7) -> list:
    """The demo region master (all 22 towns, or the first ``towns``) written to ``path``."""
    divisions = sim_regions.read_divisions(PROJECT / "data" / "regions" / "tongzhou_towns.csv")
    if towns is not None:
        keep = {d.code for d in divisions if d.level == "township"}
        keep = set(sorted(keep)[:towns])
        divisions = [d for d in divisions if d.level != "township" or d.code in keep]
    master = sim_regions.generate_master(divisions, seed=seed)
    write_master(master, path)
    return master


def shipped_sources() -> dict:
    """The shipped source registry (sources/<name>/source.yml) as one sources file's data,
    ``{"sources": {name: entry}}``, for tests that write a changed copy of it."""
    import yaml

    return {
        "sources": {
            entry.parent.name: yaml.safe_load(entry.read_text(encoding="utf-8"))
            for entry in sorted((PROJECT / "sources").glob("*/source.yml"))
        }
    }
