"""What the API and download tests share: the real app's test client, pages followed, keys."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal

from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from app.factory import create_app
from core.market import ALWAYS_OPEN, MarketHours
from core.records import Quote
from core.settings import load_settings
from db.engine import unit_of_work
from db.writes import write_quotes
from jobs.providers.registry import PROVIDERS


def app_client(
    database_url: str,
    sessions: sessionmaker[Session],
    clock: Callable[[], datetime],
    market: MarketHours = ALWAYS_OPEN,
    **overrides: object,
) -> FlaskClient:
    """A test client of the app create_app builds, on this database, clock and market."""
    settings = load_settings(PROVIDERS, database_url=database_url, **overrides)
    return create_app(settings, sessions, market, clock=clock).server.test_client()


def write_prices(sessions: sessionmaker[Session], *prices: tuple[str, str, datetime]) -> None:
    """Store prices (symbol, price, time) as the poller does, bars and all."""
    quotes = [Quote(symbol, Decimal(price), at, True) for symbol, price, at in prices]
    with unit_of_work(sessions) as session:
        write_quotes(session, quotes, max(q.observed_at for q in quotes))


def get_json(client: FlaskClient, url: str, status: int = 200) -> dict:
    """GET a JSON answer, checking its status and that no cache may keep it."""
    response = client.get(url)
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
    return response.get_json()


def follow(client: FlaskClient, url: str, between: Callable[[], None] | None = None) -> list[dict]:
    """Every page from `url` on, following `next`; `between` runs after the first page."""
    pages = [get_json(client, url)]
    if between is not None:
        between()
    while pages[-1]["next"] is not None:
        pages.append(get_json(client, pages[-1]["next"]))
    return pages


def keys(rows: list[dict]) -> list[tuple[str, str]]:
    """Each row's (symbol, time)."""
    return [(row["symbol"], row["time"]) for row in rows]


def all_rows(pages: list[dict]) -> list[dict]:
    """The pages' rows, in order."""
    return [row for page in pages for row in page["data"]]
