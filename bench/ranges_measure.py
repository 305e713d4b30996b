"""What the long-range bench measures: a range's first loads, its answer's bytes, its points.

Every load goes through dashboard_measure.served_first_load (the registered `on_update`
through Dash's own wrapper: Page.load and every output serialized as Dash sends it).
The bytes compressed are what app/http_bytes.py sends: the same body answered by a Flask
app with the app's own compression wired in, asked with Accept-Encoding br, then gzip.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

from dash_body import answer_of, output_bytes
from dashboard_measure import served_first_load
from flask import Flask, Response
from page_served import ServedPage

from app.http_bytes import enable_compression
from app.patches import point_budget
from app.query import parse_query
from db.chart import chart_stocks, read_window


@dataclass
class RangeLoad:
    """One view and range: the timed first loads (ms), the answer's bytes, what it drew."""

    view: str
    range: str
    samples: list[float]
    raw: int = 0
    gzip: int = 0
    brotli: int = 0
    figure: int = 0  # the chart's figure, bytes of compact JSON (the rest: stores, cards…)
    points: int = 0  # points per stock in the figure (the most of any trace)
    level: str = ""  # the level read_window chose (db/chart.py)
    rows: int = 0  # rows read per stock (the most of any stock)

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def p95(self) -> float:
        """Nearest-rank 95th percentile."""
        ordered = sorted(self.samples)
        return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def search_of(view: str, key: str) -> str:
    return f"?view={view}&range={key}"


def timed_loads(page: ServedPage, cases: list[RangeLoad], repeat: int) -> dict[str, str]:
    """`repeat` first loads of each case after a warm-up round, in turns (rotated every round,
    so drift on the machine hits every range alike); the last body of each."""
    bodies: dict[str, str] = {}
    for round_ in range(repeat + 1):
        shift = round_ % len(cases)
        for case in cases[shift:] + cases[:shift]:
            search = search_of(case.view, case.range)
            elapsed, bodies[search] = served_first_load(page, search)
            if round_:  # the first round warms pools, statement and page caches
                case.samples.append(elapsed)
    return bodies


class WireBytes:
    """An answer's size as the app sends it: identity, gzip, brotli (app/http_bytes.py)."""

    def __init__(self) -> None:
        self.app = Flask(__name__)
        enable_compression(self.app)
        self.body = ""

        @self.app.post("/_dash-update-component")
        def answer() -> Response:
            return Response(self.body, mimetype="application/json")

        self.client = self.app.test_client()

    def sizes(self, body: str) -> tuple[int, int, int]:
        """Bytes raw, gzip, brotli of one callback answer's body."""
        self.body = body
        out = [len(body.encode())]
        for encoding in ("gzip", "br"):
            response = self.client.post(
                "/_dash-update-component", headers={"Accept-Encoding": encoding}
            )
            if response.headers.get("Content-Encoding") != encoding:
                raise RuntimeError(f"the app did not answer in {encoding}")
            out.append(len(response.get_data()))
        return out[0], out[1], out[2]


def describe(page: ServedPage, case: RangeLoad, body: str, wire: WireBytes) -> None:
    """Fill in a case's bytes and points from its body, and what Page.load reads (untimed)."""
    case.raw, case.gzip, case.brotli = wire.sizes(body)
    case.figure = output_bytes(body).get("chart.figure", 0)
    traces = answer_of(body)["chart"]["figure"]["data"]
    case.points = max((len(t.get("x") or []) for t in traces), default=0)
    served = page.page
    query, _ = parse_query(search_of(case.view, case.range), served.longest)
    now = served.clock()
    start = served.market.last_trade_time(now) - query.span()
    with served.sessions() as session:
        symbols = [s.symbol for s in query.shown(chart_stocks(session))]
        budget = point_budget(len(symbols))
        kept = served.retention.kept_from(now)
        series = read_window(session, symbols, start, now, budget, kept)
    case.rows = max((len(p.times) for p in series.values()), default=0)
    levels = {p.resolution for p in series.values()}
    case.level = "/".join(sorted(levels))
