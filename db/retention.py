"""Deleting what retention no longer keeps, a bounded batch per call.

Each batch is one symbol's oldest rows of one level (raw ticks, or bars of one
width), found by an index range scan of the table's own key — (symbol,
observed_at) or (symbol, width, start) — so a batch costs its own rows, however
large the table. The caller commits each batch in its own short transaction: on
SQLite the database's one writer lock is held for a batch at a time, and a price
write waits at most that long; on PostgreSQL deleted keys are old ones, which no
price write touches.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete, select
from sqlalchemy.orm import Session

from core.retention import TICKS
from db.models import PriceBar, PriceTick, Stock


def _level(level: int) -> tuple[type, ColumnElement, tuple[ColumnElement[bool], ...]]:
    """The table, time column and fixed conditions of a level."""
    if level == TICKS:
        return PriceTick, PriceTick.observed_at, ()
    return PriceBar, PriceBar.start, (PriceBar.width == level,)


def delete_batch(session: Session, level: int, symbol: str, before: datetime, batch: int) -> int:
    """Delete at most `batch` of the symbol's rows of `level` older than `before`; how many.

    A bar goes only once all of it is older: its start at least a width before `before`.
    """
    model, at, fixed = _level(level)
    where = (model.symbol == symbol, *fixed)
    older = at < before if level == TICKS else at <= before - timedelta(seconds=level)
    # The time of the first row past the batch: everything older goes (at most `batch` rows).
    edge = session.execute(
        select(at).where(*where, older).order_by(at).offset(batch).limit(1)
    ).scalar_one_or_none()
    statement = delete(model).where(*where, at < edge if edge is not None else older)
    return session.execute(statement.execution_options(synchronize_session=False)).rowcount


def stored_symbols(session: Session) -> list[str]:
    """Every stock known, watched or not: retention applies to all stored prices."""
    return list(session.scalars(select(Stock.symbol).order_by(Stock.symbol)))
