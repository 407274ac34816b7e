"""The Assets the DAGs exchange: a source landed in raw, the marts rebuilt, a publication.

Extract DAGs produce the raw Assets (one per registered source, ``sources/<name>/``,
and the region master), the transform DAG is scheduled on them and produces
:data:`MARTS`; the monthly publish DAG records :data:`PUBLICATIONS`. Kept in one module
so the three DAG files name the same URIs.
"""

from __future__ import annotations

from airflow.sdk import Asset

from pingan_transforms.sources import SourcesConfig, sources_config

SOURCES = sources_config()


def _raw(name: str) -> Asset:
    return Asset(f"pingan://warehouse/raw/{name}", group="raw")


# source -> the raw tables it lands (sources/<name>/raw.sql; the region master's:
# infra/warehouse/003_raw_tables.sql)
RAW: dict[str, Asset] = {name: _raw(name) for name in ("regions", *SOURCES.sources)}
SCHEMES = Asset("pingan://warehouse/schemes", group="schemes")
MARTS = Asset("pingan://warehouse/marts", group="marts")
PUBLICATIONS = Asset("pingan://warehouse/publish/publications", group="publish")


def transform_schedule(config: SourcesConfig = SOURCES):
    """Rebuild the marts once every daily source (databases, APIs) has landed that day,
    or as soon as a file drop or the region master brings something new."""
    from functools import reduce
    from operator import and_, or_

    daily = [_raw(name) for name in config.daily()]
    drops = [_raw(name) for name in config.sources if name not in config.daily()]
    together = [reduce(and_, daily)] if daily else []  # a registry of file drops has none
    return reduce(or_, [*together, *drops, _raw("regions")])
