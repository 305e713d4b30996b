"""The crowd of viewers, spread over several processes so that the load generator's lag stays small.

One asyncio loop in one process cannot play a thousand viewers on 2 cores:
its own lag (0.6 s seen) lands inside every time it measures. Here viewer i
goes to process i % processes; each process has its own event loop and httpx
client, starts on one shared moment (time.monotonic is system-wide on Linux,
so the processes agree on when the ramp ends), and sends back its records,
which are merged.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import time
from dataclasses import dataclass

import httpx
from viewer_client import Recorder, Viewer, client_cpu

STARTUP, STARTUP_PER_PROCESS = 2.0, 0.7  # seconds for the processes to start and import
# Browsers keep an idle connection to a site open for minutes, so a
# viewer's tick reuses its connection; 120 s keeps that true over a whole run.
KEEPALIVE = 120.0
LAG_STEP = 0.1  # how often each loop checks its own lag


@dataclass(frozen=True)
class Share:
    """One process's viewers: when each arrives (monotonic seconds), and the common schedule."""

    base: str
    arrivals: tuple[float, ...]
    ramp_end: float
    stop_at: float
    interval: float
    keepalive: float


async def loop_lag(record: Recorder, stop: asyncio.Event) -> None:
    """How late this process's event loop wakes: its lag is in every time it measures."""
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        asked = loop.time()
        await asyncio.sleep(LAG_STEP)
        record.add("client lag", asked, loop.time() - asked - LAG_STEP)


async def play(share: Share) -> Recorder:
    """This process's viewers, arriving on schedule and ticking until the shared stop."""
    limits = httpx.Limits(
        max_connections=max(1, len(share.arrivals)), keepalive_expiry=share.keepalive
    )
    timeout = httpx.Timeout(30.0)
    record = Recorder(ramp_end=share.ramp_end, stop_at=share.stop_at)
    async with httpx.AsyncClient(base_url=share.base, limits=limits, timeout=timeout) as client:
        loop = asyncio.get_running_loop()
        assert abs(loop.time() - time.monotonic()) < 0.01  # asyncio's clock is time.monotonic
        stop = asyncio.Event()
        tasks = [asyncio.create_task(loop_lag(record, stop))]
        for at in share.arrivals:
            await asyncio.sleep(max(0.0, at - loop.time()))
            tasks.append(asyncio.create_task(Viewer(client, "", share.interval, record).run(stop)))
        await asyncio.sleep(max(0.0, share.stop_at - loop.time()))
        stop.set()
        await asyncio.gather(*tasks)
    return record


def _process(share: Share, ready, go, results) -> None:
    """One load-generating process: wait for the common start, play, send the records and CPU."""
    ready.put(True)  # imported (spawn re-imports this module and httpx) and waiting
    go.wait()
    cpu = client_cpu()
    record = asyncio.run(play(share))
    results.put((record.plain(), client_cpu() - cpu))


def crowd(
    base: str, viewers: int, arrivals: float, measure: float, interval: float, processes: int
) -> tuple[Recorder, float, float]:
    """`viewers` arriving `arrivals` a second, then `measure` s of ticking: records, ramp, CPU s."""
    context = multiprocessing.get_context("spawn")  # a clean interpreter: no inherited loop
    ready, results, go = context.Queue(), context.Queue(), context.Event()
    ramp = viewers / arrivals
    # One moment for all, far enough ahead to cover the processes' start (checked below).
    start = time.monotonic() + STARTUP + STARTUP_PER_PROCESS * processes
    procs = []
    for p in range(processes):
        share = Share(
            base,
            tuple(start + i / arrivals for i in range(p, viewers, processes)),
            start + ramp,
            start + ramp + measure,
            interval,
            keepalive=KEEPALIVE,
        )
        proc = context.Process(target=_process, args=(share, ready, go, results), daemon=True)
        proc.start()
        procs.append(proc)
    for _ in procs:
        ready.get(timeout=STARTUP + STARTUP_PER_PROCESS * processes + 30)
    if (late := time.monotonic() - start) > 0:
        raise RuntimeError(f"the load generator's processes started {late:.1f} s late")
    go.set()
    parts = [results.get(timeout=ramp + measure + 120) for _ in procs]
    for proc in procs:
        proc.join(10)
    record = Recorder.merged([p for p, _ in parts], start + ramp, start + ramp + measure)
    return record, ramp, sum(cpu for _, cpu in parts)
