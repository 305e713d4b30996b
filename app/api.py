"""The read-only JSON API: /api/v1/stocks and /api/v1/prices, on the Dash app's Flask server.

Every answer is JSON, `Cache-Control: no-store` (prices move; a cached answer
would be old at once). A bad parameter is a 400 naming it, an unknown symbol a
404, a database that cannot be read a 503, anything else a 500 with no detail:
never a stack trace.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import datetime
from urllib.parse import urlencode

from flask import Blueprint, Flask, Response, request
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from app.api_params import NAMES, Cursor, ParameterError, encode_cursor, parse_price_args
from app.api_shapes import rows_json, stock_json, utc_text
from app.patches import point_budget
from core.market import MarketHours
from core.settings import Settings
from core.times import to_ms
from db.cards import card_prices
from db.chart import chart_stocks, finest_fitting
from db.exports import known_symbols, read_page

log = logging.getLogger(__name__)
PREFIX = "/api/v1"
DB_DOWN = "the database cannot be reached; try again in a moment"


def json_answer(body: object, status: int = 200) -> Response:
    """A JSON answer that no cache keeps."""
    text = json.dumps(body, separators=(",", ":"))
    response = Response(text, status, mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    return response


def error_answer(status: int, message: str, parameter: str | None = None) -> Response:
    """`{"error": …}`, with the parameter at fault when there is one."""
    body = {"error": message} | ({"parameter": parameter} if parameter else {})
    return json_answer(body, status)


def check_symbols(session: Session, symbols: tuple[str, ...]) -> None:
    """A 404 naming the first symbol the database has never had."""
    known = known_symbols(session, symbols)
    missing = [s for s in symbols if s not in known]
    if missing:
        raise ParameterError("symbols", f"unknown symbol {missing[0]}", status=404)


def register_api(
    server: Flask,
    settings: Settings,
    sessions: sessionmaker[Session],
    clock: Callable[[], datetime],
    market: MarketHours,
) -> None:
    """Add the API's routes and its error answers to the Flask server behind Dash."""
    api = Blueprint("api", __name__, url_prefix=PREFIX)

    @api.get("/stocks")
    def stocks() -> Response:
        now = clock()
        with sessions() as session:
            watched = chart_stocks(session)
            symbols = [s.symbol for s in watched]
            prices = card_prices(session, symbols, market.session_open(now))
        status = market.status(now)
        listed = [
            stock_json(s, prices.get(s.symbol), to_ms(now), status.open, settings.price_interval)
            for s in watched
        ]
        market_json = {"open": status.open, "status": status.text}
        return json_answer({"as_of": utc_text(now), "market": market_json, "stocks": listed})

    @api.get("/prices")
    def prices() -> Response:
        query = parse_price_args(request.args.to_dict(flat=False), settings.api_max_rows)
        start, end = query.window(clock())
        with sessions() as session:
            symbols = query.symbols or tuple(s.symbol for s in chart_stocks(session))
            check_symbols(session, symbols)
            width = query.width
            if width is None:
                kept = settings.retention.kept_from(clock())
                budget = point_budget(len(symbols))
                width = finest_fitting(session, symbols, start, end, budget, kept)
            after = query.cursor.key if query.cursor else None
            page = read_page(session, symbols, width, start, end, after, query.limit)
        cursor = None if page.next is None else encode_cursor(Cursor(page.next, width, end))
        settled = [
            ("symbols", ",".join(symbols)),
            ("start", utc_text(start)),
            ("end", utc_text(end)),
            ("resolution", NAMES[width]),
        ]
        if "limit" in request.args:
            settled.append(("limit", str(query.limit)))
        follow = f"{PREFIX}/prices?{urlencode([*settled, ('cursor', cursor)], safe=',:')}"
        body = dict(settled) | {
            "symbols": list(symbols),
            "limit": query.limit,
            "count": len(page.rows),
            "data": rows_json(page.rows),
            "cursor": cursor,
            "next": follow if cursor else None,
        }
        return json_answer(body)

    @api.route("/<path:_rest>")
    def unknown(_rest: str) -> Response:
        return error_answer(404, f"no such endpoint: {request.path}")

    @api.errorhandler(ParameterError)
    def refused(error: ParameterError) -> Response:
        return error_answer(error.status, error.message, error.parameter)

    @api.errorhandler(SQLAlchemyError)
    def database_down(error: SQLAlchemyError) -> Response:
        log.warning("API read failed: %s", type(error).__name__)
        return error_answer(503, DB_DOWN)

    @api.errorhandler(Exception)
    def failed(error: Exception) -> Response:
        if isinstance(error, HTTPException):  # 405 and the like: their own status, as JSON
            return error_answer(error.code or 500, error.description or error.name)
        log.exception("API request failed: %s", request.full_path)
        return error_answer(500, "internal error")

    server.register_blueprint(api)

    @server.errorhandler(MethodNotAllowed)
    def not_allowed(error: MethodNotAllowed) -> Response | MethodNotAllowed:
        # Routing fails before a blueprint is chosen: only the path says the API was asked.
        if request.path.startswith(f"{PREFIX}/"):
            answer = error_answer(405, "the API only reads: use GET")
            answer.headers["Allow"] = ", ".join(sorted(error.valid_methods or ["GET"]))
            return answer
        return error
