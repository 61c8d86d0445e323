-- The dunning database, one LOGIN role per service and one schema per service owned by it; nothing is
-- granted across schemas and the public schema is closed. Safe to run again (it also rotates passwords).
-- The same rules as dunning_platform.devstack.bootstrap, for servers the dev stack does not manage.
-- Run as a superuser with psql -v database=dunning -v <service>_password=... (see bootstrap.sh).

\set ON_ERROR_STOP on
SET client_min_messages = warning;

CREATE TEMPORARY TABLE service_roles (role text, schema text, password text);
INSERT INTO service_roles VALUES
    ('ingestion_svc', 'ingestion', :'ingestion_password'),
    ('scheduler_svc', 'scheduler', :'scheduler_password'),
    ('notification_svc', 'notification', :'notification_password'),
    ('legal_svc', 'legal', :'legal_password');

SELECT format('CREATE ROLE %I', role) FROM service_roles
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = role)
\gexec

-- No superuser, no role or database creation: a service can only use what it owns.
SELECT format('ALTER ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT PASSWORD %L', role, password),
       format('ALTER ROLE %I SET search_path = %I', role, schema)
FROM service_roles
\gexec

SELECT format('CREATE DATABASE %I', :'database')
WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'database')
\gexec

SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', :'database')
\gexec
-- TEMPORARY is session-private, so it cannot leak between services; CREATE (new schemas) is not given.
SELECT format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO %I', :'database', role) FROM service_roles
\gexec

-- Temporary tables live per session: copy the list before switching databases.
SELECT string_agg(format('(%L, %L)', role, schema), ', ') AS owned FROM service_roles
\gset

\connect :database
SET client_min_messages = warning;

REVOKE ALL ON SCHEMA public FROM PUBLIC;

SELECT format('CREATE SCHEMA IF NOT EXISTS %I AUTHORIZATION %I', schema, role),
       format('ALTER SCHEMA %I OWNER TO %I', schema, role),
       format('REVOKE ALL ON SCHEMA %I FROM PUBLIC', schema)
FROM (VALUES :owned) AS owned(role, schema)
\gexec
