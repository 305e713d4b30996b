"""/download.csv: what the chart shows, against the database, on PostgreSQL and SQLite."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta

import brotli
import pytest

from app.api_shapes import decimal_text, new_york_text, utc_text
from app.download import BAR_COLUMNS, TICK_COLUMNS
from app.patches import point_budget
from core.times import to_ms
from db.chart import read_window
from db.rollups import bucket_start
from tests.app.api_helpers import app_client
from tests.app.page_helpers import NOW, SYMBOLS, ManualClock, seed
from tests.db.helpers import bars_between, ticks_between

DAY = timedelta(days=1)


@pytest.fixture
def client(database_url, sessions):
    return app_client(database_url, sessions, ManualClock())


def download(client, query: str, **headers: str) -> tuple[str, list[list[str]], dict]:
    """The file's name, its rows (header first) and the answer's headers."""
    response = client.get(f"/download.csv{query}", headers=headers)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Cache-Control"] == "no-store"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="') and disposition.endswith('"')
    body = response.get_data()
    if response.headers.get("Content-Encoding") == "br":
        body = brotli.decompress(body)
    rows = list(csv.reader(io.StringIO(body.decode())))
    return disposition.split('"')[1], rows, dict(response.headers)


def chart_read(sessions, symbols: list[str], start: datetime, end: datetime):
    """What the chart reads for these stocks over [start, end], before it thins the points."""
    return read_window(sessions(), symbols, start, end, point_budget(len(symbols)))


def test_the_csv_holds_the_shown_stocks_every_price_of_the_range(sessions, client):
    seed(sessions, NOW - 2 * DAY, NOW)
    name, rows, headers = download(client, "?range=1H&hide=GE")
    assert name == "stockstreamer-1H-2026-11-27.csv"
    assert headers["X-Stockstreamer-Resolution"] == "tick"
    stored = ticks_between(sessions(), ["AAPL"], NOW - timedelta(hours=1), NOW + DAY)
    assert rows[0] == list(TICK_COLUMNS) and len(stored) == 61  # the newest price included
    assert rows[1:] == [
        ["AAPL", utc_text(t.observed_at), new_york_text(t.observed_at), decimal_text(t.price)]
        for t in stored
    ]
    assert rows[1][1:3] == ["2026-11-27T19:00:00.000Z", "2026-11-27T14:00:00.000-05:00"]
    chart = chart_read(sessions, ["AAPL"], NOW - timedelta(hours=1), NOW)["AAPL"]
    assert chart.times == [to_ms(t.observed_at) for t in stored]
    assert chart.prices == [float(row[3]) for row in rows[1:]]


def test_a_long_range_gives_the_bars_the_chart_reads(database_url, sessions):
    seed(sessions, NOW - 8 * DAY, NOW, step=120)
    clock = ManualClock()
    clock.now = NOW + timedelta(seconds=150)  # the range starts inside a 5-minute bar
    client = app_client(database_url, sessions, clock)
    name, rows, headers = download(client, "?view=price&range=7D")
    assert name == "stockstreamer-7D-2026-11-27.csv"
    assert headers["X-Stockstreamer-Resolution"] == "5m" and rows[0] == list(BAR_COLUMNS)
    start = clock.now - 7 * DAY
    chart = chart_read(sessions, SYMBOLS, start, clock.now)
    for symbol in SYMBOLS:
        bars = bars_between(sessions(), [symbol], 300, bucket_start(start, 300))
        mine = [row for row in rows[1:] if row[0] == symbol]
        assert mine == [
            [symbol, utc_text(b.start), new_york_text(b.start)]
            + [decimal_text(v) for v in (b.open, b.high, b.low, b.close)]
            for b in bars
        ]
        # Seven days of 5-minute bars, the partial one holding the start, the one holding NOW.
        assert len(mine) == 7 * 288 + 1 and mine[0][1] == utc_text(NOW - 7 * DAY)
        assert [float(row[6]) for row in mine] == chart[symbol].prices  # the line's closes
    assert [row[0] for row in rows[1:]] == sorted(row[0] for row in rows[1:])


def test_a_custom_range_is_read_in_new_york_time_as_the_page_reads_it(sessions, client):
    seed(sessions, NOW - DAY, NOW)
    query = "?view=price&start=2026-11-27T10:00:00&end=2026-11-27T11:30:00"  # 15:00-16:30 UTC
    name, rows, _ = download(client, query)
    assert name == "stockstreamer-custom-2026-11-27T1000-2026-11-27T1130.csv"
    start = datetime.fromisoformat("2026-11-27T15:00:00+00:00")
    stored = ticks_between(sessions(), SYMBOLS, start, start + timedelta(minutes=91))
    assert len(stored) == 2 * 91 and [row[1] for row in rows[1:]] == [
        utc_text(t.observed_at) for t in stored
    ]


def test_pages_of_rows_stream_into_one_file(database_url, sessions, client):
    seed(sessions, NOW - DAY, NOW)
    whole = download(client, "")
    paged = download(app_client(database_url, sessions, ManualClock(), api_max_rows=50), "")
    assert whole[0] == "stockstreamer-1D-2026-11-27.csv" and len(whole[1]) == 1 + 2 * 1441
    assert paged[1] == whole[1]


def test_a_bad_query_falls_back_as_the_page_does_and_the_file_is_compressed(sessions, client):
    seed(sessions, NOW - DAY, NOW)
    name, rows, headers = download(
        client, "?range=2Y&hide=NOT*A*SYMBOL", **{"Accept-Encoding": "br"}
    )
    assert headers["Content-Encoding"] == "br"
    assert name == "stockstreamer-1D-2026-11-27.csv" and {r[0] for r in rows[1:]} == set(SYMBOLS)


def test_every_stock_hidden_gives_the_header_alone(sessions, client):
    seed(sessions, NOW - DAY, NOW)
    assert download(client, "?hide=AAPL,GE")[1] == [list(TICK_COLUMNS)]
