-- The runtime role's rights on the database of the migration role (docs/roles.sql includes
-- this file). Alone, for a database whose one role owned everything, once
-- `REASSIGN OWNED BY <runtime> TO <migrator>` made the migration role the owner (deploy-ec2.md):
--
--   sudo -u postgres psql -v ON_ERROR_STOP=1 -v migrator=stockstreamer_migrate \
--       -v runtime=stockstreamer -v database=stockstreamer -f docs/grants.sql

-- PUBLIC may connect to and make temporary tables in any new database: only the two roles may
-- connect here, and the runtime role makes no temporary table.
REVOKE ALL ON DATABASE :"database" FROM PUBLIC;
GRANT CONNECT ON DATABASE :"database" TO :"runtime";

\connect :"database"
-- PostgreSQL 15 and later no longer let PUBLIC create in schema public; earlier ones did.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
ALTER SCHEMA public OWNER TO :"migrator";
GRANT USAGE ON SCHEMA public TO :"runtime";

-- Every table and sequence the migration role creates, now or in a later migration, is the
-- runtime role's to read and write rows in. (The tables have natural keys and no sequence
-- today; a later one gets its rights by this line without a change here.)
ALTER DEFAULT PRIVILEGES FOR ROLE :"migrator" IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO :"runtime";
ALTER DEFAULT PRIVILEGES FOR ROLE :"migrator" IN SCHEMA public
    GRANT USAGE, SELECT ON SEQUENCES TO :"runtime";
-- Tables already there (an older database, after REASSIGN OWNED) get the same rights.
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO :"runtime";
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO :"runtime";

-- The poller's advisory locks (pg_try_advisory_lock, pg_advisory_xact_lock) and pg_locks are
-- PUBLIC's by default: nothing to grant.

-- alembic_version is the migration role's alone to write: the runtime role only reads it (the
-- poller checks the schema is current). Each `alembic upgrade` revokes again what the
-- default privileges above give it on a new database (db/migrations/env.py).
SELECT to_regclass('public.alembic_version') IS NOT NULL AS has_version \gset
\if :has_version
REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON public.alembic_version FROM :"runtime";
\endif
