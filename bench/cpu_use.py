"""Who used the CPU during a run: gunicorn, PostgreSQL, the whole machine (Linux /proc)."""

from __future__ import annotations

import os

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

TICKS = os.sysconf("SC_CLK_TCK")


def own_cpu(pid: int) -> float:
    """CPU seconds used so far by one process (user + system); 0 when it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS


def tree_cpu(pid: int) -> float:
    """CPU seconds used so far by a process and its live descendants (gunicorn and its workers)."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            children = [int(c) for c in f.read().split()]
    except OSError:
        return 0.0
    return own_cpu(pid) + sum(tree_cpu(c) for c in children)


def machine_busy() -> float:
    """CPU seconds every core spent on anything but idling, since boot (/proc/stat)."""
    with open("/proc/stat") as f:
        fields = [int(v) for v in f.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle and iowait
    return (sum(fields[:8]) - idle) / TICKS


def backends(url: str) -> dict[int, float]:
    """The PostgreSQL server processes serving `url`'s database, with their CPU seconds so far."""
    database = make_url(url).database
    engine = create_engine(url, connect_args={"connect_timeout": 5})
    try:
        with engine.connect() as connection:
            pids = connection.execute(
                text(
                    "SELECT pid FROM pg_stat_activity"
                    " WHERE datname = :d AND pid <> pg_backend_pid()"
                ),
                {"d": database},
            ).scalars()
            return {pid: own_cpu(pid) for pid in pids}
    finally:
        engine.dispose()


class CpuUse:
    """CPU seconds used between `__init__` and `split()` by gunicorn, PostgreSQL and the machine."""

    def __init__(self, url: str, server_pid: int) -> None:
        self.url, self.server_pid = url, server_pid
        self.server, self.machine = tree_cpu(server_pid), machine_busy()
        self.postgres = backends(url)

    def split(self) -> dict[str, float]:
        """Seconds per part: "gunicorn", "postgres" (this database's backends), "machine"."""
        server, machine = tree_cpu(self.server_pid) - self.server, machine_busy() - self.machine
        now = backends(self.url)
        # A backend alive at both ends counts its difference; one started since, all of its time
        # (backends that ended meanwhile are lost: SQLAlchemy's pool keeps most of them open).
        postgres = sum(cpu - self.postgres.get(pid, 0.0) for pid, cpu in now.items())
        return {"gunicorn": server, "postgres": postgres, "machine": machine}
