"""The client's side of the wire: request lines out, typed events in.

`request_line` writes one request object as a JSON line (Decimals as plain decimal strings,
None fields left out). `decode_event` turns one event object back into the typed values
of `fixrouter.events` (prices and quantities as `Decimal`), plus the three replies that
only a client sees: `Welcome`, `Pong` and `OrdersEnd`. It is the exact inverse of
`fixrouter.gateway.encode`, which the round-trip tests check.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import orjson

from fixrouter.errors import FixRouterError
from fixrouter.events import (
    Accepted,
    CancelRejected,
    Denied,
    ErrorCode,
    Event,
    ExecKind,
    Execution,
    OrderState,
    OrderStatus,
    RequestError,
    SessionChanged,
)
from fixrouter.gateway.encode import price_text, qty_json

Number = Decimal | int | float | str
"""A price or quantity as a caller may give it; Decimal is exact, a str is sent as is."""


@dataclass(frozen=True, slots=True)
class Welcome:
    """The answer to `hello`: the gateway knows us as `client`."""

    client: str
    protocol: int


@dataclass(frozen=True, slots=True)
class Pong:
    pass


@dataclass(frozen=True, slots=True)
class OrdersEnd:
    """Ends the `status` events answering `orders`."""

    count: int


ClientEvent = Event | Welcome | Pong | OrdersEnd


class ProtocolViolation(FixRouterError):
    """The gateway sent a line this client cannot read (a bug on one side or the other)."""


def wire_number(value: Number) -> int | float | str:
    """A price or quantity in the protocol's spelling (a Decimal never loses digits)."""
    if isinstance(value, Decimal):
        return qty_json(value) if value == value.to_integral_value() else price_text(value)
    return value


def request_line(fields: Mapping[str, Any]) -> bytes:
    """One request line; None values are left out, Decimals written exactly."""
    out = {}
    for key, value in fields.items():
        if value is None:
            continue
        out[key] = wire_number(value) if isinstance(value, Decimal) else value
    return orjson.dumps(out, option=orjson.OPT_APPEND_NEWLINE)


def _dec(value: Any) -> Decimal:
    if type(value) is int or type(value) is str:
        return Decimal(value)
    raise ProtocolViolation(f"expected a number, got {value!r}")


def _opt_dec(value: Any) -> Decimal | None:
    return None if value is None else _dec(value)


def _accepted(d: dict[str, Any]) -> Accepted:
    return Accepted(d["id"], d["cl_ord_id"])


def _denied(d: dict[str, Any]) -> Denied:
    return Denied(d["id"], d["code"], d["reason"], d.get("limit"), d.get("value"))


def _exec(d: dict[str, Any]) -> Execution:
    return Execution(
        id=d["id"],
        exec_type=ExecKind(d["exec_type"]),
        status=OrderStatus(d["status"]),
        last_qty=_dec(d["last_qty"]),
        last_px=_dec(d["last_px"]),
        cum_qty=_dec(d["cum_qty"]),
        leaves_qty=_dec(d["leaves_qty"]),
        avg_px=_dec(d["avg_px"]),
        exec_id=d["exec_id"],
        order_id=d["order_id"],
        reason=d.get("reason"),
    )


def _cancel_rejected(d: dict[str, Any]) -> CancelRejected:
    return CancelRejected(d["id"], d["reason"])


def _error(d: dict[str, Any]) -> RequestError:
    return RequestError(ErrorCode(d["code"]), d["reason"], d.get("id"))


def _status(d: dict[str, Any]) -> OrderState:
    return OrderState(
        id=d["id"],
        cl_ord_id=d["cl_ord_id"],
        symbol=d["symbol"],
        side=d["side"],
        status=OrderStatus(d["status"]),
        qty=_dec(d["qty"]),
        cum_qty=_dec(d["cum_qty"]),
        leaves_qty=_dec(d["leaves_qty"]),
        avg_px=_dec(d["avg_px"]),
        price=_opt_dec(d.get("price")),
    )


def _session(d: dict[str, Any]) -> SessionChanged:
    return SessionChanged(d["session"], d["state"], d.get("detail", ""))


_DECODERS: dict[str, Callable[[dict[str, Any]], ClientEvent]] = {
    "accepted": _accepted,
    "denied": _denied,
    "exec": _exec,
    "cancel_rejected": _cancel_rejected,
    "error": _error,
    "status": _status,
    "session": _session,
    "welcome": lambda d: Welcome(d["client"], d["protocol"]),
    "pong": lambda d: Pong(),
    "orders_end": lambda d: OrdersEnd(d["count"]),
}


def decode_event(obj: dict[str, Any]) -> ClientEvent:
    """A typed event from one event object.

    Raises:
        ProtocolViolation: unknown `ev`, a missing field or a value of the wrong kind.
    """
    decoder = _DECODERS.get(obj.get("ev"))  # type: ignore[arg-type]
    if decoder is None:
        raise ProtocolViolation(f"unknown event {obj.get('ev')!r}")
    try:
        return decoder(obj)
    except (KeyError, ValueError, ArithmeticError) as e:
        raise ProtocolViolation(f"bad {obj.get('ev')} event: {e!r}") from None
