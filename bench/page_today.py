"""The new page against today's (commit 859ba40) on the same database, in the same run.

Today's page runs in a subprocess (baseline_page.py) on a tree extracted with
`git archive`; the new one here. Their requests alternate, one of each in
turn with the order rotated every round, so drift on a shared machine hits
both alike; each figure is the median of the timed rounds after a warm-up.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from io import BytesIO
from pathlib import Path

from dash_body import output_bytes
from dashboard_measure import served_first_load, served_tick, write_tick
from fill_history import NOW, TICK, delete_after
from page_served import ServedPage

from core.times import to_ms

TODAY = "859ba40"  # the page before issue 9
BENCH = Path(__file__).resolve().parent
LOADS = {
    "Compare 1D": "?view=compare&range=1D",
    "Compare 7D": "?view=compare&range=7D",
    "Price 1D": "?view=price&range=1D",
    "Price 7D": "?view=price&range=7D",
}
TICKS = {"tick new (Compare 1D)": LOADS["Compare 1D"], "tick new (Price 1D)": LOADS["Price 1D"]}
TODAY_LOAD, TODAY_TICK = "today 7D", "tick today"


@dataclass
class Row:
    """One case of the comparison: median ms, body bytes, each output's bytes (last run)."""

    database: str
    stocks: int
    case: str
    ms: float
    size: int
    outputs: dict[str, int]
    runs: int


@contextmanager
def today_tree(commit: str = TODAY) -> Iterator[Path]:
    """`app core db` of `commit`, extracted into a temporary directory removed afterwards."""
    archive = subprocess.run(
        ["git", "archive", commit, "app", "core", "db"],
        cwd=BENCH.parent,
        capture_output=True,
        check=True,
    ).stdout
    with tempfile.TemporaryDirectory(prefix="stockstreamer-today-") as tmp:
        with tarfile.open(fileobj=BytesIO(archive)) as tar:
            tar.extractall(tmp, filter="data")
        yield Path(tmp)


class TodayPage:
    """Today's page in its own process, serving one tab on the database at `url`."""

    def __init__(self, tree: Path, url: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(BENCH / "baseline_page.py"), str(tree), url, "7"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def ask(self, op: str, at, n: int | None = None) -> dict:
        """One request; its answer (ms, bytes, outputs, last, app)."""
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps({"op": op, "at": to_ms(at), "n": n}) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"today's page stopped (exit {self.process.wait()})")
        return json.loads(line)

    def close(self) -> None:
        if self.process.poll() is None:
            assert self.process.stdin is not None
            self.process.stdin.write(json.dumps({"op": "quit"}) + "\n")
            self.process.stdin.close()
        self.process.wait(timeout=30)


Sample = tuple[float, int, dict[str, int]]  # ms, bytes, each output's bytes


def rounds(requests: dict[str, Callable[[int], Sample]], repeat: int) -> dict[str, list[Sample]]:
    """Each request once per round, the order rotated each round; the warm-up round dropped."""
    names = list(requests)
    samples: dict[str, list[Sample]] = {name: [] for name in names}
    for i in range(repeat + 1):
        shift = i % len(names)
        for name in names[shift:] + names[:shift]:
            samples[name].append(requests[name](i))
    return {name: runs[1:] for name, runs in samples.items()}


def compare_with_today(database, url, sessions, symbols, tree, repeat, problems) -> list[Row]:
    """Every case at `len(symbols)` stocks: first loads, then one tick after one tick per stock."""
    today = TodayPage(tree, url)
    try:
        new = ServedPage(sessions)

        def today_load(_i: int) -> Sample:
            answer = today.ask("load", NOW)
            if not answer["app"].startswith(str(tree)):
                raise RuntimeError(f"today's page ran {answer['app']}, not the extracted tree")
            return answer["ms"], answer["bytes"], answer["outputs"]

        loads = {TODAY_LOAD: today_load} | {
            case: (lambda _i, search=search: sample(*served_first_load(new, search)))
            for case, search in LOADS.items()
        }
        samples = rounds(loads, repeat)
        tabs = {case: ServedPage(sessions) for case in TICKS}
        for case, search in TICKS.items():
            tabs[case].keep(tabs[case].load(search))
        today.ask("load", NOW)
        samples |= rounds(ticks(today, tabs, sessions, symbols, problems), repeat)
        delete_after(sessions, NOW)
    finally:
        today.close()
    return [row(database, len(symbols), case, runs) for case, runs in samples.items()]


def ticks(today, tabs, sessions, symbols, problems) -> dict[str, Callable[[int], Sample]]:
    """One tick of each tab per round, after one new tick per stock written at that round's time."""
    written: set[int] = set()

    def at_round(i: int):
        at = NOW + (i + 1) * timedelta(seconds=TICK)
        if i not in written:  # the round's first request writes its tick (untimed)
            write_tick(sessions, symbols, at)
            written.add(i)
        return at

    def today_tick(i: int) -> Sample:
        at = at_round(i)
        answer = today.ask("tick", at, i + 1)
        if set(answer["last"].values()) != {to_ms(at)}:
            problems.append(f"today's tick {i} did not reach the tick just written")
        return answer["ms"], answer["bytes"], answer["outputs"]

    def new_tick(case: str) -> Callable[[int], Sample]:
        def run(i: int) -> Sample:
            at = at_round(i)
            elapsed, body = served_tick(tabs[case], at)
            if set(tabs[case].keep(body).values()) != {to_ms(at)}:
                problems.append(f"{case} {i} did not reach the tick just written")
            return sample(elapsed, body)

        return run

    return {TODAY_TICK: today_tick} | {case: new_tick(case) for case in tabs}


def sample(elapsed: float, body: str) -> Sample:
    """A new page's request: its time, its body's bytes and each output's share."""
    return elapsed, len(body.encode()), output_bytes(body)


def row(database: str, stocks: int, case: str, runs: list[Sample]) -> Row:
    """A case's median time; the size and outputs of its last run."""
    median = statistics.median(ms for ms, _, _ in runs)
    return Row(database, stocks, case, median, runs[-1][1], runs[-1][2], len(runs))
