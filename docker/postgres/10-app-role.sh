#!/bin/sh
# The database role web, worker and beat connect as: it reads and writes rows but owns nothing, so it
# can neither drop nor disable the append-only triggers (registrar/append_only.py), nor TRUNCATE, nor
# change the schema. The tables belong to $POSTGRES_USER, as which the `migrate` service runs.
#
# docker-compose.yml mounts this folder as /docker-entrypoint-initdb.d: the postgres image runs this
# script once, when it creates an empty data directory, before any migration. On a database that
# exists already run it by hand once (then restart web, worker and beat with the app role's URL):
#   docker compose exec postgres sh /docker-entrypoint-initdb.d/10-app-role.sh
# tests/test_database_roles.py runs it against a throwaway database.
set -e
app="${REGISTRAR_DB_APP_USER:-registrar_app}"
if [ -z "$REGISTRAR_DB_APP_PASSWORD" ]; then
    echo "10-app-role.sh: set REGISTRAR_DB_APP_PASSWORD" >&2
    exit 1
fi
psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
     -v owner="$POSTGRES_USER" -v app="$app" -v app_password="$REGISTRAR_DB_APP_PASSWORD" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION', :'app')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'app') \gexec
SELECT format('ALTER ROLE %I PASSWORD %L', :'app', :'app_password') \gexec
SELECT format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO %I', current_database(), :'app') \gexec
GRANT USAGE ON SCHEMA public TO :"app";
-- Rows of every table, those that exist and those the owner's migrations create later. TRUNCATE,
-- REFERENCES, TRIGGER and every change of the schema stay with the owner; on the append-only logs
-- the triggers refuse UPDATE and DELETE whoever asks.
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO :"app";
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO :"app";
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO :"app";
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public
    GRANT USAGE, SELECT ON SEQUENCES TO :"app";
SQL
