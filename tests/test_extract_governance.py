"""Petitions, disputes and grid patrols: simulated governance database → watermark extract →
raw → dbt."""

from __future__ import annotations

import functools
from datetime import datetime

import psycopg

from pingan_simulate.governance import (
    GovernanceSimulation,
    apply_patrol_rectifications,
    fill_governance_database,
    generate_disputes,
    generate_grid_patrols,
    generate_petitions,
    town_level,
)
from pingan_transforms.extract.pii import keyed_hash
from pingan_transforms.extract.sql import extract_entity, extract_source
from pingan_transforms.months import Month
from pingan_transforms.warehouse import connect
from tests.helpers import tongzhou_master

AUG, SEP = Month(2024, 8), Month(2024, 9)
KEY = b"unit-test-key"
# defects frequent enough that every kind shows up in a small region set
DEFECTIVE = GovernanceSimulation(
    missing_region_rate=0.04, county_code_rate=0.04, unknown_region_rate=0.04,
    malformed_count_rate=0.06, unknown_patrol_type_rate=0.02,
)  # fmt: skip
extract_petitions = functools.partial(extract_entity, "governance", "petitions")
extract_disputes = functools.partial(extract_entity, "governance", "disputes")
extract_grid_patrols = functools.partial(extract_entity, "governance", "grid_patrols")
ENTITIES = {
    "petitions": (extract_petitions, "xf_xfj", "xfjbh"),
    "disputes": (extract_disputes, "zz_mdjf", "jfbh"),
    "grid_patrols": (extract_grid_patrols, "wgxc", "xcbh"),
}
# dbt: the governance models up to the batch reconciliation, not the metrics built on them
GOVERNANCE_MODELS = [
    "build", "--select", "+int_governance_batches_reconciled", "--indirect-selection", "cautious",
]  # fmt: skip


def _count(conn, sql: str, *params) -> int:
    return conn.execute(sql, params).fetchone()[0]


def test_simulation_is_reproducible_and_moves(tmp_path) -> None:
    regions = tongzhou_master(tmp_path / "r.csv", towns=3)
    for generate in (generate_petitions, generate_disputes, generate_grid_patrols):
        first = list(generate(GovernanceSimulation(seed=1), regions, [AUG]))
        again = list(generate(GovernanceSimulation(seed=1), regions, [AUG]))
        other = list(generate(GovernanceSimulation(seed=2), regions, [AUG]))
        assert first == again and first != other and len(first) > 20
        # a month range reproduces the same records as the months one by one
        both = list(generate(GovernanceSimulation(seed=1), regions, [AUG, SEP]))
        assert both[: len(first)] == first
    sim = GovernanceSimulation()
    assert town_level(sim, "110112001", AUG, "petitions") != town_level(
        sim, "110112001", SEP, "petitions"
    )
    assert town_level(sim, "110112001", AUG, "petitions") != town_level(
        sim, "110112001", AUG, "disputes"
    )
    rows = list(generate_petitions(DEFECTIVE, regions, [AUG, SEP]))
    codes = {r[2] for r in rows}
    assert None in codes and "110112" in codes and any(c and c.endswith("999") for c in codes)
    assert {r[6] for r in rows} == {"受理", "办理中", "办结"}
    assert all((r[6] == "办结") == (r[7] is not None) for r in rows)

    patrols = list(generate_grid_patrols(DEFECTIVE, regions, [AUG, SEP]))
    villages = [r for r in regions if r.level == "village"]
    # a few patrols per village, month and type
    assert 1 < len(patrols) / (len(villages) * 2 * 5) < 10
    assert {r[3] for r in patrols} == {"01", "02", "03", "04", "05", "09"}
    assert {r[2] for r in patrols} >= {None, "110112"}
    counts = [(r[4], r[5]) for r in patrols]
    good = [(int(f), int(c)) for f, c in counts if f.isdigit() and c.isdigit()]
    assert sum(f for f, _ in good) > sum(c for _, c in good) > 0  # some issues still open
    assert any(not f.isdigit() for f, _ in counts) and any(not c.isdigit() for _, c in counts)
    assert any(c > f for f, c in good)  # malformed: more rectified than found
    assert len(good) > 0.9 * len(patrols)
    # each village's grid workers patrol month after month
    assert len({(r[6], r[7]) for r in patrols}) <= 3 * len(villages)
    # patrols are their own random streams: adding them changed no petition or dispute
    assert list(
        generate_petitions(GovernanceSimulation(patrol_rate_scale=2.0), regions, [AUG])
    ) == (list(generate_petitions(GovernanceSimulation(), regions, [AUG])))


def test_extract_round_trips_counts_per_window_and_reruns_add_nothing(databases, tmp_path) -> None:
    warehouse, source = databases
    regions = tongzhou_master(tmp_path / "regions.csv", towns=3)
    totals = fill_governance_database(source.url, GovernanceSimulation(), regions, [AUG, SEP])
    assert totals["petitions"] > 0 and totals["disputes"] > 0

    cuts = [AUG.end(), SEP.end(), SEP.shift(3).end()]
    for entity, (extract, table, key) in ENTITIES.items():
        loaded = 0
        for cut in cuts:
            batch = extract(source.url, warehouse, cutoff=cut, pii_key=KEY)
            assert batch.source == "governance" and batch.entity == entity
            with psycopg.connect(source.url) as src:
                in_source = _count(
                    src, f"select count(*) from {table} where gxsj <= %s", cut.replace(tzinfo=None)
                )
            loaded += batch.rows
            assert loaded == in_source
            with connect(warehouse) as conn:
                raw_table = f"raw.governance__{entity}"
                assert _count(conn, f"select count(*) from {raw_table}") == in_source
                assert (
                    _count(conn, f"select count(*) from {raw_table} where _batch_id = %s",
                           batch.batch_id)
                    == batch.rows
                )  # fmt: skip
            assert extract(source.url, warehouse, cutoff=cut, pii_key=KEY).rows == 0
        # some September records were updated after September's cut-off
        assert loaded == totals[entity]
        with connect(warehouse) as conn:
            assert (
                _count(conn, f"select count(distinct {key}) from raw.governance__{entity}")
                == (totals[entity])
            )
            assert conn.execute(
                "select count(*), sum(row_count) from raw._batches "
                "where source = 'governance' and entity = %s",
                (entity,),
            ).fetchone() == (2 * len(cuts), totals[entity])
            high = conn.execute(
                "select high_water from raw._watermarks where source = 'governance' "
                "and entity = %s",
                (entity,),
            ).fetchone()[0]
        assert high <= cuts[-1]
    with psycopg.connect(source.url) as src:
        late = _count(
            src, "select count(*) from zz_mdjf where gxsj > %s", SEP.end().replace(tzinfo=None)
        )
    assert late > 0  # the last window really carried late rows


def test_correction_pii_and_dbt_reconcile(databases, tmp_path, monkeypatch) -> None:
    from pingan_transforms import tasks
    from pingan_transforms.transform import run_dbt

    warehouse, source = databases
    master = tmp_path / "regions.csv"
    regions = tongzhou_master(master, towns=3)
    monkeypatch.setenv("PINGAN_REGIONS_FILE", str(master))
    tasks.load_regions()
    fill_governance_database(source.url, DEFECTIVE, regions, [AUG])
    for extract, _, _ in ENTITIES.values():
        extract(source.url, warehouse, cutoff=AUG.shift(2).end(), pii_key=KEY)

    # the platform corrects one petition and one dispute after they were extracted
    with psycopg.connect(source.url) as src:
        petition = src.execute(
            "select xfjbh from xf_xfj where blzt = '办理中' and xzqhdm like '110112%%' "
            "order by xfjbh limit 1"
        ).fetchone()[0]
        dispute = src.execute(
            "select jfbh from zz_mdjf where tjjg = '调解不成' order by jfbh limit 1"
        ).fetchone()[0]
        later = datetime(2024, 11, 5, 9, 30)
        src.execute(
            "update xf_xfj set blzt = '办结', bjrq = '2024-11-05', myd = '基本满意', gxsj = %s "
            "where xfjbh = %s",
            (later, petition),
        )
        src.execute(
            "update zz_mdjf set tjjg = '调解成功', jjrq = '2024-11-05', gxsj = %s where jfbh = %s",
            (later, dispute),
        )
    # grid workers report open issues rectified after the month's run
    rectified = apply_patrol_rectifications(source.url, AUG, seed=3)
    assert rectified > 0
    cut = Month(2024, 11).end()
    assert extract_petitions(source.url, warehouse, cutoff=cut, pii_key=KEY).rows == 1
    assert extract_disputes(source.url, warehouse, cutoff=cut, pii_key=KEY).rows == 1
    assert extract_grid_patrols(source.url, warehouse, cutoff=cut, pii_key=KEY).rows == rectified

    # no personal data in plain text anywhere in raw
    with psycopg.connect(source.url) as src:
        secrets = src.execute("select xfrxm, xfrdh, xfrsfzh from xf_xfj").fetchall()
        workers = src.execute("select distinct wgyxm, wgydh from wgxc").fetchall()
    plain = {v for row in secrets + workers for v in row}
    with connect(warehouse) as conn:
        rows = conn.execute("select * from raw.governance__petitions").fetchall()
        rows += conn.execute("select * from raw.governance__disputes").fetchall()
        rows += conn.execute("select * from raw.governance__grid_patrols").fetchall()
        columns = {
            r[0]
            for r in conn.execute(
                "select column_name from information_schema.columns "
                "where table_schema = 'raw' and table_name = 'governance__grid_patrols'"
            )
        }
    assert "wgydh_hash" in columns and not columns & {"wgyxm", "wgydh"}
    landed = {str(v) for row in rows for v in row if v is not None}
    assert not (plain & landed), "plaintext name, phone or ID number found in raw"
    assert not any(p in text for p in plain for text in landed)
    assert keyed_hash(KEY, secrets[0][1]) in landed and keyed_hash(KEY, secrets[0][2]) in landed
    assert keyed_hash(KEY, workers[0][1]) in landed

    # cautious: other sources' tests that also touch stg_regions__regions (e.g. a
    # relationships test from stg_fire__fires) need models this database lacks
    run_dbt(GOVERNANCE_MODELS, warehouse)
    with connect(warehouse) as conn:
        assert conn.execute(
            "select status_key, completed_on, satisfaction_key "
            "from staging.stg_governance__petitions where petition_no = %s",
            (petition,),
        ).fetchone() == ("completed", datetime(2024, 11, 5).date(), "basically_satisfied")
        assert conn.execute(
            "select outcome_key, resolved_on from staging.stg_governance__disputes "
            "where dispute_no = %s",
            (dispute,),
        ).fetchone() == ("mediated", datetime(2024, 11, 5).date())
        assert (
            _count(
                conn, "select count(*) from raw.governance__petitions where xfjbh = %s", petition
            )
            == 2
        )
        reconciled = conn.execute(
            "select source_entity, raw_rows, recorded_rows, staged_rows, quarantined_rows, "
            "superseded_rows, is_reconciled from intermediate.int_governance_batches_reconciled "
            "order by source_entity, raw_rows desc"
        ).fetchall()
        assert len(reconciled) == 6 and all(r[-1] for r in reconciled)
        # the correction batches hold the staged versions; the first ones the superseded rows
        assert [(r[0], r[1], r[5]) for r in reconciled] == [
            ("disputes", reconciled[0][1], 1), ("disputes", 1, 0),
            ("grid_patrols", reconciled[2][1], rectified), ("grid_patrols", rectified, 0),
            ("petitions", reconciled[4][1], 1), ("petitions", 1, 0),
        ]  # fmt: skip
        reasons = dict(
            conn.execute(
                "select quarantine_reason, count(*) "
                "from intermediate.int_governance_records_located "
                "where quarantine_reason is not null group by 1"
            ).fetchall()
        )
        assert reasons.get("no region code", 0) > 0
        assert any(r.endswith("is at county level, not a village or town") for r in reasons)
        assert any(r.endswith("not in the region master") for r in reasons)
        placed = conn.execute(
            "select count(*), count(village_code), count(township_code) "
            "from intermediate.int_governance_records_located where quarantine_reason is null"
        ).fetchone()
        assert placed[0] == placed[2] > placed[1] > 0  # town-only codes are placed at the town

        # grid patrols: the rectified version is the one kept, and every defect has its reason
        patrol = conn.execute(
            "select patrol_no, issues_found, issues_rectified, batch_id "
            "from intermediate.int_governance_grid_patrols_located "
            "where batch_id = (select batch_id from raw._batches where entity = 'grid_patrols' "
            "order by extracted_at desc limit 1) order by patrol_no limit 1",
        ).fetchone()
        assert patrol[1] == patrol[2] > 0
        assert (
            _count(
                conn, "select count(*) from raw.governance__grid_patrols where xcbh = %s", patrol[0]
            )
            == 2
        )
        reasons = dict(
            conn.execute(
                "select quarantine_reason, count(*) "
                "from intermediate.int_governance_grid_patrols_located "
                "where quarantine_reason is not null group by 1"
            ).fetchall()
        )
        assert reasons.get("no region code", 0) > 0
        assert reasons.get("unknown patrol type 09", 0) > 0
        assert any(r.endswith("is at county level, not a village or town") for r in reasons)
        assert any(r.endswith("not in the region master") for r in reasons)
        assert any(r.startswith('issues found "') and "whole number" in r for r in reasons)
        assert any(r.startswith('issues rectified "') for r in reasons)
        assert any("exceed issues found" in r for r in reasons)
        good = conn.execute(
            "select count(*), count(village_code), count(township_code), "
            "count(*) filter (where issues_rectified > issues_found), "
            "count(*) filter (where patrol_type_key is null or issues_found is null) "
            "from intermediate.int_governance_grid_patrols_located where quarantine_reason is null"
        ).fetchone()
        assert good[0] == good[2] > good[1] > 0 and good[3] == good[4] == 0
        staged = _count(conn, "select count(*) from staging.stg_governance__grid_patrols")
        with psycopg.connect(source.url) as src:
            assert staged == _count(src, "select count(*) from wgxc")
        # the phone is staged as its keyed hash only
        hashes = {
            r[0]
            for r in conn.execute(
                "select grid_worker_phone_hash from staging.stg_governance__grid_patrols"
            )
        }
        assert hashes == {keyed_hash(KEY, phone) for _, phone in workers}


def test_extract_all_reads_every_entity_of_the_sources_file(databases, tmp_path) -> None:
    warehouse, source = databases
    regions = tongzhou_master(tmp_path / "regions.csv", towns=2)
    totals = fill_governance_database(source.url, GovernanceSimulation(), regions, [AUG])
    results = extract_source(
        "governance", source.url, warehouse, cutoff=SEP.shift(1).end(), pii_key=KEY
    )
    assert {r.entity: r.rows for r in results} == totals
    assert set(totals) == {"petitions", "disputes", "grid_patrols"}
