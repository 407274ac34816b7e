"""Typed settings for the whole pipeline.

All configuration comes from environment variables prefixed ``PINGAN_`` (or a
``.env`` file in the project root), so that the same code runs in the embedded
demo, against an external warehouse and in the docker-compose stack. Nothing
else in the package reads ``os.environ`` for its own configuration.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import date, datetime
from functools import cache, cached_property
from pathlib import Path
from typing import Literal, TypeVar
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_DIR = Path(__file__).resolve().parent.parent
ConfigModel = TypeVar("ConfigModel", bound=BaseModel)


class ConfigError(RuntimeError):
    """A configuration problem the user must fix; the message says where and how."""


def read_config_mapping(path: Path, missing: str, shape: str | None = None) -> dict:
    """A configuration file's YAML mapping ({} when empty), or a ConfigError naming the
    file: ``missing`` says what to do when it does not exist; ``shape`` (what the top
    level should hold) makes anything but a mapping an error too."""
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(missing) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    if shape is not None and data is not None and not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping with {shape}")
    return data or {}


def load_config(
    path: Path,
    model: type[ConfigModel],
    *,
    what: str,
    missing: str,
    shape: str | None = None,
    explain: Callable[[str, dict], str] | None = None,
    locate: Callable[[tuple], str] | None = None,
    field: str | None = None,
) -> ConfigModel:
    """A YAML configuration file validated by a pydantic model (which gets ``path`` too).

    Every problem is reported at once, each as ``key: message``, under ``{path}: invalid
    {what}``; ``explain(key, error)`` may reword pydantic's message into the fix, and
    ``locate(loc)`` write pydantic's location as the file's key (default: joined by dots).
    With ``field``, the whole file is the value of that field of the model.
    """
    from pydantic import ValidationError

    data = read_config_mapping(path, missing, shape)
    try:
        return model.model_validate(
            {field: data, "path": path} if field else {**data, "path": path}
        )
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = err["loc"][1:] if field and err["loc"][:1] == (field,) else err["loc"]
            key = (locate or _dotted)(loc) or "(top level)"
            message = explain(key, dict(err)) if explain else err["msg"]
            problems.append(f"  {key}: {message}")
        raise ConfigError(f"{path}: invalid {what}:\n" + "\n".join(problems)) from None


def _dotted(loc: tuple) -> str:
    return ".".join(str(p) for p in loc)


def cached_by_mtime(load: Callable[[Path], ConfigModel]) -> Callable[[Path], ConfigModel]:
    """``load(path)`` again only when the file changed: the tasks of one worker read the
    configuration often, and an operator's edit takes effect at the next read."""

    @cache
    def cached(path: str, mtime: float) -> ConfigModel:
        return load(Path(path))

    def read(path: Path) -> ConfigModel:
        try:
            mtime = path.stat().st_mtime
        except FileNotFoundError:
            return load(path)  # raises the ConfigError naming the file
        return cached(str(path), mtime)

    return read


def dbt_project_scored_month_sources(project_dir: Path) -> list[str]:
    """The dbt project's ``vars: scored_month_sources`` (dbt_project.yml).

    The list is written once, there: a bare ``dbt build`` and the pipeline (which
    passes its setting to every dbt call as ``--vars``) then score the same months,
    and the gate checks the sources scoring waits for.
    """
    path = project_dir / "dbt_project" / "dbt_project.yml"
    project = read_config_mapping(path, f"{path} is missing: the dbt project must be there")
    value = (project.get("vars") or {}).get("scored_month_sources")
    if not (isinstance(value, list) and value and all(isinstance(v, str) for v in value)):
        raise ConfigError(
            f"{path}: vars.scored_month_sources must list the monthly sources a month "
            "waits for before it is scored, e.g. [police, traffic, fire, governance]"
        )
    return value


# The months' calendar. Functions that take a ``tz`` default to it; the pipeline passes
# ``Settings.timezone`` (PINGAN_TIMEZONE), and nothing else names a zone.
DEFAULT_TIMEZONE = "Asia/Shanghai"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="PINGAN_",
        env_file=PROJECT_DIR / ".env",
        extra="ignore",
        # `PINGAN_PII_KEY=` in a copied .env.example means unset, not an empty key
        env_ignore_empty=True,
    )

    project_dir: Path = PROJECT_DIR
    state_dir: Path = Field(default=PROJECT_DIR / ".pingan", description="private runtime state")
    output_dir: Path = Field(default=PROJECT_DIR / "output", description="published files")
    schemes_dir: Path = Field(
        default=PROJECT_DIR / "schemes", description="indicator scheme files (schemes/README.md)"
    )

    warehouse_url: str | None = Field(
        default=None,
        description="postgresql:// URL of an external warehouse; unset = embedded server",
    )
    warehouse_db: str = Field(default="pingan", description="database name on the embedded server")
    warehouse_conn_id: str = Field(
        default="pingan_warehouse",
        description="Airflow connection dbt uses in the DAGs (Cosmos profile mapping); the "
        "pingan CLI sets AIRFLOW_CONN_PINGAN_WAREHOUSE to the resolved warehouse when unset",
    )
    dbt_role: str | None = Field(
        default=None,
        description="role dbt switches to after connecting, e.g. pingan_transformer "
        "(infra/warehouse/013_roles.sql); unset = the connecting user",
    )
    dbt_tasks: Literal["watcher", "per_node", "single"] = Field(
        default="watcher",
        description="how the DAGs run dbt: watcher = one `dbt build` and a task per seed, model "
        "and its tests that shows its result (Cosmos watcher mode; needs a scheduler and a "
        "triggerer, so dag.test() renders `single` instead); per_node = a Cosmos `dbt build` "
        "task per seed, model and cross-model test; single = one Cosmos `dbt build` task "
        "(the test suite's choice)",
    )
    dbt_unit_tests: bool = Field(
        default=False,
        description="run dbt's unit tests in the monthly `dbt build` too; by default it "
        "leaves them out (`--exclude-resource-type unit_test`), as dbt recommends for "
        "production: they test the models' SQL on fixed rows, which no month changes, and "
        "cost 17 s of a province build; `make test` runs them",
    )
    embedded_port: int | None = Field(
        default=None, description="fixed TCP port for the embedded server (default: a free one)"
    )

    pii_key: SecretStr | None = Field(
        default=None,
        description="HMAC key for personal data; unset = a random key kept in the state dir",
    )
    scored_month_sources: list[str] = Field(
        default_factory=lambda data: dbt_project_scored_month_sources(data["project_dir"]),
        description="a month is scored once each of these sources has delivered facts for it "
        "(default: the dbt project's var of that name)",
    )
    delivery_grace_hours: float = Field(
        default=48.0,
        ge=0,
        description="a watermark source must have updates this close to the month's end",
    )
    sources_file: Path | None = Field(
        default=None,
        description="the source registry (default: the project's sources/ folder), or one "
        "file listing every source under `sources:`",
    )
    publishing_file: Path | None = Field(
        default=None, description="bulletin sender and recipients; default config/publishing.yml"
    )
    quality_file: Path | None = Field(
        default=None,
        description="the quality gate policy (which failed checks block publication); "
        "default config/quality.yml",
    )
    smtp_conn_id: str = Field(
        default="pingan_smtp",
        description="Airflow SMTP connection for the bulletin (AIRFLOW_CONN_PINGAN_SMTP)",
    )
    publish_deadline_day: int = Field(
        default=5,
        ge=1,
        le=28,
        description="a month not published by the end of this day of the next month is "
        "alerted (pingan_transforms/alerts.py)",
    )
    signoff_auto_approve: str | None = Field(
        default=None,
        description="a name (e.g. demo) that signs off every draft unattended when the monthly "
        "DAG runs under dag.test() (pingan run, the demo, the tests), through Airflow's own "
        "human-in-the-loop handler; unset = a person answers in Airflow's Required Actions or "
        "with `pingan publish approve|reject`",
    )
    airflow_api_url: str = Field(
        default="http://127.0.0.1:8080",
        description="the Airflow API server `pingan publish approve|reject` answers through",
    )
    airflow_api_username: str | None = Field(
        default=None,
        description="user for the Airflow API (POST /auth/token); unset = the simple auth "
        "manager's all-admins mode (GET /auth/token), as `make airflow` runs it",
    )
    airflow_api_password: SecretStr | None = Field(
        default=None, description="password of PINGAN_AIRFLOW_API_USERNAME"
    )
    publish_deadline_alert: bool = Field(
        default=True,
        description="attach the deadline alert to the monthly DAG (pingan run and the demo "
        "turn it off: Airflow 3.3's dag.test() fails on a DAG with a deadline)",
    )
    schedule_until: date | None = Field(
        default=None,
        description="the monthly DAG schedules no month starting after this date (a "
        "deployment replaying history, e.g. `pingan airflow` over simulated months); "
        "unset = no end",
    )
    regions_file: Path | None = Field(default=None, description="region master CSV")
    bi_port: int = Field(default=8088, description="`pingan bi`: Superset's port on 127.0.0.1")
    bi_venv: Path = Field(
        default=PROJECT_DIR / ".venv-bi",
        description="Superset's own venv (its pins clash with the pipeline's)",
    )
    bi_admin_password: SecretStr | None = Field(
        default=None,
        description="`pingan bi --superset-url`: the admin password of that Superset",
    )
    bi_reader_url: str | None = Field(
        default=None,
        description="a login of pingan_bi_reader for Superset when PINGAN_WAREHOUSE_URL "
        "names another server (the embedded one generates it)",
    )
    drops_dir: Path | None = Field(
        default=None,
        description="where source systems drop their files (the relative drop_dir of "
        "sources/<name>/source.yml, the regions master); default <state dir>/sources",
    )
    timezone: str = Field(
        default=DEFAULT_TIMEZONE,
        description="time zone of the months (data intervals) and of the publication times",
    )

    # Two layers of retries for sources: the connector's own (seconds apart, for a
    # blip) and Airflow's task retries (minutes apart, for an outage).
    source_retries: int = Field(default=3, ge=0, description="Airflow retries of extract tasks")
    source_retry_delay_seconds: float = Field(default=30.0, gt=0)
    http_attempts: int = Field(default=5, ge=1, description="tries per HTTP request")
    http_base_delay_seconds: float = Field(default=1.0, ge=0)

    @field_validator("warehouse_url")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if not value.startswith(("postgresql://", "postgres://", "postgresql+psycopg://")):
            raise ValueError(
                "PINGAN_WAREHOUSE_URL must be a postgresql:// URL, "
                "e.g. postgresql://user:password@host:5432/pingan"
            )
        return value

    @property
    def schedule_end(self) -> datetime | None:
        """:attr:`schedule_until` as the DAG's ``end_date`` (local midnight)."""
        if self.schedule_until is None:
            return None
        day = self.schedule_until
        return datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(self.timezone))

    def dbt_build_flags(self) -> list[str]:
        """Flags of the pipeline's `dbt build` (the DAG's build, tasks.build_models): unit
        tests left out unless ``dbt_unit_tests``. Flags, not dbt's environment variable:
        Cosmos copies a task's environment into the process's for good (its OpenLineage
        step), and a later dbt call of the same process (a test's `dbt test --select
        test_type:unit` after dag.test()) would inherit the choice."""
        return [] if self.dbt_unit_tests else ["--exclude-resource-type", "unit_test"]

    def dbt_vars(self) -> dict[str, object]:
        """The vars every dbt call gets (run_dbt, the Cosmos tasks, ``dbt parse``)."""
        return {"scored_month_sources": self.scored_month_sources}

    @property
    def embedded(self) -> bool:
        return self.warehouse_url is None

    @property
    def pgdata(self) -> Path:
        return self.state_dir / "pgdata"

    @property
    def sources_dir(self) -> Path:
        """Where source systems drop their files (fire exports, survey workbooks, the
        regions master). Its own setting so that two runs sharing a state dir (the test
        suite, a second simulated stack) need not read each other's drops."""
        return self.drops_dir or self.state_dir / "sources"

    @property
    def sources_path(self) -> Path:
        return self.sources_file or self.project_dir / "sources"

    @property
    def registry_dir(self) -> Path:
        """The folder of the registered sources (their raw.sql, expectations.py, models/):
        :attr:`sources_path` unless that names a single sources file."""
        path = self.sources_path
        return path if path.is_dir() else self.project_dir / "sources"

    @property
    def publishing_path(self) -> Path:
        return self.publishing_file or self.project_dir / "config" / "publishing.yml"

    @property
    def quality_policy_path(self) -> Path:
        return self.quality_file or self.project_dir / "config" / "quality.yml"

    @property
    def region_master_path(self) -> Path:
        return self.regions_file or self.sources_dir / "regions" / "regions_master.csv"

    @property
    def dbt_project_dir(self) -> Path:
        return self.project_dir / "dbt_project"

    @property
    def infra_sql_dir(self) -> Path:
        return self.project_dir / "infra" / "warehouse"

    @cached_property
    def pii_secret(self) -> bytes:
        """The HMAC key: from configuration, or generated once per checkout (never committed)."""
        if self.pii_key is not None:
            return self.pii_key.get_secret_value().encode()
        key_file = self.state_dir / "pii.key"
        if not key_file.exists():
            key_file.parent.mkdir(parents=True, exist_ok=True)
            key_file.write_text(secrets.token_hex(32))
            key_file.chmod(0o600)
        return key_file.read_text().strip().encode()


def get_settings() -> Settings:
    """Load settings, turning validation errors into a message naming the variable."""
    from pydantic import ValidationError

    try:
        return Settings()
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            name = "PINGAN_" + "_".join(str(p) for p in err["loc"]).upper()
            lines.append(f"{name}: {err['msg']}")
        raise ConfigError(
            "invalid configuration (environment or .env):\n  " + "\n  ".join(lines)
        ) from None


@contextmanager
def environment(overrides: Mapping[str, str]) -> Iterator[None]:
    """Set environment variables for the block, then restore each as it was (unset if it
    was): settings, Airflow connections and Cosmos read the process environment, and a
    caller that changes it for one run must not leave it changed for the next."""
    saved = {key: os.environ.get(key) for key in overrides}
    os.environ.update(overrides)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
