"""What a strategy can ask the engine to do, as typed values.

The gateway turns each JSON line into one of these after checking it field by field;
everything behind the gateway (risk gate, order book, IB dialect) works only with them,
so a malformed request can never reach the wire. Quantities and prices are `Decimal`:
binary floats misprice. Enum values are the upstream protocol's spellings
(`spec/upstream-protocol.md`).

`CancelOrder` and `ReplaceOrder` are `NamedTuple`s rather than frozen dataclasses: they are
just as immutable and typed, but cheaper to build (a frozen dataclass's `__init__`, one
`object.__setattr__` per field, cost 2.3 µs for a `NewOrder` against 0.8 µs for the tuple,
measured here). `NewOrder` was one too, until it became the one request that outlives
the order path: every resting order keeps its `NewOrder`, and a tuple is a container the
cyclic collector tracks (see `NewOrder`). It is a compiled class now, which the gateway
builds through `new_order` (positional, every field given).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar, Final, NamedTuple

from mypy_extensions import mypyc_attr


class Side(enum.StrEnum):
    BUY = "buy"
    SELL = "sell"
    SHORT = "short"  # short sale: FIX Side(54)=5


class OrderType(enum.StrEnum):
    MARKET = "market"
    LIMIT = "limit"
    STOP = "stop"
    STOP_LIMIT = "stop_limit"
    MOC = "moc"  # market on close
    LOC = "loc"  # limit on close


class TimeInForce(enum.StrEnum):
    DAY = "day"
    GTC = "gtc"
    IOC = "ioc"
    FOK = "fok"
    OPG = "opg"
    GTD = "gtd"


class SecurityType(enum.StrEnum):
    """IB's SecurityType(167) values; `CS` is IB's alias for `STK`."""

    STK = "STK"
    CS = "CS"
    OPT = "OPT"
    FUT = "FUT"
    FOP = "FOP"
    WAR = "WAR"
    CASH = "CASH"
    BOND = "BOND"
    CFD = "CFD"
    CMDTY = "CMDTY"
    FUND = "FUND"


class PutOrCall(enum.StrEnum):
    PUT = "put"
    CALL = "call"


class Capacity(enum.StrEnum):
    """CustomerOrFirm(204)."""

    CUSTOMER = "customer"
    FIRM = "firm"


class OpenClose(enum.StrEnum):
    """OpenClose(77), for options and futures."""

    OPEN = "open"
    CLOSE = "close"


@dataclass(frozen=True, slots=True)
class Derivative:
    """Contract details for options and futures (absent for stocks)."""

    maturity_month_year: str | None = None  # YYYYMM
    maturity_day: str | None = None  # DD
    strike: Decimal | None = None
    put_or_call: PutOrCall | None = None
    multiplier: Decimal | None = None
    local_symbol: str | None = None  # IB LocalSymbol(6035), e.g. the 21-char OCC symbol
    trading_class: str | None = None  # IB TradingClass(6058)
    security_exchange: str | None = None  # SecurityExchange(207)


_NEW_ORDER_FIELDS: Final = (
    "strategy", "id", "symbol", "side", "qty", "type", "tif", "price", "stop_price",
    "account", "sec_type", "currency", "exchange", "expire_time", "expire_date",
    "derivative", "capacity", "open_close", "force_only_rth", "what_if", "received_ns",
)  # fmt: skip


@mypyc_attr(acyclic=True)
class NewOrder:
    """A new order, checked field by field. Immutable (every attribute is `Final`).

    Not a `NamedTuple`, though it offers what code used of one (keywords and defaults,
    `_fields`, `_asdict`, `_replace`, equality by value, the same repr): every resting
    order keeps its `NewOrder` alive (the risk gate's record and the book's order hold
    it), and a tuple is a container the cyclic collector tracks. Compiled, this class is
    `acyclic`: its type has no collector support, so an instance costs the collector
    nothing (`gc.is_tracked` is False) and 16 bytes less. That is only sound because a
    `NewOrder` can never be part of a reference cycle: it refers to strings, numbers,
    enum members and a `Derivative` (atomic fields too), never to anything that could
    refer back to it. Keep it so: a field holding a container or a mutable object would
    make a cycle through it possible, and the collector could never free that cycle.
    Interpreted (`FIXROUTER_PURE=1`) it is a plain slotted class, tracked as any other.
    """

    __slots__ = _NEW_ORDER_FIELDS

    _fields: ClassVar[tuple[str, ...]] = _NEW_ORDER_FIELDS

    def __init__(
        self,
        strategy: str,
        id: str,  # the strategy's own order id, unique per strategy
        symbol: str,
        side: Side,
        qty: Decimal,
        type: OrderType,
        tif: TimeInForce = TimeInForce.DAY,
        price: Decimal | None = None,
        stop_price: Decimal | None = None,
        account: str | None = None,
        sec_type: SecurityType = SecurityType.STK,
        currency: str = "USD",
        exchange: str = "SMART",
        expire_time: str | None = None,  # GTD: UTCTimestamp; exclusive with expire_date
        expire_date: str | None = None,  # GTD: YYYYMMDD
        derivative: Derivative | None = None,
        capacity: Capacity | None = None,
        open_close: OpenClose | None = None,
        force_only_rth: bool = False,  # IB ForceOnlyRTH(6205)
        what_if: bool = False,  # IB WhatIf(6091): margin check, not placed
        received_ns: int = 0,  # monotonic ns when the gateway read the line (tick-to-wire)
    ) -> None:
        self.strategy: Final = strategy
        self.id: Final = id
        self.symbol: Final = symbol
        self.side: Final = side
        self.qty: Final = qty
        self.type: Final = type
        self.tif: Final = tif
        self.price: Final = price
        self.stop_price: Final = stop_price
        self.account: Final = account
        self.sec_type: Final = sec_type
        self.currency: Final = currency
        self.exchange: Final = exchange
        self.expire_time: Final = expire_time
        self.expire_date: Final = expire_date
        self.derivative: Final = derivative
        self.capacity: Final = capacity
        self.open_close: Final = open_close
        self.force_only_rth: Final = force_only_rth
        self.what_if: Final = what_if
        self.received_ns: Final = received_ns

    def _values(self) -> tuple[object, ...]:
        return (
            self.strategy, self.id, self.symbol, self.side, self.qty, self.type, self.tif,
            self.price, self.stop_price, self.account, self.sec_type, self.currency,
            self.exchange, self.expire_time, self.expire_date, self.derivative,
            self.capacity, self.open_close, self.force_only_rth, self.what_if,
            self.received_ns,
        )  # fmt: skip

    def _asdict(self) -> dict[str, object]:
        """The fields by name, in field order (as `NamedTuple._asdict`)."""
        return dict(zip(_NEW_ORDER_FIELDS, self._values(), strict=True))

    def _replace(self, **changes: Any) -> NewOrder:
        """A copy with `changes` (field name -> value); raises ValueError for a name that
        is not a field (as `NamedTuple._replace`)."""
        unknown = changes.keys() - set(_NEW_ORDER_FIELDS)
        if unknown:
            raise ValueError(f"Got unexpected field names: {sorted(unknown)!r}")
        return NewOrder(**{**self._asdict(), **changes})

    def __reduce__(self) -> tuple[type[NewOrder], tuple[object, ...]]:
        """`copy` and `pickle` rebuild it from its fields (as the tuple's did)."""
        return NewOrder, self._values()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, NewOrder):
            return False
        return self._values() == other._values()

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={value!r}"
                          for name, value in zip(_NEW_ORDER_FIELDS, self._values(), strict=True))
        return f"NewOrder({shown})"


def new_order(
    strategy: str,
    id: str,
    symbol: str,
    side: Side,
    qty: Decimal,
    type: OrderType,
    tif: TimeInForce,
    price: Decimal | None,
    stop_price: Decimal | None,
    account: str | None,
    sec_type: SecurityType,
    currency: str,
    exchange: str,
    expire_time: str | None,
    expire_date: str | None,
    derivative: Derivative | None,
    capacity: Capacity | None,
    open_close: OpenClose | None,
    force_only_rth: bool,
    what_if: bool,
    received_ns: int,
) -> NewOrder:
    """`NewOrder(...)` with every field given, in field order: the same value and type.

    Positional, so compiled code calls the native constructor directly (no keyword
    matching, no defaults filled in). Every field must be passed.
    """
    return NewOrder(
        strategy, id, symbol, side, qty, type, tif, price, stop_price, account, sec_type,
        currency, exchange, expire_time, expire_date, derivative, capacity, open_close,
        force_only_rth, what_if, received_ns,
    )  # fmt: skip


class CancelOrder(NamedTuple):
    strategy: str
    id: str
    received_ns: int = 0


class ReplaceOrder(NamedTuple):
    """Change a working order; only the fields given change. `new_id` names the result."""

    strategy: str
    id: str
    new_id: str
    qty: Decimal | None = None
    price: Decimal | None = None
    stop_price: Decimal | None = None
    tif: TimeInForce | None = None
    received_ns: int = 0


@dataclass(frozen=True, slots=True)
class StatusQuery:
    strategy: str
    id: str


@dataclass(frozen=True, slots=True)
class OrdersQuery:
    """Every working order of the strategy."""

    strategy: str


OrderRequest = NewOrder | CancelOrder | ReplaceOrder
Request = NewOrder | CancelOrder | ReplaceOrder | StatusQuery | OrdersQuery
