"""The Assets the DAGs exchange: a source landed in raw, the marts rebuilt, a publication.

Extract DAGs produce the raw Assets, the transform DAG is scheduled on them and
produces :data:`MARTS`; the monthly publish DAG records :data:`PUBLICATIONS`. Kept in
one module so the three DAG files name the same URIs.
"""

from __future__ import annotations

from airflow.sdk import Asset

# source -> the raw schema it lands in (infra/warehouse/003-011)
RAW: dict[str, Asset] = {
    name: Asset(f"pingan://warehouse/raw/{name}", group="raw")
    for name in ("regions", "police", "governance", "traffic", "fire", "survey")
}
SCHEMES = Asset("pingan://warehouse/schemes", group="schemes")
MARTS = Asset("pingan://warehouse/marts", group="marts")
PUBLICATIONS = Asset("pingan://warehouse/publish/publications", group="publish")


def transform_schedule():
    """Rebuild the marts once every daily source has landed that day, or as soon as a
    file drop (fire, survey) or the region master brings something new."""
    daily = RAW["police"] & RAW["governance"] & RAW["traffic"]
    return daily | RAW["fire"] | RAW["survey"] | RAW["regions"]
