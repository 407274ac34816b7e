"""Where the warehouse is and how to reach it.

One function, :func:`resolve_target`, decides between the embedded server
(started on demand) and an external PostgreSQL named by ``PINGAN_WAREHOUSE_URL``;
everything else (loaders, dbt, tests) asks it for URLs instead of building them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import psycopg
from psycopg import sql

from pingan_transforms.settings import ConfigError, Settings, get_settings
from pingan_transforms.warehouse.embedded import BI_READER, SUPERUSER, EmbeddedServer


@dataclass(frozen=True)
class WarehouseTarget:
    host: str
    port: int
    user: str
    password: str
    dbname: str

    @classmethod
    def from_url(cls, url: str) -> WarehouseTarget:
        parts = urlsplit(url)
        if not parts.hostname or not parts.path.strip("/"):
            raise ConfigError(
                f"cannot use warehouse URL {redact(url)!r}: it needs a host and a database, "
                "e.g. postgresql://user:password@host:5432/pingan"
            )
        return cls(
            host=parts.hostname,
            port=parts.port or 5432,
            user=unquote(parts.username or "postgres"),
            password=unquote(parts.password or ""),
            dbname=parts.path.strip("/"),
        )

    @property
    def url(self) -> str:
        auth = quote(self.user, safe="")
        if self.password:
            auth += ":" + quote(self.password, safe="")
        return urlunsplit(
            ("postgresql", f"{auth}@{self.host}:{self.port}", f"/{self.dbname}", "", "")
        )

    def with_database(self, dbname: str) -> WarehouseTarget:
        return replace(self, dbname=dbname)

    def dbt_env(self) -> dict[str, str]:
        """Environment read by ``dbt_project/profiles.yml``."""
        return {
            "PINGAN_DBT_HOST": self.host,
            "PINGAN_DBT_PORT": str(self.port),
            "PINGAN_DBT_USER": self.user,
            "PINGAN_DBT_PASSWORD": self.password,
            "PINGAN_DBT_DBNAME": self.dbname,
        }


def redact(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(":" + parts.password + "@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def embedded_server(settings: Settings) -> EmbeddedServer:
    return EmbeddedServer(settings.pgdata, port=settings.embedded_port)


def resolve_target(settings: Settings | None = None, *, start: bool = True) -> WarehouseTarget:
    """The warehouse database; starts the embedded server when it is the one configured."""
    settings = settings or get_settings()
    if settings.warehouse_url:
        return WarehouseTarget.from_url(settings.warehouse_url)
    server = embedded_server(settings)
    status = server.start() if start else server.status()
    if not status.running or status.port is None:
        raise ConfigError("the embedded warehouse is not running: run `pingan warehouse start`")
    return WarehouseTarget(
        "127.0.0.1", status.port, SUPERUSER, server.password(), settings.warehouse_db
    )


def connect(target: WarehouseTarget, **kwargs: object) -> psycopg.Connection:
    try:
        return psycopg.connect(target.url, **kwargs)  # type: ignore[arg-type]
    except psycopg.OperationalError as exc:
        raise ConfigError(
            f"cannot connect to PostgreSQL at {target.host}:{target.port}/{target.dbname}: "
            f"{str(exc).strip()}"
        ) from None


def ensure_database(target: WarehouseTarget) -> None:
    """Create the target's database if it does not exist (needs CREATEDB on the server)."""
    with connect(target.with_database("postgres"), autocommit=True) as conn:
        exists = conn.execute(
            "select 1 from pg_database where datname = %s", (target.dbname,)
        ).fetchone()
        if not exists:
            conn.execute(sql.SQL("create database {}").format(sql.Identifier(target.dbname)))


def clone_database(template: WarehouseTarget, target: WarehouseTarget) -> None:
    """Create ``target`` as a file-level copy of ``template`` (``create database ...
    template``): a prepared warehouse in a fraction of the time its init SQL takes.
    Nobody may be connected to the template meanwhile (PostgreSQL refuses the copy)."""
    with connect(target.with_database("postgres"), autocommit=True) as conn:
        conn.execute(
            sql.SQL("create database {} template {}").format(
                sql.Identifier(target.dbname), sql.Identifier(template.dbname)
            )
        )


def drop_database(target: WarehouseTarget) -> None:
    with connect(target.with_database("postgres"), autocommit=True) as conn:
        conn.execute(
            sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(target.dbname))
        )


def prepare_warehouse(target: WarehouseTarget, settings: Settings | None = None) -> list[str]:
    """Create the database and apply the init SQL: ``infra/warehouse/*.sql`` in order (the
    schemas, the load bookkeeping, the region master, schemes, publications, roles),
    then every registered source's raw tables (``sources/<name>/raw.sql``).

    Every script is idempotent (``create ... if not exists``), so this runs at the
    start of every pipeline run; it returns the scripts applied. The sources' tables
    get the roles' grants from the default privileges the roles script sets.
    """
    settings = settings or get_settings()
    ensure_database(target)
    scripts = [
        *sorted(settings.infra_sql_dir.glob("*.sql")),
        *sorted(settings.registry_dir.glob("*/raw.sql")),
    ]
    with connect(target) as conn:
        # Serialise concurrent initialisers (parallel tasks, tests) on one advisory lock.
        conn.execute("select pg_advisory_xact_lock(72627)")
        for script in scripts:
            conn.execute(script.read_text())  # type: ignore[arg-type]
        if not settings.warehouse_url:
            # the embedded server's BI role logs in with a generated password (BI tools are
            # handed it); on another server the DBA gives its users their own
            conn.execute(
                sql.SQL("alter role {} login password {}").format(
                    sql.Identifier(BI_READER),
                    sql.Literal(embedded_server(settings).password(BI_READER)),
                )
            )
    return [str(s.relative_to(s.parent.parent)) for s in scripts]
