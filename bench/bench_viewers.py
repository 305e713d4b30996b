"""A crowd of viewers on gunicorn and PostgreSQL: each loads the page, then ticks every interval.

For each viewer count and with the shared tick reads on and off (STOCKSTREAMER_SHARED_TICKS),
a fresh gunicorn (3 gthread workers, the poller elected among them and writing) serves
viewers that arrive at a steady rate (the ramp), then keep ticking for the measured
window; the viewers are played by several processes (viewer_crowd.py). It prints p50/p95/max
per request kind, during the ramp and after it, errors, and who used the CPU (cpu_use.py).
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import nullcontext
from datetime import datetime, timezone
from pathlib import Path

import httpx
from cpu_use import CpuUse
from fill_history import TICK, WEEK, fill, seed_stocks, table_counts
from temp_postgres import admin_url, temp_postgres
from viewer_client import KINDS, Recorder
from viewer_crowd import crowd

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


def stop_gunicorn(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def percentile(ordered: list[float], q: float) -> float:
    """The q-th quantile of sorted values (nearest rank); infinite when there are none."""
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("inf")


def quantiles(values: list[float]) -> str:
    if not values:
        return f"{'-':>7} {'-':>7} {'-':>7} {0:>6}"
    ordered = sorted(values)
    p50, p95, top = (percentile(ordered, 0.5), percentile(ordered, 0.95), ordered[-1])
    return f"{p50 * 1000:7.0f} {p95 * 1000:7.0f} {top * 1000:7.0f} {len(ordered):>6}"


def cpu_line(used: dict[str, float], seconds: float) -> str:
    """CPU seconds per part over the run, and as a share of a core; the rest is the machine's."""
    rest = used["machine"] - used["gunicorn"] - used["client"] - used["postgres"]
    parts = [*((k, used[k]) for k in ("gunicorn", "client", "postgres")), ("other", rest)]
    shown = ", ".join(f"{name} {cpu:.0f} s ({cpu / seconds:.0%})" for name, cpu in parts)
    return f"CPU over {seconds:.0f} s, of one core: {shown}; all {used['machine'] / seconds:.0%}"


def report(label: str, record: Recorder, ramp: float) -> list[str]:
    """The table for one case; returns the target lines."""
    print(f"\n{label}: ramp {ramp:.0f} s")
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
    parser.add_argument(
        "--database",
        help="a database filled by an earlier run (see --keep) to use as is, instead of a new one",
    )
    parser.add_argument("--keep", action="store_true", help="keep the new database; print its URL")
    parser.add_argument(
        "--processes", type=int, default=4, help="load generator processes (each its own loop)"
    )
    args = parser.parse_args()
    counts = [int(c) for c in args.viewers.split(",")]
    modes = [m.strip() == "on" for m in args.modes.split(",")]
    print(f"{os.cpu_count()} CPUs (shared with whatever else runs on this machine)")
    lines: list[str] = []
    with (
        (
            nullcontext(args.database)
            if args.database
            else temp_postgres(admin_url(), keep=args.keep)
        ) as url,
        tempfile.TemporaryFile() as log,
        tempfile.TemporaryDirectory(prefix="bench-viewers-metrics-") as metrics,
    ):
        if url is None:
            return 1
        if not args.database:
            fill_week(url)
        for count in counts:
            for shared in modes:
                label = f"{count} viewers, shared reads {'on' if shared else 'off'}"
                process, base = start_gunicorn(
                    url, shared, args.workers, args.threads, log, metrics
                )
                try:
                    cpu, began = CpuUse(url, process.pid), time.monotonic()
                    record, ramp, client = crowd(
                        base, count, args.arrivals, args.measure, args.interval, args.processes
                    )
                    used = {**cpu.split(), "client": client}
                    seconds = time.monotonic() - began
                finally:
                    stop_gunicorn(process)
                lines += report(label, record, ramp)
                print(f"  {cpu_line(used, seconds)}; load average {os.getloadavg()[0]:.1f}")
        log.seek(0)
        tail = log.read().decode(errors="replace").strip().splitlines()[-5:]
        if any("Traceback" in line or "ERROR" in line for line in tail):
            print("\ngunicorn's log ends with:", *tail, sep="\n  ")
    print("\nTargets (issue 10, point 4: 1,000 viewers):", *lines, sep="\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
