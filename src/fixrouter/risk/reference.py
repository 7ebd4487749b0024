"""Reference prices for the price collar and for the notional of market orders.

Theory of operation
-------------------
One price per instrument (the order book's instrument key: the symbol for stocks, the
LocalSymbol or full contract for derivatives). It comes from two places, and **the most
recent wins**:

* every fill sets it to the fill's price (the last trade we know of);
* an admin sets it (`set`) before the first fill of the day, or to correct a stale one.

So an admin price stands until the next fill in that instrument. There is no market data
feed yet; a feed would call `set` too. A price is never guessed: when an instrument has
none, the gate does what `missing_reference` says (deny, or allow with a warning).
"""

from __future__ import annotations

from decimal import Decimal


class ReferencePrices:
    __slots__ = ("prices",)

    def __init__(self) -> None:
        self.prices: dict[str, Decimal] = {}

    def get(self, instrument: str) -> Decimal | None:
        return self.prices.get(instrument)

    def set(self, instrument: str, price: Decimal) -> None:
        """Raises ValueError unless `price` is a finite number above 0."""
        if not price.is_finite() or price <= 0:
            raise ValueError(f"reference price for {instrument} must be above 0, got {price}")
        self.prices[instrument] = price

    def clear(self, instrument: str) -> bool:
        return self.prices.pop(instrument, None) is not None
