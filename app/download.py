"""CSV of what the chart shows: `/download.csv` + the page's own query (view, range, hide).

The query is read as the page reads it (app/query.py, bad values fall back the
same way), so the file holds the shown stocks over the chart's range at the
level the chart reads (every price, or bars of a minute, 5 minutes or an hour),
every row of it: the chart thins its points to the screen's width, the file
does not. Prices either way, whichever view; ticks are
`symbol,time_utc,time_new_york,price`, bars
`symbol,time_utc,time_new_york,open,high,low,close` with the bar's start as time.
The rows are streamed a page at a time (db/exports.py), so a long range never
sits whole in memory.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timedelta

from flask import Flask, Response, request
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from app.api_params import NAMES
from app.api_shapes import decimal_text, new_york_text, utc_text
from app.patches import point_budget
from app.query import PageQuery, parse_query
from core.market import MarketHours
from core.retention import KEEP_EVERYTHING, TICKS, Retention
from core.times import NEW_YORK
from db.chart import MINUTE, chart_stocks, finest_fitting
from db.exports import BarRow, Key, TickRow, read_page
from db.rollups import bucket_start

log = logging.getLogger(__name__)
TICK_COLUMNS = ("symbol", "time_utc", "time_new_york", "price")
BAR_COLUMNS = ("symbol", "time_utc", "time_new_york", "open", "high", "low", "close")
DB_DOWN = "The database cannot be reached; try the download again in a moment.\n"


def chart_window(query: PageQuery, market: MarketHours, now: datetime) -> tuple[datetime, datetime]:
    """The range the chart reads: a custom one as given, a preset up to now from the last trade."""
    if query.custom and query.start and query.end:
        return query.start, query.end
    return market.last_trade_time(now) - query.span(), now


def rows_window(start: datetime, end: datetime, width: int) -> tuple[datetime, datetime]:
    """The [start, end) of rows that db.chart.read_window reads for the chart's [start, end].

    Its end is inclusive (times are whole milliseconds); a bar coarser than a minute
    counts from the one holding `start`, so that a long range keeps its partial first bar.
    """
    first = start if width in (TICKS, MINUTE) else bucket_start(start, width)
    return first, end + timedelta(milliseconds=1)


def csv_filename(query: PageQuery, start: datetime, end: datetime) -> str:
    """`stockstreamer-1D-2026-12-01.csv`, or `stockstreamer-custom-<start>-<end>.csv` (New York)."""
    first, last = (t.astimezone(NEW_YORK) for t in (start, end))
    if query.custom:
        return f"stockstreamer-custom-{first:%Y-%m-%dT%H%M}-{last:%Y-%m-%dT%H%M}.csv"
    return f"stockstreamer-{query.range}-{last:%Y-%m-%d}.csv"


def csv_lines(rows: Sequence[TickRow] | Sequence[BarRow]) -> str:
    """Rows as CSV lines."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for row in rows:
        times = (row.symbol, utc_text(row.at), new_york_text(row.at))
        if isinstance(row, TickRow):
            writer.writerow((*times, decimal_text(row.price)))
        else:
            writer.writerow((*times, *map(decimal_text, (row.open, row.high, row.low, row.close))))
    return out.getvalue()


def register_download(
    server: Flask,
    sessions: sessionmaker[Session],
    clock: Callable[[], datetime],
    market: MarketHours,
    longest: timedelta,
    chunk: int,
    retention: Retention = KEEP_EVERYTHING,
) -> None:
    """Add /download.csv to the Flask server behind Dash.

    `longest` is the longest preset range the page serves; the rows are read `chunk` at a time.
    """

    @server.get("/download.csv")
    def download() -> Response:
        query, _ = parse_query(request.query_string.decode("utf-8", "replace"), longest)
        start, end = chart_window(query, market, clock())
        try:
            with sessions() as session:
                symbols = [s.symbol for s in query.shown(chart_stocks(session))]
                # The chart's own choice: its budget for this span, only what retention keeps.
                budget = point_budget(len(symbols), end - start)
                kept = retention.kept_from(clock())
                width = finest_fitting(session, symbols, start, end, budget, kept)
                low, high = rows_window(start, end, width)
                first = read_page(session, symbols, width, low, high, None, chunk)
        except SQLAlchemyError as exc:
            log.warning("CSV read failed: %s", type(exc).__name__)
            return Response(DB_DOWN, 503, mimetype="text/plain", headers={"Retry-After": "5"})

        def lines() -> Iterator[str]:
            yield ",".join(TICK_COLUMNS if width == TICKS else BAR_COLUMNS) + "\n"
            yield csv_lines(first.rows)
            after: Key | None = first.next
            while after is not None:
                # Each page in a session of its own: a long file holds no connection between.
                with sessions() as session:
                    page = read_page(session, symbols, width, low, high, after, chunk)
                yield csv_lines(page.rows)
                after = page.next

        filename = csv_filename(query, start, end)
        headers = {
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
            "X-Stockstreamer-Resolution": NAMES[width],
        }
        return Response(lines(), mimetype="text/csv", headers=headers)
