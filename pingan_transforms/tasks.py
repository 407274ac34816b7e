"""The functions Airflow tasks call: one function per task, keyed by the data interval.

Each function resolves its own configuration and warehouse, so a task can run
on any worker and be retried or re-run for the same interval with the same
result. They return small JSON-serialisable summaries (shown as XCom).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pingan_transforms.months import Month
from pingan_transforms.settings import ConfigError, Settings, get_settings
from pingan_transforms.sources import FilesSource, sources_config
from pingan_transforms.warehouse import (
    WarehouseTarget,
    connect,
    prepare_warehouse,
    resolve_target,
)

log = logging.getLogger(__name__)


def load_regions() -> dict[str, object]:
    """Prepare the warehouse schemas and load the region master if it changed."""
    from pingan_transforms.extract.regions import load_region_master

    settings = get_settings()
    target = resolve_target(settings)
    applied = prepare_warehouse(target, settings)
    result = load_region_master(settings.region_master_path, target)
    return {
        "init_sql": applied,
        "batch_id": result.batch_id if result else None,
        "rows": result.rows if result else 0,
        "unchanged": result is None,
    }


def extract(
    source: str, data_interval_start: datetime, data_interval_end: datetime
) -> dict[str, object]:
    """Read one registered source (``sources/<source>/``) for the data interval, through the
    connector its entry names: databases and APIs up to the interval's end (each entity
    with its own watermark and batch), file drops every file not loaded before."""
    from pingan_transforms.sources import ExtractRun

    settings = get_settings()
    config = sources_config(settings)
    entry = config.sources.get(source)
    if entry is None:
        raise ConfigError(
            f"{config.path}: no source named {source!r}; registered: {', '.join(config.sources)}"
        )
    run = ExtractRun(
        name=source, config=config, settings=settings, target=resolve_target(settings),
        interval_start=data_interval_start, interval_end=data_interval_end,
    )  # fmt: skip
    return config.extract_function(source)(run)


def month_cutoff(data_interval_start: datetime) -> datetime:
    """The data cutoff (考核截止日, ``cutoff`` in config/publishing.yml) of the month that
    starts at ``data_interval_start``."""
    from pingan_transforms.publish.config import publishing_config

    settings = get_settings()
    month = Month.of(data_interval_start, settings.timezone)
    return publishing_config(settings).cutoff_at(month, settings)


def cutoff_reached(data_interval_start: datetime) -> bool:
    """The monthly run's sensor: has the month's data cutoff passed? Until it has, the
    sources may still correct the month, and extracting it would publish less than the
    office's rule says (a backfill of a past month passes at once)."""
    cut = month_cutoff(data_interval_start)
    reached = datetime.now(cut.tzinfo) >= cut
    log.info("cutoff of the month: %s (%s)", cut.isoformat(), "passed" if reached else "waiting")
    return reached


def extract_month(
    source: str, data_interval_start: datetime, data_interval_end: datetime
) -> dict[str, object]:
    """A registered source's extract for the monthly run, cut at the month's data cutoff
    rather than at its end: the first publication then holds every correction the source
    made before the cutoff, and nothing after it (a re-run adds nothing: watermarks)."""
    cut = month_cutoff(data_interval_start)
    return {**extract(source, data_interval_start, cut), "cutoff": cut.isoformat()}


def _skip(reason: str) -> None:
    """End the task as skipped: Airflow then records no Asset event, so nothing downstream
    is scheduled for a source that delivered nothing new."""
    from airflow.sdk.exceptions import AirflowSkipException

    raise AirflowSkipException(reason)


def extract_source(
    source: str, data_interval_start: datetime, data_interval_end: datetime
) -> dict[str, object]:
    """The one task of a source's extract DAG (``pingan_extract_<source>``).

    Runs daily: database and API sources are read up to the end of the day (their
    watermarks make a re-run of the same day a no-op), and file drops load the files
    that arrived since (each file once, by checksum). A drop with no new file, or an
    unchanged region master, ends skipped, so its Asset records no event.
    """
    settings = get_settings()
    if source == "regions":  # prepares the warehouse itself
        result = load_regions()
        if result["unchanged"]:
            _skip(f"region master {settings.region_master_path} is unchanged")
        return result
    prepare_warehouse(resolve_target(settings), settings)
    result = extract(source, data_interval_start, data_interval_end)
    if (
        isinstance(sources_config(settings).sources.get(source), FilesSource)
        and not result["files"]
    ):
        drop_dir = sources_config(settings).drop_dir(source, settings)
        _skip(f"no new file in {drop_dir}")
    return result


def summarise_marts() -> dict[str, object]:
    """What the transform DAG leaves for BI: the months each scheme has scored, and rows."""
    settings = get_settings()
    from pingan_transforms.publish.index_reader import scored_months

    with connect(resolve_target(settings)) as conn:
        rows = scored_months(conn)
    return {
        code: {"months": months, "first": str(first), "last": str(last), "rows": count}
        for code, months, first, last, count in rows
    }


def load_schemes() -> dict[str, object]:
    """Validate every scheme file and make the ``schemes.*`` tables mirror the folder.

    Runs before dbt so that a scheme edited between runs is scored as written, and an
    invalid file fails the run here, naming the file, the key and the fix, instead of
    surfacing later as wrong scores. The scope is not checked against the region
    master: a scheme whose scope this deployment's master lacks simply ranks no
    units (``pingan scheme validate`` checks the scope).
    """
    from pingan_transforms.scheme.load import load_schemes as load

    settings = get_settings()
    with connect(resolve_target(settings)) as conn:
        loaded = load(conn, settings.schemes_dir)
    return {
        "schemes_dir": str(settings.schemes_dir),
        "versions": [f"{code} v{version}" for code, version in loaded],
    }


def build_models() -> dict[str, object]:
    """``dbt build``: seeds, models and their tests (unit tests as ``dbt_unit_tests``
    says); raises if any test fails."""
    from pingan_transforms.transform import run_dbt

    settings = get_settings()
    summary = run_dbt(["build", *settings.dbt_build_flags()], resolve_target(settings), settings)
    return {"summary": str(summary), "counts": summary.counts}


def quality_gate(data_interval_start: datetime, run_id: str | None = None) -> dict[str, object]:
    """Stop publication unless the month is complete, fresh and passes every suite.

    Three questions, cheapest first: has every monthly source delivered the month
    (load/completeness.py), has every source been extracted recently (``dbt source
    freshness``), and do the raw batches and the marts pass the Great Expectations
    suites (quality/runner.py, Data Docs under ``output/quality/<YYYY-MM>/``)? Any
    "no" raises with a message naming the source, or the check, sample rows and batch;
    the export and the bulletin are downstream, so nothing is written or sent. The
    outcome, passed or why not, is recorded for the month (``publish.gate_results``:
    marts.month_status says a month failed its gate).
    """
    from pingan_transforms.quality.outcomes import record_gate

    settings = get_settings()
    target = resolve_target(settings)
    month = Month.of(data_interval_start, settings.timezone)
    with record_gate(target, month, run_id):
        return _quality_gate(settings, target, month)


def _quality_gate(settings: Settings, target: WarehouseTarget, month: Month) -> dict[str, object]:
    from concurrent.futures import ThreadPoolExecutor
    from datetime import timedelta

    from pingan_transforms.load.completeness import check_deliveries, require_complete
    from pingan_transforms.quality.runner import check_quality_gate
    from pingan_transforms.transform import run_dbt

    with connect(target) as conn:
        deliveries = check_deliveries(
            conn, sources_config(settings), month, settings.scored_month_sources,
            timedelta(hours=settings.delivery_grace_hours), settings.timezone,
        )  # fmt: skip
    require_complete(deliveries, month)
    selected = [f"source:{name}" for name in settings.scored_month_sources]
    # dbt's freshness check is a subprocess that spends its seconds starting dbt and
    # parsing the project (3 to 6 s), the suites are this process querying PostgreSQL:
    # run side by side. A stale source still wins: its error is raised first.
    with ThreadPoolExecutor(max_workers=1) as pool:
        freshness_run = pool.submit(
            run_dbt, ["source", "freshness", "--select", *selected], target, settings
        )
        try:
            report = check_quality_gate(
                target, month, settings.output_dir,
                cutoffs=(month_cutoff(month.shift(-1).start(settings.timezone)),
                         month_cutoff(month.start(settings.timezone))),
            )  # fmt: skip
        finally:
            freshness = freshness_run.result()
    if report.reported:  # the policy lets them through; the log and the report say so
        log.warning("%s", report.reported_message())
    return {
        "month": str(month),
        "deliveries": [d.describe() for d in deliveries],
        "freshness": str(freshness),
        "quality": report.summary(),
        "reported": [f.describe() for f in report.reported],
    }


def export_ranking(data_interval_start: datetime) -> dict[str, object]:
    """Write the interval's ranking of every scheme published that month as xlsx, csv and
    json: ``output/rankings/<scheme>_<YYYY-MM>.{xlsx,csv,json}`` (publish/exports.py)."""
    from pingan_transforms.publish.exports import export_month

    settings = get_settings()
    month = Month.of(data_interval_start, settings.timezone)
    paths = export_month(resolve_target(settings), month, settings.output_dir)
    if not paths:
        raise RuntimeError(
            f"no scores for {month} in marts.region_index_monthly: is a scheme valid for "
            f"that month in {settings.schemes_dir}, and did every monthly source deliver it?"
        )
    schemes: dict[str, list[str]] = {}
    for path in paths:
        schemes.setdefault(path.stem.removesuffix(f"_{month}"), []).append(path.name)
    return {"month": str(month), "directory": str(paths[0].parent), "schemes": schemes}


def rank_intervals(data_interval_start: datetime) -> dict[str, object]:
    """Rank intervals of the interval month's rankings (scheme/rank_intervals.py): a
    seeded Monte Carlo of its scoring under count noise and category weights within
    ±20 %, written to ``marts.region_index_rank_intervals`` for the export and the
    bulletin (排名区间), with those of earlier months that late records changed since.
    Deterministic: a re-run writes the same intervals."""
    from pingan_transforms.scheme.rank_intervals import compute_months

    settings = get_settings()
    month = Month.of(data_interval_start, settings.timezone)
    return compute_months(resolve_target(settings), month.first_day)


def draft_bulletins(data_interval_start: datetime, run_id: str) -> list[dict[str, str]]:
    """Render the interval month's first bulletin of every scheme not yet published for
    it, as drafts of this run waiting for sign-off (``publish.drafts``); returns, per
    draft, the question the ``sign_off`` task asks (publish/signoff.py).

    Months published before (this one too, on a re-run) whose data changed since (late
    records, corrections) are reviewed against the revision policy first: a material
    change becomes a revision draft for an office's ``pingan publish approve``, never
    mail of its own (publications.review_revisions)."""
    from pingan_transforms.publish.publications import draft_month, review_revisions
    from pingan_transforms.publish.signoff import signoff_request

    settings = get_settings()
    target = resolve_target(settings)
    month = Month.of(data_interval_start, settings.timezone)
    for review in review_revisions(target, settings, month, run_id=run_id):
        log.warning("%s", review.describe())
    drafts = draft_month(target, month, settings, run_id=run_id, first_only=True)
    return [signoff_request(target, d) for d in drafts]


def publish_bulletin(
    data_interval_start: datetime,
    requests: Sequence[dict[str, str]] | None,
    answers: Sequence[Any] | None,
) -> dict[str, object]:
    """Mail each draft its signer approved, as rendered, recording the publication with
    its 签发人 and time; record who sent a draft back and why, and mail nothing for it.
    ``requests`` are what draft_bulletins asked (each names its draft), ``answers`` the
    ``sign_off`` task's, one per request in order. A retry after a failed send sends
    nothing twice: a draft already mailed is ``unchanged``."""
    from pingan_transforms.hitl import decision
    from pingan_transforms.publish.publications import Signature, reject_draft, send_draft
    from pingan_transforms.publish.signoff import draft_id_of

    settings = get_settings()
    target = resolve_target(settings)
    month = Month.of(data_interval_start, settings.timezone)
    requests, answers = list(requests or []), list(answers or [])
    if len(answers) != len(requests):
        raise RuntimeError(
            f"{len(requests)} sign-off requests but {len(answers)} answers: clear "
            "draft_bulletins to draft and ask again"
        )
    published, rejected = [], []
    for request, answer in zip(requests, answers, strict=True):
        draft_id = draft_id_of(request["subject"])
        approved, who, reason = decision(answer)
        signature = Signature(by=who, at=_answered_at(answer), reason=reason)
        if approved:
            result = send_draft(target, draft_id, signature, settings)
            published.append(result.summary())
        else:
            reject_draft(target, draft_id, signature)
            rejected.append({"draft_id": draft_id, "rejected_by": who, "reason": reason,
                             "subject": request["subject"]})  # fmt: skip
    return {"month": str(month), "publications": published, "rejected": rejected}


def _answered_at(answer: dict[str, Any]) -> datetime | None:
    value = answer.get("responded_at")
    if isinstance(value, str):
        return datetime.fromisoformat(value)
    return value if isinstance(value, datetime) else None
