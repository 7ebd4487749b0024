"""Typed events to JSON event lines (`spec/upstream-protocol.md`, "Events").

Each `fixrouter.events` type has one small function building the event's dict; orjson
writes it with the trailing newline in the same call. Decimals are written the way the
protocol promises: prices as plain decimal strings (never exponent notation), quantities as
JSON integers when whole and as decimal strings otherwise, so a strategy can read a whole
quantity without a decimal library. Optional fields that are None are written as null
where the spec lists them for every event of that kind (`denied`'s `limit`/`value`,
`status`'s `price`) and left out where they are occasional (`exec`'s `reason`, `error`'s
`id`).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any, Final

import orjson

from fixrouter.events import (
    Accepted,
    CancelRejected,
    Denied,
    Event,
    ExecKind,
    Execution,
    OrderState,
    OrderStatus,
    RequestError,
    SessionChanged,
)

from .parse import Req

PROTOCOL_VERSION: Final = 1
_NEWLINE: Final = orjson.OPT_APPEND_NEWLINE
_dumps: Final = orjson.dumps
_EXECUTION: Final = Execution
# Enum `.value` is a Python-level property (~100 ns each); a dict look-up is a quarter of
# that, and every exec event reads two. Values stay plain `str`, as `.value` gave.
_EXEC_TYPE_TEXT: Final[dict[ExecKind, str]] = {kind: kind.value for kind in ExecKind}
_STATUS_TEXT: Final[dict[OrderStatus, str]] = {status: status.value for status in OrderStatus}


def price_text(value: Decimal) -> str:
    """A price as a plain decimal string: `Decimal("1E+2")` is written "100"."""
    text = str(value)
    if "E" in text:
        text = format(value, "f")
    return text


def qty_json(value: Decimal) -> int | str:
    """A quantity: an integer when whole, else a plain decimal string."""
    if not value:
        # Zero (any exponent or sign) is whole: most of an ack's quantities, and `not`
        # is a fifth of `int()` plus the mixed comparison.
        return 0
    text = str(value)
    if text.isdigit():
        # Written as digits alone: a whole number, and its text is its integer. `int()`
        # of the text beats `int()` of the Decimal plus the mixed comparison.
        return int(text)
    integral = int(value)
    if integral == value:
        return integral
    return format(value, "f") if "E" in text else text  # `price_text`, its text known


def _accepted(e: Accepted) -> dict[str, Any]:
    return {"ev": "accepted", "id": e.id, "cl_ord_id": e.cl_ord_id}


def _denied(e: Denied) -> dict[str, Any]:
    return {
        "ev": "denied",
        "id": e.id,
        "code": e.code,
        "reason": e.reason,
        "limit": e.limit,
        "value": e.value,
    }


def _exec(e: Execution) -> dict[str, Any]:
    out = {
        "ev": "exec",
        "id": e.id,
        "exec_type": _EXEC_TYPE_TEXT[e.exec_type],
        "status": _STATUS_TEXT[e.status],
        "last_qty": qty_json(e.last_qty),
        "last_px": price_text(e.last_px),
        "cum_qty": qty_json(e.cum_qty),
        "leaves_qty": qty_json(e.leaves_qty),
        "avg_px": price_text(e.avg_px),
        "exec_id": e.exec_id,
        "order_id": e.order_id,
    }
    if e.reason is not None:
        out["reason"] = e.reason
    return out


def _cancel_rejected(e: CancelRejected) -> dict[str, Any]:
    return {"ev": "cancel_rejected", "id": e.id, "reason": e.reason}


def _error(e: RequestError) -> dict[str, Any]:
    out = {"ev": "error", "code": e.code.value, "reason": e.reason}
    if e.id is not None:
        out["id"] = e.id
    return out


def _status(e: OrderState) -> dict[str, Any]:
    return {
        "ev": "status",
        "id": e.id,
        "cl_ord_id": e.cl_ord_id,
        "symbol": e.symbol,
        "side": e.side,
        "status": _STATUS_TEXT[e.status],
        "qty": qty_json(e.qty),
        "cum_qty": qty_json(e.cum_qty),
        "leaves_qty": qty_json(e.leaves_qty),
        "avg_px": price_text(e.avg_px),
        "price": None if e.price is None else price_text(e.price),
    }


def _session(e: SessionChanged) -> dict[str, Any]:
    return {"ev": "session", "session": e.session, "state": e.state, "detail": e.detail}


_BUILDERS: Final[dict[type, Callable[[Any], dict[str, Any]]]] = {
    Accepted: _accepted,
    Denied: _denied,
    Execution: _exec,
    CancelRejected: _cancel_rejected,
    RequestError: _error,
    OrderState: _status,
    SessionChanged: _session,
}


def event_dict(event: Event, req: Req = None) -> dict[str, Any]:
    """The JSON object of an event, with `req` added when given.

    Raises:
        TypeError: `event` is not one of the `fixrouter.events` types.
    """
    builder = _BUILDERS.get(type(event))
    if builder is None:
        raise TypeError(f"not an event: {type(event).__name__}")
    out = builder(event)
    if req is not None:
        out["req"] = req
    return out


def encode_event(event: Event, req: Req = None) -> bytes:
    """One event line, newline included."""
    if req is None and type(event) is _EXECUTION:
        # The event of every ExecutionReport: straight to its builder. (Formatting the
        # line directly instead of through the dict and orjson was tried: 1.0 -> 1.4 us.)
        return _dumps(_exec(event), option=_NEWLINE)
    return _dumps(event_dict(event, req), option=_NEWLINE)


def encode_welcome(client: str, req: Req = None) -> bytes:
    out: dict[str, Any] = {"ev": "welcome", "client": client, "protocol": PROTOCOL_VERSION}
    if req is not None:
        out["req"] = req
    return orjson.dumps(out, option=_NEWLINE)


def encode_pong(req: Req = None) -> bytes:
    return orjson.dumps(
        {"ev": "pong"} if req is None else {"ev": "pong", "req": req}, option=_NEWLINE
    )


def encode_orders_end(count: int, req: Req = None) -> bytes:
    out: dict[str, Any] = {"ev": "orders_end", "count": count}
    if req is not None:
        out["req"] = req
    return orjson.dumps(out, option=_NEWLINE)
