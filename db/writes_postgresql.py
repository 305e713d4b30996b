"""PostgreSQL's write of a batch: ticks and their rollups in one statement, one round trip.

The portable path (rollups.py) sends the inserted rows back to Python to fold
them into minutes and bars; on PostgreSQL a data-modifying CTE does the same fold on the
server, from the rows the INSERT really inserted (RETURNING), so repeated
observations are still counted once. The result is the same, row for row; the
tests run both paths against the same assertions.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from core.records import Quote, WriteCounts
from db.rollups import BAR_WIDTHS

# How a new bar merges into a stored one (the same rule as rollups.py): the
# earlier open, the later close, the wider range, the counts added.
MERGE = """
    open = CASE WHEN excluded.open_at < {t}.open_at THEN excluded.open ELSE {t}.open END,
    close = CASE WHEN excluded.close_at > {t}.close_at THEN excluded.close ELSE {t}.close END,
    open_at = LEAST({t}.open_at, excluded.open_at),
    close_at = GREATEST({t}.close_at, excluded.close_at),
    high = GREATEST({t}.high, excluded.high),
    low = LEAST({t}.low, excluded.low),
    tick_count = {t}.tick_count + excluded.tick_count,
    simulated = {t}.simulated OR excluded.simulated"""

WRITE_TICKS_AND_MINUTES = text(
    """
WITH input AS (
    SELECT * FROM unnest(
        CAST(:symbols AS text[]), CAST(:observed AS timestamptz[]),
        CAST(:prices AS numeric[]), CAST(:simulated AS boolean[])
    ) AS t(symbol, observed_at, price, simulated)
    ORDER BY symbol, observed_at  -- one lock order for concurrent writers
),
known AS (
    -- The foreign key of price_ticks is checked at the end of the statement, when
    -- these rows are visible: no separate round trip to create stocks first.
    INSERT INTO stocks (symbol) SELECT DISTINCT symbol FROM input
    ON CONFLICT (symbol) DO NOTHING
),
inserted AS (
    INSERT INTO price_ticks (symbol, observed_at, price, fetched_at, simulated)
    SELECT symbol, observed_at, price, CAST(:fetched_at AS timestamptz), simulated FROM input
    ON CONFLICT (symbol, observed_at) DO NOTHING
    RETURNING symbol, observed_at, price, simulated
),
bars AS (
    SELECT symbol,
           date_trunc('minute', observed_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS minute,
           (array_agg(price ORDER BY observed_at))[1] AS open,
           max(price) AS high,
           min(price) AS low,
           (array_agg(price ORDER BY observed_at DESC))[1] AS close,
           min(observed_at) AS open_at,
           max(observed_at) AS close_at,
           count(*) AS tick_count,
           bool_or(simulated) AS simulated
    FROM inserted
    GROUP BY 1, 2
),
folded AS (
    INSERT INTO price_minutes AS m
        (symbol, minute, open, high, low, close, open_at, close_at, tick_count, simulated)
    SELECT symbol, minute, open, high, low, close, open_at, close_at, tick_count, simulated
    FROM bars
    ORDER BY symbol, minute
    ON CONFLICT (symbol, minute) DO UPDATE SET
        {merge_m}
    RETURNING 1
),
coarse AS (
    SELECT i.symbol, w.width,
           to_timestamp(floor(date_part('epoch', i.observed_at) / w.width) * w.width) AS start,
           (array_agg(i.price ORDER BY i.observed_at))[1] AS open,
           max(i.price) AS high,
           min(i.price) AS low,
           (array_agg(i.price ORDER BY i.observed_at DESC))[1] AS close,
           min(i.observed_at) AS open_at,
           max(i.observed_at) AS close_at,
           count(*) AS tick_count,
           bool_or(i.simulated) AS simulated
    FROM inserted AS i CROSS JOIN unnest(CAST(:widths AS integer[])) AS w(width)
    GROUP BY 1, 2, 3
),
folded_bars AS (
    INSERT INTO price_bars AS b
        (symbol, width, start, open, high, low, close, open_at, close_at, tick_count, simulated)
    SELECT symbol, width, start, open, high, low, close, open_at, close_at, tick_count, simulated
    FROM coarse
    ORDER BY symbol, width, start
    ON CONFLICT (symbol, width, start) DO UPDATE SET
        {merge_b}
    RETURNING 1
)
SELECT (SELECT count(*) FROM inserted) AS written,
       (SELECT count(*) FROM folded) + (SELECT count(*) FROM folded_bars) AS rollups
""".replace("{merge_m}", MERGE.format(t="m")).replace("{merge_b}", MERGE.format(t="b"))
)


def write_quotes_postgresql(
    session: Session, quotes: Sequence[Quote], fetched_at: datetime
) -> WriteCounts:
    """Insert quotes once each and fold the new ones into the rollups, in one round trip."""
    symbols = [q.symbol for q in quotes]
    written = session.execute(
        WRITE_TICKS_AND_MINUTES,
        {
            "symbols": symbols,
            "observed": [q.observed_at for q in quotes],
            "prices": [q.price for q in quotes],
            "simulated": [q.simulated for q in quotes],
            "fetched_at": fetched_at,
            "widths": list(BAR_WIDTHS),
        },
    ).scalar_one()
    return WriteCounts(written=int(written), duplicates=len(quotes) - int(written))
