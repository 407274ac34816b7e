"""Traffic police: a real HTTP API server → paged, retried extract → raw → staging, losslessly.

Every test talks HTTP to the simulated vendor API served by uvicorn on 127.0.0.1
(:func:`serve_traffic_api`); the server's own request log says what it answered,
so retries are counted where they happen. Waits between retries are recorded
instead of slept where the test is about them, and tiny everywhere else.
"""

from __future__ import annotations

import math
import re
import socket
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest

from pingan_simulate.traffic import (
    BAD_DATE_STRINGS,
    BEIJING,
    Accident,
    TrafficSimulation,
    TrafficStore,
    ViolationStat,
    generate_accidents,
    generate_violations,
    town_level,
)
from pingan_simulate.traffic_api import (
    FaultSchedule,
    TrafficApiState,
    create_app,
    serve_traffic_api,
)
from pingan_transforms.extract.http import PagedJsonClient, RetryPolicy, SourceUnavailable
from pingan_transforms.extract.pii import keyed_hash
from pingan_transforms.extract.traffic import extract_accidents, extract_violations
from pingan_transforms.months import Month
from pingan_transforms.warehouse import connect
from tests.helpers import tongzhou_master

AUG, SEP = Month(2024, 8), Month(2024, 9)
TOKEN = "test-token-3f9a"
KEY = b"unit-test-key"
FAST = RetryPolicy(attempts=3, base_delay=0.001, max_delay=0.01)
SIM = TrafficSimulation(seed=5).with_defect_rate(0.05)


@pytest.fixture(scope="module")
def regions(tmp_path_factory: pytest.TempPathFactory) -> list:
    return tongzhou_master(tmp_path_factory.mktemp("traffic") / "regions.csv", towns=3)


@contextmanager
def running_api(
    store: TrafficStore, faults: FaultSchedule | None = None
) -> Iterator[tuple[str, TrafficApiState]]:
    app = create_app(store, token=TOKEN, faults=faults)
    with serve_traffic_api(app) as base_url:
        yield base_url, app.state.traffic


def _scalar(warehouse, sql: str, params: tuple = ()) -> object:
    with connect(warehouse) as conn:
        return conn.execute(sql, params).fetchone()[0]


def _loaded(warehouse) -> tuple[object, ...]:
    """Everything an extract can change: batches, raw rows and watermarks."""
    with connect(warehouse) as conn:
        return conn.execute(
            "select (select count(*) from raw._batches), "
            "(select count(*) from raw.traffic__accidents), "
            "(select count(*) from raw.traffic__violations), "
            "(select array_agg(high_water order by entity) from raw._watermarks)"
        ).fetchone()


def _parses(text: str | None) -> bool:
    try:
        datetime.strptime(text or "", "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return False
    return True


def test_simulation_is_reproducible_has_its_defects_and_moves(regions) -> None:
    sim = TrafficSimulation(seed=1).with_defect_rate(0.1)
    first = list(generate_accidents(sim, regions, [AUG, SEP]))
    assert first == list(generate_accidents(sim, regions, [AUG, SEP]))
    assert first != list(generate_accidents(TrafficSimulation(seed=2), regions, [AUG, SEP]))
    assert len(first) > 100
    assert list(generate_violations(sim, regions, [AUG])) == list(
        generate_violations(sim, regions, [AUG])
    )

    copies = Counter(first)
    numbers = Counter(a.accident_no for a in first)
    assert any(n > 1 for n in copies.values()), "no exact duplicates"
    corrected = {a.accident_no for a in first if numbers[a.accident_no] > copies[a]}
    assert corrected, "no late corrections"
    assert any(a.area_code is None for a in first)
    assert any(a.occur_time in BAD_DATE_STRINGS for a in first)
    assert sum(not _parses(a.occur_time) for a in first) == sum(
        a.occur_time in BAD_DATE_STRINGS for a in first
    )

    stats = list(generate_violations(sim, regions, [AUG, SEP]))
    assert {s.violation_name for s in stats} >= {"闯红灯", "未戴头盔", "酒驾", "超速"}
    assert any(s.area_code is None for s in stats)
    assert any(s.stat_month not in ("2024-08", "2024-09") for s in stats)
    # towns differ and drift, so counts really vary between towns and months
    towns = sorted({r.code for r in regions if r.level == "township"})
    assert len({round(town_level(sim, t, AUG), 6) for t in towns}) == len(towns)
    assert town_level(sim, towns[0], AUG) != town_level(sim, towns[0], SEP)
    red_light = {(s.area_code, s.month): s.violation_count for s in stats
                 if s.violation_code == "1625" and s.area_code}  # fmt: skip
    assert len(set(red_light.values())) > 1


def test_paging_collects_every_record_exactly_once(databases, regions) -> None:
    warehouse, _ = databases
    store = TrafficStore.generate(SIM, regions, [AUG, SEP])
    cutoff = SEP.end()
    expected = [a.to_api() for a in store.accidents_updated(None, cutoff)]
    assert len(expected) > 60 and len(expected) % 8 != 0  # a last page that is not full

    with running_api(store) as (url, api):
        with PagedJsonClient(url, TOKEN, retry=FAST) as client:
            pages = list(
                client.iter_pages(
                    "/api/v1/accidents", {"updated_until": cutoff.isoformat()}, page_size=8
                )
            )
        assert [r for p in pages for r in p.records] == expected
        assert [p.number for p in pages] == list(range(1, math.ceil(len(expected) / 8) + 1))
        assert [p.has_more for p in pages] == [True] * (len(pages) - 1) + [False]
        assert api.statuses() == [200] * len(pages)  # one request per page, none repeated

        result = extract_accidents(url, TOKEN, warehouse, cutoff=cutoff, pii_key=KEY, page_size=8)

    assert result.rows == len(expected)
    with connect(warehouse) as conn:
        raw = conn.execute(
            "select accident_no, update_time, injury_count, vehicle_types, reporter_phone_hash, "
            "_source_ref from raw.traffic__accidents where _batch_id = %s",
            (result.batch_id,),
        ).fetchall()
        landed = {str(v) for row in conn.execute("select * from raw.traffic__accidents")
                  for v in row if v is not None}  # fmt: skip
        batch = conn.execute(
            "select row_count, window_end from raw._batches where batch_id = %s",
            (result.batch_id,),
        ).fetchone()
    assert Counter((r[0], r[1]) for r in raw) == Counter(
        (e["accidentNo"], e["updateTime"]) for e in expected
    )
    assert len({r[5] for r in raw}) == len(raw)  # every row has its own page reference
    assert "/api/v1/accidents?page=1#1" in {r[5] for r in raw}
    assert batch == (len(expected), cutoff)
    assert result.watermark_to == max(a.updated_at for a in store.accidents_updated(None, cutoff))
    # every field kept as text; the vehicle list as JSON
    first = next(r for r in raw if r[0] == expected[0]["accidentNo"])
    assert first[2] == str(expected[0]["injuryCount"])
    assert first[3].startswith("[") and expected[0]["vehicleTypes"][0] in first[3]
    # personal data: names never land, phones only keyed-hashed
    names = {e["reporterName"] for e in expected}
    phones = {e["reporterPhone"] for e in expected}
    assert not (names | phones) & landed
    assert keyed_hash(KEY, expected[0]["reporterPhone"]) == first[4]


def test_rate_limit_then_server_error_then_success_loads_the_full_batch(databases, regions) -> None:
    warehouse, _ = databases
    store = TrafficStore.generate(SIM, regions, [AUG])
    expected = len(store.accidents_updated(None, AUG.end()))
    waits: list[float] = []
    policy = RetryPolicy(attempts=4, base_delay=0.01, max_delay=0.5, sleep=waits.append)

    with running_api(store, FaultSchedule(fail_first=2, retry_after=30)) as (url, api):
        result = extract_accidents(
            url, TOKEN, warehouse, cutoff=AUG.end(), page_size=20, retry=policy
        )
        statuses = api.statuses("/accidents")

    pages = math.ceil(expected / 20)
    assert result.rows == expected > 20
    assert statuses == [429, 503] + [200] * pages  # the retries really reached the server
    # Retry-After: 30 honoured but capped at max_delay; then exponential backoff
    assert waits == [0.5, 0.02]
    assert _scalar(warehouse, "select count(*) from raw.traffic__accidents") == expected


def test_every_kth_request_failing_is_retried_page_by_page(databases, regions) -> None:
    warehouse, _ = databases
    store = TrafficStore.generate(SIM, regions, [AUG])
    with running_api(store, FaultSchedule(every=3, retry_after=0)) as (url, api):
        result = extract_violations(url, TOKEN, warehouse, month=AUG, page_size=4, retry=FAST)
        statuses = api.statuses()
    stats = store.violations_for(AUG)
    assert result.rows == len(stats) > 12
    assert statuses.count(200) == math.ceil(len(stats) / 4)
    assert [i + 1 for i, s in enumerate(statuses) if s != 200] == list(
        range(3, len(statuses) + 1, 3)
    )
    with connect(warehouse) as conn:
        got = conn.execute(
            "select area_code, stat_month, violation_code, violation_count "
            "from raw.traffic__violations"
        ).fetchall()
    assert Counter(got) == Counter(
        (s.area_code, s.stat_month, s.violation_code, str(s.violation_count)) for s in stats
    )


def test_wrong_token_is_refused_at_once_and_loads_nothing(databases, regions) -> None:
    warehouse, _ = databases
    store = TrafficStore.generate(SIM, regions, [AUG, SEP])
    with running_api(store) as (url, api):
        extract_accidents(url, TOKEN, warehouse, cutoff=AUG.end(), retry=FAST)
        before = _loaded(warehouse)
        with pytest.raises(SourceUnavailable) as err:
            extract_accidents(url, "not-the-token", warehouse, cutoff=SEP.end(), retry=FAST)
        assert api.statuses()[-1] == 401 and len(api.statuses()) == 2  # not retried
    message = str(err.value)
    assert f"{url}/api/v1/accidents" in message and "401" in message and "token" in message
    assert "not-the-token" not in message
    assert _loaded(warehouse) == before  # no batch, no rows, watermark unchanged


@pytest.mark.parametrize("outage", ["closed port", "always 503", "down after page 1"])
def test_source_down_for_good_raises_after_the_retries_and_loads_nothing(
    databases, regions, outage: str
) -> None:
    warehouse, _ = databases
    store = TrafficStore.generate(SIM, regions, [AUG])
    before = _loaded(warehouse)
    if outage == "closed port":
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        with pytest.raises(SourceUnavailable) as err:
            extract_accidents(url, TOKEN, warehouse, cutoff=AUG.end(), retry=FAST)
        assert "ConnectError" in str(err.value)
    else:
        faults = (
            FaultSchedule.always(503)
            if outage == "always 503"
            else FaultSchedule(fail_after=1, statuses=(503,))
        )
        with running_api(store, faults) as (url, api):
            with pytest.raises(SourceUnavailable) as err:
                extract_accidents(url, TOKEN, warehouse, cutoff=AUG.end(), page_size=10,
                                  retry=FAST)  # fmt: skip
            served = api.statuses()
        assert "HTTP 503" in str(err.value)
        assert served == ([] if outage == "always 503" else [200]) + [503] * FAST.attempts
    assert f"{url}/api/v1/accidents?" in str(err.value)
    assert f"after {FAST.attempts} attempt(s)" in str(err.value)
    assert _loaded(warehouse) == before  # even the page already COPYed is rolled back


def _explicit_accidents(regions) -> list[Accident]:
    """Hand-made rows for every bad date string and every kind of unplaceable region."""
    village = next(r for r in regions if r.level == "village")
    at = datetime(2024, 8, 20, 12, tzinfo=BEIJING)
    good = Accident("X0000", "2024-02-29 10:00:00", "测试路口", village.code, 0, 1,
                    ("小型汽车",), "某人", "13800000000", at)  # fmt: skip
    rows = [good]
    for i, bad in enumerate(BAD_DATE_STRINGS, start=1):
        rows.append(replace(good, accident_no=f"X{i:04d}", occur_time=bad))
    rows.append(replace(good, accident_no="X0101", area_code="110112999999"))  # not in master
    rows.append(replace(good, accident_no="X0102", area_code="110112"))  # the county
    rows.append(replace(good, accident_no="X0103", area_code=None))
    rows.append(replace(good, accident_no="X0104", area_code="马驹桥镇"))
    return rows


def test_reruns_add_nothing_and_staging_reconciles_every_batch(
    databases, regions, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pingan_transforms import tasks
    from pingan_transforms.contracts.regions import write_master
    from pingan_transforms.transform import DbtError, run_dbt

    warehouse, _ = databases
    write_master(regions, tmp_path / "regions.csv")
    monkeypatch.setenv("PINGAN_REGIONS_FILE", str(tmp_path / "regions.csv"))
    tasks.load_regions()

    store = TrafficStore.generate(SIM, regions, [AUG, SEP])
    store.add_accidents(_explicit_accidents(regions))
    late = SEP.shift(3).end()
    with running_api(store) as (url, _api):
        aug = extract_accidents(url, TOKEN, warehouse, cutoff=AUG.end(), page_size=50)
        assert aug.rows == len(store.accidents_updated(None, AUG.end())) > 50
        again = extract_accidents(url, TOKEN, warehouse, cutoff=AUG.end(), page_size=50)
        assert again.rows == 0
        assert _scalar(warehouse, "select count(*) from raw.traffic__accidents") == aug.rows

        # the accident desk corrects an August accident in September
        target = next(
            a for a in store.accidents_updated(None, AUG.end())
            if a.area_code and _parses(a.occur_time)
            and sum(v.accident_no == a.accident_no for v in store.accident_versions) == 1
        )  # fmt: skip
        store.add_accidents(
            [replace(target, injury_count=target.injury_count + 5,
                     updated_at=datetime(2024, 9, 10, 9, tzinfo=BEIJING))]
        )  # fmt: skip
        extract_accidents(url, TOKEN, warehouse, cutoff=SEP.end(), page_size=50)
        extract_accidents(url, TOKEN, warehouse, cutoff=late, page_size=50)
        assert extract_accidents(url, TOKEN, warehouse, cutoff=late).rows == 0

        extract_violations(url, TOKEN, warehouse, month=AUG, page_size=50)
        revised = next(
            s for s in store.violations_for(AUG) if s.area_code and s.stat_month == "2024-08"
        )
        store.revise_violation(AUG, revised.area_code, revised.violation_code, 4321,
                               datetime(2024, 9, 15, tzinfo=BEIJING))  # fmt: skip
        extract_violations(url, TOKEN, warehouse, month=AUG, page_size=50)  # a re-run
        extract_violations(url, TOKEN, warehouse, month=SEP, page_size=50)

    # the region master's staging view and the seed come along (+ in front); tests are
    # selected cautiously, so that another source's tests on stg_regions__regions wait
    # for a full build
    run_dbt(
        [
            "build",
            "--select",
            "+int_traffic_batches_reconciled",
            "--indirect-selection",
            "cautious",
        ],
        warehouse,  # fmt: skip
    )

    # --- expectations computed here, from the simulation, not from the warehouse
    placeable = {r.code for r in regions if r.level in ("village", "township")}
    latest: dict[str, Accident] = {}
    for acc in store.accident_versions:
        if acc.accident_no not in latest or acc.updated_at > latest[acc.accident_no].updated_at:
            latest[acc.accident_no] = acc

    def accident_issue(acc: Accident) -> str | None:
        if not _parses(acc.occur_time):
            return "unparseable occurred time"
        if acc.area_code is None:
            return "missing region code"
        if acc.area_code == "马驹桥镇":
            return "malformed region code"
        if acc.area_code == "110112":
            return "region code above township level"
        if acc.area_code not in placeable:
            return "region code not in the region master"
        return None

    with connect(warehouse) as conn:
        staged = dict(
            conn.execute(
                "select accident_no, injuries from staging.stg_traffic__accidents"
            ).fetchall()
        )
        quarantined = dict(
            conn.execute(
                "select record_key, quarantine_reason from intermediate."
                "int_traffic_records_quarantined where entity = 'accidents'"
            ).fetchall()
        )
        raw_versions = conn.execute(
            "select count(*) from raw.traffic__accidents where accident_no = %s",
            (target.accident_no,),
        ).fetchone()[0]
        raw_accidents, distinct_accidents = conn.execute(
            "select count(*), count(distinct accident_no) from raw.traffic__accidents"
        ).fetchone()
        leap_day = conn.execute(
            "select occurred_at from staging.stg_traffic__accidents where accident_no = 'X0000'"
        ).fetchone()
        violations = {
            (r[0], r[1], r[2]): r[3]
            for r in conn.execute(
                "select region_code, to_char(stat_month, 'YYYY-MM'), violation_code, "
                "violation_count from staging.stg_traffic__violations"
            )
        }
        violation_reasons = Counter(
            r[0]
            for r in conn.execute(
                "select quarantine_reason from intermediate.int_traffic_records_quarantined "
                "where entity = 'violations'"
            )
        )
        reconciled = conn.execute(
            "select batch_id, source_entity, recorded_rows, raw_rows, staged_rows, "
            "quarantined_rows, superseded_rows, is_reconciled "
            "from intermediate.int_traffic_batches_reconciled"
        ).fetchall()
        independent = {
            r[0]: r[1:]
            for r in conn.execute(
                """
                select b.batch_id,
                       (select count(*) from raw.traffic__accidents a
                        where a._batch_id = b.batch_id)
                     + (select count(*) from raw.traffic__violations v
                        where v._batch_id = b.batch_id),
                       (select count(*) from staging.stg_traffic__accidents s
                        where s.batch_id = b.batch_id)
                     + (select count(*) from staging.stg_traffic__violations s
                        where s.batch_id = b.batch_id),
                       (select count(*) from intermediate.int_traffic_records_quarantined q
                        where q.batch_id = b.batch_id)
                from raw._batches b where b.source = 'traffic'
                """
            )
        }

    # every accident is staged at its latest version, or quarantined with its reason
    expect_staged = {no: a.injury_count for no, a in latest.items() if accident_issue(a) is None}
    expect_quarantined = {no: accident_issue(a) for no, a in latest.items() if accident_issue(a)}
    assert staged == expect_staged
    assert quarantined == expect_quarantined
    assert {quarantined[f"X{i:04d}"] for i in range(1, len(BAD_DATE_STRINGS) + 1)} == {
        "unparseable occurred time"
    }
    assert leap_day == (datetime(2024, 2, 29, 10),)
    assert len(expect_staged) > 100
    # the corrected accident: two versions in raw, the latest in staging
    assert raw_versions == 2 and staged[target.accident_no] == target.injury_count + 5

    # violations: the re-run replaced August (with the revised figure), no duplicates;
    # a month typed as clerks type it (2024年08月, the simulator's defect) is read too
    def stat_month(stat: ViolationStat) -> str:
        typed = re.fullmatch(r"(\d{4})年(\d{1,2})月", stat.stat_month)
        return f"{typed[1]}-{int(typed[2]):02d}" if typed else stat.stat_month

    current = store.violations_for(AUG) + store.violations_for(SEP)
    assert any(stat_month(s) != s.stat_month for s in current)  # the case is exercised
    expect_violations = {
        (s.area_code, stat_month(s), s.violation_code): s.violation_count
        for s in current
        if s.area_code and stat_month(s) in ("2024-08", "2024-09")
    }
    assert violations == expect_violations
    assert violations[(revised.area_code, "2024-08", revised.violation_code)] == 4321

    def incomplete(stat: ViolationStat) -> bool:
        return not stat.area_code or stat_month(stat) not in ("2024-08", "2024-09")

    assert sum(violation_reasons.values()) == sum(map(incomplete, current)) > 0

    # reconciliation: per batch raw = staged + quarantined + superseded, counted independently
    assert len(reconciled) == 8  # 5 accident batches (two of them empty), 3 violation batches
    for batch_id, _entity, recorded, raw, stg, qua, sup, ok in reconciled:
        assert ok and recorded == raw == stg + qua + sup
        assert (raw, stg, qua) == independent[batch_id]
    superseded = {
        e: sum(r[6] for r in reconciled if r[1] == e) for e in ("accidents", "violations")
    }
    assert superseded["accidents"] == raw_accidents - distinct_accidents
    first_august = len(store.violations_for(AUG))  # the whole first read is superseded ...
    copies = sum(n - 1 for n in Counter(current).values() if n > 1)  # ... and duplicate copies
    # a row without a readable key cannot be matched with its copy: each copy is quarantined
    incomplete_copies = sum(n - 1 for s, n in Counter(current).items() if incomplete(s))
    assert superseded["violations"] == first_august + copies - incomplete_copies

    # and the reconciliation test bites: a page written twice into raw breaks it
    with connect(warehouse) as conn:
        conn.execute(
            "insert into raw.traffic__accidents select * from raw.traffic__accidents "
            "where _batch_id = %s and _source_ref = '/api/v1/accidents?page=1#1'",
            (aug.batch_id,),
        )
    with pytest.raises(DbtError, match="batches_reconcile_int_traffic_batches_reconciled"):
        run_dbt(
            ["build", "--select", "int_traffic_batches_reconciled", "--indirect-selection",
             "cautious"],
            warehouse,
        )  # fmt: skip
