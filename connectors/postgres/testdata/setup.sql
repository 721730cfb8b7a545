-- Provenance: hand-written for Steward's tests; run as the superuser against the real PostgreSQL
-- that internal/pgtest starts, so the connector reads genuine catalog rows (pg_roles,
-- pg_auth_members, ACLs, pg_stat_activity). Passwords are obviously fake test values.
-- Roles are cluster-wide; the database-level statements live in the test (they name the
-- per-test database).

-- group roles: app_rw inherits app_ro (two levels of membership for etl)
CREATE ROLE app_owner NOLOGIN;
CREATE ROLE app_ro NOLOGIN;
CREATE ROLE app_rw NOLOGIN IN ROLE app_ro;

-- login roles
CREATE ROLE etl LOGIN PASSWORD 'fake-etl-password-1' VALID UNTIL '2027-01-31 00:00:00+00' IN ROLE app_rw;
CREATE ROLE reporting LOGIN PASSWORD 'fake-reporting-password-2' IN ROLE app_ro;
CREATE ROLE dba_break_glass LOGIN SUPERUSER PASSWORD 'fake-dba-password-3';
CREATE ROLE repl LOGIN REPLICATION PASSWORD 'fake-repl-password-4' VALID UNTIL 'infinity';
CREATE ROLE tenant_api LOGIN NOINHERIT CREATEROLE BYPASSRLS CONNECTION LIMIT 5 PASSWORD 'fake-tenant-password-5' IN ROLE app_rw;
CREATE ROLE alice LOGIN PASSWORD 'fake-alice-password-6' IN ROLE app_ro;
CREATE ROLE "we""ird/role" LOGIN PASSWORD 'fake-weird-password-7';

-- Steward's own roles: the reader sees sessions through pg_read_all_stats and
-- is nothing else; the actuator may alter roles and acts as app_owner.
CREATE ROLE steward_reader LOGIN PASSWORD 'fake-reader-password-8' IN ROLE pg_read_all_stats;
CREATE ROLE steward_actuator LOGIN CREATEROLE PASSWORD 'fake-actuator-password-9' IN ROLE app_owner;

CREATE SCHEMA app AUTHORIZATION app_owner;
SET ROLE app_owner;
CREATE TABLE app.orders (id bigint PRIMARY KEY, total numeric NOT NULL);
CREATE VIEW app.order_totals AS SELECT sum(total) AS total FROM app.orders;
GRANT USAGE ON SCHEMA app TO app_ro;
GRANT SELECT ON app.orders TO app_ro;
GRANT INSERT, UPDATE, DELETE ON app.orders TO app_rw;
GRANT SELECT ON app.orders TO reporting WITH GRANT OPTION;
GRANT SELECT ON app.order_totals TO reporting;
RESET ROLE;

-- a table the actuator does not own: it holds SELECT without grant option,
-- so its REVOKE of reporting's grant proceeds and revokes nothing
CREATE TABLE app.audit (at timestamptz NOT NULL);
GRANT SELECT ON app.audit TO reporting, steward_actuator;

-- the PUBLIC schema keeps PostgreSQL 15's default ACL (pg_database_owner UC, PUBLIC U)
