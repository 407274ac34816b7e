"""Run the suites of ``expectations/`` as one Great Expectations checkpoint for a month.

- **What is validated.** Every raw suite once, on all of the month's source batches of
  its table (one GX batch: a query asset reading ``where _batch_id in (…)``); its row
  checks judge each delivery (batch) on its own and name the deliveries at fault
  (expectations/_common.py). Every mart suite on the mart's rows of the month. Which
  raw batches are the month's is decided per table (``RawTable.selection``): batches
  cut by the month's run, file drops holding rows of the month, the region master in
  force; or the caller names the batches.
- **What a failure does.** The gate policy (``config/quality.yml``, quality/policy.py)
  says per failure whether it blocks publication or is reported; either way the report
  names the deliveries at fault and the units (towns) the failing rows touch.
- **Where.** An ephemeral GX context, built from code on every run: nothing of GX is
  kept in the repository or the state dir, and two runs (two months) share nothing.
  The validation results (GX JSON), this gate's report (JSON) and the Data Docs site go
  to ``<out_dir>/quality/<YYYY-MM>/``; ``out_dir`` is the configured output dir unless
  given.
- **Read-only.** GX and the sample queries connect with
  ``default_transaction_read_only``: a gate cannot change the warehouse it judges.
- **No network.** GX's usage statistics are switched off before GX is imported.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import shutil
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

from pingan_transforms.fileio import atomic_write_text
from pingan_transforms.months import Month
from pingan_transforms.quality.policy import GatePolicy, gate_policy
from pingan_transforms.quality.report import (
    BLOCK,
    CheckFailure,
    Delivery,
    QualityGateFailed,
    QualityReport,
    ValidatedData,
)
from pingan_transforms.settings import ConfigError, Settings, get_settings
from pingan_transforms.warehouse import WarehouseTarget, connect

log = logging.getLogger(__name__)

LAYERS = ("raw", "marts")
SAMPLE_ROWS = 10  # failing rows kept per failed check
DATA_SOURCE = "warehouse"
SITE = "pingan_quality"
_READ_ONLY = "-c default_transaction_read_only=on"


#: GX types of the SQL checks (expectations/_common.py rows_where): the failing rows are
#: read again for the report.
ROW_QUERY_TYPES = ("unexpected_rows_expectation", "expect_deliveries_within_tolerance")

#: Distinct region codes of a failed check's rows looked up for the units it touches.
MAX_UNIT_CODES = 20_000


@dataclass(frozen=True)
class PlannedValidation:
    """One validation of the checkpoint: a suite and the data it runs on (for a raw
    suite, the month's batches of its table, with their source refs)."""

    spec: Any  # expectations.SuiteSpec
    asset_name: str
    query: str
    batches: tuple[tuple[str, str | None], ...] = ()

    @property
    def batch_ids(self) -> list[str]:
        return [b for b, _ in self.batches]


def run_quality_checks(
    target: WarehouseTarget,
    month: Month | str,
    out_dir: Path | str | None = None,
    *,
    batch_ids: Iterable[str] | None = None,
    layers: Sequence[str] = LAYERS,
    data_docs: bool = True,
    settings: Settings | None = None,
    cutoffs: tuple[datetime, datetime] | None = None,
) -> QualityReport:
    """Validate the month's raw batches and marts with one checkpoint; never raises for a
    failed check (``report.raise_if_failed()`` or :func:`check_quality_gate` does).

    ``batch_ids`` names the raw batches to validate instead of the month's (every raw
    suite whose table has none of them is skipped); ``layers`` picks ``raw``, ``marts``
    or both (a gate after extraction, or before publishing); ``data_docs=False`` skips
    rendering the HTML site (the JSON is always written). ``cutoffs`` are the data cutoffs
    of the month before and of the month (config/publishing.yml): the month's extract
    batches are the ones cut between them, and may hold rows up to the second. Without
    them, the month's own bounds (batches extracted up to a month's end).
    """
    started = time.monotonic()
    settings = settings or get_settings()
    policy = gate_policy(settings)  # a bad policy file stops before any work
    month = Month.parse(month) if isinstance(month, str) else month
    unknown = set(layers) - set(LAYERS)
    if unknown:
        raise ConfigError(f"unknown quality layer(s) {sorted(unknown)}: use {list(LAYERS)}")
    suites = load_expectations(settings.project_dir)
    previous_cutoff, cutoff = cutoffs or (None, None)
    scope = suites.QualityScope(
        month=month, seeds_dir=settings.dbt_project_dir / "seeds",
        cutoff=cutoff, previous_cutoff=previous_cutoff,
    )  # fmt: skip
    directory = Path(out_dir or settings.output_dir) / "quality" / str(month)

    with _read_only(target) as conn:
        plan, not_validated = plan_validations(
            conn, suites.SUITES, scope, layers, batch_ids, settings.timezone
        )

    os.environ["GX_ANALYTICS_ENABLED"] = "false"  # before GX is imported: no network
    import great_expectations as gx

    directory.mkdir(parents=True, exist_ok=True)
    docs_dir = directory / "data_docs"
    shutil.rmtree(docs_dir, ignore_errors=True)  # the month's docs show this run only
    context = _context(gx, docs_dir)
    checkpoint_result = None
    if plan:
        checkpoint = _checkpoint(gx, context, target, plan, scope, str(month))
        checkpoint_result = checkpoint.run()
        if data_docs:  # once for the run: UpdateDataDocsAction rebuilds it per validation
            context.build_data_docs(site_names=[SITE])

    failures: list[CheckFailure] = []
    validated: list[ValidatedData] = []
    results_json: list[dict] = []
    if checkpoint_result is not None:
        by_asset = {p.asset_name: p for p in plan}
        with _read_only(target) as conn:
            for result in checkpoint_result.run_results.values():
                asset = result.meta["active_batch_definition"]["data_asset_name"]
                planned = by_asset[asset]
                failed = [
                    _decided(policy, _failure(conn, planned, r))
                    for r in result.results
                    if not r.success
                ]
                failures.extend(failed)
                validated.append(
                    ValidatedData(
                        suite=planned.spec.name,
                        batches=planned.batch_ids,
                        success=bool(result.success),
                        evaluated=len(result.results),
                        failed=len(failed),
                    )
                )
                results_json.append(result.to_json_dict())

    results_path = directory / "validation_results.json"
    report_path = directory / "report.json"
    index = docs_dir / "index.html"
    report = QualityReport(
        month=str(month),
        success=not any(f.action == BLOCK for f in failures),
        failures=failures,
        validated=validated,
        not_validated=not_validated,
        directory=directory,
        results_path=results_path,
        report_path=report_path,
        data_docs_index=index if index.exists() else None,
        seconds=round(time.monotonic() - started, 2),
    )
    _write_json(
        results_path,
        {
            "checkpoint": f"pingan_quality_{month}",
            "month": str(month),
            "success": report.success,
            "validation_results": results_json,
        },
    )
    _write_json(report_path, report.to_dict())
    log.info("%s", report.summary())
    return report


def check_quality_gate(
    target: WarehouseTarget,
    month: Month | str,
    out_dir: Path | str | None = None,
    **kwargs: Any,
) -> QualityReport:
    """:func:`run_quality_checks`, raising :class:`QualityGateFailed` when a check failed."""
    report = run_quality_checks(target, month, out_dir, **kwargs)
    report.raise_if_failed()
    return report


# --- the suites ---------------------------------------------------------------------------


def load_expectations(project_dir: Path) -> ModuleType:
    """The ``expectations`` package of the project (suites as code live there, DESIGN.md §2).

    It sits next to ``dbt_project/`` and ``schemes/`` rather than inside the installed
    package, so it is loaded from the project dir like they are; a copy already imported
    from that folder (tests run from the project root) is reused.
    """
    init = (project_dir / "expectations" / "__init__.py").resolve()
    loaded = sys.modules.get("expectations")
    if loaded is not None:
        if Path(getattr(loaded, "__file__", "") or "").resolve() == init:
            return loaded
        raise ConfigError(
            f"another module named 'expectations' is imported ({loaded!r}); the quality "
            f"gate needs {init.parent}"
        )
    if not init.exists():
        raise ConfigError(f"no suites: {init} is missing (PINGAN project dir {project_dir})")
    spec = importlib.util.spec_from_file_location(
        "expectations", init, submodule_search_locations=[str(init.parent)]
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["expectations"] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules["expectations"]
        raise
    return module


# --- which data ---------------------------------------------------------------------------


def plan_validations(
    conn: Any,
    specs: Sequence[Any],
    scope: Any,
    layers: Sequence[str],
    batch_ids: Iterable[str] | None,
    tz: str,
) -> tuple[list[PlannedValidation], list[str]]:
    """Each suite with the data it validates this month, and the suites left without any."""
    plan: list[PlannedValidation] = []
    not_validated: list[str] = []
    named = _named_batches(conn, specs, batch_ids) if batch_ids is not None else None
    for spec in specs:
        if spec.layer not in layers:
            continue
        if spec.mart is not None:
            plan.append(PlannedValidation(spec, spec.name, spec.mart.asset_query(scope)))
            continue
        if named is not None:
            batches = named.get(spec.name, [])
        else:
            batches = month_batches(conn, spec.raw, scope, tz)
        if not batches:
            why = "not among the batches named" if named is not None else "no batch"
            not_validated.append(f"{spec.name}: {why} for {scope.month}")
        if batches:
            plan.append(
                PlannedValidation(
                    spec=spec,
                    asset_name=spec.name,
                    query=spec.raw.asset_query([b for b, _ in batches]),
                    batches=tuple(batches),
                )
            )
    return plan, not_validated


def month_batches(conn: Any, raw: Any, scope: Any, tz: str) -> list[tuple[str, str | None]]:
    """The raw batches of ``raw``'s table that belong to the month (see ``RawTable``)."""
    source, entity = raw.source_entity
    if raw.selection == "latest":
        rows = conn.execute(
            "select batch_id, source_ref from raw._batches where source = %s and entity = %s"
            " order by extracted_at desc, batch_id desc limit 1",
            (source, entity),
        ).fetchall()
    elif raw.selection == "extract":  # cut after the month before's cutoff, up to its own
        rows = conn.execute(
            "select batch_id, source_ref from raw._batches where source = %s and entity = %s"
            " and window_end > %s and window_end <= %s order by window_end, batch_id",
            (
                source,
                entity,
                scope.previous_cutoff or scope.month.start(tz),
                scope.cutoff or scope.month.end(tz),
            ),
        ).fetchall()
    else:  # file drops: loaded whenever they arrive; theirs is the month they hold
        exists = conn.execute("select to_regclass(%s)", (raw.table,)).fetchone()[0]
        if exists is None:
            return []
        rows = conn.execute(
            "select b.batch_id, b.source_ref from raw._batches as b"
            " where b.source = %s and b.entity = %s and exists ("
            f"  select 1 from {raw.table} as t where t._batch_id = b.batch_id"
            f"  and {raw.event.in_window_sql('t', scope)})"
            " and (select 2 * count(*) filter (where "
            f"{raw.event.after_window_sql('t', scope)}) - count(*)"
            f"  from {raw.table} as t where t._batch_id = b.batch_id) < 0"
            " order by b.extracted_at, b.batch_id",
            (source, entity),
        ).fetchall()
    return [(r[0], r[1]) for r in rows]


def _named_batches(
    conn: Any, specs: Sequence[Any], batch_ids: Iterable[str]
) -> dict[str, list[tuple[str, str | None]]]:
    wanted = list(dict.fromkeys(batch_ids))
    rows = conn.execute(
        "select batch_id, source, entity, source_ref from raw._batches"
        " where batch_id = any(%s) order by extracted_at, batch_id",
        (wanted,),
    ).fetchall()
    missing = sorted(set(wanted) - {r[0] for r in rows})
    if missing:
        raise ConfigError(f"no such batch in raw._batches: {', '.join(missing)}")
    tables = {spec.raw.source_entity: spec.name for spec in specs if spec.raw is not None}
    named: dict[str, list[tuple[str, str | None]]] = {}
    for batch_id, source, entity, source_ref in rows:
        table = tables.get((source, entity))
        if table is None:
            raise ConfigError(
                f"batch {batch_id} is {source}.{entity}, which no suite in expectations/ checks"
            )
        named.setdefault(table, []).append((batch_id, source_ref))
    return named


# --- GX -------------------------------------------------------------------------------------


def _context(gx: ModuleType, docs_dir: Path) -> Any:
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False),
        data_docs_sites={
            SITE: {
                "class_name": "SiteBuilder",
                "show_how_to_buttons": False,
                "store_backend": {
                    "class_name": "TupleFilesystemStoreBackend",
                    "base_directory": str(docs_dir),
                },
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            }
        },
    )
    return gx.get_context(mode="ephemeral", project_config=config)


def _checkpoint(
    gx: ModuleType,
    context: Any,
    target: WarehouseTarget,
    plan: Sequence[PlannedValidation],
    scope: Any,
    month: str,
) -> Any:
    from expectations import ROW_REF  # loaded by load_expectations

    data_source = context.data_sources.add_postgres(
        DATA_SOURCE,
        connection_string=target.url.replace("postgresql://", "postgresql+psycopg://", 1),
        kwargs={"connect_args": {"options": _READ_ONLY}},
    )
    suites: dict[str, Any] = {}
    definitions = []
    for planned in plan:
        suite = suites.get(planned.spec.name)
        if suite is None:
            suite = suites[planned.spec.name] = context.suites.add(planned.spec.build(scope))
        asset = data_source.add_query_asset(planned.asset_name, query=planned.query)
        batch = asset.add_batch_definition_whole_table("month")
        definitions.append(
            context.validation_definitions.add(
                gx.ValidationDefinition(name=planned.asset_name, data=batch, suite=suite)
            )
        )
    return context.checkpoints.add(
        gx.Checkpoint(
            name=f"pingan_quality_{month}",
            validation_definitions=definitions,
            result_format={
                "result_format": "SUMMARY",
                "unexpected_index_column_names": [ROW_REF],
                "partial_unexpected_count": SAMPLE_ROWS,
            },
        )
    )


# --- failures --------------------------------------------------------------------------------


def _decided(policy: GatePolicy, failure: CheckFailure) -> CheckFailure:
    action, rule = policy.decide(failure)
    return replace(failure, action=action, rule=rule)


def _failure(conn: Any, planned: PlannedValidation, result: Any) -> CheckFailure:
    config = result.expectation_config
    kwargs = dict(config.kwargs)
    meta = config.meta or {}
    outcome = result.result or {}
    error = None
    info = result.exception_info or {}
    if info.get("raised_exception"):
        error = info.get("exception_message")
    else:  # metric errors are keyed by metric
        messages = [
            v.get("exception_message")
            for v in info.values()
            if isinstance(v, dict) and v.get("raised_exception")
        ]
        error = "; ".join(dict.fromkeys(m for m in messages if m)) or None
    if error:  # the driver's first line says it; the results JSON has the rest
        error = error.strip().splitlines()[0]
    rows: list[dict[str, Any]] = []
    deliveries = [Delivery(b, ref) for b, ref in planned.batches]
    units: list[str] = []
    unplaced = 0
    if config.type in ROW_QUERY_TYPES and error is None:
        failing = _failing_query(kwargs["unexpected_rows_query"], planned.query)
        rows = _sample(conn, failing)
        if planned.batches:
            columns = _columns(conn, failing)
            deliveries = _deliveries(conn, failing, columns, dict(planned.batches)) or deliveries
            units, unplaced = _units(conn, failing, columns)
    else:
        rows = _partial_rows(outcome, kwargs.get("column"))
    return CheckFailure(
        suite=planned.spec.name,
        check=meta.get("check") or config.type,
        expectation=config.type,
        description=config.description or config.type,
        observed=_observed(config.type, kwargs, outcome, error),
        deliveries=deliveries,
        column=kwargs.get("column"),
        sample_rows=[_jsonable(r) for r in rows],
        error=error,
        units=units,
        unplaced_rows=unplaced,
    )


def _partial_rows(outcome: dict, column: str | None) -> list[dict[str, Any]]:
    """GX's sample of a failed column check: the rows by their index column (single-column
    checks) or the offending values (multi-column checks give dicts of the columns)."""
    indexed = outcome.get("partial_unexpected_index_list")
    if indexed:
        return [dict(r) for r in indexed][:SAMPLE_ROWS]
    values = outcome.get("partial_unexpected_list") or []
    return [v if isinstance(v, dict) else {column or "value": v} for v in values][:SAMPLE_ROWS]


def _observed(kind: str, kwargs: dict, outcome: dict, error: str | None) -> str:
    if error:
        return "the check could not run"
    if "unexpected_count" in outcome and "element_count" in outcome:
        total, bad = outcome["element_count"], outcome["unexpected_count"]
        share = f" ({outcome.get('unexpected_percent') or 0:.2f}%)" if total else ""
        mostly = kwargs.get("mostly")
        allowed = f", at most {(1 - mostly) * 100:g}% allowed" if mostly not in (None, 1) else ""
        return f"{bad} of {total} rows{share} unexpected{allowed}"
    if kind in ROW_QUERY_TYPES:
        return f"{outcome.get('observed_value')} failing row(s)"
    if kind == "expect_table_columns_to_match_set":
        mismatched = (outcome.get("details") or {}).get("mismatched") or {}
        parts = [f"{k}: {', '.join(v)}" for k, v in mismatched.items() if v]
        return "columns differ — " + ("; ".join(parts) or str(outcome.get("observed_value")))
    if "observed_value" in outcome:
        return f"observed {outcome['observed_value']}"
    return json.dumps(outcome, ensure_ascii=False, default=str)[:300]


def _failing_query(template: str, asset_query: str) -> str:
    """A SQL check's query with the batch substituted the way GX substitutes it."""
    from expectations._common import query_has_join

    batch = f"({asset_query})" if query_has_join(template) else f"({asset_query}) AS subselect"
    return template.format(batch=batch)


def _query(conn: Any, sql: str) -> list[dict[str, Any]]:
    cursor = conn.execute(sql)
    names = [c.name for c in cursor.description or []]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _sample(conn: Any, failing: str) -> list[dict[str, Any]]:
    """The first failing rows of a SQL check."""
    try:
        rows = _query(conn, f"select * from ({failing}) as failing limit {SAMPLE_ROWS}")
        # the count a delivery check's rows carry is the check's, not the sample's
        from expectations._common import FAILING_ROWS

        return [{k: v for k, v in r.items() if k != FAILING_ROWS} for r in rows]
    except Exception as exc:  # the check itself reported; a sample is a courtesy
        return [{"sample_error": str(exc).strip()}]


def _columns(conn: Any, failing: str) -> set[str]:
    try:
        cursor = conn.execute(f"select * from ({failing}) as failing limit 0")
    except Exception:  # the check reported the error; deliveries and units are a courtesy
        return set()
    return {c.name for c in cursor.description or []}


def _deliveries(
    conn: Any, failing: str, columns: set[str], refs: dict[str, str | None]
) -> list[Delivery]:
    """The deliveries (source batches) a raw check's failing rows came in, with the
    delivery's defective and total rows when the check judges deliveries."""
    if "_batch_id" not in columns:
        return []
    try:
        counts = "defective_rows" in columns and "delivery_rows" in columns
        shown = "max(defective_rows), max(delivery_rows)" if counts else "null, null"
        found = conn.execute(
            f"select _batch_id, {shown} from ({failing}) as failing"
            " group by _batch_id order by _batch_id"
        ).fetchall()
    except Exception:  # the check reported the error; the deliveries are a courtesy
        return []
    return [Delivery(b, refs.get(b), d, n) for b, d, n in found]


def _units(conn: Any, failing: str, columns: set[str]) -> tuple[list[str], int]:
    """The units (towns, as "code name") that a raw check's failing rows name, and how
    many failing rows name none: a village counts for its town; a county-level code
    for the county. The staged region master says which codes exist."""
    if "region_code" not in columns:
        return [], 0
    try:
        found = conn.execute(
            f"select region_code, count(*) from ({failing}) as failing"
            f" group by region_code order by region_code limit {MAX_UNIT_CODES}"
        ).fetchall()
        codes = [c for c, _ in found if c]
        master = conn.execute(
            "select r.region_code, r.region_name, r.region_level, p.region_code, p.region_name"
            " from staging.stg_regions__regions as r"
            " left join staging.stg_regions__regions as p on p.region_code = r.parent_code"
            " where r.region_code = any(%s)",
            (codes,),
        ).fetchall()
    except Exception:  # no staged master yet (a raw-only gate): the rows still say
        return [], 0
    unit_of: dict[str, str] = {}
    for code, name, level, parent_code, parent_name in master:
        if level == "village" and parent_code:
            unit_of[code] = f"{parent_code} {parent_name}"
        else:
            unit_of[code] = f"{code} {name}"
    units = sorted({unit_of[c] for c in codes if c in unit_of})
    unplaced = sum(n for c, n in found if not c or c not in unit_of)
    return units, unplaced


def _jsonable(row: dict[str, Any]) -> dict[str, Any]:
    def value(v: Any) -> Any:
        if v is None or isinstance(v, bool | int | float | str):
            return v
        if isinstance(v, Decimal):
            return str(v)
        if isinstance(v, list | tuple):
            return [value(x) for x in v]
        return str(v)

    return {str(k): value(v) for k, v in row.items()}


def _write_json(path: Path, data: Any) -> None:
    atomic_write_text(path, json.dumps(data, ensure_ascii=False, indent=2, default=str))


class _read_only:
    """A read-only autocommit connection for planning and samples."""

    def __init__(self, target: WarehouseTarget) -> None:
        self.target = target

    def __enter__(self) -> Any:
        self.conn = connect(self.target, autocommit=True, options=_READ_ONLY)
        return self.conn

    def __exit__(self, *exc: object) -> None:
        self.conn.close()


__all__ = [
    "QualityGateFailed",
    "check_quality_gate",
    "load_expectations",
    "run_quality_checks",
]
