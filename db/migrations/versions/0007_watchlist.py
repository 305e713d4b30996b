"""The watchlist as a table of its own: ordered, with when each stock came and went.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The type as UTCDateTime stores it, frozen here as of this revision.
TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "watchlist",
        sa.Column("symbol", sa.String(16), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("added_at", TIME, nullable=False),
        sa.Column("removed_at", TIME, nullable=True),
        sa.Column("history_starts_at", TIME, nullable=True),
        sa.ForeignKeyConstraint(
            ["symbol"],
            ["stocks.symbol"],
            name=op.f("fk_watchlist_symbol_stocks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("symbol", name=op.f("pk_watchlist")),
    )
    connection = op.get_bind()
    # The stocks watched today keep being watched, in the order the page showed them.
    watched = connection.execute(
        sa.text("SELECT symbol FROM stocks WHERE on_watchlist ORDER BY symbol")
    ).scalars()
    now = datetime.now(timezone.utc)
    if connection.dialect.name == "sqlite":
        now = now.replace(tzinfo=None)  # naive UTC text, as UTCDateTime stores it there
    rows = [{"symbol": s, "position": i, "added_at": now} for i, s in enumerate(list(watched))]
    if rows:
        connection.execute(
            sa.text(
                "INSERT INTO watchlist (symbol, position, added_at) "
                "VALUES (:symbol, :position, :added_at)"
            ).bindparams(sa.bindparam("added_at", type_=TIME)),
            rows,
        )
    # Plain ALTER TABLE … DROP COLUMN (SQLite 3.35+), not batch mode: a batch rebuild of
    # `stocks` on SQLite drops the old table, and its ON DELETE CASCADE empties price_ticks.
    op.drop_column("stocks", "on_watchlist")


def downgrade() -> None:
    op.add_column(
        "stocks", sa.Column("on_watchlist", sa.Boolean(), server_default="0", nullable=False)
    )
    op.get_bind().execute(
        sa.text(
            "UPDATE stocks SET on_watchlist = :yes WHERE symbol IN "
            "(SELECT symbol FROM watchlist WHERE removed_at IS NULL)"
        ),
        {"yes": True},
    )
    op.drop_table("watchlist")
