"""FIX 4.2 field values read back into request types (for recovery and unknown orders).

The IB dialect maps requests to the wire; the book sometimes has to go the other way:
rebuilding a `NewOrder` from a journaled NewOrderSingle, or describing an order it only
knows from an ExecutionReport. Values it cannot map fall back to the safe reading
(limit if a price is present, else market; day) rather than failing recovery.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from fixrouter.codec import FixMessage
from fixrouter.dialect.inbound import SIDE_FROM_WIRE
from fixrouter.dialect.tables import (
    ORD_TYPES,
    PUT_OR_CALL_VALUES,
    SECURITY_TYPES,
    TIME_IN_FORCE_VALUES,
)
from fixrouter.requests import (
    Derivative,
    NewOrder,
    OrderType,
    PutOrCall,
    SecurityType,
    Side,
    TimeInForce,
)

# The dialect's tables, inverted: one source of truth for every wire value.
SIDE: dict[bytes, Side] = dict(SIDE_FROM_WIRE)
ORD_TYPE: dict[bytes, OrderType] = {rule.wire: t for t, rule in ORD_TYPES.items()}
TIF: dict[bytes, TimeInForce] = {wire: t for t, wire in TIME_IN_FORCE_VALUES.items()}
_SEC_TYPES: dict[bytes, SecurityType] = {wire: t for t, wire in SECURITY_TYPES.items()}
_PUT_OR_CALL: dict[bytes, PutOrCall] = {wire: p for p, wire in PUT_OR_CALL_VALUES.items()}


class WireValueError(ValueError):
    """A field needed to describe the order is missing or unreadable."""


def decimal(value: bytes | None) -> Decimal | None:
    """A FIX decimal field, or None when absent. Raises WireValueError if unreadable."""
    if value is None:
        return None
    try:
        result = Decimal(value.decode("ascii"))
    except (InvalidOperation, UnicodeDecodeError):
        raise WireValueError(f"not a number: {value!r}") from None
    if not result.is_finite():
        raise WireValueError(f"not a finite number: {value!r}")
    return result


def new_order_from_fix(msg: FixMessage, strategy: str, order_id: str) -> NewOrder:
    """The `NewOrder` a NewOrderSingle (or an ExecutionReport) describes.

    Raises WireValueError if Symbol(55), Side(54) or OrderQty(38) is missing or unreadable.
    """
    symbol = msg.get_str(55)
    side = SIDE.get(msg.get(54) or b"")
    qty = decimal(msg.get(38))
    if symbol is None or side is None or qty is None:
        raise WireValueError("Symbol(55), Side(54) and OrderQty(38) are required")
    price = decimal(msg.get(44))
    stop = decimal(msg.get(99))
    ord_type = ORD_TYPE.get(msg.get(40) or b"")
    if ord_type is None:
        ord_type = OrderType.LIMIT if price is not None else OrderType.MARKET
    sec_type = _SEC_TYPES.get(msg.get(167) or b"", SecurityType.STK)
    derivative = None
    if any(tag in msg for tag in (200, 202, 201, 6035)):
        derivative = Derivative(
            maturity_month_year=msg.get_str(200),
            maturity_day=msg.get_str(205),
            strike=decimal(msg.get(202)),
            put_or_call=_PUT_OR_CALL.get(msg.get(201) or b""),
            multiplier=decimal(msg.get(231)),
            local_symbol=msg.get_str(6035),
            trading_class=msg.get_str(6058),
            security_exchange=msg.get_str(207),
        )
    return NewOrder(
        strategy=strategy,
        id=order_id,
        symbol=symbol,
        side=side,
        qty=qty,
        type=ord_type,
        tif=TIF.get(msg.get(59) or b"", TimeInForce.DAY),
        price=price,
        stop_price=stop,
        account=msg.get_str(1),
        sec_type=sec_type,
        currency=msg.get_str(15) or "USD",
        exchange=msg.get_str(100) or "SMART",
        derivative=derivative,
    )
