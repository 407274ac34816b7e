"""Resolve source connections the way Airflow does.

A deployment names each source system by an Airflow connection id
(``AIRFLOW_CONN_<ID>`` in the environment, the metadata database or a secrets
backend). Inside an Airflow task we ask Airflow; outside one (CLI, tests) the
``AIRFLOW_CONN_*`` environment variable is read directly. In the embedded demo
the simulated databases on the warehouse server are the fallback for SQL sources.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from pingan_transforms.settings import ConfigError, Settings
from pingan_transforms.warehouse import resolve_target


@dataclass(frozen=True)
class HttpSource:
    base_url: str
    token: str


def connection_uri(conn_id: str) -> str | None:
    uri = os.environ.get(f"AIRFLOW_CONN_{conn_id.upper()}")
    return uri if uri is not None else _airflow_connection_uri(conn_id)


def source_url(conn_id: str, settings: Settings, embedded_db: str | None) -> str:
    """A SQL source's URL; in the embedded demo, a database on the warehouse server."""
    uri = connection_uri(conn_id)
    if uri:
        return uri.replace("postgres://", "postgresql://", 1)
    if settings.embedded and embedded_db:
        return resolve_target(settings).with_database(embedded_db).url
    raise ConfigError(
        f"source connection {conn_id!r} is not defined: set "
        f"AIRFLOW_CONN_{conn_id.upper()}=postgresql://… or create the Airflow connection"
    )


def http_source(conn_id: str) -> HttpSource:
    """An HTTP API's base URL and bearer token, from a connection ``http://:TOKEN@host:port``."""
    uri = connection_uri(conn_id)
    env_name = f"AIRFLOW_CONN_{conn_id.upper()}"
    if not uri:
        raise ConfigError(
            f"source connection {conn_id!r} is not defined: set {env_name}="
            "http://:TOKEN@host:port (the bearer token as the password) "
            "or create the Airflow HTTP connection"
        )
    parts = urlsplit(uri)
    if parts.scheme not in ("http", "https") or not parts.hostname or not parts.password:
        raise ConfigError(
            f"{env_name} must look like http://:TOKEN@host:port (the bearer token is the "
            "connection's password)"
        )
    port = f":{parts.port}" if parts.port else ""
    base = f"{parts.scheme}://{parts.hostname}{port}{parts.path.rstrip('/')}"
    return HttpSource(base_url=base, token=unquote(parts.password))


def _airflow_connection_uri(conn_id: str) -> str | None:
    try:
        from airflow.sdk import BaseHook
    except ImportError:
        return None
    try:
        return BaseHook.get_connection(conn_id).get_uri()
    except Exception:  # noqa: BLE001 - any lookup failure means "not defined here"
        return None
