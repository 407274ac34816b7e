"""The sources file (``config/sources.yml``): every source system, validated on load.

It names, per source, how it is reached (an Airflow connection id or a drop
folder), its entities, the watermark column and the personal-data policy of
every column that holds personal data. The SQL connector is driven by it
entirely (:meth:`SourcesConfig.table_extract`); the HTTP and file connectors
take their connection and folder from it and check that their entity contracts
agree with it, so the file cannot silently disagree with the code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from pingan_transforms.settings import ConfigError, Settings, cached_by_mtime, load_config

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


class SqlSource(_Strict):
    kind: Literal["sql"]
    connection: str
    embedded_database: str | None = None
    entities: dict[str, SqlEntity] = Field(min_length=1)


class HttpEntity(_Strict):
    path: str = Field(pattern=r"^/")
    read: Literal["watermark", "month"]
    personal_data: dict[str, Policy] = {}


class HttpSource(_Strict):
    kind: Literal["http"]
    connection: str
    entities: dict[str, HttpEntity] = Field(min_length=1)


class FilesSource(_Strict):
    kind: Literal["files"]
    drop_dir: str
    entities: list[str] = Field(min_length=1)


Source = Annotated[SqlSource | HttpSource | FilesSource, Field(discriminator="kind")]


class SourcesConfig(_Strict):
    sources: dict[str, Source]
    path: Path = Path("config/sources.yml")

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
    """Read and validate the sources file; every problem names the file, the key and the fix."""
    return load_config(
        path,
        SourcesConfig,
        what="sources file",
        missing=f"sources file {path} does not exist: set PINGAN_SOURCES_FILE or restore "
        "config/sources.yml",
        locate=_source_key,
    )


def _source_key(loc: tuple) -> str:
    """The file's key: without pydantic's name of the union member a source matched."""
    key = ".".join(str(p) for p in loc if not str(p).endswith("Source]"))
    return key.replace(".sql.", ".").replace(".http.", ".").replace(".files.", ".")


_read = cached_by_mtime(load_sources)


def sources_config(settings: Settings | None = None) -> SourcesConfig:
    from pingan_transforms.settings import get_settings

    return _read((settings or get_settings()).sources_path)
