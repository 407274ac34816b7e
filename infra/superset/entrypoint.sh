#!/usr/bin/env bash
# The superset service of docker-compose.yml (profile bi), as `pingan bi` runs Superset
# locally (pingan_transforms/bi/superset.py): the metadata migrated, the admin created
# once, the roles synced, then gunicorn. Secrets come from the environment; compose
# interpolates every profile, so they are checked here rather than with ${VAR:?}.
set -euo pipefail

: "${SUPERSET_SECRET_KEY:?set SUPERSET_SECRET_KEY in .env (32+ random characters) for docker compose --profile bi}"
: "${SUPERSET_ADMIN_PASSWORD:?set SUPERSET_ADMIN_PASSWORD in .env for docker compose --profile bi}"
if (( ${#SUPERSET_SECRET_KEY} < 32 )); then
    echo "SUPERSET_SECRET_KEY must have at least 32 characters" >&2
    exit 1
fi

home="${PINGAN_SUPERSET_HOME:?}"
umask 077
printf '%s\n' "$SUPERSET_SECRET_KEY" > "$home/secret_key"

superset db upgrade
# the password through the prompt (stdin), not on a command line `ps` shows
if ! superset fab list-users 2>/dev/null | grep -q "username:admin "; then
    printf '%s\n%s\n' "$SUPERSET_ADMIN_PASSWORD" "$SUPERSET_ADMIN_PASSWORD" |
        superset fab create-admin --username admin --firstname 平安办 --lastname 管理员 \
            --email admin@pingan.local
else
    printf '%s\n%s\n' "$SUPERSET_ADMIN_PASSWORD" "$SUPERSET_ADMIN_PASSWORD" |
        superset fab reset-password --username admin
fi
superset init
exec gunicorn --bind 0.0.0.0:8088 --workers 2 --threads 4 --timeout 120 \
    "superset.app:create_app()"
