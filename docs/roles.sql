-- stockstreamer's PostgreSQL roles and database, least privilege (docs/deploy-ec2.md, section 3).
-- Run once as the superuser, the names as psql variables and the two passwords on standard
-- input (one a line, never on a command line):
--
--   printf '%s\n%s\n' "$migrate_pw" "$runtime_pw" | sudo -u postgres psql -v ON_ERROR_STOP=1 \
--       -v migrator=stockstreamer_migrate -v runtime=stockstreamer -v database=stockstreamer \
--       -f docs/roles.sql
--
-- tests/db/test_roles.py applies this very file and checks what each role can and cannot do.

\prompt 'password of the migration role: ' migrator_password
\prompt 'password of the runtime role: ' runtime_password

-- The migration role owns the database and its schema: it alone creates, alters and drops.
CREATE ROLE :"migrator" LOGIN PASSWORD :'migrator_password';
-- The runtime role (the service) reads and writes rows, nothing else.
CREATE ROLE :"runtime" LOGIN PASSWORD :'runtime_password';
CREATE DATABASE :"database" OWNER :"migrator";

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
-- Tables already there (a database migrated before these roles existed, once REASSIGN OWNED
-- made the migration role their owner) get the same rights.
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO :"runtime";
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO :"runtime";

-- The poller's advisory locks (pg_try_advisory_lock, pg_advisory_xact_lock) and pg_locks are
-- PUBLIC's by default: nothing to grant.
