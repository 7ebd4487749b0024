"""The current terms of a working order, as the dialect needs them for F, G and H.

A cancel, a replace and a status request must restate the order they refer to (symbol,
side, quantity, and for a replace the whole order), but the strategy's request carries
only its id and, for a replace, the changed fields. The order book keeps the terms of each
working order; `Terms` is what the dialect reads from them. `NewOrder` satisfies it as it
stands, so the book may keep the original request; `OrderTerms` is the frozen value to
keep once IB has confirmed a replace (`merge_replace(terms, change)`).

Building an `OrderTerms` costs about 2 us (a frozen dataclass sets each of its 17 fields
through `object.__setattr__`), so keep the `NewOrder` as the terms of a fresh order and
build an `OrderTerms` only when a replace takes effect, off the send path.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from fixrouter.requests import (
    Capacity,
    Derivative,
    NewOrder,
    OpenClose,
    OrderType,
    ReplaceOrder,
    SecurityType,
    Side,
    TimeInForce,
)


class Terms(Protocol):
    """Read-only view of an order's terms. `NewOrder` and `OrderTerms` both satisfy it."""

    @property
    def symbol(self) -> str: ...
    @property
    def side(self) -> Side: ...
    @property
    def qty(self) -> Decimal: ...
    @property
    def type(self) -> OrderType: ...
    @property
    def tif(self) -> TimeInForce: ...
    @property
    def price(self) -> Decimal | None: ...
    @property
    def stop_price(self) -> Decimal | None: ...
    @property
    def account(self) -> str | None: ...
    @property
    def sec_type(self) -> SecurityType: ...
    @property
    def currency(self) -> str: ...
    @property
    def exchange(self) -> str: ...
    @property
    def expire_time(self) -> str | None: ...
    @property
    def expire_date(self) -> str | None: ...
    @property
    def derivative(self) -> Derivative | None: ...
    @property
    def capacity(self) -> Capacity | None: ...
    @property
    def open_close(self) -> OpenClose | None: ...
    @property
    def force_only_rth(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class OrderTerms:
    """What a working order currently says. Field names and meanings are `NewOrder`'s."""

    symbol: str
    side: Side
    qty: Decimal
    type: OrderType
    tif: TimeInForce = TimeInForce.DAY
    price: Decimal | None = None
    stop_price: Decimal | None = None
    account: str | None = None
    sec_type: SecurityType = SecurityType.STK
    currency: str = "USD"
    exchange: str = "SMART"
    expire_time: str | None = None
    expire_date: str | None = None
    derivative: Derivative | None = None
    capacity: Capacity | None = None
    open_close: OpenClose | None = None
    force_only_rth: bool = False

    @classmethod
    def of(cls, order: NewOrder) -> OrderTerms:
        """The terms a new order asks for (WhatIf is not a term: such an order never works)."""
        return _copy(order)

    def replaced(self, change: ReplaceOrder) -> OrderTerms:
        """These terms with a replace's changed fields merged over them.

        A field the replace leaves out (None) keeps its value. Moving away from GTD drops
        the expiry, since ExpireTime/ExpireDate are only allowed with GTD; moving to GTD
        keeps whatever expiry the order had, and the dialect refuses GTD without one.
        Nothing is checked here; the dialect checks the merged result.
        """
        return merge_replace(self, change)


def merge_replace(original: Terms, change: ReplaceOrder) -> OrderTerms:
    """`original` (any `Terms`, e.g. the `NewOrder` itself) with `change` merged over it."""
    merged = ReplacedTerms(original, change)
    return OrderTerms(
        symbol=merged.symbol,
        side=merged.side,
        qty=merged.qty,
        type=merged.type,
        tif=merged.tif,
        price=merged.price,
        stop_price=merged.stop_price,
        account=merged.account,
        sec_type=merged.sec_type,
        currency=merged.currency,
        exchange=merged.exchange,
        expire_time=merged.expire_time,
        expire_date=merged.expire_date,
        derivative=merged.derivative,
        capacity=merged.capacity,
        open_close=merged.open_close,
        force_only_rth=merged.force_only_rth,
    )


class ReplacedTerms:
    """The merged terms of a replace as a throw-away view: the replace hot path's form.

    Building a frozen dataclass of 17 fields costs about 2 us (each field goes through
    `object.__setattr__`); this plain slotted object costs a fifth of that, and the
    dialect only reads it once. The merge rules live here alone; `merge_replace` copies
    the result into an `OrderTerms` for keeping.
    """

    __slots__ = (
        "account", "capacity", "currency", "derivative", "exchange", "expire_date",
        "expire_time", "force_only_rth", "open_close", "price", "qty", "sec_type", "side",
        "stop_price", "symbol", "tif", "type",
    )

    def __init__(self, original: Terms, change: ReplaceOrder) -> None:
        self.symbol = original.symbol
        self.side = original.side
        self.type = original.type
        self.account = original.account
        self.sec_type = original.sec_type
        self.currency = original.currency
        self.exchange = original.exchange
        self.derivative = original.derivative
        self.capacity = original.capacity
        self.open_close = original.open_close
        self.force_only_rth = original.force_only_rth
        self.qty = original.qty if change.qty is None else change.qty
        self.price = original.price if change.price is None else change.price
        self.stop_price = original.stop_price if change.stop_price is None else change.stop_price
        tif = original.tif if change.tif is None else change.tif
        self.tif = tif
        if tif is TimeInForce.GTD:
            self.expire_time = original.expire_time
            self.expire_date = original.expire_date
        else:  # ExpireTime/ExpireDate are allowed only with GTD
            self.expire_time = self.expire_date = None


def _copy(terms: Terms) -> OrderTerms:
    return OrderTerms(
        symbol=terms.symbol,
        side=terms.side,
        qty=terms.qty,
        type=terms.type,
        tif=terms.tif,
        price=terms.price,
        stop_price=terms.stop_price,
        account=terms.account,
        sec_type=terms.sec_type,
        currency=terms.currency,
        exchange=terms.exchange,
        expire_time=terms.expire_time,
        expire_date=terms.expire_date,
        derivative=terms.derivative,
        capacity=terms.capacity,
        open_close=terms.open_close,
        force_only_rth=terms.force_only_rth,
    )
