"""Helpers for the risk gate tests: orders, an open gate, and a stand-in order book.

`loose()` is a `[risk]` table with every control switched off (and the throttle wide
open), so a test switches on exactly the control it is about. `FakeOrder` / `FakeBook`
satisfy the gate's `BookOrder` / `OrderSource` protocols the way `fixrouter.oms` does;
tests mutate them as the book would and then call `gate.on_report`.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from fixrouter.requests import NewOrder, OrderType, Side, TimeInForce
from fixrouter.risk import RiskConfig, RiskGate

SESSION = "s1"
_ids = itertools.count(1)

OFF_GLOBAL: dict[str, Any] = {
    "max_order_qty": "off",
    "max_order_notional": "off",
    "price_collar_pct": "off",
    "allowed_security_types": "off",
    "max_open_orders": "off",
    "max_open_orders_symbol_side": "off",
    "max_position": "off",
    "max_gross_daily_notional": "off",
    "duplicate_window_ms": 0,
    "order_efficiency_warn": "off",
    "order_efficiency_block": "off",
}
WIDE_THROTTLE: dict[str, Any] = {"rate": 1e9, "burst": 1_000_000, "cancel_rate": 1e9,
                                 "cancel_burst": 1_000_000}
NO_TRIGGERS: dict[str, Any] = {"max_denials": 0, "max_rejects": 0,
                               "on_position_breach": False}


def loose(**global_settings: Any) -> dict[str, Any]:
    """A [risk] table with every control off except `global_settings`."""
    return {
        "global": {**OFF_GLOBAL, **global_settings},
        "throttle": dict(WIDE_THROTTLE),
        "kill_switch": dict(NO_TRIGGERS),
    }


def order(
    id: str | None = None,
    *,
    strategy: str = "s1",
    symbol: str = "AAPL",
    side: Side = Side.BUY,
    qty: int | str = 100,
    type: OrderType = OrderType.LIMIT,
    price: str | None = "100",
    stop: str | None = None,
    account: str | None = "U1",
    tif: TimeInForce = TimeInForce.DAY,
    **more: Any,
) -> NewOrder:
    return NewOrder(
        strategy=strategy, id=id or f"o{next(_ids)}", symbol=symbol, side=side,
        qty=Decimal(qty), type=type, tif=tif,
        price=None if price is None else Decimal(price),
        stop_price=None if stop is None else Decimal(stop), account=account, **more,
    )


class FakeBook:
    """An order book that is ready, with the orders and positions a test gives it."""

    def __init__(self, orders: Iterable[FakeOrder] = (), positions: Iterable[Pos] = (),
                 retired: Iterable[Any] = (), last_prices: dict[str, Decimal] | None = None):
        self.ready = True
        self._orders = list(orders)
        self._positions = list(positions)
        self._retired = list(retired)
        self._last_prices = last_prices or {}

    def retired_totals(self) -> list[Any]:
        return self._retired

    def last_prices(self) -> dict[str, Decimal]:
        return self._last_prices

    def orders(self) -> list[FakeOrder]:
        return self._orders

    def positions(self) -> list[Pos]:
        return self._positions


@dataclass
class Pos:
    account: str
    instrument: str
    qty: Decimal


@dataclass
class FakeReplace:
    new_id: str
    qty: Decimal
    price: Decimal | None
    stop_price: Decimal | None
    tif: TimeInForce


class FakeOrder:
    """`oms.Order` as far as the gate reads it. Change it as the book would."""

    def __init__(self, req: NewOrder, session: str = SESSION) -> None:
        self.req = req
        self.strategy = req.strategy
        self.id = req.id
        self.session = session
        self.qty = req.qty
        self.price = req.price
        self.stop_price = req.stop_price
        self.tif = req.tif
        self.cum_qty = Decimal(0)
        self.notional = Decimal(0)
        self.is_working = True
        self.pending_replace: FakeReplace | None = None
        self.recalled: tuple[Decimal, Decimal] | None = None

    @property
    def finished(self) -> bool:
        return not self.is_working and self.pending_replace is None

    @property
    def leaves(self) -> Decimal:
        return self.qty - self.cum_qty if self.is_working else Decimal(0)

    def fill(self, qty: int | str | Decimal, px: int | str | Decimal) -> None:
        q, p = Decimal(qty), Decimal(px)
        self.cum_qty += q
        self.notional += q * p
        if self.cum_qty >= self.qty:
            self.is_working = False

    def done(self) -> None:
        self.is_working = False

    def start_replace(self, new_id: str, qty: int | str | None = None,
                      price: str | None = None) -> None:
        self.pending_replace = FakeReplace(
            new_id, self.qty if qty is None else Decimal(qty),
            self.price if price is None else Decimal(price), self.stop_price, self.tif)

    def confirm_replace(self) -> None:
        pr = self.pending_replace
        assert pr is not None
        self.id, self.qty, self.price = pr.new_id, pr.qty, pr.price
        self.pending_replace = None

    def refuse_replace(self) -> None:
        self.pending_replace = None


def open_gate(table: dict[str, Any] | None = None, refs: dict[str, str] | None = None,
              book: FakeBook | None = None) -> RiskGate:
    """A gate rebuilt from `book` (empty by default), open, with reference prices (AAPL
    at 100 unless `refs` says otherwise)."""
    gate = RiskGate(RiskConfig.from_toml_table(loose() if table is None else table))
    gate.rebuild(book or FakeBook())
    gate.rebuild_complete()
    for symbol, px in ({"AAPL": "100"} if refs is None else refs).items():
        gate.set_reference(symbol, Decimal(px))
    return gate


def records(maps: dict[str, dict[str, Any]]) -> dict[tuple[str, str], Any]:
    """A gate's per-strategy record maps (`_records`, `_aliases`) as one map by
    (strategy, id), for comparing whole states."""
    return {(strategy, order_id): rec for strategy, ids in maps.items()
            for order_id, rec in ids.items()}
