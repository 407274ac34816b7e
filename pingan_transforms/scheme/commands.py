"""``pingan scheme validate | show | load``: what the CLI does, kept out of ``cli.py``.

An invalid scheme is the user's to fix, so it prints its problem lines and exits 1
(no traceback); configuration problems (a missing catalogue or region file, an
unreachable warehouse) are ``ConfigError`` and reach the CLI's usual exit 2.
"""

from __future__ import annotations

import sys
from pathlib import Path

from pingan_transforms.scheme.catalogue import CATALOGUE_RELATIVE, load_catalogue
from pingan_transforms.scheme.model import Scheme
from pingan_transforms.scheme.regions import RegionMaster, default_region_files, read_regions
from pingan_transforms.scheme.validate import (
    SchemeError,
    check_unique_versions,
    load_scheme,
)
from pingan_transforms.settings import Settings


def _print_problems(exc: SchemeError) -> int:
    for problem in exc.problems:
        print(problem, file=sys.stderr)
    return 1


def summary(scheme: Scheme) -> str:
    indicators = sum(1 for _ in scheme.indicators())
    items = sum(1 for _ in scheme.items())
    return (
        f"{scheme.scheme_code} v{scheme.version} from {scheme.valid_from}: "
        f"{scheme.ranked_level} units ranked within each {scheme.peer_level} of {scheme.scope}, "
        f"{len(scheme.categories)} categories, {indicators} indicators, {items} items, "
        f"{format(scheme.total_points.normalize(), 'f')} points"
    )


def _regions(paths: list[Path] | None, settings: Settings) -> RegionMaster | None:
    files = paths or default_region_files(settings)
    return read_regions(files) if files else None


def validate(files: list[Path], regions: list[Path] | None, settings: Settings) -> int:
    """Check each file in turn, stopping at the first invalid one; then versions across files."""
    catalogue = load_catalogue(settings.project_dir / CATALOGUE_RELATIVE)
    master = _regions(regions, settings)
    loaded: list[tuple[str, Scheme]] = []
    for path in files:
        try:
            scheme = load_scheme(path, catalogue, master)
        except SchemeError as exc:
            return _print_problems(exc)
        loaded.append((str(path), scheme))
        print(f"ok: {path} ({summary(scheme)})")
    duplicates = check_unique_versions(loaded)
    if duplicates:
        return _print_problems(SchemeError(duplicates))
    return 0


def show(path: Path, settings: Settings) -> int:
    from pingan_transforms.scheme.show import render_scheme

    catalogue = load_catalogue(settings.project_dir / CATALOGUE_RELATIVE)
    try:
        scheme = load_scheme(path, catalogue)
    except SchemeError as exc:
        return _print_problems(exc)
    print(render_scheme(scheme, catalogue))
    return 0


def load(directory: Path | None, settings: Settings) -> int:
    """Prepare the warehouse (as every pipeline entry point does), then load the folder."""
    from pingan_transforms.scheme.load import load_schemes
    from pingan_transforms.warehouse import connect, prepare_warehouse, resolve_target

    directory = directory or settings.schemes_dir
    target = resolve_target(settings)
    prepare_warehouse(target, settings)
    catalogue = load_catalogue(settings.project_dir / CATALOGUE_RELATIVE)
    try:
        with connect(target) as conn:
            loaded = load_schemes(conn, directory, catalogue)
    except SchemeError as exc:
        return _print_problems(exc)
    versions = ", ".join(f"{code} v{version}" for code, version in loaded)
    print(
        f"loaded {len(loaded)} scheme version(s) from {directory} into schemes.* "
        f"({target.host}:{target.port}/{target.dbname}): {versions}"
    )
    return 0
