"""Positions and average prices per (account, instrument), built from applied fills.

Theory of operation
-------------------
A position is a signed quantity (long > 0, short < 0), the average price of the open
quantity, and the realized P&L of what was closed, in price x quantity units (no contract
multiplier: the book does not know it for every instrument; multiply downstream).

Applying a fill of signed quantity ``q`` (buy +, sell and short sell -) at price ``p`` to
a position ``(Q, A)``:

* **open or add** (``Q`` is 0 or has the sign of ``q``): ``Q' = Q + q`` and
  ``A' = (A*|Q| + p*|q|) / |Q'|``, the quantity-weighted average;
* **reduce** (opposite signs, ``|q| <= |Q|``): ``Q' = Q + q``, the average is unchanged,
  and ``realized += (p - A) * |q| * sign(Q)``; a position closed to 0 has average 0;
* **flip** (opposite signs, ``|q| > |Q|``): the whole of ``Q`` is closed as above, and
  the remainder ``Q + q`` opens a position in the other direction at ``A' = p``.

Average-price accounting is path dependent, so a bust or a correction cannot be undone by
applying an opposite fill (that would realize P&L that never happened). Instead each
position keeps its fills in the order they were applied, a bust marks one busted and a
correction changes one's quantity or price, and the position is recomputed from its
fills. Busts are rare; the common path (a new fill) is O(1).

The instrument is the symbol for stocks and the like; options and futures share their
underlying's symbol, so for them it is IB's LocalSymbol(6035) when given, else the symbol
with the security type, maturity, strike and right.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from fixrouter.requests import Derivative, NewOrder, PutOrCall, SecurityType

if TYPE_CHECKING:
    from fixrouter.oms.order import Order

ZERO = Decimal(0)


def instrument_key(
    symbol: str, sec_type: SecurityType, derivative: Derivative | None
) -> str:
    """The instrument part of a position key. See the module docstring."""
    if derivative is None:
        return symbol
    if derivative.local_symbol:
        return derivative.local_symbol
    strike = "" if derivative.strike is None else format(derivative.strike.normalize(), "f")
    right = {PutOrCall.PUT: "P", PutOrCall.CALL: "C", None: ""}[derivative.put_or_call]
    return (
        f"{symbol}:{sec_type.value}:{derivative.maturity_month_year or ''}"
        f"{derivative.maturity_day or ''}:{strike}{right}"
    )


def order_instrument(req: NewOrder) -> str:
    return instrument_key(req.symbol, req.sec_type, req.derivative)


class Fill:
    """One applied execution. Mutable: a correction changes it, a bust marks it."""

    __slots__ = ("busted", "exec_id", "order", "px", "qty", "sign")

    def __init__(self, exec_id: str, order: Order, sign: int, qty: Decimal, px: Decimal) -> None:
        self.exec_id = exec_id
        self.order = order
        self.sign = sign  # +1 buy, -1 sell / short
        self.qty = qty
        self.px = px
        self.busted = False


@dataclass(frozen=True, slots=True)
class PositionView:
    """A position at one moment, for callers that must not see it change."""

    account: str
    instrument: str
    qty: Decimal
    avg_px: Decimal
    realized_pnl: Decimal


class Position:
    """A live position. Read its fields; change it only through the order book."""

    __slots__ = ("account", "avg_px", "fills", "instrument", "qty", "realized_pnl")

    def __init__(self, account: str, instrument: str) -> None:
        self.account = account
        self.instrument = instrument
        self.qty = ZERO
        self.avg_px = ZERO
        self.realized_pnl = ZERO
        self.fills: list[Fill] = []

    def add(self, fill: Fill) -> None:
        self.fills.append(fill)
        self._apply(fill.sign * fill.qty, fill.px)

    def recompute(self) -> None:
        """Rebuild from the fills that stand, after a bust or a correction."""
        self.qty = self.avg_px = self.realized_pnl = ZERO
        for fill in self.fills:
            if not fill.busted and fill.qty:
                self._apply(fill.sign * fill.qty, fill.px)

    def _apply(self, q: Decimal, px: Decimal) -> None:
        if not q:
            return
        held = self.qty
        if not held or (held > 0) == (q > 0):
            total = held + q
            self.avg_px = (self.avg_px * abs(held) + px * abs(q)) / abs(total)
            self.qty = total
            return
        closed = min(abs(q), abs(held))
        direction = 1 if held > 0 else -1
        self.realized_pnl += (px - self.avg_px) * closed * direction
        total = held + q
        if not total:
            self.avg_px = ZERO
        elif (total > 0) != (held > 0):
            self.avg_px = px  # flipped: the remainder opened at this fill's price
        self.qty = total

    def view(self) -> PositionView:
        return PositionView(self.account, self.instrument, self.qty, self.avg_px,
                            self.realized_pnl)
