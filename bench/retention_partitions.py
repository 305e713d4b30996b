"""PostgreSQL: removing a day of ticks by batched deletes against dropping a day's partition.

The same rows are in price_ticks (as the app stores them) and in `ticks_by_day`, a
copy partitioned by range of observed_at, a partition per UTC day. Each arm removes
the oldest day while a writer inserts ticks beside it (the same plain INSERT into
each table, 20 a second), and reports the step's time, what the delete leaves for
VACUUM, and the longest write that ran beside it.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta

from retention_writer import Writer, plain_writer
from sqlalchemy import Engine, text

from core.retention import TICKS, Retention
from db.engine import make_session_factory
from jobs.retention import RetentionPass

PARTITIONED = "ticks_by_day"


def partition_name(day: datetime) -> str:
    return f"{PARTITIONED}_{day:%Y%m%d}"


def make_partitioned_copy(engine: Engine, first: datetime, days: int) -> None:
    """ticks_by_day with a partition per day from `first`, filled with every stored tick."""
    with engine.begin() as connection:
        connection.execute(
            text(
                f"CREATE TABLE {PARTITIONED} (LIKE price_ticks INCLUDING DEFAULTS "
                "INCLUDING CONSTRAINTS) PARTITION BY RANGE (observed_at)"
            )
        )
        connection.execute(text(f"ALTER TABLE {PARTITIONED} ADD PRIMARY KEY (symbol, observed_at)"))
        connection.execute(
            text(
                f"ALTER TABLE {PARTITIONED} ADD FOREIGN KEY (symbol) "
                "REFERENCES stocks (symbol) ON DELETE CASCADE"
            )
        )
        for d in range(days + 2):  # the written days, and room for the writer's ticks
            day, after = first + timedelta(days=d), first + timedelta(days=d + 1)
            connection.execute(
                text(
                    f"CREATE TABLE {partition_name(day)} PARTITION OF {PARTITIONED} "
                    f"FOR VALUES FROM ('{day.isoformat()}') TO ('{after.isoformat()}')"
                )
            )
        connection.execute(text(f"INSERT INTO {PARTITIONED} SELECT * FROM price_ticks"))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(f"VACUUM ANALYZE {PARTITIONED}, price_ticks"))


def table_bytes(engine: Engine, table: str) -> int:
    with engine.connect() as connection:
        return int(
            connection.execute(
                text(
                    "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
                    "LEFT JOIN pg_inherits i ON i.inhrelid = c.oid "
                    "WHERE c.relname = :t OR i.inhparent = CAST(:t AS regclass)"
                ),
                {"t": table},
            ).scalar_one()
        )


def batched_arm(
    engine: Engine, symbols: list[str], day: datetime, batch: int, t0, write=None
) -> dict:
    """The retention job's own pass over price_ticks, removing everything before `day` + 1."""
    retention = Retention({TICKS: 1})  # with the clock two days on: up to the day's end goes
    now = day + timedelta(days=2)
    pause = 0.01 if engine.dialect.name == "sqlite" else 0.0  # as the poller's job pauses
    job = RetentionPass(make_session_factory(engine), retention, batch, lambda: now, pause=pause)
    with Writer(write or plain_writer(engine, "price_ticks"), symbols, t0) as writer:
        began = time.perf_counter()
        result = job.run()
        ended = time.perf_counter()
    began_vacuum = time.perf_counter()
    if engine.dialect.name == "postgresql":  # SQLite reuses the freed pages as they are
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM price_ticks"))
    vacuum = time.perf_counter() - began_vacuum
    longest, median, n = writer.during(began, ended)
    return {
        "arm": f"batched DELETE ({batch} rows a batch, {result.batches} batches)",
        "rows": result.removed.get(TICKS, 0),
        "ms": (ended - began) * 1000,
        "vacuum_ms": vacuum * 1000,
        "longest": longest,
        "median": median,
        "writes": n,
        "baseline": writer.before(began),
    }


def partition_arm(
    engine: Engine, symbols: list[str], first: datetime, t0, concurrently: bool
) -> dict:
    """DETACH (CONCURRENTLY or not) and DROP the oldest day's partition."""
    name = partition_name(first)
    with engine.connect() as connection:
        rows = connection.execute(text(f"SELECT count(*) FROM {name}")).scalar_one()
    with Writer(plain_writer(engine, PARTITIONED), symbols, t0) as writer:
        began = time.perf_counter()
        if concurrently:  # not inside a transaction block
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(
                    text(f"ALTER TABLE {PARTITIONED} DETACH PARTITION {name} CONCURRENTLY")
                )
                connection.execute(text(f"DROP TABLE {name}"))
        else:
            with engine.begin() as connection:
                connection.execute(text(f"ALTER TABLE {PARTITIONED} DETACH PARTITION {name}"))
                connection.execute(text(f"DROP TABLE {name}"))
        ended = time.perf_counter()
    longest, median, n = writer.during(began, ended)
    how = "DETACH … CONCURRENTLY, DROP" if concurrently else "DETACH + DROP in one transaction"
    return {
        "arm": f"partition: {how}",
        "rows": rows,
        "ms": (ended - began) * 1000,
        "vacuum_ms": 0.0,
        "longest": longest,
        "median": median,
        "writes": n,
        "baseline": writer.before(began),
    }
