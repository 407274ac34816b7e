"""The source registry (``sources/<name>/``): every source system, validated on load.

Each source system is one folder: ``source.yml`` (its entry, read here), ``raw.sql``
(its raw tables), ``expectations.py`` (their Great Expectations suites) and
``models/`` (its dbt models: staging, quarantine, batch reconciliation, metric
facts). Everything else is derived from the entries: the Assets, the extract DAGs
and the monthly DAG's extract tasks, the sources a month waits for, the completeness
check, the init SQL and the quality suites. Adding a source is one folder plus its
connector (docs/operations.md, "Adding a source").

An entry names how the source is reached (an Airflow connection id or a drop
folder), its entities, the watermark column, the personal-data policy of every
column that holds personal data, and its connector: the module whose
``extract(run)`` reads it (the SQL connector reads every ``kind: sql`` source from
its entry alone, :meth:`SourcesConfig.table_extract`). ``PINGAN_SOURCES_FILE`` may
point at another registry folder, or at one file holding every entry under
``sources:``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from pingan_transforms.settings import ConfigError, Settings, load_config

if TYPE_CHECKING:
    from pingan_transforms.warehouse import WarehouseTarget

Policy = Literal["drop", "hash"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SqlEntity(_Strict):
    table: str
    raw_table: str
    key: str
    watermark: str
    columns: list[str] = Field(min_length=1)
    personal_data: dict[str, Policy] = {}

    @model_validator(mode="after")
    def _consistent(self) -> SqlEntity:
        for name in (self.key, self.watermark):
            if name not in self.columns:
                raise ValueError(f"{name!r} must be one of the columns")
        overlap = set(self.personal_data) & set(self.columns)
        if overlap:
            raise ValueError(
                f"{sorted(overlap)} listed both as plain columns and under personal_data: "
                "keep each personal-data column only under personal_data (drop or hash)"
            )
        return self


_CONNECTOR = r"^[\w.]+$"


class _Source(_Strict):
    # the module whose ``extract(run: ExtractRun) -> dict`` reads the source; databases
    # and paged JSON APIs are read by the SQL and HTTP connectors from the entry alone
    connector: str = Field(pattern=_CONNECTOR)
    # a month is scored, gated and published once this source has delivered it
    scored_month: bool = False


class SqlSource(_Source):
    kind: Literal["sql"]
    connector: str = Field(default="pingan_transforms.extract.sql", pattern=_CONNECTOR)
    connection: str
    embedded_database: str | None = None
    entities: dict[str, SqlEntity] = Field(min_length=1)


def snake_case(name: str) -> str:
    """An API's camelCase field as a raw column: ``reporterPhone`` -> ``reporter_phone``."""
    import re

    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


class HttpEntity(_Strict):
    """An endpoint of a paged JSON API (pingan_transforms.extract.api reads it from this)."""

    path: str = Field(pattern=r"^/")
    # watermark: updated_since/updated_until up to the cut-off; month: ?month=YYYY-MM, whole
    read: Literal["watermark", "month"]
    raw_table: str = Field(pattern=r"^\w+$")  # in schema raw
    # API field -> raw column; every field the raw table keeps
    fields: dict[str, str] = Field(min_length=1)
    key: str | None = None  # the API field naming a record (messages, staging)
    watermark: str | None = None  # the API field with the record's updated-at (read: watermark)
    personal_data: dict[str, Policy] = {}

    @model_validator(mode="after")
    def _consistent(self) -> HttpEntity:
        for what, name in (("key", self.key), ("watermark", self.watermark)):
            if name is not None and name not in self.fields:
                raise ValueError(f"{what} {name!r} must be one of the fields")
        if self.read == "watermark" and self.watermark is None:
            raise ValueError("read: watermark needs `watermark:`, the API field of the updated-at")
        overlap = set(self.personal_data) & set(self.fields)
        if overlap:
            raise ValueError(
                f"{sorted(overlap)} listed both under fields and under personal_data: "
                "keep each personal-data field only under personal_data (drop or hash)"
            )
        return self


class HttpSource(_Source):
    kind: Literal["http"]
    connector: str = Field(default="pingan_transforms.extract.api", pattern=_CONNECTOR)
    connection: str
    entities: dict[str, HttpEntity] = Field(min_length=1)


class FilesSource(_Source):
    kind: Literal["files"]
    drop_dir: str
    entities: list[str] = Field(min_length=1)
    # other headers offices write for an entity's columns: {entity: {alias: header}}
    column_aliases: dict[str, dict[str, str]] = Field(default_factory=dict)
    # rows dated up to this many days before a file's month (or quarter) are late
    # reports of it; older or later rows are quarantined as `wrong month`
    late_window_days: int = Field(default=10, ge=0, le=92)


Source = Annotated[SqlSource | HttpSource | FilesSource, Field(discriminator="kind")]


class SourcesConfig(_Strict):
    sources: dict[str, Source]
    path: Path = Path("sources")

    @property
    def scored_month(self) -> list[str]:
        """The sources a month waits for before it is scored (``scored_month: true``)."""
        return [name for name, source in self.sources.items() if source.scored_month]

    def daily(self) -> list[str]:
        """Sources read every day up to a cut-off (databases, APIs), not dropped files."""
        return [n for n, s in self.sources.items() if not isinstance(s, FilesSource)]

    def extract_function(self, name: str) -> Callable[[ExtractRun], dict[str, object]]:
        """The source's connector: ``extract`` of the module its entry names, or a
        ConfigError naming the entry's file, the key and the fix."""
        connector = self.sources[name].connector
        where = self.folder(name) / "source.yml" if self.path.is_dir() else self.path
        key = "connector" if self.path.is_dir() else f"sources.{name}.connector"
        try:
            module = importlib.import_module(connector)
        except ImportError as exc:
            raise ConfigError(
                f"{where}: {key}: cannot import {connector!r} ({exc}): name a module of the "
                "project, e.g. pingan_transforms.extract.api for a paged JSON API"
            ) from None
        extract = getattr(module, "extract", None)
        if not callable(extract):
            raise ConfigError(
                f"{where}: {key}: module {connector!r} has no function extract(run): "
                "give it one, or name the module that has"
            )
        return extract

    def raw_tables(self, name: str) -> list[str]:
        """The raw tables (in schema raw) a source's connector lands, in entry order."""
        source = self.sources[name]
        if isinstance(source, FilesSource):
            return [f"{name}__{entity}" for entity in source.entities]
        return [entity.raw_table for entity in source.entities.values()]

    def folder(self, name: str) -> Path:
        """The source's registry folder (raw.sql, expectations.py, models/)."""
        return self.path / name

    def get(self, name: str, kind: type) -> SqlSource | HttpSource | FilesSource:
        source = self.sources.get(name)
        if source is None:
            raise ConfigError(f"{self.path}: no source named {name!r} under `sources:`")
        if not isinstance(source, kind):
            raise ConfigError(
                f"{self.path}: sources.{name}.kind must be {kind.__name__[:-6].lower()}"
            )
        return source

    def sql(self, name: str) -> SqlSource:
        return self.get(name, SqlSource)  # type: ignore[return-value]

    def http(self, name: str) -> HttpSource:
        return self.get(name, HttpSource)  # type: ignore[return-value]

    def files(self, name: str) -> FilesSource:
        return self.get(name, FilesSource)  # type: ignore[return-value]

    def drop_dir(self, name: str, settings: Settings) -> Path:
        folder = Path(self.files(name).drop_dir)
        return folder if folder.is_absolute() else settings.sources_dir / folder

    def api_entity(self, source: str, entity: str):
        """The HTTP connector's spec for one entity: fields read, hashed, dropped; the table."""
        from pingan_transforms.extract.api import ApiEntity

        spec = self.http(source).entities.get(entity)
        if spec is None:
            raise ConfigError(f"{self.path}: sources.{source}.entities has no {entity!r}")
        policy = spec.personal_data
        return ApiEntity(
            source=source, entity=entity, path=spec.path, read=spec.read,
            raw_table=spec.raw_table, fields=dict(spec.fields),
            hashed={f: f"{snake_case(f)}_hash" for f, p in policy.items() if p == "hash"},
            dropped=frozenset(f for f, p in policy.items() if p == "drop"),
            key=spec.key, watermark=spec.watermark,
        )  # fmt: skip

    def table_extract(self, source: str, entity: str):
        """The SQL connector's spec for one entity: columns read, hashed, and where they land."""
        from pingan_transforms.extract.sql import TableExtract

        spec = self.sql(source).entities.get(entity)
        if spec is None:
            raise ConfigError(f"{self.path}: sources.{source}.entities has no {entity!r}")
        hashed = [c for c, policy in spec.personal_data.items() if policy == "hash"]
        columns = [(c, c) for c in spec.columns] + [(c, f"{c}_hash") for c in hashed]
        return TableExtract(
            source=source, entity=entity, source_table=spec.table, raw_schema="raw",
            raw_table=spec.raw_table, columns=tuple(columns), key_column=spec.key,
            watermark_column=spec.watermark, hashed=frozenset(hashed),
        )  # fmt: skip


def load_sources(path: Path) -> SourcesConfig:
    """Read and validate the registry (a folder of ``<name>/source.yml``) or one sources
    file; every problem names the file, the key and the fix."""
    if path.is_dir():
        return _load_registry(path)
    return load_config(
        path,
        SourcesConfig,
        what="sources file",
        missing=f"sources file {path} does not exist: set PINGAN_SOURCES_FILE to the "
        "source registry (the folder sources/) or to a file listing every source",
        locate=_source_key,
    )


class _Entry(_Strict):
    """One registry folder's ``source.yml``, validated as the source it describes."""

    source: Source
    path: Path


def _load_registry(folder: Path) -> SourcesConfig:
    entries: dict[str, Source] = {}
    for entry in sorted(folder.glob("*/source.yml")):
        entries[entry.parent.name] = load_config(
            entry, _Entry, what="source entry", missing=f"{entry} is missing",
            shape="a source's entry (kind, connection, entities, ...)", locate=_source_key,
            field="source",
        ).source  # fmt: skip
    if not entries:
        raise ConfigError(
            f"{folder}: no source registered: every source is a folder <name>/ holding "
            "source.yml (set PINGAN_SOURCES_FILE to the project's sources/ folder)"
        )
    return SourcesConfig(sources=entries, path=folder)


def _source_key(loc: tuple) -> str:
    """The file's key: without pydantic's name of the union member a source matched."""
    key = ".".join(str(p) for p in loc if not str(p).endswith("Source]"))
    for kind in ("sql", "http", "files"):
        key = key.replace(f".{kind}.", ".").removeprefix(f"{kind}.").removesuffix(f".{kind}")
        if key == kind:
            key = ""
    return key


def _stamp(path: Path) -> tuple:
    """What a change to the registry changes: its entries' names and modification times."""
    if not path.is_dir():
        return (path, path.stat().st_mtime if path.exists() else None)
    return tuple((str(p), p.stat().st_mtime) for p in sorted(path.glob("*/source.yml")))


@cache
def _read_registry(path: Path, stamp: tuple) -> SourcesConfig:
    return load_sources(path)


def sources_config(settings: Settings | None = None) -> SourcesConfig:
    """The registry (or the sources file), read again only when an entry changed."""
    from pingan_transforms.settings import get_settings

    path = (settings or get_settings()).sources_path
    if not path.exists():
        return load_sources(path)  # raises the ConfigError naming the setting
    return _read_registry(path, _stamp(path))


@dataclass(frozen=True)
class ExtractRun:
    """What a connector's ``extract(run)`` gets: the source, the data interval it is cut
    at, and where to land it. The same for every connector, so that the DAGs and tasks
    need to know nothing about a source but its name."""

    name: str
    config: SourcesConfig
    settings: Settings
    target: WarehouseTarget
    interval_start: datetime
    interval_end: datetime

    @property
    def source(self) -> SqlSource | HttpSource | FilesSource:
        return self.config.sources[self.name]


# The lines of dbt_project.yml derived from the registry: dbt reads no Python, so the
# registry is mirrored there by `pingan generate` (tests/test_registry.py keeps it current).
_GENERATED_KEYS = (
    "model-paths:", "seed-paths:", "  scored_month_sources:", "  metric_models:",
    "  metric_record_models:",
)  # fmt: skip


def dbt_project_lines(config: SourcesConfig, dbt_project_dir: Path) -> dict[str, str]:
    """dbt_project.yml's registry-derived lines, keyed by their key: every source's models
    (and seeds) folder, the sources a month waits for, the metric fact models the
    rollup unions, and the models listing the records behind them.

    dbt reads the registry through the link ``dbt_project/sources`` (to ``../sources``):
    a path inside the project survives Cosmos running dbt from a copy of the project
    (a temporary folder of links to its entries), where ``../sources`` would not.
    """
    link = dbt_project_dir / "sources"
    if not link.is_dir() or link.resolve() != config.path.resolve():
        raise ConfigError(
            f"{link} must lead to the registry {config.path} (dbt reads the sources' models "
            f"through it): `ln -sfn {config.path.resolve()} {link}`"
        )
    folders = [f"sources/{name}/models" for name in config.sources]
    seeds = [f"sources/{n}/seeds" for n in config.sources if (config.folder(n) / "seeds").is_dir()]
    metric_models = sorted(
        path.stem
        for name in config.sources
        for path in (config.folder(name) / "models").rglob("int_*_metrics_aggregated.sql")
    )
    record_models = sorted(
        path.stem
        for name in config.sources
        for path in (config.folder(name) / "models").rglob("int_*_metric_records.sql")
    )
    values = (
        _yaml_list(["models", *folders], quoted=True),
        _yaml_list(["seeds", *seeds], quoted=True),
        _yaml_list(config.scored_month),
        _yaml_list(metric_models),
        _yaml_list(record_models),
    )
    return {key: f"{key} {value}" for key, value in zip(_GENERATED_KEYS, values, strict=True)}


def _yaml_list(items: list[str], *, quoted: bool = False) -> str:
    return "[" + ", ".join(f'"{item}"' if quoted else item for item in items) + "]"


def generate_dbt_project(config: SourcesConfig, dbt_project_dir: Path, *, write: bool) -> list[str]:
    """Bring dbt_project.yml's registry-derived lines up to date (``write``) or only say
    which differ; returns the lines that were (or would be) rewritten."""
    path = dbt_project_dir / "dbt_project.yml"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    wanted = dbt_project_lines(config, dbt_project_dir)
    changed: list[str] = []
    for key, line in wanted.items():
        where = [i for i, text in enumerate(lines) if text.startswith(key)]
        if len(where) != 1:
            raise ConfigError(
                f"{path}: expected one line starting {key.strip()!r} (the registry's mirror), "
                f"found {len(where)}: restore it, e.g. `{line}`"
            )
        if lines[where[0]].rstrip("\n") != line:
            lines[where[0]] = line + "\n"
            changed.append(line)
    if write and changed:
        path.write_text("".join(lines), encoding="utf-8")
    return changed
