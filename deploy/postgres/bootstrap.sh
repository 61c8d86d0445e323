#!/bin/sh
# Prepares PostgreSQL for the four services (deploy/postgres/bootstrap.sql). The server and superuser come
# from PGHOST, PGPORT, PGUSER and PGPASSWORD; each service's password from <SERVICE>_DB_PASSWORD; the
# database is DUNNING_DATABASE (default dunning).
set -eu

: "${INGESTION_DB_PASSWORD:?INGESTION_DB_PASSWORD is required}"
: "${SCHEDULER_DB_PASSWORD:?SCHEDULER_DB_PASSWORD is required}"
: "${NOTIFICATION_DB_PASSWORD:?NOTIFICATION_DB_PASSWORD is required}"
: "${LEGAL_DB_PASSWORD:?LEGAL_DB_PASSWORD is required}"

# The server may still be starting when this runs first.
attempts=0
until pg_isready --quiet --dbname=postgres; do
    attempts=$((attempts + 1))
    [ "$attempts" -lt 60 ] || { echo "PostgreSQL did not become ready" >&2; exit 1; }
    sleep 1
done

exec psql --no-psqlrc --quiet --dbname=postgres \
    -v database="${DUNNING_DATABASE:-dunning}" \
    -v ingestion_password="$INGESTION_DB_PASSWORD" \
    -v scheduler_password="$SCHEDULER_DB_PASSWORD" \
    -v notification_password="$NOTIFICATION_DB_PASSWORD" \
    -v legal_password="$LEGAL_DB_PASSWORD" \
    -f "$(dirname "$0")/bootstrap.sql"
