"""The order book: order state, identifiers, fills and positions, and restart recovery.

Pure and synchronous (no asyncio, no sockets): the router feeds it requests and FIX
messages and carries out what it returns. Modules:

* `book`: `OrderBook`, the public face (requests in, events out, queries);
* `states`: the order state machine as a transition table;
* `order`: `Order` and the `CancelIntent` / `ReplaceIntent` the router sends;
* `clordid`: ClOrdID allocation (date-embedded, per-session prefix, never reused);
* `intents`: the per-session intent log mapping ClOrdIDs to strategy orders;
* `recovery`: rebuilding the book from the FIX journal and the intent log;
* `positions`: positions and average prices from fills;
* `counters`: what was survived rather than done, for metrics;
* `wire`: FIX values read back into request types.
"""

from fixrouter.oms.book import OmsError, OrderBook, Routed
from fixrouter.oms.clordid import ClOrdIdError, ClOrdIdGenerator
from fixrouter.oms.counters import Anomaly, AnomalyCounter
from fixrouter.oms.intents import (
    Intent,
    IntentKind,
    IntentLog,
    IntentLogError,
    IntentSink,
    MemoryIntentLog,
    intent_log_path,
)
from fixrouter.oms.order import ORPHAN, CancelIntent, Order, ReplaceIntent
from fixrouter.oms.positions import Position, PositionView, instrument_key
from fixrouter.oms.recovery import NOT_SENT
from fixrouter.oms.states import TABLE, TERMINAL, WORKING, Target, Trigger

__all__ = [
    "NOT_SENT",
    "ORPHAN",
    "TABLE",
    "TERMINAL",
    "WORKING",
    "Anomaly",
    "AnomalyCounter",
    "CancelIntent",
    "ClOrdIdError",
    "ClOrdIdGenerator",
    "Intent",
    "IntentKind",
    "IntentLog",
    "IntentLogError",
    "IntentSink",
    "MemoryIntentLog",
    "OmsError",
    "Order",
    "OrderBook",
    "Position",
    "PositionView",
    "ReplaceIntent",
    "Routed",
    "Target",
    "Trigger",
    "instrument_key",
    "intent_log_path",
]
