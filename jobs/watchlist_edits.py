"""Adding and removing watched stocks, with every check in one place (the page and the CLI).

A symbol is normalised (trimmed, upper case), then checked: its format, whether it is
watched already, the limits (STOCKSTREAMER_MAX_SYMBOLS and the provider's request
budget at the price interval) and whether the provider knows it. Nothing is written
when a check fails. A removal keeps the stock's prices; adding it back restores them,
its place and, when no other stock took it meanwhile, its colour.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from core.options import env_name
from core.records import TICKER_RE
from core.settings import Settings
from core.times import Clock, utc_now
from db.engine import unit_of_work
from db.queries import latest_observation
from db.watchlist import (
    WatchEntry,
    add_symbol,
    ever_watched,
    remove_symbol,
    seed_watchlist,
    take_edit_turn,
    watch_entries,
    watched_symbols,
)
from jobs.budget import Budget
from jobs.failures import ProviderError
from jobs.providers.base import Provider

SHOWN = 24  # characters of a refused input repeated in its message


@dataclass(frozen=True, slots=True)
class EditResult:
    """An edit's outcome: done or refused, one line saying which, and why when refused."""

    ok: bool
    message: str
    symbol: str = ""  # the symbol as normalised ("" when there was none)
    # Why it was refused: malformed, watched, not_watched, full, budget, unknown,
    # provider (it could not be asked), not_editable; "" when done.
    reason: str = ""
    history_starts_now: bool = False  # added, with a provider that gives no history


def normalise(text: str) -> str:
    """The symbol as stored: trimmed, upper case."""
    return text.strip().upper()


def format_problem(text: str) -> str | None:
    """Why the text is not a ticker symbol, or None when it is one (once normalised)."""
    symbol = normalise(text)
    if not symbol:
        return "Type a symbol, such as AAPL"
    if TICKER_RE.match(symbol):
        return None
    shown = symbol if len(symbol) <= SHOWN else symbol[: SHOWN - 1] + "…"
    return (
        f'"{shown}" is not a ticker symbol: up to 7 letters or digits starting with a letter, '
        "with an optional class such as BRK.B"
    )


def _read(text: str) -> tuple[str, EditResult | None]:
    """The symbol as normalised, and the refusal of a malformed one."""
    symbol, problem = normalise(text), format_problem(text)
    return symbol, EditResult(False, problem, symbol, "malformed") if problem else None


def symbols_that_fit(budget: Budget | None, interval: float, cap: int) -> int:
    """How many symbols (at most `cap`) the budget polls every `interval` seconds."""
    if budget is None:
        return cap
    return sum(1 for n in range(1, cap + 1) if budget.min_interval(n) <= interval)


class WatchlistEdits:
    """The watchlist's edits and its listing, on one database and one provider."""

    def __init__(
        self,
        settings: Settings,
        sessions: sessionmaker[Session],
        provider: Provider,
        clock: Clock = utc_now,
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.provider = provider
        self.clock = clock

    def entries(self) -> list[WatchEntry]:
        """The watched stocks in order (a new database's list is seeded first)."""
        with unit_of_work(self.sessions) as session:
            self._seeded(session)
            return watch_entries(session)

    def add(self, text: str) -> EditResult:
        """Watch one more stock, if every check passes; nothing is written otherwise."""
        symbol, refusal = _read(text)
        if refusal is not None:
            return refusal
        with unit_of_work(self.sessions) as session:
            self._seeded(session)
            watched = watched_symbols(session)
            known_before = ever_watched(session, symbol)
        refusal = self._refusal(symbol, watched)
        if refusal is not None:
            return refusal
        if not known_before:  # one watched before was known then: an undo asks nobody
            refusal = self._lookup(symbol)
            if refusal is not None:
                return refusal
        try:
            with unit_of_work(self.sessions) as session:
                # Again in the write's transaction, after any other process's edit: two adds
                # at once cannot both take the last place.
                take_edit_turn(session)
                refusal = self._refusal(symbol, watched_symbols(session))
                if refusal is not None:
                    return refusal
                now = self.clock()
                starts = self._history_starts(session, symbol, now)
                add_symbol(session, symbol, now, history_starts_at=starts)
        except IntegrityError:  # the same symbol added by another process at the same moment
            return EditResult(False, f"{symbol} is already on the watchlist", symbol, "watched")
        message = f"Added {symbol}"
        if starts is not None:
            message += f"; {self.provider.name} gives no history, so its history starts now"
        return EditResult(True, message, symbol, history_starts_now=starts is not None)

    def remove(self, text: str) -> EditResult:
        """Stop watching a stock; its prices are kept."""
        symbol, refusal = _read(text)
        if refusal is not None:
            return refusal
        with unit_of_work(self.sessions) as session:
            self._seeded(session)
            removed = remove_symbol(session, symbol, self.clock())
        if not removed:
            return EditResult(False, f"{symbol} is not on the watchlist", symbol, "not_watched")
        return EditResult(True, f"Removed {symbol}; its prices are kept", symbol)

    # -- the checks --------------------------------------------------------------
    def _refusal(self, symbol: str, watched: list[str]) -> EditResult | None:
        """Watched already, or one more would pass a limit: the refusal; else None."""
        if symbol in watched:
            return EditResult(False, f"{symbol} is already on the watchlist", symbol, "watched")
        cap = self.settings.max_symbols
        if len(watched) >= cap:
            variable = env_name(Settings, "max_symbols")
            message = (
                f"{symbol}: the watchlist is full ({len(watched)} of {cap} symbols, "
                f"{variable}); remove one first"
            )
            return EditResult(False, message, symbol, "full")
        budget, interval = self.provider.budget, self.settings.price_interval
        fit = symbols_that_fit(budget, interval, cap)
        if budget is not None and len(watched) + 1 > fit:
            limits = f"{budget.per_minute} {budget.unit}/min"
            if budget.per_day:
                limits += f" and {budget.per_day}/day"
            message = (
                f"{symbol}: {budget.provider}'s budget ({limits}) fits {fit} symbols every "
                f"{interval:g} s and {len(watched)} are watched; remove one, or set a longer "
                f"{env_name(Settings, 'price_interval')}"
            )
            return EditResult(False, message, symbol, "budget")
        return None

    def _lookup(self, symbol: str) -> EditResult | None:
        """The provider does not know it, or cannot be asked: the refusal; else None."""
        name = self.provider.name
        try:
            if self.provider.knows(symbol):
                return None
        except ProviderError as exc:
            message = f"{symbol}: could not ask {name} ({exc.failure(symbol)}); nothing changed"
            return EditResult(False, message, symbol, "provider")
        return EditResult(False, f"{symbol}: {name} knows no such symbol", symbol, "unknown")

    def _history_starts(self, session: Session, symbol: str, now: datetime) -> datetime | None:
        """Now, when the provider gives no history and nothing of the stock is stored."""
        if self.provider.has_history or latest_observation(session, [symbol]):
            return None
        return now

    def _seeded(self, session: Session) -> None:
        seed_watchlist(session, self.settings.symbols, self.clock())
