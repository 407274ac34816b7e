"""The embedded warehouse: idempotent start, schemas from infra/, clear config errors."""

from __future__ import annotations

import pytest

from pingan_transforms.settings import ConfigError, Settings
from pingan_transforms.warehouse import WarehouseTarget, connect
from pingan_transforms.warehouse.connection import embedded_server


def test_start_is_idempotent_and_status_reports_the_port(server, settings: Settings) -> None:
    if not settings.embedded:
        pytest.skip("external warehouse configured")
    first = embedded_server(settings).start()
    second = embedded_server(settings).start()
    assert first.running and first.pid == second.pid and first.port == second.port
    assert embedded_server(settings).status().port == server.port


def test_embedded_server_writes_little_wal(databases, settings: Settings) -> None:
    """The embedded warehouse is created without data checksums and runs with minimal WAL
    (embedded.WAL_SETTINGS): a table created and filled in one transaction, as dbt
    builds it, is not written to the WAL, nor again when a query first reads it."""
    if not settings.embedded:
        pytest.skip("external warehouse configured")
    warehouse, _ = databases
    with connect(warehouse) as conn:
        assert conn.execute("show wal_level").fetchone()[0] == "minimal"  # type: ignore[index]
        assert conn.execute("show data_checksums").fetchone()[0] == "off"  # type: ignore[index]
        start = conn.execute("select pg_current_wal_lsn()").fetchone()[0]  # type: ignore[index]
        conn.execute("create table intermediate.wal_probe as select g, md5(g::text) as m "
                     "from generate_series(1, 200000) as g")  # fmt: skip
        conn.commit()
        conn.execute("select count(*) from intermediate.wal_probe where m like 'a%'").fetchone()
        conn.execute("drop table intermediate.wal_probe")
        conn.commit()
        written = conn.execute(
            "select pg_wal_lsn_diff(pg_current_wal_lsn(), %s)", (start,)
        ).fetchone()[0]  # type: ignore[index]
    # the table is about 13 MB; logged (or logged again for hint bits) it would be more
    assert written < 2_000_000, f"{written} bytes of WAL for a 13 MB table"


def test_layer_schemas_come_from_infra_sql(databases) -> None:
    warehouse, _ = databases
    with connect(warehouse) as conn:
        schemas = {r[0] for r in conn.execute("select nspname from pg_namespace").fetchall()}
    assert {"raw", "staging", "intermediate", "marts"} <= schemas


def test_bad_warehouse_url_names_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    from pingan_transforms.settings import get_settings

    monkeypatch.setenv("PINGAN_WAREHOUSE_URL", "mysql://somewhere/pingan")
    with pytest.raises(ConfigError, match="PINGAN_WAREHOUSE_URL"):
        get_settings()


def test_unreachable_warehouse_is_a_clear_error() -> None:
    target = WarehouseTarget("127.0.0.1", 1, "postgres", "", "pingan")
    with pytest.raises(ConfigError, match="cannot connect to PostgreSQL at 127.0.0.1:1/pingan"):
        connect(target, connect_timeout=2)


def test_cli_status_and_url(server, settings: Settings, capsys) -> None:
    from pingan_transforms.cli import main

    if not settings.embedded:
        pytest.skip("external warehouse configured")
    assert main(["warehouse", "status"]) == 0
    assert f"port {server.port}" in capsys.readouterr().out
    assert main(["warehouse", "url"]) == 0
    assert capsys.readouterr().out.strip().endswith(f":{server.port}/{settings.warehouse_db}")


def test_every_connection_needs_its_roles_password(databases, settings: Settings) -> None:
    """Issue 18: the embedded server trusts nobody: a wrong or empty password is refused,
    for the superuser and for the BI role; the generated passwords are the owner's only."""
    from dataclasses import replace

    from pingan_transforms.warehouse.embedded import BI_READER

    if not settings.embedded:
        pytest.skip("external warehouse configured")
    warehouse, _ = databases
    server = embedded_server(settings)
    for role in ("postgres", BI_READER):
        assert server.password_file(role).stat().st_mode & 0o777 == 0o600
        target = replace(warehouse, user=role, password=server.password(role))
        with connect(target) as conn:
            assert conn.execute("select current_user").fetchone() == (role,)
        for wrong in ("wrong", ""):
            with pytest.raises(ConfigError, match="cannot connect to PostgreSQL"):
                connect(replace(target, password=wrong))
