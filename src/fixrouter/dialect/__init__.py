"""Interactive Brokers' CTCI dialect of FIX 4.2: typed requests in, message bodies out.

`Dialect(settings, validator)` turns the engine's typed requests into the bodies of
NewOrderSingle (D), OrderCancelRequest (F), OrderCancelReplaceRequest (G) and
OrderStatusRequest (H), with IB's tags and values, ready for `codec.Encoder.encode`.
Every body it returns has passed the dictionary's outbound check in effect (see
`builder` for how that costs a few look-ups), and anything invalid is a
`LocalProtocolError` instead of bytes. The order book supplies ClOrdIDs and the current
terms of working orders (`Terms`; a `NewOrder` or an `OrderTerms`).

Modules: `settings` (the `[dialect]` config table), `tables` (enum to wire bytes),
`values` (checked rendering of free values), `terms` (an order's current terms and the
replace merge), `builder` (the bodies), `inbound` (Side as IB reports it).
"""

from .builder import ALL_OPEN_ORDERS, LAYOUTS, Dialect
from .inbound import SIDE_FROM_WIRE, decode_side
from .settings import DialectSettings
from .terms import OrderTerms, Terms, merge_replace

__all__ = [
    "ALL_OPEN_ORDERS",
    "LAYOUTS",
    "SIDE_FROM_WIRE",
    "Dialect",
    "DialectSettings",
    "OrderTerms",
    "Terms",
    "decode_side",
    "merge_replace",
]
