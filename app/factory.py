"""The app factory: a Dash app built from what it is given, with no global state."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from dash import Dash
from prometheus_client import CollectorRegistry
from sqlalchemy.orm import Session, sessionmaker

from app.access import believe_proxies, guard_metrics
from app.api import register_api
from app.callbacks import register_callbacks
from app.download import register_download
from app.health import register_health_routes
from app.http_bytes import serve_lean
from app.layout import build_layout
from app.page_updates import Page
from app.request_checks import register_request_checks
from app.security_headers import QuietDash, register_security_headers
from app.signin import install_signin
from app.tick_cache import DirectReads, SharedReads
from app.watch_controls import Editor, register_watch_callbacks
from app.watchlist_edit import signed_in_only
from core.market import MarketHours
from core.retention import DAY
from core.settings import Settings
from core.times import Clock, utc_now

ASSETS = Path(__file__).resolve().parent.parent / "assets"


def create_app(
    settings: Settings,
    sessions: sessionmaker[Session],
    market: MarketHours,
    clock: Clock = utc_now,
    registry: CollectorRegistry | None = None,
    editor: Editor | None = None,
) -> Dash:
    """A Dash app reading through `sessions`, with /healthz, /readyz, /metrics, /api/v1, CSV.

    `market` says when prices are expected to move (readiness allows stale prices
    while it is closed).

    It starts nothing: the poller is the caller's. `registry` holds this
    process's poller metrics when gunicorn's multiprocess directory is not used.
    `editor` adds and removes watched symbols; without one the page cannot edit.
    With sign-in configured (settings.access) every route but the probes and /metrics
    asks for it, and only a signed-in user's edit reaches `editor`.
    """
    app = QuietDash(
        __name__,
        title="stockstreamer",
        assets_folder=str(ASSETS),  # Dash needs the absolute path of the top-level folder
        update_title=None,  # no "Updating…" flicker in the tab on every tick
        add_log_handler=False,  # its records go through the root handler once (app.logs), not twice
        serve_locally=True,  # no CDN: the page works on a closed network
    )
    # The page's language, for screen readers (axe: html-has-lang).
    app.index_string = app.index_string.replace("<html>", '<html lang="en">', 1)
    # The longest range offered: the setting's, unless retention keeps no daily bars that long.
    daily = settings.retention.limit(DAY)
    longest = min(timedelta(days=settings.window_days), daily or timedelta.max)
    app.layout = build_layout(
        settings.refresh_interval, longest, settings.price_interval, editable=editor is not None
    )
    # Shared for half a refresh interval: an answer is at most one interval late.
    shared = SharedReads(settings.refresh_interval / 2) if settings.shared_ticks else DirectReads()
    page = Page(
        sessions,
        clock,
        market,
        longest,
        settings.refresh_interval,
        settings.price_interval,
        shared,
        settings.retention,
    )
    register_callbacks(app, page)
    signin = install_signin(app, settings.access)  # reads the password file, if one is set
    if editor is not None and signin is not None:
        editor = signed_in_only(editor, signin.user)  # type: ignore[arg-type]
    register_watch_callbacks(app, editor, changed=shared.forget)
    guard_metrics(app.server, settings.access)
    believe_proxies(app.server, settings.access)
    register_health_routes(app.server, settings, sessions, clock, market, registry)
    register_api(app.server, settings, sessions, clock, market)
    register_download(
        app.server, sessions, clock, market, longest, settings.api_max_rows, settings.retention
    )
    register_request_checks(app, settings.max_request_bytes)
    serve_lean(app, compress=settings.compress, cache_static=settings.cache_static)
    register_security_headers(app)  # last: the policy hashes every inline script registered
    return app
