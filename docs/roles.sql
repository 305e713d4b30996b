-- stockstreamer's PostgreSQL roles and database, least privilege (docs/deploy-ec2.md, section 4).
-- Run once as the superuser, the names as psql variables and the two passwords on standard
-- input (one a line, never on a command line):
--
--   printf '%s\n%s\n' "$migrate_pw" "$runtime_pw" | sudo -u postgres psql -v ON_ERROR_STOP=1 \
--       -v migrator=stockstreamer_migrate -v runtime=stockstreamer -v database=stockstreamer \
--       -f docs/roles.sql
--
-- tests/db/test_roles.py applies this very file and checks what each role can and cannot do.
-- The rights are in docs/grants.sql, included at the end (and run alone for an older database).

\prompt 'password of the migration role: ' migrator_password
\prompt 'password of the runtime role: ' runtime_password

-- The migration role owns the database and its schema: it alone creates, alters and drops.
CREATE ROLE :"migrator" LOGIN PASSWORD :'migrator_password';
-- The runtime role (the service) reads and writes rows, nothing else.
CREATE ROLE :"runtime" LOGIN PASSWORD :'runtime_password';
CREATE DATABASE :"database" OWNER :"migrator";

\ir grants.sql
