"""A big watchlist's start: live prices first, never starved by the history fill or metadata.

`stockstreamer run` starts on a fresh database with N new symbols (the simulated market;
none has history, so the whole week is filled) and is watched from the outside: each
price run's rows as they appear in the database (and their fetched_at), the service's
own log lines for the fill's and the metadata run's durations, and /readyz and /metrics
probed every 0.5 s. A baseline of 6 symbols runs first, the same way, on the same backend.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise
from pathlib import Path

from temp_postgres import admin_url, temp_postgres
from watchlist_watch import Watched, WatchedService, run_sizes, symbols

from db.migrate import upgrade

SUMMARY = re.compile(r"^(?P<kind>backfill|metadata): written=(?P<written>\d+) .* in (?P<ms>\d+) ms")


@dataclass
class Case:
    """One run's figures, in seconds (None: nothing to measure)."""

    symbols: int
    first_after_start: float | None
    first_after_spawn: float | None
    delay_written: float | None
    delay_fetched: float | None
    runs_during_fill: int
    fill: tuple[float, float, int] | None  # start, end (epoch), rows
    metadata: tuple[float, float, int] | None
    probes: dict[tuple[str, str], list[float]]


def measure(url: str, count: int, args: argparse.Namespace, work: Path) -> Case:
    """Start the service on `url` with `count` new symbols, watch it, stop it, sum it up."""
    names = symbols(count)
    env = {
        "STOCKSTREAMER_PRICE_INTERVAL": str(args.interval),
        "STOCKSTREAMER_HISTORY_DAYS": str(args.history_days),
    }
    service = WatchedService(url, names, env, work / f"service-{count}.log")
    service.start()
    deadline = time.monotonic() + args.limit
    done_at: float | None = None
    try:
        while time.monotonic() < deadline:
            time.sleep(0.5)
            if service.exited() is not None:
                print(service.log_path.read_text()[-3000:])
                raise SystemExit(f"the service exited with status {service.exited()}")
            kinds = {m["kind"] for m in _summaries(service.read_log())}
            if done_at is None and {"backfill", "metadata"} <= kinds:
                done_at = time.monotonic()
            if done_at is not None and time.monotonic() - done_at >= args.after:
                break
        else:
            print(f"  {count} symbols: stopped at the {args.limit:g} s limit")
    finally:
        watched = service.stop()
    return summarise(watched, count, args.interval, run_sizes(url))


def summarise(watched: Watched, count: int, interval: float, sizes: dict) -> Case:
    started = next(
        (_epoch(r["time"]) for r in watched.log if r["message"].startswith("poller started")),
        None,
    )
    runs: dict[datetime, float] = {}  # a price run's fetched_at -> when its rows were seen
    for seen, fetched_at in watched.seen:
        if sizes.get(fetched_at) == count:  # one row per symbol: a price run, not history
            runs.setdefault(fetched_at, seen)
    written = sorted(runs.values())
    fetched = sorted(at.timestamp() for at in runs)
    windows: dict[str, tuple[float, float, int]] = {}
    for match in _summaries(watched.log):
        end = _epoch(match["time"])
        window = (end - int(match["ms"]) / 1000, end, int(match["written"]))
        longest = windows.get(match["kind"])
        if longest is None or window[1] - window[0] > longest[1] - longest[0]:
            windows[match["kind"]] = window
    fill, metadata = windows.get("backfill"), windows.get("metadata")
    quiet = max((w[1] for w in windows.values()), default=float("inf"))
    probes: dict[tuple[str, str], list[float]] = {}
    for probe in watched.probes:
        phase = (
            "metadata"
            if metadata and metadata[0] <= probe.sent <= metadata[1]
            else "fill"
            if fill and fill[0] <= probe.sent <= fill[1]
            else "after"
            if probe.sent > quiet
            else None
        )
        if phase:
            probes.setdefault((probe.route, phase), []).append(probe.seconds)
    return Case(
        symbols=count,
        first_after_start=written[0] - started if written and started else None,
        first_after_spawn=written[0] - watched.spawned if written else None,
        delay_written=_longest_delay(written, interval),
        delay_fetched=_longest_delay(fetched, interval),
        runs_during_fill=sum(1 for t in written if fill and fill[0] <= t <= fill[1]),
        fill=fill,
        metadata=metadata,
        probes=probes,
    )


def _longest_delay(times: list[float], interval: float) -> float | None:
    gaps = [b - a - interval for a, b in pairwise(times)]
    return max(gaps, default=None)


def _summaries(log: list[dict]) -> list[dict]:
    found = []
    for record in log:
        match = SUMMARY.match(record.get("message", ""))
        if match and record.get("logger") == "jobs.poll":
            found.append({**match.groupdict(), "time": record["time"]})
    return found


def _epoch(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()


def report(backend: str, base: Case, big: Case, interval: float, days: float) -> None:
    """The table: baseline, big watchlist, their ratio, the target."""
    ms = lambda s: None if s is None else s * 1000  # noqa: E731

    def row(what: str, a: float | None, b: float | None, unit: str, target: str = "") -> None:
        # No ratio to a baseline that rounds to nothing (a delay of 0.0 s, say).
        shown = {"s": 0.05, "ms": 0.5}.get(unit, 1)
        ratio = f"{b / a:.1f}×" if a is not None and b is not None and a >= shown else "—"
        text = lambda v: "—" if v is None else f"{v:,.0f}" if unit != "s" else f"{v:.1f}"  # noqa: E731
        print(f"| {what} | {text(a)} | {text(b)} | {ratio} | {target} |")

    print(f"\n{backend}, price interval {interval:g} s, {days:g} days of history (s unless ms):\n")
    print(f"| | {base.symbols} symbols | {big.symbols} symbols | ratio | target |")
    print("|---|---|---|---|---|")
    two, one = f"≤ {2 * interval:g} s", f"≤ {interval:g} s"
    row(
        "first live prices written, from the poller's start",
        *_pair(base, big, "first_after_start"),
        "s",
        two,
    )
    row(
        "first live prices written, from the process's spawn",
        *_pair(base, big, "first_after_spawn"),
        "s",
    )
    row(
        "longest price-run delay (rows seen in the database)",
        *_pair(base, big, "delay_written"),
        "s",
        one,
    )
    row("longest price-run delay (their fetched_at)", *_pair(base, big, "delay_fetched"), "s", one)
    row(
        "price runs written during the history fill",
        base.runs_during_fill,
        big.runs_during_fill,
        "n",
    )
    for name, attr in (("history fill", "fill"), ("metadata run", "metadata")):
        a, b = getattr(base, attr), getattr(big, attr)
        row(f"{name}: duration", a and a[1] - a[0], b and b[1] - b[0], "s")
        row(f"{name}: rows written", a and a[2], b and b[2], "n")
    for route in ("/readyz", "/metrics"):
        for phase, label in (
            ("metadata", "during metadata"),
            ("fill", "during the fill"),
            ("after", "after both"),
        ):
            a, b = base.probes.get((route, phase), []), big.probes.get((route, phase), [])
            for stat, pick in (("p50", statistics.median), ("worst", max)):
                row(
                    f"{route} {stat} {label} (n={len(a)}, {len(b)})",
                    ms(pick(a)) if a else None,
                    ms(pick(b)) if b else None,
                    "ms",
                )
    verdict = lambda ok: "PASS" if ok else "MISS"  # noqa: E731
    first, delay = big.first_after_start, big.delay_written
    first_ok = first is not None and first <= 2 * interval
    delay_ok = delay is not None and delay <= interval
    print(f"\n{verdict(first_ok)}: first live prices within two intervals ({two})")
    print(f"{verdict(delay_ok)}: no price run delayed by more than one interval ({one})")


def _pair(a: Case, b: Case, attr: str) -> tuple[float | None, float | None]:
    return getattr(a, attr), getattr(b, attr)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--symbols", type=int, default=500, help="the big watchlist (500)")
    parser.add_argument("--baseline", type=int, default=6, help="the baseline watchlist (6)")
    parser.add_argument("--interval", type=float, default=5.0, help="price interval, s (5)")
    parser.add_argument("--history-days", type=float, default=7.0, help="history filled (7)")
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="sqlite")
    parser.add_argument("--after", type=float, default=15.0, help="s watched after both end")
    parser.add_argument("--limit", type=float, default=900.0, help="s at most per case")
    args = parser.parse_args()
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    for backend in backends:
        with tempfile.TemporaryDirectory(prefix="bench-watchlist-") as tmp:
            cases = []
            for count in (args.baseline, args.symbols):
                print(f"{backend}: {count} new symbols …", flush=True)
                with _database(backend, Path(tmp), count) as url:
                    if url is None:
                        return 1
                    upgrade(url)
                    cases.append(measure(url, count, args, Path(tmp)))
            report(backend, *cases, args.interval, args.history_days)
    return 0


def _database(backend: str, tmp: Path, count: int):
    if backend == "postgresql":
        return temp_postgres(admin_url())
    return nullcontext(f"sqlite:///{tmp / f'watchlist-{count}.sqlite'}")


if __name__ == "__main__":
    sys.exit(main())
