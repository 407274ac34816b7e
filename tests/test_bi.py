"""Superset reads the marts for real (issue 18): a month through the monthly DAG, then
``pingan bi``'s Superset (its own venv, provisioned from bi/superset/), the dashboard in
headless Chromium, and SQL Lab as the BI connection.

Runs as ``make test-bi`` (CI's .ci/run calls it after ``make test``): installing
Superset, migrating its metadata and starting it take a few minutes of their own.
"""

from __future__ import annotations

import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from pingan_simulate.mailbox import mail_catcher
from pingan_simulate.sources import simulated_sources
from pingan_transforms.chromium import chromium_path
from pingan_transforms.months import Month
from pingan_transforms.orchestrate import run_month
from pingan_transforms.settings import get_settings
from pingan_transforms.warehouse import connect
from tests.helpers import tongzhou_majuqiao

pytestmark = [pytest.mark.bi, pytest.mark.slow]

SEP = Month(2024, 9)


@pytest.fixture
def browser_available() -> None:
    if chromium_path() is None:
        if os.environ.get("CI"):
            pytest.fail("CI must have chromium: .ci/run installs it (apt-get install chromium)")
        pytest.skip("no chromium on this machine: apt-get install chromium fonts-noto-cjk")


def test_the_dashboard_shows_the_published_ranking_read_as_the_bi_role(
    browser_available, databases, tmp_path, monkeypatch, airflow_db
) -> None:
    from pingan_transforms.airflow_local import free_port
    from pingan_transforms.bi.browser import dashboard_page, table_rows
    from pingan_transforms.bi.superset import Superset, bi_login

    warehouse, _ = databases
    regions = tongzhou_majuqiao(tmp_path, monkeypatch)
    settings = get_settings()
    with simulated_sources(settings, [SEP]), mail_catcher(tmp_path / "mail"):
        states = run_month(settings, SEP)
    assert set(states.values()) == {"success"}, states
    with connect(warehouse) as conn:
        published = {
            name: score
            for name, score in conn.execute(
                "select region_name, score from marts.region_index_monthly "
                "where scheme_code = 'majuqiao' and month_start = %s",
                (SEP.first_day,),
            )
        }
    towns = {r.name for r in regions if r.level == "township"}
    assert set(published) == towns and len(towns) == 22

    superset = Superset(settings, port=free_port())
    superset.ensure_venv()
    superset.ensure_metadata()
    superset.start()
    try:
        provisioned = superset.provision(bi_login(settings))
        assert sorted(provisioned["charts"]) == sorted(
            ["本月排名", "单位分布图", "得分走势", "分类得分热力图", "警情趋势", "预警与升级督办"]
        )
        # provisioning again changes nothing: the same charts, no copies
        assert superset.provision(bi_login(settings)) == provisioned
        # the compose stack's superset-provision: `pingan bi --superset-url` provisions a
        # Superset it did not start, as its admin, the warehouse through the BI login URL
        reader = bi_login(settings)
        remote = subprocess.run(
            [sys.executable, "-m", "pingan_transforms.cli", "bi", "--superset-url", superset.url],
            env={
                **os.environ,
                "PINGAN_WAREHOUSE_URL": warehouse.url,
                "PINGAN_BI_READER_URL": f"postgresql://{reader.user}:{reader.password}@"
                f"{reader.host}:{reader.port}/{reader.dbname}",
                "PINGAN_BI_ADMIN_PASSWORD": superset.admin_password(),
            },
            capture_output=True, text=True,
        )  # fmt: skip
        assert remote.returncode == 0, remote.stderr
        assert f"{superset.url}/superset/dashboard/pingan-index/  (平安指数看板, 6 charts" in (
            remote.stdout
        )
        assert superset.provision(bi_login(settings)) == provisioned

        # the ranking as a person sees it: the month's 22 towns, with the scores the
        # marts hold, in rank order (the filters' first values: majuqiao, September)
        with dashboard_page(superset) as page:
            rows = table_rows(page, "本月排名", expected=22)
            page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)
        shown = {row[2]: Decimal(row[3]) for row in rows}
        assert shown == published
        ranks = [int(row[1]) for row in rows]
        assert ranks == sorted(ranks) and ranks[0] == 1

        # SQL Lab on the same connection: PostgreSQL itself refuses what is not a
        # published mart, because Superset logs in as pingan_bi_reader
        client = superset.client()
        try:
            database_id = superset.database_id(client)

            def run(sql: str) -> dict:
                return client.post(
                    "/api/v1/sqllab/execute/",
                    json={"database_id": database_id, "sql": sql, "runAsync": False,
                          "schema": "marts", "queryLimit": 100},
                ).json()  # fmt: skip

            for relation in ("raw.police__incidents", "staging.stg_police__incidents"):
                answer = run(f"select count(*) from {relation}")
                message = answer["errors"][0]["message"]
                assert "permission denied for schema" in message, answer
            answer = run("select count(*) as n from marts.region_index_published")
            assert answer["status"] == "success" and answer["data"] == [{"n": 22}], answer
        finally:
            client.close()
    finally:
        superset.stop()
    assert (tmp_path / "dashboard.png").stat().st_size > 50_000
    assert not Path(superset.pid_file).exists()
