"""Apache Superset on 127.0.0.1 reading the marts as ``pingan_bi_reader`` (``pingan bi``).

Superset pins SQLAlchemy 1.4, Flask 2 and more that clash with the pipeline's, so it
lives in its own venv (``.venv-bi``, from ``requirements-bi.lock``) and this module
only drives it: the ``superset`` command for its metadata database (SQLite under
``<state dir>/superset/``), gunicorn for the web server (a process group of its own,
stopped by ``pingan bi --stop``), and Superset's REST API for the assets, imported
from ``bi/superset/assets/`` (pingan_transforms/bi/assets.py) on every start, so the
dashboard is what the repository says and re-running is idempotent.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import httpx

from pingan_transforms.settings import ConfigError, Settings

ADMIN = "admin"
DASHBOARD_SLUG = "pingan-index"


class SupersetError(RuntimeError):
    """Superset did not start or refused the provisioning: the message says where to look."""


@dataclass(frozen=True)
class BiLogin:
    """How Superset reaches the warehouse: as the BI role, never as the owner."""

    host: str
    port: int
    dbname: str
    user: str
    password: str

    @property
    def masked_uri(self) -> str:
        """The URI with the password masked, as it stands in the bundle."""
        user = quote(self.user, safe="")
        return f"postgresql+psycopg2://{user}:XXXXXXXXXX@{self.host}:{self.port}/{self.dbname}"


def bi_login(settings: Settings) -> BiLogin:
    """The BI role's login: the embedded server's generated password, or the URL an
    administrator gives (``PINGAN_BI_READER_URL``) for another server."""
    from pingan_transforms.warehouse import resolve_target
    from pingan_transforms.warehouse.connection import WarehouseTarget, embedded_server
    from pingan_transforms.warehouse.embedded import BI_READER

    if settings.embedded:
        target = resolve_target(settings)
        password = embedded_server(settings).password(BI_READER)
        return BiLogin(target.host, target.port, target.dbname, BI_READER, password)
    if not settings.bi_reader_url:
        raise ConfigError(
            "PINGAN_WAREHOUSE_URL names another server, so `pingan bi` needs a login of the "
            "BI role there: set PINGAN_BI_READER_URL=postgresql://USER:PASSWORD@HOST:PORT/DB "
            "for a user granted pingan_bi_reader (infra/compose/bi_reader_login.sql makes one)"
        )
    target = WarehouseTarget.from_url(settings.bi_reader_url)
    return BiLogin(target.host, target.port, target.dbname, target.user, target.password)


class Superset:
    """One Superset for one state directory."""

    def __init__(self, settings: Settings, port: int | None = None, url: str | None = None) -> None:
        """``url``: a Superset run elsewhere (the compose stack's), only provisioned here;
        its admin password is PINGAN_BI_ADMIN_PASSWORD."""
        self.settings = settings
        self.port = port or settings.bi_port
        self.home = settings.state_dir / "superset"
        self.venv = settings.bi_venv
        self.external = url is not None
        self.url = (url or f"http://127.0.0.1:{self.port}").rstrip("/")

    # -- files -----------------------------------------------------------------------
    @property
    def lock_file(self) -> Path:
        return self.settings.project_dir / "requirements-bi.lock"

    @property
    def config_file(self) -> Path:
        return self.settings.project_dir / "bi" / "superset" / "superset_config.py"

    @property
    def assets_dir(self) -> Path:
        return self.settings.project_dir / "bi" / "superset" / "assets"

    @property
    def log_file(self) -> Path:
        return self.home / "superset.log"

    @property
    def pid_file(self) -> Path:
        return self.home / "gunicorn.pid"

    @property
    def admin_password_file(self) -> Path:
        return self.home / "admin.password"

    def _secret(self, path: Path, nbytes: int = 32) -> tuple[str, bool]:
        """A generated secret kept with mode 0600; True when it was just created."""
        if path.exists():
            return path.read_text().strip(), False
        path.parent.mkdir(parents=True, exist_ok=True)
        value = secrets.token_urlsafe(nbytes)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(value + "\n")
        return value, True

    def env(self) -> dict[str, str]:
        keep = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
        return {
            **keep,
            "SUPERSET_CONFIG_PATH": str(self.config_file),
            "PINGAN_SUPERSET_HOME": str(self.home),
            "SUPERSET_HOME": str(self.home),
            "FLASK_APP": "superset.app:create_app()",
            "PATH": f"{self.venv / 'bin'}:{os.environ.get('PATH', '')}",
        }

    # -- the venv and the metadata ---------------------------------------------------
    def ensure_venv(self) -> bool:
        """Install ``.venv-bi`` from the lock file when it is missing or older than the
        lock; True when it installed."""
        stamp = self.venv / ".installed-lock"
        digest = hashlib.sha256(self.lock_file.read_bytes()).hexdigest()
        if stamp.exists() and stamp.read_text() == digest:
            return False
        uv = Path(sys.executable).parent / "uv"
        if not (self.venv / "bin" / "python").exists():
            subprocess.run([sys.executable, "-m", "venv", str(self.venv)], check=True)
        installer = (
            [str(uv), "pip", "install", "-q", "-p", str(self.venv / "bin" / "python")]
            if uv.exists()
            else [str(self.venv / "bin" / "pip"), "install", "-q", "--disable-pip-version-check"]
        )
        proc = subprocess.run(
            [*installer, "-r", str(self.lock_file)], capture_output=True, text=True
        )
        if proc.returncode != 0:
            raise SupersetError(
                f"installing {self.lock_file.name} into {self.venv} failed:\n{proc.stderr[-2000:]}"
            )
        stamp.write_text(digest)
        return True

    def _superset(self, *args: str) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            [str(self.venv / "bin" / "superset"), *args],
            env=self.env(), capture_output=True, text=True, cwd=self.home,
        )  # fmt: skip
        with self.log_file.open("a") as handle:
            handle.write(f"$ superset {' '.join(args)}\n{proc.stdout}{proc.stderr}\n")
        return proc

    def ensure_metadata(self) -> str | None:
        """Migrate the metadata database, create the admin once and sync the roles;
        returns the admin password when it was just created (printed once)."""
        self.home.mkdir(parents=True, exist_ok=True)
        self._secret(self.home / "secret_key", 42)
        password, created = self._secret(self.admin_password_file, 12)
        stamp = self.home / ".initialised"
        version = hashlib.sha256(self.lock_file.read_bytes()).hexdigest()
        if stamp.exists() and stamp.read_text() == version and not created:
            return None
        for args in (
            ("db", "upgrade"),
            ("fab", "create-admin", "--username", ADMIN, "--firstname", "平安办",
             "--lastname", "管理员", "--email", "admin@pingan.local", "--password", password),
            ("init",),
        ):  # fmt: skip
            proc = self._superset(*args)
            if proc.returncode != 0:
                raise SupersetError(f"`superset {args[0]}` failed: see {self.log_file}")
        stamp.write_text(version)
        return password if created else None

    # -- the server ------------------------------------------------------------------
    def running_pid(self) -> int | None:
        try:
            pid = int(self.pid_file.read_text().strip())
            os.kill(pid, 0)
        except (FileNotFoundError, ValueError, ProcessLookupError):
            return None
        return pid

    def healthy(self) -> bool:
        try:
            return httpx.get(f"{self.url}/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def start(self, timeout: float = 180) -> None:
        if self.running_pid() and self.healthy():
            return
        self.stop()
        from pingan_transforms.warehouse.embedded import port_free

        if not port_free(self.port):
            raise SupersetError(
                f"port {self.port} on 127.0.0.1 is taken by another program: "
                "choose another with --port (or PINGAN_BI_PORT)"
            )
        self.home.mkdir(parents=True, exist_ok=True)
        with self.log_file.open("a") as handle:
            subprocess.Popen(
                [str(self.venv / "bin" / "gunicorn"), "--bind", f"127.0.0.1:{self.port}",
                 "--workers", "2", "--threads", "4", "--timeout", "120",
                 "--pid", str(self.pid_file), "superset.app:create_app()"],
                env=self.env(), cwd=self.home, stdout=handle, stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: --stop ends it whole
            )  # fmt: skip
        self.wait_until_healthy(timeout)

    def wait_until_healthy(self, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.healthy():
                return
            time.sleep(1)
        where = "its container's log" if self.external else str(self.log_file)
        raise SupersetError(
            f"Superset did not answer on {self.url} within {timeout:.0f} s: see {where}"
        )

    def stop(self) -> bool:
        pid = self.running_pid()
        if pid is None:
            return False
        try:
            os.killpg(os.getpgid(pid), signal.SIGTERM)
        except ProcessLookupError:
            return False
        for _ in range(100):
            if self.running_pid() is None:
                break
            time.sleep(0.1)
        self.pid_file.unlink(missing_ok=True)
        return True

    # -- the REST API ----------------------------------------------------------------
    def admin_password(self) -> str:
        given = self.settings.bi_admin_password
        if given is not None:
            return given.get_secret_value()
        if self.external:
            raise ConfigError(
                f"Superset at {self.url} is not this machine's: set PINGAN_BI_ADMIN_PASSWORD "
                "to its admin's password (the compose stack's SUPERSET_ADMIN_PASSWORD)"
            )
        return self.admin_password_file.read_text().strip()

    def client(self) -> httpx.Client:
        """A client logged in as the admin, with the CSRF token the API wants on writes."""
        password = self.admin_password()
        client = httpx.Client(base_url=self.url, timeout=120)
        answer = client.post(
            "/api/v1/security/login",
            json={"username": ADMIN, "password": password, "provider": "db", "refresh": False},
        )
        if answer.status_code != 200:
            raise SupersetError(
                f"Superset refused the admin login ({answer.status_code}): {answer.text[:300]}"
            )
        client.headers["Authorization"] = f"Bearer {answer.json()['access_token']}"
        csrf = client.get("/api/v1/security/csrf_token/")
        csrf.raise_for_status()
        client.headers["X-CSRFToken"] = csrf.json()["result"]
        client.headers["Referer"] = self.url
        return client

    def provision(self, login: BiLogin) -> dict[str, object]:
        """Import the assets (overwriting what an earlier import made) and return what
        was provisioned: the dashboard's URL and its charts."""
        from pingan_transforms.bi import assets as bundles

        assets = bundles.load_assets(self.assets_dir)
        descriptions = bundles.dbt_column_descriptions(
            self.settings.dbt_project_dir / "models" / "marts"
        )
        reader = _WarehouseReader(login)
        client = self.client()
        try:
            known: dict[str, int] = {}
            for _ in range(2):
                bundle = bundles.build_bundle(
                    assets, sqlalchemy_uri=login.masked_uri, read_columns=reader.columns,
                    descriptions=descriptions, grade_colours=reader.grade_colours(),
                    chart_ids=known,
                )  # fmt: skip
                answer = client.post(
                    "/api/v1/assets/import/",
                    files={"bundle": ("bundle.zip", bundles.zip_bundle(bundle), "application/zip")},
                    data={
                        "passwords": json.dumps({bundles.DATABASE_FILE: login.password}),
                        "overwrite": "true",
                    },
                )
                if answer.status_code != 200:
                    raise SupersetError(
                        f"Superset refused the assets ({answer.status_code}): {answer.text[:2000]}"
                    )
                charts = self.dashboard_charts(client)
                given = {uuid: chart_id for uuid, (chart_id, _) in charts.items()}
                if given == known:
                    break
                known = given  # a first import: again, with the ids it gave
        finally:
            client.close()
        return {
            "dashboard": f"{self.url}/superset/dashboard/{DASHBOARD_SLUG}/",
            "charts": sorted(name for _, name in charts.values()),
        }

    def dashboard_charts(self, client: httpx.Client) -> dict[str, tuple[int, str]]:
        """The dashboard's charts: uuid -> (id, name)."""
        answer = client.get(f"/api/v1/dashboard/{DASHBOARD_SLUG}/charts")
        answer.raise_for_status()
        charts = {}
        for chart in answer.json()["result"]:
            detail = client.get(f"/api/v1/chart/{chart['id']}", params={"q": "(columns:!(uuid))"})
            detail.raise_for_status()
            charts[str(detail.json()["result"]["uuid"])] = (chart["id"], chart["slice_name"])
        return charts

    def database_id(self, client: httpx.Client) -> int:
        """The id Superset gave the warehouse connection of the bundle."""
        import yaml

        from pingan_transforms.bi.assets import DATABASE_FILE

        uuid = str(yaml.safe_load((self.assets_dir / DATABASE_FILE).read_text())["uuid"])
        answer = client.get("/api/v1/database/", params={"q": "(columns:!(id,uuid))"})
        answer.raise_for_status()
        for database in answer.json()["result"]:
            if database["uuid"] == uuid:
                return int(database["id"])
        raise SupersetError(f"Superset has no database {uuid}: run `pingan bi` to provision it")


class _WarehouseReader:
    """Reads what the datasets need from the warehouse, as the BI role (so a dataset over
    a table the role may not read fails here, naming it, not in a chart later)."""

    def __init__(self, login: BiLogin) -> None:
        self.login = login

    def _connect(self):
        import psycopg

        return psycopg.connect(
            host=self.login.host, port=self.login.port, dbname=self.login.dbname,
            user=self.login.user, password=self.login.password, autocommit=True,
        )  # fmt: skip

    def columns(self, schema: str, table: str | None, sql: str | None):
        from psycopg import sql as pgsql

        from pingan_transforms.bi.assets import Column

        if table:
            query = pgsql.SQL("select * from {}.{} limit 0").format(
                pgsql.Identifier(schema), pgsql.Identifier(table)
            )
        else:
            query = pgsql.SQL("select * from ({}) as dataset limit 0").format(pgsql.SQL(sql or ""))
        with self._connect() as conn, conn.cursor() as cur:
            try:
                cur.execute(query)
            except Exception as exc:
                raise SupersetError(
                    f"the dataset {table or 'query'} cannot be read as {self.login.user}: {exc}"
                ) from exc
            found = []
            for column in cur.description or []:
                info = conn.adapters.types.get(column.type_code)
                type_name = (info.name if info else "text").upper()
                found.append(Column(column.name, type_name, type_name in _TEMPORAL))
            return found

    def grade_colours(self) -> list[tuple[str, str]]:
        with self._connect() as conn:
            rows = conn.execute(
                "select distinct grade, grade_colour from marts.region_index_published "
                "where grade is not null and grade_colour is not null order by 1, 2"
            ).fetchall()
        return [(grade, colour) for grade, colour in rows]


_TEMPORAL = {"DATE", "TIMESTAMP", "TIMESTAMPTZ"}
