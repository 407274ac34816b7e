"""Resolve source connections the way Airflow does.

A deployment names each source system by an Airflow connection id
(``AIRFLOW_CONN_<ID>`` in the environment, the metadata database or a secrets
backend). Inside an Airflow task we ask Airflow; outside one (CLI, tests) the
``AIRFLOW_CONN_*`` environment variable is read directly. In the embedded demo
the simulated front database on the warehouse server is the fallback.
"""

from __future__ import annotations

import os

from pingan_transforms.settings import ConfigError, Settings
from pingan_transforms.warehouse import resolve_target


def source_url(conn_id: str, settings: Settings, embedded_db: str) -> str:
    env_name = f"AIRFLOW_CONN_{conn_id.upper()}"
    uri = os.environ.get(env_name)
    if uri is None:
        uri = _airflow_connection_uri(conn_id)
    if uri:
        return uri.replace("postgres://", "postgresql://", 1)
    if settings.embedded:
        return resolve_target(settings).with_database(embedded_db).url
    raise ConfigError(
        f"source connection {conn_id!r} is not defined: set {env_name}=postgresql://… "
        "or create the Airflow connection"
    )


def _airflow_connection_uri(conn_id: str) -> str | None:
    try:
        from airflow.sdk import BaseHook
    except ImportError:
        return None
    try:
        return BaseHook.get_connection(conn_id).get_uri()
    except Exception:  # noqa: BLE001 - any lookup failure means "not defined here"
        return None
