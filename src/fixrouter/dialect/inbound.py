"""Wire values IB sends back, to the engine's enums, where the order book needs them.

ExecType(150), ExecTransType(20) and OrdStatus(39) are decoded by the order book itself
(`fixrouter.oms.states`), next to the transition table they drive; they are not repeated
here. What remains is Side(54), which the book needs for unsolicited reports of orders it
did not send (no ClOrdID it knows) and for checking that a report matches the order.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from fixrouter.requests import Side

from .tables import SIDES

SIDE_FROM_WIRE: Mapping[bytes, Side] = MappingProxyType({
    **{wire: side for side, wire in SIDES.items()},
    # The upstream protocol knows only buy, sell and short; fold FIX's variants into them.
    b"3": Side.BUY,  # buy minus
    b"4": Side.SELL,  # sell plus
    b"6": Side.SHORT,  # sell short exempt
})
"""Side(54) as IB reports it to the upstream `Side`. Values outside FIX 4.2's 1-6 are absent."""


def decode_side(wire: bytes) -> Side | None:
    """The upstream Side of a Side(54) value, or None for a value FIX 4.2 does not define."""
    return SIDE_FROM_WIRE.get(wire)
