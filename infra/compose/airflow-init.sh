#!/usr/bin/env bash
# The airflow-init service of docker-compose.yml: runs once, before every other Airflow
# service starts (they wait for it with condition: service_completed_successfully).
# It does what the official Airflow 3 docker-compose.yaml's airflow-init does that applies
# to this image (which has no /entrypoint of its own):
#   - warns when Docker has too little memory or CPU for Airflow;
#   - `airflow db migrate` (the official image's _AIRFLOW_DB_MIGRATE);
#   - the admin log-in (the official _AIRFLOW_WWW_USER_CREATE): Airflow 3's default
#     SimpleAuthManager reads its users' passwords from a JSON file, written here from
#     AIRFLOW_ADMIN_PASSWORD for the user named in [core] simple_auth_manager_users;
#     the api-server would otherwise invent a password and print it in its log.
# No chown: the container runs unprivileged and the named volumes take the ownership
# of the image's folders (infra/Dockerfile).
set -euo pipefail

: "${AIRFLOW_ADMIN_PASSWORD:?set AIRFLOW_ADMIN_PASSWORD in .env (the Airflow UI admin password)}"
: "${AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS:?set in docker-compose.yml (x-airflow-common)}"
: "${AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE:?set in docker-compose.yml (x-airflow-common)}"

mem_mb=$(( $(getconf _PHYS_PAGES) * $(getconf PAGE_SIZE) / 1048576 ))
cpus=$(getconf _NPROCESSORS_ONLN)
if (( mem_mb < 4000 )); then
    echo "WARNING: Docker has ${mem_mb} MB of memory; Airflow wants at least 4 GB." >&2
fi
if (( cpus < 2 )); then
    echo "WARNING: Docker has ${cpus} CPU; Airflow wants at least 2." >&2
fi

echo "Airflow $(airflow version)"
mkdir -p "${AIRFLOW_HOME:?}/logs"
if [[ ! -w "${AIRFLOW_HOME}/logs" ]]; then
    echo "ERROR: ${AIRFLOW_HOME}/logs is not writable by $(id -un) (uid $(id -u)); the volume" \
         "was created by another image: docker compose down -v, then up again." >&2
    exit 1
fi

airflow db migrate

umask 077
python - <<'PY'
import json
import os

users = os.environ["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"]
admin = users.split(",")[0].split(":")[0].strip()
path = os.environ["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"]
with open(path, "w") as stream:
    json.dump({admin: os.environ["AIRFLOW_ADMIN_PASSWORD"]}, stream)
    stream.write("\n")
os.chmod(path, 0o600)
print(f"Airflow UI user {admin!r}: password from AIRFLOW_ADMIN_PASSWORD ({path})")
PY
