"""A crowd of viewers on gunicorn and PostgreSQL: each loads the page, then ticks every interval.

For each viewer count and with the shared tick reads on and off (STOCKSTREAMER_SHARED_TICKS),
a fresh gunicorn (3 gthread workers, the poller elected among them and writing) serves
viewers that arrive at a steady rate (the ramp), then keep ticking for the measured
window. It prints p50/p95/max per request kind, during the ramp and after it, and errors.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import httpx
from fill_history import TICK, WEEK, fill, seed_stocks, table_counts
from temp_postgres import admin_url, temp_postgres
from viewer_client import KINDS, Recorder, Viewer, client_cpu

from core.settings import DEFAULT_SYMBOLS
from db.engine import make_engine, make_session_factory
from db.migrate import upgrade

ROOT = Path(__file__).resolve().parent.parent
TARGET_TICK_P95, TARGET_FIRST_P95 = 0.250, 1.0  # issue 10, point 4 (at 1,000 viewers)
WARM_UP = 5.0  # seconds after gunicorn first answers


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(url: str, shared: bool, workers: int, threads: int, log, metrics: str) -> tuple:
    """gunicorn on a free port, answering /healthz; returns (process, base URL)."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "PORT": str(port),
        "WEB_CONCURRENCY": str(workers),
        "GUNICORN_THREADS": str(threads),
        "GUNICORN_ACCESS_LOG": "0",
        "STOCKSTREAMER_SHARED_TICKS": "true" if shared else "false",
        "STOCKSTREAMER_LOG_LEVEL": "WARNING",
        "PROMETHEUS_MULTIPROC_DIR": metrics,
    }
    gunicorn = Path(sys.executable).with_name("gunicorn")
    command = [str(gunicorn), "-c", "gunicorn.conf.py", "app.wsgi:server"]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                time.sleep(WARM_UP)  # one worker answered: let the others finish booting too
                return process, base
        except httpx.HTTPError:
            pass
        if process.poll() is not None:
            break
        time.sleep(0.3)
    stop_gunicorn(process)
    raise RuntimeError("gunicorn did not answer /healthz (see the log it wrote)")


def server_cpu(pid: int) -> float:
    """CPU seconds used so far by gunicorn's master and its live workers (Linux /proc)."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            children = [int(c) for c in f.read().split()]
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    own = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return own + sum(server_cpu(c) for c in children)


def stop_gunicorn(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def loop_lag(record: Recorder, stop: asyncio.Event) -> None:
    """How late the load generator's own event loop wakes: its lag is in every time measured."""
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        asked = loop.time()
        await asyncio.sleep(0.1)
        record.add("client lag", asked, loop.time() - asked - 0.1)


async def crowd(base: str, viewers: int, arrivals: float, measure: float, interval: float):
    """Viewers arriving `arrivals` a second, then `measure` s of everyone ticking."""
    limits = httpx.Limits(max_connections=viewers, keepalive_expiry=interval - 1)
    timeout = httpx.Timeout(30.0)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=timeout) as client:
        loop = asyncio.get_running_loop()
        start = loop.time()
        ramp = viewers / arrivals
        record = Recorder(ramp_end=start + ramp, stop_at=start + ramp + measure)
        stop = asyncio.Event()
        tasks = []
        cpu = client_cpu()
        tasks.append(asyncio.create_task(loop_lag(record, stop)))
        for i in range(viewers):
            await asyncio.sleep(max(0.0, start + i / arrivals - loop.time()))
            tasks.append(asyncio.create_task(Viewer(client, "", interval, record).run(stop)))
        await asyncio.sleep(max(0.0, record.stop_at - loop.time()))
        stop.set()
        await asyncio.gather(*tasks)
        busy = (client_cpu() - cpu) / (loop.time() - start)
    return record, ramp, busy


def percentile(ordered: list[float], q: float) -> float:
    """The q-th quantile of sorted values (nearest rank); infinite when there are none."""
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("inf")


def quantiles(values: list[float]) -> str:
    if not values:
        return f"{'-':>7} {'-':>7} {'-':>7} {0:>6}"
    ordered = sorted(values)
    p50, p95, top = (percentile(ordered, 0.5), percentile(ordered, 0.95), ordered[-1])
    return f"{p50 * 1000:7.0f} {p95 * 1000:7.0f} {top * 1000:7.0f} {len(ordered):>6}"


def report(label: str, record: Recorder, ramp: float, busy: float) -> list[str]:
    """The table for one case; returns the target lines."""
    print(f"\n{label}: ramp {ramp:.0f} s; load generator CPU {busy:.0%} of a core")
    print(f"  {'kind':<13} {'phase':<6} {'p50 ms':>7} {'p95 ms':>7} {'max ms':>7} {'n':>6}  errors")
    for kind in KINDS:
        for phase in ("ramp", "after"):
            times = record.times.get((kind, phase), [])
            if times or (phase == "ramp" and record.errors.get(kind)):
                errors = record.errors.get(kind, []) if phase == "ramp" else []
                shown = f"{len(errors)} {sorted(set(errors))}" if errors else "0"
                print(f"  {kind:<13} {phase:<6} {quantiles(times)}  {shown}")
    ticks = sorted(record.times.get(("tick", "after"), []))
    every = len(record.times.get(("tick", "ramp"), [])) + len(ticks)
    print(f"  ticks that appended new points: {record.appended} of {every}")
    firsts = sorted(record.times.get(("first load", "ramp"), []))
    errors = sum(len(e) for e in record.errors.values())
    tick, first = percentile(ticks, 0.95), percentile(firsts, 0.95)
    return [
        f"{label}: tick p95 after the ramp {tick * 1000:.0f} ms "
        f"({'PASS' if tick <= TARGET_TICK_P95 else 'FAIL'} ≤ 250), "
        f"first load p95 in the ramp {first * 1000:.0f} ms "
        f"({'PASS' if first <= TARGET_FIRST_P95 else 'FAIL'} ≤ 1000), "
        f"errors {errors} ({'PASS' if errors == 0 else 'FAIL'})"
    ]


def fill_week(url: str) -> None:
    """6 stocks × 7 days of ticks every 5 s up to now, and their bars, on the server."""
    upgrade(url)
    engine = make_engine(url)
    try:
        now = datetime.now(timezone.utc).replace(microsecond=0)
        seed_stocks(make_session_factory(engine), DEFAULT_SYMBOLS)
        fill(engine, DEFAULT_SYMBOLS, now - WEEK, now, TICK)
        print("filled:", table_counts(make_session_factory(engine)))
    finally:
        engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--viewers", default="200,500,1000", help="viewer counts, e.g. 200,500")
    parser.add_argument("--arrivals", type=float, default=20.0, help="new viewers per second")
    parser.add_argument("--measure", type=float, default=30.0, help="seconds after the ramp")
    parser.add_argument("--interval", type=float, default=5.0, help="seconds between ticks")
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker")
    parser.add_argument("--modes", default="on,off", help="shared tick reads: on, off or both")
    args = parser.parse_args()
    counts = [int(c) for c in args.viewers.split(",")]
    modes = [m.strip() == "on" for m in args.modes.split(",")]
    print(f"{os.cpu_count()} CPUs (shared with whatever else runs on this machine)")
    lines: list[str] = []
    with (
        temp_postgres(admin_url()) as url,
        tempfile.TemporaryFile() as log,
        tempfile.TemporaryDirectory(prefix="bench-viewers-metrics-") as metrics,
    ):
        if url is None:
            return 1
        fill_week(url)
        for count in counts:
            for shared in modes:
                label = f"{count} viewers, shared reads {'on' if shared else 'off'}"
                process, base = start_gunicorn(
                    url, shared, args.workers, args.threads, log, metrics
                )
                try:
                    cpu, began = server_cpu(process.pid), time.monotonic()
                    run = crowd(base, count, args.arrivals, args.measure, args.interval)
                    record, ramp, busy = asyncio.run(run)
                    served = (server_cpu(process.pid) - cpu) / (time.monotonic() - began)
                finally:
                    stop_gunicorn(process)
                lines += report(label, record, ramp, busy)
                load = os.getloadavg()[0]
                print(f"  gunicorn CPU {served:.0%} of a core; load average {load:.1f}")
        log.seek(0)
        tail = log.read().decode(errors="replace").strip().splitlines()[-5:]
        if any("Traceback" in line or "ERROR" in line for line in tail):
            print("\ngunicorn's log ends with:", *tail, sep="\n  ")
    print("\nTargets (issue 10, point 4: 1,000 viewers):", *lines, sep="\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
