"""Database faults under the running service: prices lost, the page's messages, /healthz, /readyz.

PostgreSQL runs in a cluster of its own (pg_createcluster, as root; dropped at the
end, also on errors, Ctrl-C or SIGTERM), never the main one. For each fault a
fresh gunicorn (gunicorn.conf.py, 2 workers, the elected poller polling the
simulated market every second) serves the page, open in headless Chromium, while
/healthz and /readyz are probed. The database is shut down ("stop") or hung with
SIGSTOP ("hang") for the fault's length, then started or resumed. Printed per
fault: prices expected, stored, lost and duplicated around it; the time from the
database back to the first write; when the page's outage messages showed and
cleared; the probes' latency and statuses during the fault (fault_report.py).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.own_postgres, conftest

from browser_server import served
from fault_page import PageWatch
from fault_probes import Prober, first_write_after, stored_seconds
from fault_report import Fault, Row, print_table
from sqlalchemy import create_engine

from db.migrate import upgrade
from jobs.scheduler import HISTORY_CHECK
from tests.app.conftest import _find
from tests.own_postgres import OwnPostgres

CLUSTER, PORT = "stockstreamer_faults", 5439
SYMBOLS = ["AAPL", "AMZN", "GE", "INTC", "NFLX", "NVDA"]
SETTLE = 12.0  # seconds of polling before each fault, and at least after it
MARGIN = 5  # whole seconds counted on each side of the fault
SERVER_ENV = {
    "STOCKSTREAMER_WEB_POLLS": "true",
    "STOCKSTREAMER_PRICE_INTERVAL": "1",
    "STOCKSTREAMER_REFRESH_INTERVAL": "5",
    "STOCKSTREAMER_HISTORY_DAYS": "0.01",
    "STOCKSTREAMER_LOG_LEVEL": "WARNING",
}


def parse_faults(outages: str, hangs: str, buffer: float) -> list[Fault]:
    """The faults of "--outages 5,60,60/20": 5 s and 60 s with `buffer`, 60 s with 20 s."""
    faults = []
    for kind, spec in (("stop", outages), ("hang", hangs)):
        for item in filter(None, spec.split(",")):
            seconds, _, own_buffer = item.partition("/")
            faults.append(Fault(kind, float(seconds), float(own_buffer or buffer)))
    return faults


def run_fault(cluster: OwnPostgres, fault: Fault, after: float, page: PageWatch | None) -> Row:
    env = {**SERVER_ENV, "STOCKSTREAMER_OUTAGE_BUFFER_SECONDS": f"{fault.buffer:g}"}
    # Past the buffer the gap is the provider's to fill: give the history check its turn.
    after = max(after, HISTORY_CHECK + SETTLE if fault.seconds > fault.buffer else 0)
    engine = create_engine(cluster.url, connect_args={"connect_timeout": 3})
    try:
        with served(cluster.url, SYMBOLS, env) as base:
            if page is not None:
                page.open(base)
            prober = Prober(base).start()
            try:
                time.sleep(SETTLE)
                with cluster.stopped() if fault.kind == "stop" else cluster.frozen():
                    down = time.time()  # down from here: `pg_ctlcluster stop` has returned
                    time.sleep(fault.seconds)
                    restarting = time.time()  # `start` takes a moment; it answers before its end
                back = time.time()
                to_first = first_write_after(engine, _utc(back))
                if page is not None:
                    page.clear_after(back, timeout=60)
                time.sleep(max(0.0, back + after - time.time()))
            finally:
                prober.stop()
            timings = page.timings(down, back) if page is not None else {}
        first, last = int(down) - MARGIN, int(back) + 1 + MARGIN  # whole seconds, both in
        stored, twice = stored_seconds(engine, SYMBOLS, _utc(first), _utc(last))
    finally:
        engine.dispose()
    span = range(first, last + 1)
    missing = sorted({t - int(down) for got in stored.values() for t in span if t not in got})
    ready = [p for p in prober.probes["readyz"] if p.sent >= back and p.status == "200"]
    return Row(
        fault,
        expected=len(span) * len(SYMBOLS),
        stored=sum(len(s) for s in stored.values()),
        duplicated=twice,
        first_write=to_first,
        missing=missing,
        page=timings,
        healthz=prober.during("healthz", down, restarting),
        readyz=prober.during("readyz", down, restarting),
        ready_again=(ready[0].sent + ready[0].seconds - back) if ready else None,
        load=os.getloadavg()[0],
    )


def _utc(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, tz=timezone.utc)


def _interrupted(signum, frame):
    raise KeyboardInterrupt  # SIGTERM ends the run like Ctrl-C: the finally blocks drop all


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--outages", default="5,60,60/20", help="shutdowns in s, each /BUFFER s if not --buffer"
    )
    parser.add_argument("--hangs", default="30", help="hangs (SIGSTOP) in s, '' for none")
    parser.add_argument("--buffer", type=float, default=600.0, help="outage buffer seconds")
    parser.add_argument("--after", type=float, default=SETTLE, help="seconds polled after")
    parser.add_argument("--no-browser", action="store_true", help="skip the page's columns")
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("needs root: it makes and drops a PostgreSQL cluster of its own")
        return 1
    paths = (
        _find("STOCKSTREAMER_TEST_CHROMIUM", ("chromium", "chromium-browser")),
        _find("STOCKSTREAMER_TEST_CHROMEDRIVER", ("chromedriver",)),
    )
    if not args.no_browser and not all(paths):
        print("needs chromium and chromedriver (or --no-browser)")
        return 1
    signal.signal(signal.SIGTERM, _interrupted)
    cluster = OwnPostgres(CLUSTER, PORT)
    cluster.drop()  # what a killed run left
    page = None
    rows = []
    try:
        cluster.start()
        upgrade(cluster.url)
        page = None if args.no_browser else PageWatch(*paths)
        for fault in parse_faults(args.outages, args.hangs, args.buffer):
            print(f"{fault.label} (buffer {fault.buffer:g} s) …", flush=True)
            rows.append(run_fault(cluster, fault, args.after, page))
    finally:
        if page is not None:
            page.close()
        cluster.drop()
    print_table(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
