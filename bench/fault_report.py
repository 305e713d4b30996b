"""The fault bench's rows: one line per fault, the statuses seen and the missing seconds."""

from __future__ import annotations

from dataclasses import dataclass, field

from fault_page import Shown
from fault_probes import Probe, codes, p95


@dataclass
class Fault:
    """What is done to the database: "stop" (shut down) or "hang" (SIGSTOP), for how long."""

    kind: str
    seconds: float
    buffer: float  # STOCKSTREAMER_OUTAGE_BUFFER_SECONDS of the server under test

    @property
    def label(self) -> str:
        return f"{self.kind} {self.seconds:g} s"


@dataclass
class Row:
    """What one fault cost: prices, the page's messages, the probes during it."""

    fault: Fault
    expected: int
    stored: int
    duplicated: int
    first_write: float | None  # database back → a price fetched after it stored
    missing: list[int]  # seconds from the fault's start with some symbol's price missing
    page: dict[str, Shown] = field(default_factory=dict)
    healthz: list[Probe] = field(default_factory=list)  # probes sent during the fault
    readyz: list[Probe] = field(default_factory=list)
    ready_again: float | None = None  # database back → /readyz answered 200
    load: float = 0.0  # the machine's 1-minute load average after the fault

    @property
    def lost(self) -> int:
        return self.expected - self.stored


def _s(value: float | None, missing: str = "—") -> str:
    return missing if value is None else f"{value:.1f}"


def _ms(probes: list[Probe]) -> str:
    if not probes:
        return "—"
    seconds = [p.seconds for p in probes]
    return f"{p95(seconds) * 1000:,.0f}/{max(seconds) * 1000:,.0f}"


def _page(row: Row, element: str) -> tuple[str, str]:
    shown = row.page.get(element)
    if shown is None:
        return "—", "—"
    cleared = _s(shown.cleared, "never") if shown.shown is not None else "—"
    return _s(shown.shown, "no"), cleared + ("*" if shown.flapped else "")


HEALTHZ_TARGET = 0.1  # seconds: issue 11's "/healthz within 100 ms whatever the database does"
HEAD = (
    f"{'fault':<12} {'buffer':>6} {'expected':>8} {'stored':>7} {'lost':>5} {'dup':>4} "
    f"{'1st write':>9} {'db line':>13} {'banner':>13} {'/healthz ms':>12} {'/readyz ms':>12} "
    f"{'ready':>6} {'load':>5}"
)
HEAD2 = (
    f"{'':<12} {'s':>6} {'':>8} {'':>7} {'':>5} {'':>4} {'s':>9} {'on / off s':>13} "
    f"{'on / off s':>13} {'p95/worst':>12} {'p95/worst':>12} {'s':>6} {'':>5}"
)


def print_table(rows: list[Row]) -> None:
    print("\n" + HEAD + "\n" + HEAD2 + "\n" + "-" * len(HEAD))
    for r in rows:
        db, banner = _page(r, "db"), _page(r, "banner")
        print(
            f"{r.fault.label:<12} {r.fault.buffer:>6g} {r.expected:>8} {r.stored:>7} "
            f"{r.lost:>5} {r.duplicated:>4} {_s(r.first_write):>9} "
            f"{db[0] + ' / ' + db[1]:>13} {banner[0] + ' / ' + banner[1]:>13} "
            f"{_ms(r.healthz):>12} {_ms(r.readyz):>12} {_s(r.ready_again):>6} {r.load:>5.1f}"
        )
    print(FOOTNOTE)
    for r in rows:
        print(f"  {r.fault.label}: /healthz {codes(r.healthz)}; /readyz {codes(r.readyz)}")
        slow = [p for p in r.healthz if p.seconds > HEALTHZ_TARGET]
        if slow:  # when, to tell the machine's hiccups from the service's
            start = r.healthz[0].sent
            at = ", ".join(f"{p.sent - start:.1f} s ({p.seconds * 1000:.0f} ms)" for p in slow)
            print(f"    /healthz over {HEALTHZ_TARGET * 1000:.0f} ms at (from the fault): {at}")
    for r in rows:
        if r.missing:
            print(f"  {r.fault.label}: seconds missing (from its start): {r.missing}")


FOOTNOTE = """
fault: the database shut down (from `pg_ctlcluster stop -m fast` returning to `start`
  returning) or hung (SIGSTOP on the postmaster and its children, then SIGCONT) for that
  long, under gunicorn (2 workers, the elected poller polling the simulated market every
  second, the page refreshing every 5 s, its banner after 3 refreshes without an answer).
buffer: STOCKSTREAMER_OUTAGE_BUFFER_SECONDS. expected: each symbol's whole seconds from
  5 s before the fault to 5 s after the database is back; stored: those in price_ticks;
  lost = expected - stored; dup: (symbol, time) pairs stored twice in the whole table.
1st write: database back → the first price fetched after that moment is stored.
db line: the page's "database cannot be reached" line (#status .status-error);
  banner: its "no updates since" banner (#stale-banner). on: fault start → shown
  ("no": never shown); off: database back → cleared for good ("never": still shown;
  * it showed again after clearing). Seen by headless Chromium every 100 ms.
/healthz, /readyz: probes sent while the database was down or hung (a shutdown's until
  `start` began), one every 0.25 s per route on a new connection with a 10 s client
  timeout (a hang counts 10 s); p95 and worst ms.
ready: database back → the first /readyz answering 200. load: the 1-minute load average
  after the fault (2 cores, shared). Statuses seen during the fault:"""
