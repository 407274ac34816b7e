"""Police incidents: simulated front database → watermark extract → raw, losslessly."""

from __future__ import annotations

import functools
from datetime import datetime
from zoneinfo import ZoneInfo

import psycopg

from pingan_simulate.police import (
    PoliceSimulation,
    fill_fraud_warnings,
    fill_front_database,
)
from pingan_transforms.extract.sql import extract_entity
from pingan_transforms.months import Month
from pingan_transforms.warehouse import connect
from tests.helpers import tongzhou_master

# the two police entities, as the sources file describes them (sources/police/source.yml)
extract_incidents = functools.partial(extract_entity, "police", "incidents")
extract_fraud_warnings = functools.partial(extract_entity, "police", "fraud_warnings")


AUG, SEP = Month(2024, 8), Month(2024, 9)
KEY = b"unit-test-key"


def _raw_count(conn, batch_id: str | None = None) -> int:
    if batch_id is None:
        return conn.execute("select count(*) from raw.police__incidents").fetchone()[0]
    return conn.execute(
        "select count(*) from raw.police__incidents where _batch_id = %s", (batch_id,)
    ).fetchone()[0]


def test_simulation_is_reproducible_and_moves(tmp_path) -> None:
    from pingan_simulate.police import generate_incidents, town_level

    regions = tongzhou_master(tmp_path / "r.csv", towns=3)
    first = list(generate_incidents(PoliceSimulation(seed=1), regions, [AUG]))
    again = list(generate_incidents(PoliceSimulation(seed=1), regions, [AUG]))
    other = list(generate_incidents(PoliceSimulation(seed=2), regions, [AUG]))
    assert first == again and first != other and len(first) > 100
    # latent levels drift between months, so ranks can change
    assert town_level(PoliceSimulation(), "110112001", AUG) != town_level(
        PoliceSimulation(), "110112001", SEP
    )


def test_extract_round_trips_counts_per_window_and_reruns_add_nothing(databases, tmp_path) -> None:
    warehouse, police = databases
    regions = tongzhou_master(tmp_path / "regions.csv", towns=3)
    total = fill_front_database(police.url, PoliceSimulation(), regions, [AUG, SEP])

    cut_aug = AUG.end()
    first = extract_incidents(police.url, warehouse, cutoff=cut_aug, pii_key=KEY)
    with psycopg.connect(police.url) as src:
        in_window = src.execute(
            "select count(*) from jq_110 where gxsj <= %s", (cut_aug.replace(tzinfo=None),)
        ).fetchone()[0]
    assert first.rows == in_window > 0

    rerun = extract_incidents(police.url, warehouse, cutoff=cut_aug, pii_key=KEY)
    assert rerun.rows == 0

    second = extract_incidents(police.url, warehouse, cutoff=SEP.end(), pii_key=KEY)
    with psycopg.connect(police.url) as src:
        through_sep = src.execute(
            "select count(*) from jq_110 where gxsj <= %s", (SEP.end().replace(tzinfo=None),)
        ).fetchone()[0]
    # September incidents updated after its cut-off arrive with the next window
    assert through_sep < total
    with connect(warehouse) as conn:
        assert _raw_count(conn, first.batch_id) == first.rows
        assert _raw_count(conn, second.batch_id) == second.rows
        assert _raw_count(conn) == through_sep == first.rows + second.rows
        high = conn.execute("select high_water from raw._watermarks").fetchone()[0]
    assert SEP.start().replace(day=25) < high <= SEP.end()

    rest = extract_incidents(police.url, warehouse, cutoff=SEP.shift(2).end(), pii_key=KEY)
    with connect(warehouse) as conn:
        assert _raw_count(conn) == total == through_sep + rest.rows
        distinct = conn.execute(
            "select count(distinct jjdbh) from raw.police__incidents"
        ).fetchone()[0]
        assert distinct == total
        batches = conn.execute(
            "select count(*), sum(row_count) from raw._batches where source = 'police'"
        ).fetchone()
        assert batches == (4, total)


def test_the_monthly_run_reads_the_source_up_to_the_months_data_cutoff(databases, tmp_path) -> None:
    """August's run cuts at its data cutoff (config/publishing.yml: Sep 3, 24:00 Beijing
    time), not at the month's end: a correction made on Sep 3 is in the first
    publication, one made on Sep 4 waits for the next extract (a revision candidate)."""
    from pingan_transforms import tasks

    warehouse, police = databases
    regions = tongzhou_master(tmp_path / "regions.csv", towns=3)
    fill_front_database(police.url, PoliceSimulation(), regions, [AUG, SEP])
    fill_fraud_warnings(police.url, PoliceSimulation(), regions, [AUG, SEP])
    with psycopg.connect(police.url) as src:
        early, late = [
            row[0]
            for row in src.execute(
                "select jjdbh from jq_110 where bjsj < '2024-08-10' order by jjdbh limit 2"
            )
        ]
        fix = "update jq_110 set hfmyd = '满意', gxsj = %s where jjdbh = %s"
        src.execute(fix, ("2024-09-03 23:59:00", early))
        src.execute(fix, ("2024-09-04 08:00:00", late))
        (by_cutoff,) = src.execute(
            "select count(*) from jq_110 where gxsj <= '2024-09-04 00:00'"
        ).fetchone()
        (by_month_end,) = src.execute(
            "select count(*) from jq_110 where gxsj <= '2024-09-01 00:00'"
        ).fetchone()
    result = tasks.extract_month("police", AUG.start(), AUG.end())
    assert result["cutoff"] == "2024-09-04T00:00:00+08:00"
    with connect(warehouse) as conn:
        versions = dict(
            conn.execute(
                "select jjdbh, gxsj from raw.police__incidents where jjdbh = any(%s)",
                ([early, late],),
            ).fetchall()
        )
        assert _raw_count(conn) == by_cutoff > by_month_end  # the first days of September too
        (window_end,) = conn.execute(
            "select window_end from raw._batches where source = 'police' and entity = 'incidents'"
        ).fetchone()
    assert versions == {early: "2024-09-03 23:59:00"}  # the Sep 4 correction is not read
    assert window_end == datetime(2024, 9, 4, tzinfo=ZoneInfo("Asia/Shanghai"))
    # the next month's run brings it, cut at September's cutoff
    tasks.extract_month("police", SEP.start(), SEP.end())
    with connect(warehouse) as conn:
        (late_version,) = conn.execute(
            "select gxsj from raw.police__incidents where jjdbh = %s", (late,)
        ).fetchone()
    assert late_version == "2024-09-04 08:00:00"


def test_no_personal_data_lands_in_plain_text(databases, tmp_path) -> None:
    warehouse, police = databases
    regions = tongzhou_master(tmp_path / "regions.csv", towns=2)
    fill_front_database(police.url, PoliceSimulation(), regions, [AUG])
    extract_incidents(police.url, warehouse, cutoff=AUG.shift(2).end(), pii_key=KEY)
    with psycopg.connect(police.url) as src:
        secrets = src.execute("select bjrxm, bjrdh, bjrsfzh from jq_110").fetchall()
    plain = {v for row in secrets for v in row}
    with connect(warehouse) as conn:
        rows = conn.execute("select * from raw.police__incidents").fetchall()
    landed = {str(v) for row in rows for v in row if v is not None}
    assert len(rows) == len(secrets)
    assert not (plain & landed), "plaintext name, phone or ID number found in raw"
    assert not any(p in text for p in list(plain)[:200] for text in landed)
    # hashes are keyed and stable: the same phone hashes the same way
    from pingan_transforms.extract.pii import keyed_hash

    assert keyed_hash(KEY, secrets[0][1]) in landed
    assert keyed_hash(b"another key", secrets[0][1]) not in landed


def test_fraud_warnings_extract_hash_and_reconcile(databases, tmp_path, monkeypatch) -> None:
    """Anti-fraud warnings take the incidents' path: watermark extract, PII policy, dbt.

    Both tables are filled so that the reconciliation sees batches of both entities
    and must count each from its own raw table and models.
    """
    from pingan_simulate.police import generate_fraud_warnings
    from pingan_transforms import tasks
    from pingan_transforms.transform import run_dbt

    warehouse, police = databases
    master = tmp_path / "regions.csv"
    regions = tongzhou_master(master, towns=3)
    monkeypatch.setenv("PINGAN_REGIONS_FILE", str(master))
    # seeded: the same month gives the same warnings, another seed other ones
    warnings_aug = list(generate_fraud_warnings(PoliceSimulation(), regions, [AUG]))
    assert warnings_aug == list(generate_fraud_warnings(PoliceSimulation(), regions, [AUG]))
    assert warnings_aug != list(generate_fraud_warnings(PoliceSimulation(seed=2), regions, [AUG]))
    fill_front_database(police.url, PoliceSimulation(), regions, [AUG, SEP])
    total = fill_fraud_warnings(police.url, PoliceSimulation(), regions, [AUG, SEP])
    assert total > len(warnings_aug) > 20

    cut = AUG.end()
    first = extract_fraud_warnings(police.url, warehouse, cutoff=cut, pii_key=KEY)
    with psycopg.connect(police.url) as src:
        in_window = src.execute(
            "select count(*) from fzyj where gxsj <= %s", (cut.replace(tzinfo=None),)
        ).fetchone()[0]
        secrets = src.execute("select shrxm, shrdh from fzyj where gxsj <= %s",
                              (cut.replace(tzinfo=None),)).fetchall()  # fmt: skip
    assert first.rows == in_window > 0
    assert extract_fraud_warnings(police.url, warehouse, cutoff=cut, pii_key=KEY).rows == 0

    with connect(warehouse) as conn:
        rows = conn.execute("select * from raw.police__fraud_warnings").fetchall()
        columns = [
            c.name
            for c in conn.execute("select * from raw.police__fraud_warnings limit 0").description
        ]  # noqa: E501
        hashes = {r[0] for r in conn.execute("select shrdh_hash from raw.police__fraud_warnings")}
    assert len(rows) == in_window
    assert "shrxm" not in columns and "shrdh" not in columns
    landed = {str(v) for row in rows for v in row if v is not None}
    names = {name for name, _ in secrets}
    assert not any(name in text for name in names for text in landed), "victim name in raw"
    assert not ({phone for _, phone in secrets} & landed), "plaintext victim phone in raw"
    from pingan_transforms.extract.pii import keyed_hash

    assert {keyed_hash(KEY, phone) for _, phone in secrets} == hashes

    # both entities through September, then the models, and every police batch reconciles
    tasks.load_regions()
    extract_incidents(police.url, warehouse, cutoff=SEP.end(), pii_key=KEY)
    extract_fraud_warnings(police.url, warehouse, cutoff=SEP.end(), pii_key=KEY)
    run_dbt(
        ["build", "--select", "+int_police_batches_reconciled",
         "+int_police_fraud_warnings_quarantined", "--indirect-selection", "cautious"],
        warehouse,
    )  # fmt: skip
    with connect(warehouse) as conn:
        reconciled = conn.execute(
            "select source_entity, count(*), sum(raw_rows), bool_and(is_reconciled) "
            "from intermediate.int_police_batches_reconciled group by 1 order by 1"
        ).fetchall()
        raw_fraud = conn.execute("select count(*) from raw.police__fraud_warnings").fetchone()[0]
        methods = dict(
            conn.execute(
                "select coalesce(placement_method, 'unplaced'), count(*) "
                "from intermediate.int_police_fraud_warnings_located group by 1"
            ).fetchall()
        )
        quarantined = conn.execute(
            "select count(*) from intermediate.int_police_fraud_warnings_quarantined"
        ).fetchone()[0]
    assert [(e, n, ok) for e, n, _, ok in reconciled] == [
        ("fraud_warnings", 3, True),  # the re-run records an empty batch
        ("incidents", 1, True),
    ]
    assert reconciled[0][2] == raw_fraud
    assert methods["region_code"] > 0 and methods.get("unplaced", 0) == quarantined


def test_fast_keyed_hasher_equals_reference_hmac() -> None:
    import hashlib
    import hmac

    from pingan_transforms.extract.pii import KeyedHasher, keyed_hash

    for key in (b"", b"short", b"k" * 64, b"a much longer key than one sha-256 block" * 3):
        fast = KeyedHasher(key)
        for value in ("13800000000", " 110112 19900101001x ", "张三", None, "", "  "):
            assert fast(value) == keyed_hash(key, value)
    expected = hmac.new(b"k", b"110112199001010011X", hashlib.sha256).hexdigest()
    assert KeyedHasher(b"k")("110112199001010011x") == expected
