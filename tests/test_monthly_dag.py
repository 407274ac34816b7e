"""pingan_monthly end to end: three consecutive months through Airflow's own dag.test(),
then the same months backfilled by a real scheduler (``airflow backfill create``)."""

from __future__ import annotations

import csv
import json
import os
import shutil
import socket
from pathlib import Path

import psycopg
import pytest

from pingan_simulate.mailbox import mail_catcher
from pingan_simulate.sources import simulated_sources
from pingan_transforms.months import Month
from pingan_transforms.orchestrate import run_month
from pingan_transforms.publish.publications import latest_publication, read_content
from pingan_transforms.settings import get_settings
from pingan_transforms.transform import run_dbt
from pingan_transforms.warehouse import connect, prepare_warehouse
from pingan_transforms.warehouse.connection import drop_database
from tests.helpers import mart_rows, tongzhou_majuqiao, tongzhou_master

JUL, AUG, SEP = Month(2024, 7), Month(2024, 8), Month(2024, 9)
MONTHS = [JUL, AUG, SEP]
RAW_TABLES = (
    "police__incidents",
    "police__fraud_warnings",
    "traffic__accidents",
    "traffic__violations",
    "fire__fires",
    "fire__inspections",
    "governance__petitions",
    "governance__disputes",
    "governance__grid_patrols",
    "survey__scores",
)
MART_QUERY = (
    "select scheme_code, scheme_version, month_start, region_code, score, grade, "
    "rank_in_peer_group, previous_rank, rank_change, previous_score, score_change_pct "
    "from marts.region_index_monthly order by month_start, region_code"
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _read_ranking(path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def _dbt_parse_cache() -> Path:
    """Where the single dbt build task keeps dbt's partial-parse state (dbt_airflow)."""
    from cosmos import settings as cosmos_settings

    return Path(cosmos_settings.cache_dir) / "pingan_dbt_build" / "target" / "partial_parse.msgpack"


def test_months_rank_every_town_once_reruns_are_identical_and_a_backfill_equals_them(
    databases, tmp_path, monkeypatch, airflow_db
) -> None:
    from pingan_transforms.airflow_local import backfill, local_airflow
    from pingan_transforms.hitl import api_approver

    warehouse, police = databases
    # majuqiao version 1 only: a version change is covered by the hand-computed test
    regions = tongzhou_majuqiao(tmp_path, monkeypatch)
    settings = get_settings()
    towns = {r.code: r.name for r in regions if r.level == "township"}
    assert len(towns) == 22

    parse_state = _dbt_parse_cache()
    parse_state.unlink(missing_ok=True)
    with (
        simulated_sources(settings, MONTHS) as sources,
        mail_catcher(tmp_path / "mail") as mailbox,
    ):
        for month in MONTHS:
            states = run_month(settings, month)
            assert set(states.values()) == {"success"}, states
            # the month's bulletin was mailed, with the PDF and the xlsx
            (bulletin,) = [
                m.message()
                for m in mailbox.received
                if f"month={month}; revision=1" in m.message()["X-Pingan-Publication"]
            ]
            assert [p.get_filename()[-4:] for p in bulletin.iter_attachments()] == [".pdf", "xlsx"]
            path = settings.output_dir / "rankings" / f"majuqiao_{month}.csv"
            ranking = _read_ranking(path)
            assert sorted(r["区划代码"] for r in ranking) == sorted(towns)
            assert {r["区划代码"]: r["乡镇街道"] for r in ranking} == towns
            ranks = [int(r["排名"]) for r in ranking]
            assert ranks == sorted(ranks) and ranks[0] == 1 and ranks[-1] <= 22
            if month != MONTHS[-1]:  # late corrections arrive after a month's run
                assert sources.between_runs(month)["police incidents corrected"] > 0

        # the dbt build kept its parse state for the next month's build (Cosmos's cache)
        assert parse_state.exists()
        _check_rank_intervals(warehouse, regions)

        with connect(warehouse) as conn:
            before = conn.execute(MART_QUERY).fetchall()
            published_ranks = {
                (month_start, code): rank
                for month_start, code, rank in conn.execute(
                    "select month_start, region_code, rank from publish.publication_units "
                    "where scheme_code = 'majuqiao' and revision = 1"
                ).fetchall()
            }
            raw_before = {
                table: conn.execute(f"select count(*) from raw.{table}").fetchone()[0]
                for table in RAW_TABLES
            }
            # every source delivered, and every batch reconciles
            assert all(raw_before.values()), raw_before
            assert conn.execute(
                "select count(*) from intermediate.int_police_batches_reconciled "
                "where not is_reconciled"
            ).fetchone() == (0,)
            methods = dict(
                conn.execute(
                    "select coalesce(placement_method, 'unplaced'), count(*) "
                    "from intermediate.int_police_incidents_located group by 1"
                ).fetchall()
            )
        # simulated defects: some incidents are placed by address or coordinates, a few cannot
        assert methods["address_village"] > 0 and methods["unplaced"] > 0
        assert methods["coordinates"] > 0

        # no plaintext name, phone or ID number anywhere in the warehouse, in any layer
        secrets = sources.personal_data()
        assert len(secrets) > 1000
        with connect(warehouse) as conn:
            columns = conn.execute(
                "select table_schema, table_name, column_name from information_schema.columns "
                "where table_schema in ('raw', 'staging', 'intermediate', 'marts', 'seeds') "
                "and data_type in ('text', 'character varying')"
            ).fetchall()
            assert len(columns) > 100
            relations: dict[tuple[str, str], list[str]] = {}
            for schema, table, column in columns:
                relations.setdefault((schema, table), []).append(column)
            for (schema, table), names in relations.items():
                # one pass over each relation (a view is computed once), every column in it
                counts = ", ".join(f'count(*) filter (where "{c}" = any(%(s)s))' for c in names)
                found = conn.execute(
                    f'select {counts} from "{schema}"."{table}"', {"s": list(secrets)}
                ).fetchone()
                leaked = [c for c, n in zip(names, found, strict=True) if n]
                assert not leaked, f"personal data in plain text in {schema}.{table}: {leaked}"

        # July's and August's late corrections changed them after they were mailed: the
        # next run reviewed each under the revision policy and mailed nothing by itself;
        # a material change waits as a revision draft for an office's sign-off
        with connect(warehouse) as conn:
            published = conn.execute(
                "select month_start, revision from publish.publications order by 1, 2"
            ).fetchall()
            reviews = conn.execute(
                "select month_start, material, draft_id, published_revision "
                "from publish.revision_reviews where scheme_code = 'majuqiao'"
            ).fetchall()
            waiting = conn.execute(
                "select month_start, revision, signoff_via, checksum from publish.drafts "
                "where scheme_code = 'majuqiao' and status = 'awaiting'"
            ).fetchall()
            current = {m: read_content(conn, "majuqiao", m).checksum for m in MONTHS}
            assert latest_publication(conn, "majuqiao", SEP).checksum == current[SEP]
        assert {revision for _, revision in published} == {1}
        assert {r[0] for r in reviews} == {JUL.first_day, AUG.first_day}, reviews
        assert all((draft is not None) == material for _, material, draft, _ in reviews)
        assert {r[3] for r in reviews} == {1}
        for month_start, revision, via, checksum in waiting:  # each drafted as the data are
            assert (revision, via) == (2, "office") and month_start != SEP.first_day
            assert checksum == current[Month.of(month_start)]
        mailed = len(mailbox.received)
        assert mailed == len(published)  # every publication mailed once, every mail recorded
        with connect(warehouse) as conn:  # what the BI role reads: the published numbers
            conn.execute("set role pingan_bi_reader")
            assert conn.execute(
                "select count(*) from marts.region_index_published where scheme_code = 'majuqiao'"
            ).fetchone() == (3 * len(towns),)
            assert conn.execute(
                "select month_start, month_status from marts.month_status "
                "where scheme_code = 'majuqiao' order by 1"
            ).fetchall() == [(m.first_day, "published") for m in MONTHS]
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute("select 1 from marts.region_index_monthly")
        with connect(warehouse) as conn:  # each signed off (签发) before it went out
            signers = conn.execute(
                "select distinct p.signed_by, d.status from publish.publications p "
                "join publish.drafts d using (scheme_code, month_start, revision, checksum)"
            ).fetchall()
        assert signers == [(os.environ["PINGAN_SIGNOFF_AUTO_APPROVE"], "approved")]

        # re-running a month changes nothing: no duplicate rows, identical marts, no mail;
        # August, published before September's late corrections changed its numbers,
        # gets back its ranking files as they were mailed, byte for byte
        rankings = settings.output_dir / "rankings"
        mailed_files = {p.name: p.read_bytes() for p in rankings.glob(f"majuqiao_{AUG}.*")}
        with connect(warehouse) as conn:
            kept = dict(
                conn.execute(
                    "select kind, content from publish.publication_files "
                    "where scheme_code = 'majuqiao' and month_start = %s and revision = 1",
                    (AUG.first_day,),
                ).fetchall()
            )
        assert {
            f"majuqiao_{AUG}.{kind}": bytes(kept[kind]) for kind in ("xlsx", "csv", "json")
        } == mailed_files
        for path in rankings.glob(f"majuqiao_{AUG}.*"):
            path.unlink()
        run_month(settings, AUG)
        assert {p.name: p.read_bytes() for p in rankings.glob(f"majuqiao_{AUG}.*")} == mailed_files
        assert len(mailbox.received) == mailed
        with connect(warehouse) as conn:
            assert conn.execute(MART_QUERY).fetchall() == before
            # watermarked sources load nothing new; a month snapshot (violation
            # statistics) is read again whole and supersedes the earlier copy
            for table in set(RAW_TABLES) - {"traffic__violations"}:
                count = conn.execute(f"select count(*) from raw.{table}").fetchone()[0]
                assert count == raw_before[table]
        fresh = mart_rows(warehouse)

        # the incremental models (base versions by record key, metrics, rollup and period
        # comparisons by month), built month by month with late corrections between,
        # equal everything rebuilt from raw at once (the models: each month's build above
        # ran the tests)
        run_dbt(["run", "--full-refresh"], warehouse, settings)
        assert mart_rows(warehouse) == fresh
        # dbt's unit tests, which the monthly build leaves out (settings.dbt_unit_tests):
        # every one of them, here
        units = run_dbt(["test", "--select", "test_type:unit"], warehouse, settings)
        manifest = settings.dbt_project_dir / "target" / warehouse.dbname / "manifest.json"
        declared = len(json.loads(manifest.read_text())["unit_tests"])
        # (dbt also counts its on-run-start hook, as "success")
        assert declared > 30 and units.counts.get("pass") == declared, units
        assert not set(units.counts) - {"pass", "success"}, units

        # The same three months backfilled by a real deployment (api-server, scheduler,
        # dag-processor, triggerer; LocalExecutor; metadata in PostgreSQL) into a new
        # warehouse, from the same source systems: `airflow backfill create`.
        backfilled = warehouse.with_database(warehouse.dbname + "_bf")
        metadata = warehouse.with_database("airflow_" + warehouse.dbname)
        monkeypatch.setenv("PINGAN_WAREHOUSE_DB", backfilled.dbname)
        if os.environ.get("PINGAN_WAREHOUSE_URL"):  # an external server names the database
            monkeypatch.setenv("PINGAN_WAREHOUSE_URL", backfilled.url)
        monkeypatch.setenv("PINGAN_OUTPUT_DIR", str(tmp_path / "output_backfill"))
        # dbt as one `dbt build` task, as in the fresh runs above. The deployed default,
        # watcher mode (a task per seed and model beside the one build), is
        # tests/test_dbt_watcher.py under the same kind of deployment: a failing model,
        # its retry, and marts equal to one plain `dbt build`; here it would cost 7 more
        # minutes (some 75 task processes a month on 2 cores). The per_node mode is
        # checked by rendering in tests/test_dagbag.py.
        monkeypatch.setenv("PINGAN_DBT_TASKS", "single")
        # unpausing the DAG must not also start a run for last month (no data there)
        monkeypatch.setenv("PINGAN_SCHEDULE_UNTIL", SEP.first_day.isoformat())
        settings = get_settings()
        prepare_warehouse(backfilled, settings)
        try:
            with (
                local_airflow(
                    settings, port=_free_port(), metadata_db=metadata.dbname, fresh=True
                ) as deployment,
                # each month's drafts wait for 签发: a person answers through the REST API
                api_approver(
                    settings.model_copy(update={"airflow_api_url": deployment.url}), "张三"
                ) as answered,
            ):
                # minutes here; a wait longer than this says what the runs wait for
                runs = backfill(deployment, MONTHS, settings.timezone, timeout=900)
                states = [deployment.task_states("pingan_monthly", r["run_id"]) for r in runs]
                everything = deployment.runs("pingan_monthly")
            for run_states in states:  # every task green, dbt's one build among them
                assert run_states["dbt.build"] == "success", run_states
                assert set(run_states.values()) == {"success"}, run_states
            # a draft per month of each scheme ranked; revisions wait for an office
            assert len(answered) >= 3, answered
            assert all(" r1 #" in a.subject for a in answered), answered
            # exactly the three backfill runs: nothing scheduled beside them
            assert sorted(r["run_id"][:10] for r in everything) == ["backfill__"] * 3, everything
            # one run per month: its logical date (the data interval's start) is the first
            # of the month in Beijing time, 16:00 UTC the day before
            starts = sorted(r["logical_date"][:16] for r in runs)
            assert starts == ["2024-06-30T16:00", "2024-07-31T16:00", "2024-08-31T16:00"], runs
            got = mart_rows(backfilled)
            _adopt_publications(backfilled, warehouse)
        finally:
            if "deployment" in locals():  # the deployment's logs, kept with the test's files
                shutil.copytree(deployment.home, tmp_path / "airflow-local", dirs_exist_ok=True)
            drop_database(backfilled)
            drop_database(metadata)
        for table, rows in fresh.items():
            assert rows, f"the fresh runs left marts.{table} empty"
        # The backfill published each month anew, from sources whose corrections had
        # replaced what the fresh runs saw at July's and August's cutoffs: its first
        # publications are its own, and a month is compared with last month as
        # published. The metrics do not depend on what was published: equal as they are.
        for table in ("incident_trends", "rate_reports"):
            assert got[table] == fresh[table], f"marts.{table}: the backfill differs"
        # Given the backfill's publications, the fresh warehouse's data build exactly the
        # backfill's marts: the index is a function of the data and what was published.
        run_dbt(["run"], warehouse, settings)
        rebuilt = mart_rows(warehouse)
        for table, rows in got.items():
            assert rebuilt[table] == rows, f"marts.{table}: the backfill differs from a rebuild"

    # a month's rank change refers to the month before as it was published (its
    # revision in force; late corrections changed July and August after they went out)
    by_key = {(r[2], r[3]): r for r in before}
    moved = 0
    for (month_start, code), row in by_key.items():
        if month_start != JUL.first_day:
            prior = Month.of(month_start).shift(-1).first_day
            assert row[7] == published_ranks[(prior, code)]  # previous_rank as published
            assert row[8] == row[7] - row[6]  # rank_change = previous - current
            moved += row[8] != 0
    assert moved > 0, "simulated latent trends should move some ranks"


PUBLISHED_TABLES = ("publications", "publication_units", "publication_items",
                    "publication_categories")  # fmt: skip


def _check_rank_intervals(warehouse, regions) -> None:
    """Issue 15: every ranked unit of every month has a current rank interval holding its
    rank; re-scored without noise, the month gives the published item scores and ranks;
    small towns' intervals are wider than large towns'."""
    import numpy as np

    from pingan_transforms.scheme.rank_intervals import load_months, ranks, score_items, totals

    with connect(warehouse) as conn:
        found = conn.execute(
            "select i.month_start, i.region_code, i.rank_low, m.rank_in_peer_group, i.rank_high "
            "from marts.region_index_rank_intervals as i join marts.region_index_monthly as m "
            "using (scheme_code, scheme_version, month_start, region_code) "
            "where m.rank_in_peer_group = i.published_rank and m.score = i.published_score"
        ).fetchall()
        assert len(found) == len(MONTHS) * 22
        assert all(low <= rank <= high for _, _, low, rank, high in found)
        # the rank moved beyond chance when the two months' intervals do not overlap
        interval = {(m, code): (low, high) for m, code, low, _, high in found}
        for m, code, move, previous in conn.execute(
            "select month_start, region_code, rank_move, "
            "array[previous_rank_low, previous_rank_high] "
            "from marts.region_index_rank_intervals"
        ).fetchall():
            before = interval.get((Month.of(m).shift(-1).first_day, code))
            if before is None:
                assert move is None and m == MONTHS[0].first_day
                continue
            (low, high), (was_low, was_high) = interval[(m, code)], before
            assert previous == [was_low, was_high]
            assert move == ("clear_rise" if high < was_low else
                            "clear_fall" if low > was_high else "within_chance")  # fmt: skip
        for month in MONTHS:
            (ms,) = load_months(conn, month.first_day)
            scores = score_items(ms, ms.metric[None])
            assert np.array_equal(np.nan_to_num(scores[0]), np.nan_to_num(ms.item_score)), month
            assert np.array_equal(ranks(ms, totals(ms, scores, None))[0], ms.published_rank)
    population: dict[str, int] = {}
    for r in regions:
        if r.level == "village":
            town = r.parent_code
            population[town] = population.get(town, 0) + r.resident_population
            population[town] += r.floating_population
    width: dict[str, list[int]] = {}
    for _, code, low, _, high in found:
        width.setdefault(code, []).append(high - low)
    by_size = sorted(width, key=lambda code: population[code])
    mean = {code: sum(w) / len(w) for code, w in width.items()}
    small, large = by_size[:7], by_size[-7:]
    assert sum(mean[c] for c in small) > sum(mean[c] for c in large), [
        (c, population[c], mean[c]) for c in by_size
    ]


def _adopt_publications(source, target) -> None:
    """Replace ``target``'s publication history with ``source``'s (the scoring reads it:
    last month as published), row for row."""
    with connect(source) as src, connect(target) as dst:
        dst.execute("truncate publish.publications cascade")
        for table in PUBLISHED_TABLES:
            columns = ", ".join(
                name
                for (name,) in dst.execute(
                    "select column_name from information_schema.columns where table_schema "
                    "= 'publish' and table_name = %s order by ordinal_position",
                    (table,),
                ).fetchall()
            )
            with (
                src.cursor().copy(f"copy publish.{table} ({columns}) to stdout") as out,
                dst.cursor().copy(f"copy publish.{table} ({columns}) from stdin") as into,
            ):
                for block in out:
                    into.write(block)


def test_a_source_down_for_good_fails_the_run_and_publishes_nothing(
    databases, tmp_path, monkeypatch, airflow_db
) -> None:
    import os
    import socket

    import pytest

    from pingan_transforms.orchestrate import DagRunFailed

    master = tmp_path / "regions.csv"
    tongzhou_master(master, towns=3)
    monkeypatch.setenv("PINGAN_REGIONS_FILE", str(master))
    # keep the retries real but short: one Airflow retry, two tries per request
    monkeypatch.setenv("PINGAN_SOURCE_RETRIES", "1")
    monkeypatch.setenv("PINGAN_SOURCE_RETRY_DELAY_SECONDS", "1")
    monkeypatch.setenv("PINGAN_HTTP_ATTEMPTS", "2")
    monkeypatch.setenv("PINGAN_HTTP_BASE_DELAY_SECONDS", "0.01")
    settings = get_settings()
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]

    with simulated_sources(settings, [AUG]), mail_catcher(tmp_path / "mail") as mailbox:
        # the traffic API goes away for good (simulated_sources restores the variable)
        os.environ["AIRFLOW_CONN_PINGAN_TRAFFIC_API"] = f"http://:token@127.0.0.1:{closed_port}"
        with pytest.raises(DagRunFailed) as failure:
            run_month(settings, AUG)

    # the task that failed for good (not its retry, not the tasks after it) mailed the
    # alert list through the SMTP provider's notifier; no bulletin went out
    (alert,) = [m for m in mailbox.received]
    mail = alert.message()
    assert mail["X-Pingan-Alert"] == "task-failed"
    assert alert.rcpt_tos == ("pingan-ops@example.gov.cn",)
    assert "pingan_monthly.extract_traffic" in mail["Subject"] and "2024-08" in mail["Subject"]
    body = mail.get_body(("html",)).get_content()
    for text in ("extract_traffic", "2024-08", "<td>2</td>", "tasks/extract_traffic"):
        assert text in body, (text, body)
    assert "127.0.0.1" in body or "onnect" in body, body  # the exception

    message = str(failure.value)
    # the first failure, the publishing steps never reached, the rest only counted
    assert "extract_traffic failed first" in message and "export_ranking" in message
    assert "dbt." not in message and len(message) < 400, message
    assert not (settings.output_dir / "rankings" / f"majuqiao_{AUG}.csv").exists()
    with connect(warehouse := databases[0]) as conn:
        # the other sources loaded (their tasks are independent), nothing was scored
        assert conn.execute("select count(*) from raw.police__incidents").fetchone()[0] > 0
        assert conn.execute("select count(*) from raw.traffic__accidents").fetchone()[0] == 0
        # dbt built no mart; the rank intervals' table (infra/warehouse) holds nothing
        marts = conn.execute(
            "select count(*) from information_schema.tables where table_schema = 'marts' "
            "and table_name <> 'region_index_rank_intervals'"
        ).fetchone()[0]
        intervals = conn.execute(
            "select count(*) from marts.region_index_rank_intervals"
        ).fetchone()[0]
    assert marts == 0, f"no mart may exist after a failed run in {warehouse.dbname}"
    assert intervals == 0
