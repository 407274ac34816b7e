"""Bring up every simulated source system for a set of months, as a deployment would see them.

Used by ``pingan demo`` and by the end-to-end tests, so that both exercise the
same real protocols: the police front database (SQL), the traffic police API
(HTTP on 127.0.0.1), the fire department's file drops (xlsx and GBK CSV), the
governance platform's database (SQL), the quarterly survey workbook (xlsx) and the
12345 hotline platform's API (HTTP on 127.0.0.1).
Each source is announced to the pipeline the way a deployment does it: an
``AIRFLOW_CONN_*`` variable, or the drop folder named in the sources file.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from pingan_transforms.connections import source_url
from pingan_transforms.contracts.regions import Region, read_master
from pingan_transforms.months import Month
from pingan_transforms.settings import Settings, environment
from pingan_transforms.sources import sources_config
from pingan_transforms.warehouse import WarehouseTarget, ensure_database


@dataclass
class SimulatedSources:
    months: list[Month]
    seed: int
    police_url: str
    governance_url: str
    traffic_url: str
    regions: list[Region]
    fire_drops: Path
    survey_drops: Path
    generated: dict[str, int] = field(default_factory=dict)
    traffic_store: object | None = None  # the simulated vendor's records (for tests)
    hotline_store: object | None = None  # the simulated hotline platform's work orders
    _surveys: set[str] = field(default_factory=set)  # survey files already counted

    def personal_data(self) -> set[str]:
        """Every plaintext name, phone and ID number the sources hold (to prove none lands)."""
        import psycopg

        values: set[str] = set()
        queries = (
            (self.police_url, "select bjrxm, bjrdh, bjrsfzh from jq_110"),
            (self.police_url, "select shrxm, shrdh from fzyj"),
            (self.governance_url, "select xfrxm, xfrdh, xfrsfzh from xf_xfj"),
            (self.governance_url, "select wgyxm, wgydh from wgxc"),
        )
        for url, query in queries:
            with psycopg.connect(url) as conn:
                values.update(v for row in conn.execute(query) for v in row if v)
        for accident in getattr(self.traffic_store, "accidents_updated", lambda: [])():
            values.update(v for v in (accident.reporter_name, accident.reporter_phone) if v)
        for order in getattr(self.hotline_store, "versions", []):
            values.update(v for v in (order.caller_name, order.caller_phone) if v)
        return values

    def deliver_files(self, month: Month) -> int:
        """File drops for a month's run: the fire exports of the month and the survey of
        the last quarter completed before it (re-written unchanged, it is loaded once)."""
        from pingan_simulate.fire import FireSimulation, write_fire_drops
        from pingan_simulate.survey import (
            SurveySimulation,
            latest_complete_quarter,
            write_survey_drop,
        )
        from pingan_transforms.extract.files import FIRE_FIRES, FIRE_INSPECTIONS, parse_file
        from pingan_transforms.extract.survey import SURVEY_SCORES

        drops = write_fire_drops(
            FireSimulation(seed=self.seed), self.regions, [month], self.fire_drops
        )
        year, quarter = latest_complete_quarter(month)
        survey = write_survey_drop(
            SurveySimulation(seed=self.seed), self.regions, year, quarter, self.survey_drops
        )
        # what the sources gave, counted as data rows of the files they wrote
        files = [(d.fires, FIRE_FIRES) for d in drops] + [
            (d.inspections, FIRE_INSPECTIONS) for d in drops
        ]
        for path, spec in files:
            key = f"fire.{spec.entity}"
            self.generated[key] = self.generated.get(key, 0) + len(parse_file(path, spec).rows)
        if survey.name not in self._surveys:
            self._surveys.add(survey.name)
            rows = len(parse_file(survey, SURVEY_SCORES).rows)
            self.generated["survey.scores"] = self.generated.get("survey.scores", 0) + rows
        return len(drops) + 1

    def between_runs(self, month: Month) -> dict[str, int]:
        """After a month's run: late corrections to it arrive, and the next month's files.

        The corrections are dated after the month's data cutoff (config/publishing.yml),
        as they would be in the field: the run extracted up to the cutoff, so a change
        dated before it would be one the source made in the past, which no watermark sees.
        """
        from pingan_simulate.governance import apply_patrol_rectifications
        from pingan_simulate.police import apply_late_corrections
        from pingan_transforms.publish.config import publishing_config
        from pingan_transforms.settings import get_settings

        settings = get_settings()
        after = publishing_config(settings).cutoff_at(month, settings).replace(tzinfo=None)
        corrected = apply_late_corrections(self.police_url, month, seed=self.seed, after=after)
        rectified = apply_patrol_rectifications(
            self.governance_url, month, seed=self.seed, after=after
        )
        following = month.shift(1)
        if following in self.months:
            self.deliver_files(following)
        return {"police incidents corrected": corrected, "grid patrols rectified": rectified}


def _http_connection(base_url: str, token: str) -> str:
    """An Airflow connection URI for a simulated API: the bearer token as the password."""
    return f"http://api:{token}@{base_url.split('://', 1)[1]}"


@contextmanager
def simulated_sources(
    settings: Settings, months: list[Month], seed: int = 20240801
) -> Iterator[SimulatedSources]:
    from pingan_simulate.governance import (
        GovernanceSimulation,
        fill_governance_database,
    )
    from pingan_simulate.hotline import HotlineSimulation, HotlineStore, create_hotline_app
    from pingan_simulate.police import (
        PoliceSimulation,
        fill_fraud_warnings,
        fill_front_database,
    )
    from pingan_simulate.traffic import TrafficSimulation, TrafficStore
    from pingan_simulate.traffic_api import create_app, serve_traffic_api

    regions: list[Region] = read_master(settings.region_master_path)
    config = sources_config(settings)
    police_conf, governance_conf = config.sql("police"), config.sql("governance")
    traffic_conn = config.http("traffic").connection
    hotline_conn = config.http("hotline").connection
    police = WarehouseTarget.from_url(
        source_url(police_conf.connection, settings, police_conf.embedded_database)
    )
    ensure_database(police)
    police_sim = PoliceSimulation(seed=seed)
    generated = {
        "police.incidents": fill_front_database(police.url, police_sim, regions, months),
        "police.fraud_warnings": fill_fraud_warnings(police.url, police_sim, regions, months),
    }
    governance = WarehouseTarget.from_url(
        source_url(governance_conf.connection, settings, governance_conf.embedded_database)
    )
    ensure_database(governance)
    for entity, count in fill_governance_database(
        governance.url, GovernanceSimulation(seed=seed), regions, months
    ).items():
        generated[f"governance.{entity}"] = count
    store = TrafficStore.generate(TrafficSimulation(seed=seed), regions, months)
    generated["traffic.accidents"] = len(store.accidents_updated())
    generated["traffic.violations"] = sum(len(store.violations_for(m)) for m in months)
    hotline = HotlineStore.generate(HotlineSimulation(seed=seed), regions, months)
    generated["hotline.complaints"] = len(hotline.updated())
    token, hotline_token = secrets.token_hex(16), secrets.token_hex(16)
    with (
        serve_traffic_api(create_app(store, token=token)) as base_url,
        serve_traffic_api(create_hotline_app(hotline, token=hotline_token)) as hotline_url,
    ):
        env = {
            f"AIRFLOW_CONN_{police_conf.connection.upper()}": police.url,
            f"AIRFLOW_CONN_{traffic_conn.upper()}": _http_connection(base_url, token),
            f"AIRFLOW_CONN_{governance_conf.connection.upper()}": governance.url,
            f"AIRFLOW_CONN_{hotline_conn.upper()}": _http_connection(hotline_url, hotline_token),
        }
        with environment(env):
            sources = SimulatedSources(
                months=months,
                seed=seed,
                police_url=police.url,
                governance_url=governance.url,
                traffic_url=base_url,
                regions=regions,
                fire_drops=config.drop_dir("fire", settings),
                survey_drops=config.drop_dir("survey", settings),
                generated=generated,
                traffic_store=store,
                hotline_store=hotline,
            )
            sources.deliver_files(months[0])
            yield sources
