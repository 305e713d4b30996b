"""The app factory: a Dash app built from what it is given, with no global state."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from dash import Dash
from sqlalchemy.orm import Session, sessionmaker

from app.callbacks import register_callbacks
from app.layout import build_layout
from app.views import Clock
from db.settings import Settings

ASSETS = Path(__file__).resolve().parent.parent / "assets"


def utc_now() -> datetime:
    """The wall clock, in UTC."""
    return datetime.now(timezone.utc)


def create_app(settings: Settings, sessions: sessionmaker[Session], clock: Clock = utc_now) -> Dash:
    """A Dash app reading through `sessions`; it starts nothing (the poller is the caller's)."""
    app = Dash(
        __name__,
        title="stockstreamer",
        assets_folder=str(ASSETS),  # Dash needs the absolute path of the top-level folder
        update_title=None,  # no "Updating…" flicker in the tab on every tick
        serve_locally=True,  # no CDN: the page works on a closed network
    )
    app.layout = build_layout(settings.refresh_interval, settings.window_days)
    register_callbacks(app, sessions, clock, settings.window_days)
    return app
