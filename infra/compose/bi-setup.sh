#!/usr/bin/env bash
# The bi-setup service of docker-compose.yml (profile "bi"), run on every
# `docker compose --profile bi up` before the BI tool starts: creates, or updates the
# password of, the warehouse log-in user the BI tool reads the marts as, a member of
# pingan_bi_reader (infra/warehouse/013_roles.sql: the marts dbt grants it, nothing else).
# An init script of the warehouse would run only once, on an empty data volume; this
# also applies a changed BI_READER_PASSWORD.
#
# Environment: PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE (the warehouse, as its
# owner), BI_READER_USER (default pingan_bi) and BI_READER_PASSWORD, checked here because
# Compose interpolates every service whatever the profile, so a `${VAR:?}` on the bi
# services would stop the whole stack when BI is not wanted (Superset's own secrets are
# checked by infra/superset/entrypoint.sh).
set -euo pipefail

: "${BI_READER_PASSWORD:?set BI_READER_PASSWORD in .env for docker compose --profile bi}"
export BI_READER_USER="${BI_READER_USER:-pingan_bi}"

# The password travels in the environment (psql \getenv), not on a command line.
psql -v ON_ERROR_STOP=1 --no-psqlrc --quiet -f "$(dirname "$0")/bi_reader_login.sql"
echo "warehouse user ${BI_READER_USER} (pingan_bi_reader) ready for the BI tool"
