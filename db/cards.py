"""TEMPORARY stand-in until the market branch lands."""
from __future__ import annotations
from dataclasses import dataclass
from datetime import datetime
from sqlalchemy import select, func
from db.models import PriceTick
from core.times import to_ms

@dataclass(frozen=True, slots=True)
class CardPrice:
    symbol: str
    last_price: float | None
    last_ms: int | None
    previous_close: float | None

def card_prices(session, symbols, session_open: datetime):
    out = {}
    for s in symbols:
        last = session.execute(select(PriceTick.price, PriceTick.observed_at).where(PriceTick.symbol == s).order_by(PriceTick.observed_at.desc()).limit(1)).first()
        prev = session.execute(select(PriceTick.price).where(PriceTick.symbol == s, PriceTick.observed_at < session_open).order_by(PriceTick.observed_at.desc()).limit(1)).scalar()
        out[s] = CardPrice(s, float(last[0]) if last else None, to_ms(last[1]) if last else None, float(prev) if prev is not None else None)
    return out
