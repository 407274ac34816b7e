"""Least-privilege warehouse roles (infra/warehouse/013_roles.sql, DESIGN.md §5).

Each test logs in as a user that is a member of one group role (created here with a
unique name and dropped at the end: roles are cluster-wide) and checks what that user
can and cannot do in a fresh warehouse. The dbt relations are built by hand the way dbt
builds them: owned by pingan_transformer (dbt's ``role``), a mart view over a staging
view over ``publish.publications`` like ``marts.publications``.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable, Iterator

import psycopg
import pytest
from psycopg import sql

from pingan_transforms.settings import get_settings
from pingan_transforms.warehouse import WarehouseTarget, connect, prepare_warehouse

GROUPS = ("pingan_loader", "pingan_transformer", "pingan_bi_reader")

# What dbt would have built, owned by the transformer group role.
DBT_RELATIONS = """
set role pingan_transformer;
create view staging.stg_publish__publications as
    select scheme_code, month_start, revision, subject from publish.publications;
create table intermediate.int_police_incidents_quarantined as
    select 'P1'::text as incident_id, 'unknown region'::text as reason;
create table marts.region_index_published as
    select 'majuqiao'::text as scheme_code, date '2024-01-01' as month_start,
           '110101'::text as region_code, 87.5::numeric as score;
create table marts.region_index_monthly as
    select 'majuqiao'::text as scheme_code, date '2024-11-01' as month_start,
           '110101'::text as region_code, 61.0::numeric as score;
create view marts.publications as
    select scheme_code, month_start, revision, subject from staging.stg_publish__publications;
-- dbt's +grants: the published numbers and the publications, not the current scores
grant select on marts.region_index_published, marts.publications to pingan_bi_reader;
reset role;
"""

Login = Callable[[str], psycopg.Connection]


@pytest.fixture
def warehouse(databases: tuple[WarehouseTarget, WarehouseTarget]) -> WarehouseTarget:
    warehouse, _ = databases
    with connect(warehouse, autocommit=True) as conn:
        conn.execute(DBT_RELATIONS)
        conn.execute(
            "insert into publish.publications (scheme_code, scheme_version, month_start, "
            "revision, recipients, checksum, subject, sent_at, message_id, files) values "
            "('majuqiao', 1, '2024-01-01', 1, array['a@example.gov.cn'], 'c', '1月通报', "
            "now(), '<m@example>', '[]')"
        )
        # A mart built by the owner of the warehouse (dbt run as that user, as in the demo).
        conn.execute("create table marts.owner_built as select 1 as n")
        conn.execute("grant select on marts.owner_built to pingan_bi_reader")  # +grants
        conn.execute("create table seeds.item_labels as select 'A1'::text as item_code")
    return warehouse


@pytest.fixture
def login(warehouse: WarehouseTarget) -> Iterator[Login]:
    """``login(group)``: a connection as a new LOGIN user that is a member of ``group``."""
    users: list[str] = []
    connections: list[psycopg.Connection] = []

    def as_member(group: str) -> psycopg.Connection:
        user = f"pingan_test_{group.removeprefix('pingan_')}_{uuid.uuid4().hex[:8]}"
        password = uuid.uuid4().hex
        with connect(warehouse, autocommit=True) as admin:
            admin.execute(
                sql.SQL("create role {} login password {} in role {}").format(
                    sql.Identifier(user), sql.Literal(password), sql.Identifier(group)
                )
            )
        users.append(user)
        conn = connect(
            dataclasses.replace(warehouse, user=user, password=password), autocommit=True
        )
        connections.append(conn)
        assert conn.execute("select current_user").fetchone() == (user,)
        return conn

    yield as_member
    for conn in connections:
        conn.close()
    with connect(warehouse, autocommit=True) as admin:
        for user in users:
            admin.execute(sql.SQL("drop owned by {}").format(sql.Identifier(user)))
            admin.execute(sql.SQL("drop role {}").format(sql.Identifier(user)))


def denied(conn: psycopg.Connection, statement: str) -> None:
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute(statement)  # type: ignore[arg-type]


def test_group_roles_exist_without_login_and_the_script_is_idempotent(
    warehouse: WarehouseTarget,
) -> None:
    prepare_warehouse(warehouse)  # a second application changes nothing and does not fail
    with connect(warehouse) as conn:
        rows = conn.execute(
            "select rolname, rolcanlogin, rolsuper, rolcreaterole, rolcreatedb from pg_roles "
            "where rolname = any(%s) order by rolname",
            (list(GROUPS),),
        ).fetchall()
    # on the embedded server the BI role logs in itself, with its generated password (BI
    # tools are handed it); elsewhere log-in users are the DBA's members of the groups
    embedded = not get_settings().warehouse_url
    assert rows == [
        (name, embedded and name == "pingan_bi_reader", False, False, False)
        for name in sorted(GROUPS)
    ]


def test_bi_reader_reads_the_marts_dbt_grants_it_and_nothing_else(
    warehouse: WarehouseTarget, login: Login
) -> None:
    bi = login("pingan_bi_reader")
    assert bi.execute("select score from marts.region_index_published").fetchall() == [(87.5,)]
    assert bi.execute("select count(*) from marts.owner_built").fetchone() == (1,)
    # the current scores (a month whose gate failed among them) are not for BI, and a
    # mart dbt did not grant is not readable by default
    denied(bi, "select * from marts.region_index_monthly")
    with connect(warehouse, autocommit=True) as owner:
        owner.execute("create table marts.ungranted as select 1 as n")
    denied(bi, "select * from marts.ungranted")
    # A view runs with its owner's rights: no grant on staging or publish is needed.
    assert bi.execute("select subject from marts.publications").fetchall() == [("1月通报",)]

    for relation in (
        "raw._batches",
        "raw._watermarks",
        "raw._files",
        "raw.police__incidents",
        "staging.stg_publish__publications",
        "intermediate.int_police_incidents_quarantined",
        "publish.publications",
        "publish.publication_units",
        "seeds.item_labels",
        "schemes.versions",
    ):
        denied(bi, f"select * from {relation} limit 1")
    denied(bi, "create table marts.mine (n int)")
    denied(bi, "insert into marts.region_index_published (scheme_code) values ('x')")
    denied(bi, "delete from marts.owner_built")


def test_loader_writes_raw_and_cannot_touch_marts(login: Login) -> None:
    loader = login("pingan_loader")
    loader.execute(
        "insert into raw._batches (batch_id, source, entity, window_end, row_count) "
        "values ('b1', 'police', 'incidents', now(), 0)"
    )
    for _ in range(2):  # the watermark upsert of pingan_transforms/load/batches.py
        loader.execute(
            "insert into raw._watermarks (source, entity, high_water, batch_id) "
            "values ('police', 'incidents', now(), 'b1') on conflict (source, entity) "
            "do update set high_water = excluded.high_water, batch_id = excluded.batch_id"
        )
    assert loader.execute("select count(*) from raw._batches").fetchone() == (1,)
    # A raw table the loader group creates itself is readable by the transformer.
    loader.execute("set role pingan_loader")
    loader.execute("create table raw.police__extra (id text)")
    loader.execute("reset role")

    denied(loader, "create table marts.loaded (n int)")
    denied(loader, "insert into marts.region_index_items (scheme_code) values ('x')")
    denied(loader, "select * from marts.region_index_items")
    denied(loader, "select * from marts.publications")
    denied(loader, "select * from staging.stg_publish__publications")
    denied(loader, "create table staging.loaded (n int)")
    denied(loader, "insert into publish.publications (scheme_code) values ('x')")
    denied(loader, "select * from schemes.versions")

    transformer = login("pingan_transformer")
    assert transformer.execute("select count(*) from raw.police__extra").fetchone() == (0,)


def test_transformer_reads_sources_rebuilds_dbt_layers_and_cannot_write_raw(
    login: Login,
) -> None:
    dbt = login("pingan_transformer")
    for relation in (
        "raw._batches",
        "raw.police__incidents",
        "schemes.versions",
        "seeds.item_labels",
    ):
        dbt.execute(f"select * from {relation} limit 1")  # type: ignore[arg-type]
    assert dbt.execute("select count(*) from publish.publications").fetchone() == (1,)

    dbt.execute("set role pingan_transformer")  # as dbt does with PINGAN_DBT_ROLE
    for schema in ("staging", "intermediate", "marts", "seeds"):
        dbt.execute(f"create table {schema}.scratch as select 1 as n")  # type: ignore[arg-type]
        dbt.execute(f"drop table {schema}.scratch")  # type: ignore[arg-type]
    # Replace a mart the way dbt's table materialisation does (with its +grants), then a view.
    dbt.execute(
        "create table marts.region_index_published__dbt_tmp as "
        "select 'majuqiao'::text as scheme_code, date '2024-02-01' as month_start, "
        "'110101'::text as region_code, 90::numeric as score"
    )
    dbt.execute(
        "alter table marts.region_index_published rename to region_index_published__dbt_backup"
    )
    dbt.execute(
        "alter table marts.region_index_published__dbt_tmp rename to region_index_published"
    )
    dbt.execute("drop table marts.region_index_published__dbt_backup")
    dbt.execute("grant select on marts.region_index_published to pingan_bi_reader")
    dbt.execute(
        "create or replace view staging.stg_publish__publications as select scheme_code, "
        "month_start, revision, subject from publish.publications where revision >= 1"
    )
    dbt.execute("reset role")

    denied(
        dbt,
        "insert into raw._batches (batch_id, source, entity, window_end, row_count) "
        "values ('b2', 'police', 'incidents', now(), 0)",
    )
    denied(dbt, "update raw._watermarks set batch_id = 'b2'")
    denied(dbt, "delete from raw._batches")
    denied(dbt, "create table raw.transformed (n int)")
    denied(dbt, "insert into publish.publications (scheme_code) values ('x')")

    # The rebuilt mart is readable by BI with the grant dbt gives it.
    bi = login("pingan_bi_reader")
    assert bi.execute("select score from marts.region_index_published").fetchall() == [(90,)]
    assert bi.execute("select count(*) from marts.publications").fetchone() == (1,)
