"""Database outages under a running poller: prices expected, stored, lost, duplicated.

PostgreSQL runs in a cluster of its own (pg_createcluster, as root; dropped at the
end), never the main one. `stockstreamer poll` polls the simulated market every
second; the cluster is stopped for each outage length and started again. Printed
per outage: the seconds of prices expected around it, stored, lost, duplicated,
and the time from the database back to the first price written.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import create_engine, func, select, text

from db.migrate import upgrade
from db.models import PriceTick

ROOT = Path(__file__).resolve().parent.parent
CLUSTER, PORT = "stockstreamer_faults", 5439
URL = f"postgresql+psycopg2://faults:faults@127.0.0.1:{PORT}/faults"
SYMBOLS = "AAPL,AMZN,GE,INTC,NFLX,NVDA"
SETTLE = 12.0  # seconds of polling before each outage, and at least after it


def sh(*command: str) -> None:
    subprocess.run(command, check=True, capture_output=True)


def cluster(action: str) -> None:
    sh("pg_ctlcluster", "15", CLUSTER, action, *(["-m", "fast"] if action == "stop" else []))


def make_cluster() -> None:
    sh("pg_createcluster", "15", CLUSTER, "-p", str(PORT))
    cluster("start")
    psql = ["su", "postgres", "-c"]
    port = f"psql -p {PORT} -qc"
    sh(*psql, f"{port} \"CREATE ROLE faults LOGIN PASSWORD 'faults'\"")
    sh(*psql, f'{port} "CREATE DATABASE faults OWNER faults"')


def drop_cluster() -> None:
    subprocess.run(["pg_dropcluster", "--stop", "15", CLUSTER], capture_output=True)


def stored_seconds(engine, start: datetime, end: datetime) -> tuple[dict[str, set], int]:
    """Each symbol's stored whole seconds in [start, end], and rows stored twice (0 by design)."""
    with engine.connect() as connection:
        rows = connection.execute(
            select(PriceTick.symbol, PriceTick.observed_at).where(
                PriceTick.observed_at >= start, PriceTick.observed_at <= end
            )
        ).all()
        twice = connection.execute(
            text(
                "SELECT count(*) FROM (SELECT symbol, observed_at FROM price_ticks "
                "GROUP BY symbol, observed_at HAVING count(*) > 1) AS d"
            )
        ).scalar()
    seconds: dict[str, set] = {s: set() for s in SYMBOLS.split(",")}
    for symbol, at in rows:
        seconds[symbol].add(int(at.timestamp()))
    return seconds, int(twice or 0)


def first_write_after(engine, moment: datetime, timeout: float = 120.0) -> float | None:
    """Seconds from `moment` until a price fetched after it is stored."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with engine.connect() as connection:
                newest = connection.execute(select(func.max(PriceTick.fetched_at))).scalar()
            if newest is not None and newest > moment:
                return (datetime.now(timezone.utc) - moment).total_seconds()
        except Exception:  # still starting
            pass
        time.sleep(0.2)
    return None


def run_outage(seconds: float, buffer_seconds: float, after: float) -> dict[str, object]:
    env = {
        **os.environ,
        "DATABASE_URL": URL,
        "STOCKSTREAMER_SYMBOLS": SYMBOLS,
        "STOCKSTREAMER_PRICE_INTERVAL": "1",
        "STOCKSTREAMER_HISTORY_DAYS": "0.01",
        "STOCKSTREAMER_OUTAGE_BUFFER_SECONDS": str(buffer_seconds),
        "STOCKSTREAMER_LOG_LEVEL": "WARNING",
    }
    cli = Path(sys.executable).with_name("stockstreamer")
    poller = subprocess.Popen([str(cli), "poll"], cwd=ROOT, env=env, stderr=subprocess.PIPE)
    engine = create_engine(URL, connect_args={"connect_timeout": 3})
    try:
        time.sleep(SETTLE)
        down = datetime.now(timezone.utc)
        cluster("stop")
        time.sleep(seconds)
        cluster("start")
        back = datetime.now(timezone.utc)
        to_first = first_write_after(engine, back)
        time.sleep(after)  # past the buffer, the gap fill (checked every 30 s) must be in
        whole = lambda at: at.replace(microsecond=0)  # noqa: E731 — prices come at whole seconds
        window = (whole(down - timedelta(seconds=5)), whole(back + timedelta(seconds=5)))
        stored, twice = stored_seconds(engine, *window)
    finally:
        poller.terminate()
        poller.wait(timeout=30)
        engine.dispose()
    expected = int(window[1].timestamp()) - int(window[0].timestamp()) + 1
    counts = [len(s) for s in stored.values()]
    first, last = int(window[0].timestamp()), int(window[1].timestamp())
    missing = sorted(
        {
            t - int(down.timestamp())
            for got in stored.values()
            for t in range(first, last + 1)
            if t not in got
        }
    )
    return {
        "outage": seconds,
        "buffer": buffer_seconds,
        "expected": expected * len(counts),
        "stored": sum(counts),
        "lost": sum(expected - c for c in counts),
        "duplicated": twice,
        "first write": to_first,
        "missing": missing,  # seconds after the outage began with a symbol's price missing
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--outages", default="5,60", help="outage lengths in seconds")
    parser.add_argument("--buffer", type=float, default=600.0, help="outage buffer seconds")
    parser.add_argument("--after", type=float, default=SETTLE, help="seconds polled after")
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("needs root: it makes and drops a PostgreSQL cluster of its own")
        return 1
    drop_cluster()
    make_cluster()
    try:
        upgrade(URL)
        results = []
        for outage in [float(x) for x in args.outages.split(",")]:
            print(f"outage of {outage:g} s …", flush=True)
            results.append(run_outage(outage, args.buffer, args.after))
    finally:
        drop_cluster()
    print(
        f"\n{'outage':>8} {'buffer':>8} {'expected':>9} {'stored':>7} {'lost':>5} "
        f"{'duplicated':>10} {'db back → first write':>22}"
    )
    for r in results:
        first = "—" if r["first write"] is None else f"{r['first write']:.1f} s"
        print(
            f"{r['outage']:>7g}s {r['buffer']:>7g}s {r['expected']:>9} {r['stored']:>7} "
            f"{r['lost']:>5} {r['duplicated']:>10} {first:>22}"
        )
    print("(expected: each symbol's whole seconds from 5 s before the outage to 5 s after it)")
    for r in results:
        if r["missing"]:
            print(f"  {r['outage']:g} s outage: seconds missing (from its start): {r['missing']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
