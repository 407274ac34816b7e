"""The Assets the DAGs exchange: a source landed in raw, the marts rebuilt, a publication.

Extract DAGs produce the raw Assets (one per registered source, ``sources/<name>/``,
and the region master), the transform DAG is scheduled on them and produces
:data:`MARTS`; the monthly publish DAG records :data:`PUBLICATIONS`. Kept in one module
so the three DAG files name the same URIs.
"""

from __future__ import annotations

from airflow.sdk import Asset

from pingan_transforms.sources import sources_config

SOURCES = sources_config()


def _raw(name: str) -> Asset:
    return Asset(f"pingan://warehouse/raw/{name}", group="raw")


# source -> the raw tables it lands (sources/<name>/raw.sql; the region master's:
# infra/warehouse/003_raw_tables.sql)
RAW: dict[str, Asset] = {name: _raw(name) for name in ("regions", *SOURCES.sources)}
SCHEMES = Asset("pingan://warehouse/schemes", group="schemes")
MARTS = Asset("pingan://warehouse/marts", group="marts")
PUBLICATIONS = Asset("pingan://warehouse/publish/publications", group="publish")


def transform_schedule():
    """Rebuild the marts once every daily source (databases, APIs) has landed that day,
    or as soon as a file drop or the region master brings something new."""
    from functools import reduce
    from operator import and_, or_

    daily = reduce(and_, (RAW[name] for name in SOURCES.daily()))
    drops = [RAW[name] for name in SOURCES.sources if name not in SOURCES.daily()]
    return reduce(or_, [daily, *drops, RAW["regions"]])
