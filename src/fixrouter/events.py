"""What the engine tells a strategy about its orders, as typed values.

The order book and risk gate produce these; the gateway serialises them to the JSON
events of `spec/upstream-protocol.md` and writes them to the one strategy that owns the
order. Codes are UPPER_SNAKE strings from bounded enums, so they can be metric labels.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from decimal import Decimal
from typing import Final, NamedTuple, final


class ErrorCode(enum.StrEnum):
    """Why a request itself was refused before any order logic ran."""

    BAD_JSON = "BAD_JSON"
    NOT_OBJECT = "NOT_OBJECT"
    MISSING_FIELD = "MISSING_FIELD"
    UNKNOWN_FIELD = "UNKNOWN_FIELD"
    BAD_VALUE = "BAD_VALUE"
    UNKNOWN_OP = "UNKNOWN_OP"
    LINE_TOO_LONG = "LINE_TOO_LONG"
    NOT_HELLO = "NOT_HELLO"
    ALREADY_HELLO = "ALREADY_HELLO"
    BAD_TOKEN = "BAD_TOKEN"
    NAME_IN_USE = "NAME_IN_USE"
    UNKNOWN_ORDER = "UNKNOWN_ORDER"
    DUPLICATE_ID = "DUPLICATE_ID"
    ORDER_NOT_WORKING = "ORDER_NOT_WORKING"
    ENGINE_UNAVAILABLE = "ENGINE_UNAVAILABLE"


class ExecKind(enum.StrEnum):
    """The `exec_type` of an `exec` event."""

    NEW = "new"
    PARTIAL = "partial"
    FILL = "fill"
    CANCELED = "canceled"
    REPLACED = "replaced"
    REJECTED = "rejected"
    EXPIRED = "expired"
    BUST = "bust"
    CORRECT = "correct"
    PENDING_CANCEL = "pending_cancel"
    PENDING_REPLACE = "pending_replace"
    STATUS = "status"
    RESTATED = "restated"


class OrderStatus(enum.StrEnum):
    PENDING_NEW = "pending_new"
    NEW = "new"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    PENDING_CANCEL = "pending_cancel"
    CANCELED = "canceled"
    PENDING_REPLACE = "pending_replace"
    REPLACED = "replaced"
    REJECTED = "rejected"
    EXPIRED = "expired"


@final
class Accepted:
    """Passed risk, journaled, on the wire.

    One per order, so a plain class with its own `__init__`, which mypyc compiles (a
    frozen dataclass's generated one stays interpreted and sets each field through
    `object.__setattr__`). `Final` keeps it read-only for the type checker; equality,
    hashing and repr are the dataclass's."""

    __slots__ = ("cl_ord_id", "id")

    def __init__(self, id: str, cl_ord_id: str) -> None:
        self.id: Final = id
        self.cl_ord_id: Final = cl_ord_id

    def __eq__(self, other: object) -> bool:
        if type(other) is not Accepted:
            return NotImplemented
        return self.id == other.id and self.cl_ord_id == other.cl_ord_id

    def __hash__(self) -> int:
        return hash((self.id, self.cl_ord_id))

    def __repr__(self) -> str:
        return f"Accepted(id={self.id!r}, cl_ord_id={self.cl_ord_id!r})"


@dataclass(frozen=True, slots=True)
class Denied:
    """The risk gate (or the engine's own state) refused the order; nothing was sent."""

    id: str
    code: str  # a risk DenialCode value, UPPER_SNAKE
    reason: str
    limit: str | None = None
    value: str | None = None


class Execution(NamedTuple):
    """One execution report, for its owner. A NamedTuple, not a frozen dataclass, because
    one is built per inbound report: 11 `object.__setattr__` calls cost ~1.2 µs."""

    id: str
    exec_type: ExecKind
    status: OrderStatus
    last_qty: Decimal
    last_px: Decimal
    cum_qty: Decimal
    leaves_qty: Decimal
    avg_px: Decimal
    exec_id: str
    order_id: str
    reason: str | None = None  # broker's Text(58) on a reject or unsolicited cancel


@dataclass(frozen=True, slots=True)
class CancelRejected:
    id: str
    reason: str


@dataclass(frozen=True, slots=True)
class RequestError:
    code: ErrorCode
    reason: str
    id: str | None = None


@dataclass(frozen=True, slots=True)
class OrderState:
    """The answer to `status` / `orders`: the book's truth about one order."""

    id: str
    cl_ord_id: str
    symbol: str
    side: str
    status: OrderStatus
    qty: Decimal
    cum_qty: Decimal
    leaves_qty: Decimal
    avg_px: Decimal
    price: Decimal | None


@dataclass(frozen=True, slots=True)
class SessionChanged:
    session: str
    state: str  # e.g. "logged_on", "disconnected"
    detail: str = ""


Event = Accepted | Denied | Execution | CancelRejected | RequestError | OrderState | SessionChanged
