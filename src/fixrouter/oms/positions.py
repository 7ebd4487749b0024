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
applying an opposite fill (that would realize P&L that never happened). Instead a
position keeps its recent fills in the order they were applied, each with the position
as it stood before it (``before``: three references, no arithmetic), a bust marks one
busted and a correction changes one's quantity or price, and the position is recomputed
from the first kept fill's ``before`` over the kept fills. Busts are rare; the common
path (a new fill) is O(1).

*How much history.* Keeping every fill of the day would cost memory per order for the
whole day (the issue 7 target is a flat engine over a million orders), so the fills are
kept in one `FillWindow` per order book: the latest ``capacity`` fills of all positions
(`FILL_WINDOW`, about 2 MB). A fill leaving the window is dropped from its position's
list at no cost: the next kept fill's ``before`` is the new base. A bust or correction
of a fill still in the window is exact. One of an older fill (rare: busts come within
minutes, and the window holds thousands of fills) cannot be undone exactly any more: the
quantity is still exact, and the average price and realized P&L are adjusted as if the
busted fill were reversed at its own price at the base of the window. `bust` and
`correct` return False then; the order book logs and counts it
(`Anomaly.HISTORY_EXCEEDED`). A `Position` without a window keeps every fill.

The instrument is the symbol for stocks and the like; options and futures share their
underlying's symbol, so for them it is IB's LocalSymbol(6035) when given, else the symbol
with the security type, maturity, strike and right.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from fixrouter.requests import Derivative, NewOrder, PutOrCall, SecurityType

ZERO: Final = Decimal(0)
FILL_WINDOW: Final = 8192
"""Fills kept for exact busts and corrections, across every position of a book."""

State = tuple[Decimal, Decimal, Decimal]
"""A position's (qty, avg_px, realized_pnl)."""


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
    """One applied execution. Mutable: a correction changes it, a bust marks it.

    `position` is the position that keeps it in its history (None once it left the
    window, or before it was added), `before` that position's state before it."""

    __slots__ = ("before", "busted", "exec_id", "position", "px", "qty", "sign")

    def __init__(self, exec_id: str, sign: int, qty: Decimal, px: Decimal) -> None:
        self.exec_id = exec_id
        self.sign = sign  # +1 buy, -1 sell / short
        self.qty = qty
        self.px = px
        self.busted = False
        self.position: Position | None = None
        self.before: State | None = None


class FillWindow:
    """The latest `capacity` fills of every position that shares it, oldest first."""

    __slots__ = ("capacity", "fills")

    def __init__(self, capacity: int = FILL_WINDOW) -> None:
        if capacity < 1:
            raise ValueError(f"a fill window holds at least 1 fill, not {capacity}")
        self.capacity = capacity
        self.fills: deque[Fill] = deque()

    def keep(self, fill: Fill) -> None:
        fills = self.fills
        fills.append(fill)
        if len(fills) > self.capacity:
            old = fills.popleft()
            held = old.position
            if held is not None:
                kept = held.fills
                if kept and kept[0] is old:
                    kept.popleft()
            old.position = None
            old.before = None


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

    __slots__ = ("account", "avg_px", "fills", "instrument", "qty", "realized_pnl", "window")

    def __init__(self, account: str, instrument: str, window: FillWindow | None = None) -> None:
        self.account = account
        self.instrument = instrument
        self.qty = ZERO
        self.avg_px = ZERO
        self.realized_pnl = ZERO
        self.fills: deque[Fill] = deque()
        """The kept fills, oldest first (see the module docstring)."""
        self.window = window

    def add(self, fill: Fill) -> None:
        fill.before = (self.qty, self.avg_px, self.realized_pnl)
        fill.position = self
        self.fills.append(fill)
        if self.window is not None:
            self.window.keep(fill)
        self._apply(fill.sign * fill.qty, fill.px)

    def recompute(self) -> None:
        """Rebuild from the kept fills that stand, after a bust or a correction."""
        fills = self.fills
        if not fills:
            return
        first = fills[0].before
        assert first is not None
        self.qty, self.avg_px, self.realized_pnl = first
        for fill in fills:
            fill.before = (self.qty, self.avg_px, self.realized_pnl)
            if not fill.busted and fill.qty:
                self._apply(fill.sign * fill.qty, fill.px)

    def kept(self, fill: Fill) -> Fill | None:
        """This position's own record of `fill` (the same object, or one with its ExecID,
        for a fill rebuilt from the journal), or None if it left the window."""
        if fill.position is self:
            return fill
        exec_id = fill.exec_id
        for kept in self.fills:
            if kept.exec_id == exec_id:
                return kept
        return None

    def bust(self, fill: Fill) -> bool:
        """Take `fill` out. True if exact; False if it had left the window (the quantity
        is still exact; see the module docstring)."""
        kept = self.kept(fill)
        if kept is not None:
            kept.busted = True
            self.recompute()
            return True
        self._adjust_base(-fill.sign * fill.qty, fill.px)
        return False

    def correct(self, fill: Fill, old_qty: Decimal, old_px: Decimal) -> bool:
        """`fill` now has a corrected quantity and price (it had `old_qty` at `old_px`).
        True if exact; False if it had left the window."""
        kept = self.kept(fill)
        if kept is not None:
            kept.qty = fill.qty
            kept.px = fill.px
            self.recompute()
            return True
        self._adjust_base(-fill.sign * old_qty, old_px)
        self._adjust_base(fill.sign * fill.qty, fill.px)
        return False

    def _adjust_base(self, q: Decimal, px: Decimal) -> None:
        """Apply a signed quantity at `px` where the kept history starts."""
        fills = self.fills
        if fills:
            first = fills[0].before
            assert first is not None
            self.qty, self.avg_px, self.realized_pnl = first
            self._apply(q, px)
            fills[0].before = (self.qty, self.avg_px, self.realized_pnl)
            self.recompute()
        else:
            self._apply(q, px)

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
