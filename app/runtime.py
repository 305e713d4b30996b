"""The one composition root: the settings, read once, become the running parts.

`stockstreamer run`, `stockstreamer poll` and gunicorn's `app.wsgi` all call
`build_runtime`; each then asks it for what it serves: the dashboard, the
elected poller, or a polling service for one run. Nothing here runs at import.
"""

from __future__ import annotations

import gc
import sys
import threading
from dataclasses import dataclass, field

from dash import Dash
from prometheus_client import CollectorRegistry
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from app.factory import create_app
from app.logs import configure_logging
from app.watchlist_edit import WatchlistEditor
from core.market import MarketHours
from core.settings import Settings, SettingsError, load_settings
from db.engine import make_engine, make_session_factory
from db.migrate import SchemaNotCurrent, require_current_schema, upgrade
from jobs.election import ElectedPoller, build_election
from jobs.metrics import PollerMetrics
from jobs.providers.base import Provider
from jobs.providers.registry import PROVIDERS, build_provider, market_hours
from jobs.scheduler import PollingService


def startup_settings(program: str = "stockstreamer") -> Settings:
    """Read the settings once and configure logging; a bad value prints one line and exits 2."""
    try:
        settings = load_settings(PROVIDERS)
    except SettingsError as exc:
        print(f"{program}: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    configure_logging(settings.log_level, settings.log_format)
    return settings


@dataclass
class Runtime:
    """What one process runs on: the database, the market's hours and the poller's metrics."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    market: MarketHours
    # None under gunicorn: each worker's metrics go to the multiprocess directory's files.
    registry: CollectorRegistry | None
    metrics: PollerMetrics = field(init=False)
    # The provider the page's watchlist edits ask about a symbol; built at the first edit.
    _lookups: Provider | None = field(init=False, default=None)
    _lookups_lock: threading.Lock = field(init=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.metrics = PollerMetrics(self.registry)

    def lookup_provider(self) -> Provider:
        """This process's provider for the watchlist's lookups (not the poller's: no election).

        Built from the settings like the poller's, with its own connections and pacing: a
        lookup is one request, now and then.
        """
        with self._lookups_lock:
            if self._lookups is None:
                self._lookups = build_provider(self.settings)
            return self._lookups

    def watchlist_editor(self) -> WatchlistEditor:
        """The page's watchlist edits: `editor.edit(action, symbol)`, `editor.editable`."""
        return WatchlistEditor(self.settings, self.sessions, self.lookup_provider)

    def dashboard(self) -> Dash:
        """The Dash app, with /healthz, /readyz and /metrics; it starts nothing."""
        editor = self.watchlist_editor()
        app = create_app(
            self.settings,
            self.sessions,
            self.market,
            registry=self.registry,
            editor=editor.edit if editor.editable else None,  # off: no controls, edits refused
        )
        # The app and its imports live as long as the process: keep them out of the cyclic
        # GC's full passes, which otherwise cost ~80 ms on every few page loads.
        gc.collect()
        gc.freeze()
        return app

    def election(self) -> ElectedPoller:
        """The poller election: this process polls only while it holds the deployment's lock."""
        return build_election(self.settings, self.sessions, self.metrics)

    def polling_service(self) -> PollingService:
        """A polling service with its own provider, for one run (`poll --once`)."""
        return PollingService(self.settings, self.sessions, metrics=self.metrics)

    def close(self) -> None:
        """Close the database connections (and the lookups' provider, if one was built)."""
        if self._lookups is not None:
            self._lookups.close()
        self.engine.dispose()


def build_runtime(settings: Settings, *, require_schema: bool = False) -> Runtime:
    """Engine, sessions, market hours and metrics for these settings.

    With `require_schema`, a SQLite file is migrated first (the embedded default must
    work on a fresh machine with no operator step) and a schema that is not at head
    raises SchemaNotCurrent; PostgreSQL's migrations are the operator's.
    """
    if require_schema and settings.is_sqlite:
        upgrade(settings.database_url)
    # SQLite's pool needs no size: a file's connections cost nothing to open.
    pool = {} if settings.is_sqlite else {"pool_size": settings.db_pool_size}
    engine = make_engine(
        settings.database_url,
        connect_timeout=settings.db_connect_timeout,
        statement_timeout=settings.db_statement_timeout,
        pool_timeout=settings.db_pool_timeout,
        **pool,
    )
    sessions = make_session_factory(engine)
    if require_schema:
        try:
            require_current_schema(sessions)
        except SchemaNotCurrent:
            engine.dispose()
            raise
    registry = None if settings.prometheus_multiproc_dir else CollectorRegistry()
    return Runtime(settings, engine, sessions, market_hours(settings), registry)
