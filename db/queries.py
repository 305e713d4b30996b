"""The poller's and the health check's reads: which symbols have history, and the newest tick."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.models import PriceTick


def observation_span(
    session: Session, symbols: Sequence[str]
) -> dict[str, tuple[datetime, datetime]]:
    """The oldest and newest observed_at per symbol (absent for a symbol with no tick)."""
    rows = session.execute(
        select(PriceTick.symbol, func.min(PriceTick.observed_at), func.max(PriceTick.observed_at))
        .where(PriceTick.symbol.in_(list(symbols)))
        .group_by(PriceTick.symbol)
    ).all()
    return {symbol: (first, last) for symbol, first, last in rows if last is not None}


def latest_observation(session: Session, symbols: Sequence[str]) -> dict[str, datetime]:
    """The newest observed_at per symbol (absent for a symbol with no tick)."""
    rows = session.execute(
        select(PriceTick.symbol, func.max(PriceTick.observed_at))
        .where(PriceTick.symbol.in_(list(symbols)))
        .group_by(PriceTick.symbol)
    ).all()
    return {symbol: at for symbol, at in rows if at is not None}
