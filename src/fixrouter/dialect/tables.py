"""Typed request enums to IB CTCI wire values, as precomputed bytes.

Theory of operation: each table maps an enum member of `fixrouter.requests` to the exact
bytes that go on the wire, so the hot path turns an enum into a field value with one dict
look-up and never formats anything. `Dialect` checks at construction that every value here
is one the dictionary allows for its tag, so a value from these tables needs no further
check per message.

`ORD_TYPES` also says which prices an order type takes: IB, like FIX 4.2, wants Price(44)
exactly on limit-priced types and StopPx(99) exactly on stop types, and the dialect refuses
an order that has one where it must not, rather than dropping it silently.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Final, NamedTuple

from fixrouter.requests import (
    Capacity,
    OpenClose,
    OrderType,
    PutOrCall,
    SecurityType,
    Side,
    TimeInForce,
)

# Tag numbers the dialect writes. Plain ints, as in `codec.tags`, for hot-path speed.
ACCOUNT: Final = 1
CL_ORD_ID: Final = 11
HANDL_INST: Final = 21
CURRENCY: Final = 15
ORDER_ID: Final = 37
ORDER_QTY: Final = 38
ORD_TYPE: Final = 40
ORIG_CL_ORD_ID: Final = 41
PRICE: Final = 44
SIDE: Final = 54
SYMBOL: Final = 55
TIME_IN_FORCE: Final = 59
TRANSACT_TIME: Final = 60
OPEN_CLOSE: Final = 77
STOP_PX: Final = 99
EX_DESTINATION: Final = 100
EXPIRE_TIME: Final = 126
SECURITY_TYPE: Final = 167
MATURITY_MONTH_YEAR: Final = 200
PUT_OR_CALL: Final = 201
STRIKE_PRICE: Final = 202
CUSTOMER_OR_FIRM: Final = 204
MATURITY_DAY: Final = 205
SECURITY_EXCHANGE: Final = 207
CONTRACT_MULTIPLIER: Final = 231
EXPIRE_DATE: Final = 432
IB_LOCAL_SYMBOL: Final = 6035
TRADING_CLASS: Final = 6058
WHAT_IF: Final = 6091
FORCE_ONLY_RTH: Final = 6205

SIDES: Mapping[Side, bytes] = MappingProxyType({
    Side.BUY: b"1",
    Side.SELL: b"2",
    Side.SHORT: b"5",  # SellShort; IB wants LocateBroker(5700) only when the desk uses one
})


class OrdTypeRule(NamedTuple):
    wire: bytes
    price: bool  # Price(44) required, and allowed only when True
    stop: bool  # StopPx(99) likewise


ORD_TYPES: Mapping[OrderType, OrdTypeRule] = MappingProxyType({
    OrderType.MARKET: OrdTypeRule(b"1", price=False, stop=False),
    OrderType.LIMIT: OrdTypeRule(b"2", price=True, stop=False),
    OrderType.STOP: OrdTypeRule(b"3", price=False, stop=True),
    OrderType.STOP_LIMIT: OrdTypeRule(b"4", price=True, stop=True),
    OrderType.MOC: OrdTypeRule(b"5", price=False, stop=False),
    OrderType.LOC: OrdTypeRule(b"B", price=True, stop=False),
})

TIME_IN_FORCE_VALUES: Mapping[TimeInForce, bytes] = MappingProxyType({
    TimeInForce.DAY: b"0",
    TimeInForce.GTC: b"1",
    TimeInForce.OPG: b"2",
    TimeInForce.IOC: b"3",
    TimeInForce.FOK: b"4",
    TimeInForce.GTD: b"6",  # with ExpireTime(126) or ExpireDate(432), never both
})

SECURITY_TYPES: Mapping[SecurityType, bytes] = MappingProxyType(
    {member: member.value.encode("ascii") for member in SecurityType}
)

PUT_OR_CALL_VALUES: Mapping[PutOrCall, bytes] = MappingProxyType({
    PutOrCall.PUT: b"0",
    PutOrCall.CALL: b"1",
})

CAPACITIES: Mapping[Capacity, bytes] = MappingProxyType({
    Capacity.CUSTOMER: b"0",
    Capacity.FIRM: b"1",
})

OPEN_CLOSE_VALUES: Mapping[OpenClose, bytes] = MappingProxyType({
    OpenClose.OPEN: b"O",
    OpenClose.CLOSE: b"C",
})

FORCE_ONLY_RTH_ON: Final = b"1"  # IB's dictionary lists only 1; the tag is left out otherwise
WHAT_IF_ON: Final = b"1"

# Every enum table with the tag its values go in, for the construction-time proof.
ENUM_TABLES: tuple[tuple[int, Mapping[Any, bytes]], ...] = (
    (SIDE, SIDES),
    (ORD_TYPE, {k: v.wire for k, v in ORD_TYPES.items()}),
    (TIME_IN_FORCE, TIME_IN_FORCE_VALUES),
    (SECURITY_TYPE, SECURITY_TYPES),
    (PUT_OR_CALL, PUT_OR_CALL_VALUES),
    (CUSTOMER_OR_FIRM, CAPACITIES),
    (OPEN_CLOSE, OPEN_CLOSE_VALUES),
    (FORCE_ONLY_RTH, {True: FORCE_ONLY_RTH_ON}),
    (WHAT_IF, {True: WHAT_IF_ON}),
)
