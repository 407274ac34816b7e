"""The 12345 hotline, the source added as nothing but a registry folder (issue 21).

Its entry (sources/hotline/source.yml) drives the generic HTTP connector against the
simulated platform API over real HTTP; its dbt models stage, quarantine and count the
work orders; the counts equal what the simulation says, computed here from its
records, and no caller's name or phone number lands.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest

from pingan_simulate.hotline import (
    BEIJING,
    Complaint,
    HotlineSimulation,
    HotlineStore,
    create_hotline_app,
)
from pingan_simulate.traffic_api import serve_traffic_api
from pingan_transforms.months import Month
from pingan_transforms.warehouse import connect
from tests.helpers import tongzhou_master

AUG, SEP = Month(2024, 8), Month(2024, 9)
SAFETY = {"治安", "消防", "交通", "矛盾纠纷"}
SIM = HotlineSimulation(seed=5, complaints_per_10k=12.0, missing_region_rate=0.05,
                        bad_date_rate=0.03, duplicate_rate=0.03)  # fmt: skip


@pytest.fixture(scope="module")
def regions(tmp_path_factory: pytest.TempPathFactory) -> list:
    return tongzhou_master(tmp_path_factory.mktemp("hotline") / "regions.csv", towns=3)


def _parses(text: str | None) -> bool:
    try:
        datetime.strptime(text or "", "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return False
    return True


def test_simulation_is_reproducible_and_has_its_defects(regions) -> None:
    first = list(HotlineStore.generate(SIM, regions, [AUG]).versions)
    assert first == list(HotlineStore.generate(SIM, regions, [AUG]).versions)
    assert len(first) > 100
    assert any(c.area_code is None for c in first)
    assert any(not _parses(c.accept_time) for c in first)
    assert any(c.status == "办理中" for c in first)  # closed later, a second version
    assert len({c.order_no for c in first}) < len(first)


def test_the_registry_entry_alone_extracts_stages_and_counts_the_hotline(
    databases, regions, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pingan_transforms import tasks
    from pingan_transforms.contracts.regions import write_master
    from pingan_transforms.load.report import source_counts
    from pingan_transforms.transform import run_dbt

    warehouse, _ = databases
    write_master(regions, tmp_path / "regions.csv")
    monkeypatch.setenv("PINGAN_REGIONS_FILE", str(tmp_path / "regions.csv"))
    tasks.load_regions()
    store = HotlineStore.generate(SIM, regions, [AUG, SEP])
    token = "hotline-test-token"
    with serve_traffic_api(create_hotline_app(store, token=token)) as url:
        monkeypatch.setenv(
            "AIRFLOW_CONN_PINGAN_HOTLINE_API", f"http://api:{token}@{url.split('://')[1]}"
        )
        aug = tasks.extract("hotline", AUG.start(), AUG.end())
        again = tasks.extract("hotline", AUG.start(), AUG.end())
        sep = tasks.extract("hotline", SEP.start(), SEP.end())
    assert aug["rows"]["complaints"] == len(store.updated(None, AUG.end())) > 100
    assert again["rows"]["complaints"] == 0  # the watermark: a re-run loads nothing
    assert sep["rows"]["complaints"] == len(store.updated(AUG.end(), SEP.end()))

    run_dbt(
        ["build", "--select", "+int_hotline_batches_reconciled", "+int_hotline_metrics_aggregated",
         "--indirect-selection", "cautious"],
        warehouse,
    )  # fmt: skip

    # --- expected, from the simulation: each order's latest version served by the last
    # cut-off (an order handled into October is not in the platform's answer yet)
    latest: dict[str, Complaint] = {}
    for version in store.versions:
        if version.updated_at > SEP.end():
            continue
        seen = latest.get(version.order_no)
        if seen is None or version.updated_at > seen.updated_at:
            latest[version.order_no] = version
    parents = {r.code: r.parent_code for r in regions if r.level == "village"}
    expected: Counter = Counter()
    for order in latest.values():
        if order.area_code is None or not _parses(order.accept_time):
            continue
        month = str(Month.of(datetime.strptime(order.accept_time, "%Y-%m-%d %H:%M:%S")))
        expected[(order.area_code, month, "hotline_complaints")] += 1
        if order.category in SAFETY:  # a village without one has no fact (the rollup: 0)
            expected[(order.area_code, month, "hotline_safety_complaints")] += 1

    with connect(warehouse) as conn:
        counted = {
            (region, month, metric): int(value)
            for region, month, metric, value in conn.execute(
                "select region_code, to_char(month_start, 'YYYY-MM'), metric_code, numerator "
                "from intermediate.int_hotline_metrics_aggregated"
            )
        }
        reasons = Counter(
            r[0]
            for r in conn.execute(
                "select quarantine_reason from intermediate.int_hotline_records_quarantined"
            )
        )
        reconciled = conn.execute(
            "select bool_and(is_reconciled), count(*) "
            "from intermediate.int_hotline_batches_reconciled"
        ).fetchone()
        raw_text = " ".join(
            str(v)
            for row in conn.execute("select * from raw.hotline__complaints")
            for v in row
            if v is not None
        )
        hashes = [
            r[0] for r in conn.execute("select caller_phone_hash from raw.hotline__complaints")
        ]
    assert counted == dict(expected)
    assert set(parents) & {region for region, _, _ in counted}  # placed at villages
    assert reasons["missing region code"] == sum(
        o.area_code is None and _parses(o.accept_time) for o in latest.values()
    )
    assert reasons["unparseable accept time"] == sum(
        not _parses(o.accept_time) for o in latest.values()
    )
    assert reconciled == (True, 3)  # August, its empty re-run, September
    (counts,) = [c for c in source_counts(warehouse) if c.source == "hotline"]
    assert (counts.batches, counts.quarantined) == (3, sum(reasons.values()))
    assert counts.raw_rows == aug["rows"]["complaints"] + sep["rows"]["complaints"]
    for order in store.versions:
        assert order.caller_name not in raw_text and order.caller_phone not in raw_text
    assert all(h and re.fullmatch(r"[0-9a-f]{64}", h) for h in hashes)


def test_hotline_closing_after_the_month_is_a_late_version(regions) -> None:
    """An order still open at the August cut-off is served again, closed, in September."""
    store = HotlineStore.generate(SIM, regions, [AUG])
    cutoff = datetime(2024, 9, 1, tzinfo=BEIJING)
    open_then = {c.order_no for c in store.updated(None, cutoff) if c.status == "办理中"}
    closed_later = {c.order_no for c in store.updated(cutoff, None) if c.status == "已办结"}
    assert open_then & closed_later
