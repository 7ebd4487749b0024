"""Reading a finished order back from the intent log and the FIX journal.

Theory of operation
-------------------
The order book retires a finished order to an 8-byte slot (`fixrouter.oms.retired`).
When something concerns it again, the rare *slow path* here rebuilds it from disk,
where everything about it already is:

* a late ExecutionReport or OrderCancelReject naming it (a bust or correction, a fill or
  unsolicited cancel after it finished, a duplicate without PossDup, the reject of a
  cancel that crossed its fill): the order is read back, put into the book as a live
  order again, and the report is applied to it by the ordinary path, so it reaches the
  owning strategy and is applied once (its `seen` keys come back with it);
* a `status` query for one of its ids: the order is read back and answered from, and
  not kept.

**Finding it.** From a ClOrdID of ours (tag 11 or 41 of the report), the intent log
gives the chain's root: each cancel or replace record names its OrigClOrdID, back to
the new order's record, which names the strategy and id (`intents.find_cl`, a search
back from the end of the file). From an OrderID alone (an unsolicited report without a
ClOrdID), the latest journaled report carrying that OrderID gives the ClOrdID. From a
(strategy, id), the intent that gave it (`intents.find_id`).

**Reading it.** The journal is searched back from the report for the root's
NewOrderSingle, then forward from there to the report with a growing set of needles
(``=<ClOrdID><SOH>`` for each ClOrdID of the chain, ``<SOH>37=<OrderID><SOH>`` once it is
known; `SearchableStore.scan`): the chain's requests and every report about it, in the
order they were journaled, which is the order they happened. Only the order's own span
of the file is read, at C speed; decoding touches only its messages. A refusal that
names one of the chain's requests by MsgSeqNum (35=3 or 35=j, ``<SOH>45=<seq><SOH>``)
is part of that history too: it becomes the report the router made of it live
(`fixrouter.routing.rejects`), as in the restart, so a session-rejected order reads back
Rejected, and a second Reject of the same message is deduplicated by its made-up ExecID.

**Rebuilding it.** The messages are replayed into a scratch `OrderBook` that does not
retire (`retire=False`), through the same `_apply_request` the restart uses and the same
`on_message` live reports use: dedupe, fills, busts, replaces and the state table
behave exactly as they did. Its logging is muted (the order's old anomalies were logged
when they happened). The scratch book's order, with its `seen` keys and fills, is what
the book takes back; the scratch positions are discarded, and the book's own position
finds its record of a busted fill by ExecID (`Position.kept`).

Every read-back is logged with what it cost and counted (`Anomaly.RECALLED`); one that
finds nothing (an order of an earlier journal period, a damaged journal) is logged too
and the report takes the unknown-order path.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from fixrouter.codec import FixMessage, decode_frame
from fixrouter.errors import FixRouterError, GarbledMessageError
from fixrouter.events import OrderState, OrderStatus
from fixrouter.oms.clordid import parse
from fixrouter.oms.counters import Anomaly
from fixrouter.oms.intents import (
    Intent,
    IntentKind,
    MemoryIntentLog,
    find_cl,
    find_id,
)
from fixrouter.oms.order import Order
from fixrouter.oms.positions import ZERO
from fixrouter.oms.recovery import REPORT_TYPES, apply_request
from fixrouter.routing.rejects import ORDER_TYPES, REFUSAL_TYPES, refusal_of, refusal_report
from fixrouter.store.base import SearchableStore, StoredMessage

if TYPE_CHECKING:
    from fixrouter.oms.book import OrderBook, _Session

log = logging.getLogger("fixrouter.oms")

_CHAIN_LIMIT = 1000  # cancel/replace links followed back before giving up (a loop)


class Recalled:
    """A finished order read back: the order, and the scratch book that holds it (for a
    `status` answer about any of its ids)."""

    __slots__ = ("book", "order")

    def __init__(self, book: OrderBook, order: Order) -> None:
        self.book = book
        self.order = order


def session_of(book: OrderBook, cl_ord_id: str) -> _Session | None:
    """The session whose prefix allocated `cl_ord_id` (None if it is not ours)."""
    parsed = parse(cl_ord_id)
    if parsed is None:
        return None
    for sess in book._sessions.values():
        if sess.ids.prefix == parsed[1]:
            return sess
    return None


def for_report(book: OrderBook, msg: FixMessage, arrived_on: str) -> Recalled | None:
    """The finished order a report (8 or 9) names, read back from disk, or None."""
    idx = msg.index
    for tag in (b"11", b"41"):
        value = idx.get(tag)
        if not value:
            continue
        cl = value.decode("latin-1")
        sess = session_of(book, cl)
        if sess is None:
            continue
        found = _timed(book, sess, cl, msg, f"report {_what(msg)} naming {cl}")
        if found is not None:
            return found
    oid = idx.get(b"37")
    sess = book._sessions.get(arrived_on)
    if not oid or sess is None or sess.searchable is None:
        return None
    return _timed(book, sess, oid.decode("latin-1"), msg,
                  f"report {_what(msg)} naming OrderID {oid.decode('latin-1')}", by_oid=True)


def for_status(book: OrderBook, strategy: str, order_id: str,
               status: OrderStatus) -> OrderState | None:
    """The `status` answer for a retired id whose final status is `status`, read back
    from disk (None if it cannot be)."""
    for sess in book._sessions.values():
        try:
            intent = find_id(sess.intents, strategy, order_id)
        except FixRouterError as exc:
            log.error("status of %s/%s: the intent log cannot be read: %s", strategy,
                      order_id, exc)
            continue
        if intent is None:
            continue
        found = _timed(book, sess, intent.cl_ord_id, None, f"status of {strategy}/{order_id}")
        if found is not None:
            state = found.book.status(strategy, order_id)
            if isinstance(state, OrderState):
                return state
        if status is OrderStatus.REJECTED:
            return _never_sent(sess, intent)
        return None
    log.error("status of %s/%s: a retired id without an intent record", strategy, order_id)
    return None


def _never_sent(sess: _Session, intent: Intent) -> OrderState | None:
    """The state of an order or replace refused before it reached the journal (its
    intent is all there is; the restart recorded it as rejected)."""
    root: Intent | None = intent
    for _ in range(_CHAIN_LIMIT):
        if root is None or root.kind is IntentKind.NEW:
            break
        root = find_cl(sess.intents, root.orig_cl_ord_id or "")
    if root is None or root.kind is not IntentKind.NEW:
        return None
    zero = ZERO
    return OrderState(id=intent.id, cl_ord_id=intent.cl_ord_id, symbol=root.symbol,
                      side=root.side, status=OrderStatus.REJECTED,
                      qty=root.qty if root.qty is not None else zero, cum_qty=zero,
                      leaves_qty=zero, avg_px=zero, price=None)


def _what(msg: FixMessage) -> str:
    return f"35={msg.get_str(35)} 150={msg.get_str(150) or '-'} 17={msg.get_str(17) or '-'}"


def _end_of(book: OrderBook, store: SearchableStore, msg: FixMessage | None) -> int:
    """Where the search for an order's history stops: at the report itself. A restart
    replaying the journal says where it is; live, the report was journaled just before
    it was delivered, so it is the last copy of its bytes; a report that is not in the
    journal (a refusal the router made up) stops at the end."""
    if msg is None:
        return store.history_end()
    if book._history_end is not None:
        return book._history_end
    end = store.history_end()
    found = store.find_last(msg.raw, end)
    return end if found is None else found.position


def _timed(book: OrderBook, sess: _Session, cl: str, msg: FixMessage | None,
           what: str, by_oid: bool = False) -> Recalled | None:
    started = time.perf_counter()
    try:
        found = recall_by_oid(book, sess, cl, msg) if by_oid else recall(book, sess, cl, msg)
    except FixRouterError as exc:
        log.error("%s: the order's history cannot be read (%s)", what, exc)
        return None
    took = (time.perf_counter() - started) * 1000
    book.counters.inc(Anomaly.RECALLED)
    if found is None:
        log.warning("%s: no finished order found on disk for %s (%.1f ms)", what, cl, took)
    else:
        order = found.order
        log.warning("%s: finished order %s/%s read back from the journal (%.1f ms)", what,
                    order.strategy, order.id, took)
    return found


def recall(book: OrderBook, sess: _Session, cl: str, msg: FixMessage | None) -> Recalled | None:
    """Rebuild the order that ClOrdID `cl` belongs to from `sess`'s files, up to (not
    including) the journaled message `msg`. See the module docstring.

    Raises StoreError / IntentLogError if a file cannot be read.
    """
    store = sess.searchable
    if store is None:
        return None
    intents: dict[str, Intent] = {}
    intent = find_cl(sess.intents, cl)
    for _ in range(_CHAIN_LIMIT):
        if intent is None:
            return None
        intents[intent.cl_ord_id] = intent
        if intent.kind is IntentKind.NEW:
            break
        intent = find_cl(sess.intents, intent.orig_cl_ord_id or "")
    else:
        return None
    root = intent.cl_ord_id
    end = _end_of(book, store, msg)
    start = _find_new_order(store, root, end)
    if start is None:
        # An earlier journal period's order, adopted from its reports (a GTC order): its
        # reports are all there is.
        oid = msg.get_str(37) if msg is not None else None
        return recall_by_oid(book, sess, oid, msg, with_cl=False) if oid else None
    history = list(_history(sess, store, root, start.position, end, intents))
    scratch = _replay(book, sess, history, intents)
    order = scratch._by_cl.get(root)
    return None if order is None else Recalled(scratch, order)


def recall_by_oid(book: OrderBook, sess: _Session, oid: str, msg: FixMessage | None,
                  with_cl: bool = True) -> Recalled | None:
    """Rebuild the order that OrderID `oid` belongs to, up to the journaled message
    `msg`: through the ClOrdID of ours the latest earlier report of it names (with
    `with_cl`), else from its reports alone (an orphan, adopted from its first report).

    Raises StoreError / IntentLogError if a file cannot be read.
    """
    store = sess.searchable
    if store is None:
        return None
    needle = b"\x0137=" + oid.encode("latin-1") + b"\x01"
    end = _end_of(book, store, msg)
    at = end
    first: StoredMessage | None = None
    while True:
        found = store.find_last(needle, at)
        if found is None:
            break
        at = found.position
        if found.outbound:
            continue
        earlier = _decode(found)
        # Only an ExecutionReport teaches the book an OrderID.
        if earlier is None or earlier.msg_type != b"8" or earlier.get_str(37) != oid:
            continue
        if with_cl:
            for number in (11, 41):
                named = earlier.get_str(number)
                if named and session_of(book, named) is sess:
                    return recall(book, sess, named, msg)
        first = found
    if first is None:
        return None
    history: list[FixMessage] = []
    for found in store.scan([needle], first.position, end):
        report = None if found.outbound else _decode(found)
        if report is not None and report.msg_type in REPORT_TYPES \
                and report.get_str(37) == oid:
            history.append(report)
    scratch = _replay(book, sess, history, {})
    order = scratch._by_order_id.get(oid)
    return None if order is None else Recalled(scratch, order)


def _replay(book: OrderBook, sess: _Session, history: list[FixMessage],
            intents: dict[str, Intent]) -> OrderBook:
    """A scratch book holding what `history` does to one order."""
    scratch = book._scratch(sess)
    ssess = scratch._sessions[sess.name]
    with _quiet():
        for message in history:
            if message.msg_type in ORDER_TYPES:
                apply_request(scratch, ssess, message, intents)
            else:
                scratch.on_message(message, sess.name)
    return scratch


def _find_new_order(store: SearchableStore, root: str, end: int) -> StoredMessage | None:
    needle = b"\x0111=" + root.encode("latin-1") + b"\x01"
    while True:
        found = store.find_last(needle, end)
        if found is None:
            return None
        if found.outbound and b"\x0135=D\x01" in found.data:
            return found
        end = found.position


def _history(sess: _Session, store: SearchableStore, root: str, start: int, end: int,
             intents: dict[str, Intent]) -> Iterator[FixMessage]:
    """The chain's requests and reports from its NewOrderSingle to `end`, in file order;
    `intents` gains the records of the cancels and replaces found."""
    chain = {root}
    order_ids: set[bytes] = set()
    needles = [_cl_needle(root)]
    sent: dict[int, FixMessage] = {}  # the chain's requests by MsgSeqNum, for refusals
    for found in store.scan(needles, start, end):
        message = _decode(found)
        if message is None:
            continue
        msg_type = message.msg_type
        cl = message.get_str(11) or ""
        orig = message.get_str(41) or ""
        if found.outbound:
            if msg_type not in ORDER_TYPES:
                continue
            if msg_type == b"D":
                if cl != root:
                    continue
            elif orig in chain and cl:
                if cl not in chain:
                    chain.add(cl)
                    needles.append(_cl_needle(cl))
                if cl not in intents:
                    found_intent = find_cl(sess.intents, cl)
                    if found_intent is not None:
                        intents[cl] = found_intent
            else:
                continue
            sent[found.seq] = message
            needles.append(b"\x0145=%d\x01" % found.seq)
            yield message
            continue
        if msg_type in REFUSAL_TYPES:
            refused = refusal_of(message)
            request = None if refused is None else sent.get(refused[0])
            if refused is not None and request is not None:
                report = refusal_report(request, sess.name, refused[0], refused[1])
                if report is not None:
                    yield report
            continue
        if msg_type not in REPORT_TYPES:
            continue
        oid = message.get(37)
        if not (cl in chain or orig in chain or (oid and oid in order_ids)):
            continue
        if oid and oid not in order_ids:
            order_ids.add(oid)
            needles.append(b"\x0137=" + oid + b"\x01")
        yield message


def _cl_needle(cl: str) -> bytes:
    return b"=" + cl.encode("latin-1") + b"\x01"


def _decode(found: StoredMessage) -> FixMessage | None:
    try:
        return decode_frame(found.data)
    except GarbledMessageError:
        return None


@contextmanager
def _quiet() -> Iterator[None]:
    """Mute the order book's log while a scratch book replays old messages."""
    was = log.disabled
    log.disabled = True
    try:
        yield
    finally:
        log.disabled = was


def scratch_sink() -> MemoryIntentLog:
    """The intent sink of a scratch book: it never allocates, so nothing is written."""
    return MemoryIntentLog()
