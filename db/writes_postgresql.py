"""PostgreSQL's write of a batch: stocks, ticks and their bars in one statement, one round trip.

A data-modifying CTE inserts the unknown stocks and the ticks, and merges the
ticks the INSERT really inserted (RETURNING) into the bars at every width, with
the same statement builder as SQLite (db/rollups.py), so repeated observations
are still counted once. The tests run both paths against the same assertions.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import cache

from sqlalchemy import Boolean, DateTime, Numeric, Select, Text, bindparam, cast, func, select
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.orm import Session

from core.records import Quote
from db.models import PriceTick, Stock
from db.rollups import merge_bars

TIME = DateTime(timezone=True)


@cache
def write_statement() -> Select:
    """WITH input, known (stocks), inserted (ticks), bars: SELECT how many ticks were inserted."""
    arrays = (
        func.unnest(
            cast(bindparam("symbols"), ARRAY(Text)),
            cast(bindparam("observed"), ARRAY(TIME)),
            cast(bindparam("prices"), ARRAY(Numeric)),
            cast(bindparam("flags"), ARRAY(Boolean)),
        )
        .table_valued("symbol", "observed_at", "price", "simulated")
        .render_derived(name="t")
    )
    input_ = (
        select(arrays)
        .order_by(arrays.c.symbol, arrays.c.observed_at)  # one lock order for concurrent writers
        .cte("input")
    )
    # The foreign key of price_ticks is checked at the end of the statement, when
    # these rows are visible: no separate round trip to create stocks first.
    known = (
        insert(Stock)
        .from_select(["symbol"], select(input_.c.symbol).distinct(), include_defaults=False)
        .on_conflict_do_nothing(index_elements=["symbol"])
        .cte("known")
    )
    fetched_at = cast(bindparam("fetched_at"), TIME)
    inserted = (
        insert(PriceTick)
        .from_select(
            ["symbol", "observed_at", "price", "fetched_at", "simulated"],
            select(
                input_.c.symbol,
                input_.c.observed_at,
                input_.c.price,
                fetched_at,
                input_.c.simulated,
            ),
        )
        .on_conflict_do_nothing(index_elements=["symbol", "observed_at"])
        .returning(PriceTick.symbol, PriceTick.observed_at, PriceTick.price, PriceTick.simulated)
        .cte("inserted")
    )
    bars = merge_bars("postgresql", inserted).cte("bars")
    return select(func.count()).select_from(inserted).add_cte(known, bars)


def write_quotes_postgresql(session: Session, quotes: Sequence[Quote], fetched_at: datetime) -> int:
    """Insert quotes once each and merge the new ones into the bars; how many were new."""
    return session.execute(
        write_statement(),
        {
            "symbols": [q.symbol for q in quotes],
            "observed": [q.observed_at for q in quotes],
            "prices": [q.price for q in quotes],
            "flags": [q.simulated for q in quotes],
            "fetched_at": fetched_at,
        },
    ).scalar_one()
