"""A dashboard with sign-in on, for the Flask test client: settings, a password file, requests."""

from __future__ import annotations

import base64
from pathlib import Path

from dash import Dash
from werkzeug.routing import Rule

from app.factory import create_app
from app.passwords import password_line
from app.watchlist_edit import WatchlistEditor
from core.settings import Settings, load_settings
from core.times import utc_now
from db.engine import make_engine, make_session_factory, unit_of_work
from db.migrate import upgrade
from db.watchlist import seed_watchlist
from jobs.providers.registry import PROVIDERS, market_hours
from jobs.providers.simulated import SimulatedMarket

USER, PASSWORD = "alice", "correct horse battery"
# The app's client at the fake identity provider (tests/fakes/oidc_server.py).
CLIENT_ID, CLIENT_SECRET = "stockstreamer", "client-secret-0123456789"
PUBLIC = {"/healthz", "/readyz", "/metrics"}  # what the README declares public


def basic(user: str, password: str) -> dict[str, str]:
    """The header a browser sends for these credentials."""
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


SIGNED = basic(USER, PASSWORD)


def password_file(folder: Path) -> Path:
    """A password file with alice in it, as `stockstreamer passwd alice` makes its line."""
    path = folder / "users"
    path.write_text(f"# made by stockstreamer passwd\n{password_line(USER, PASSWORD)}\n")
    return path


def signed_app(folder: Path, **overrides: object) -> tuple[Dash, Settings, object]:
    """The real app with the real editor on a new SQLite database: (app, settings, sessions)."""
    url = f"sqlite:///{folder / 'db.sqlite'}"
    upgrade(url)
    settings = load_settings(PROVIDERS, database_url=url, symbols="AAPL,GE", **overrides)
    sessions = make_session_factory(make_engine(url))
    with unit_of_work(sessions) as session:
        seed_watchlist(session, settings.symbols, utc_now())
    editor = WatchlistEditor(settings, sessions, SimulatedMarket)
    app = create_app(settings, sessions, market_hours(settings), editor=editor.edit)
    return app, settings, sessions


def concrete_path(rule: Rule) -> str:
    """A path the rule matches: each of its variables filled with a plausible value."""
    values = {name: "x.js" for name in rule.arguments}
    return rule.build(values, append_unknown=False)[1]  # type: ignore[index]
