#!/bin/sh
# The role the app connects as (DATABASE_URL in docker-compose.yml). At every start the app migrates
# as POSTGRES_USER (DATABASE_OWNER_URL), which owns the schema, and grants this role what it needs:
# read the event log and append to it, build its read models; never change or remove an event.
#
# The postgres image runs this once, when it initialises an empty data volume. On a volume
# initialised before (an upgrade), or to change the password, run it again:
#   sudo docker compose exec postgres sh /docker-entrypoint-initdb.d/10-topicdesk-app-role.sh
set -e
: "${POSTGRES_APP_PASSWORD:?set POSTGRES_APP_PASSWORD in .env (the password of the role topicdesk_app)}"
psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  --set=app_password="$POSTGRES_APP_PASSWORD" <<'SQL'
SELECT 'CREATE ROLE topicdesk_app LOGIN'
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'topicdesk_app') \gexec
ALTER ROLE topicdesk_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
  PASSWORD :'app_password';
SQL
