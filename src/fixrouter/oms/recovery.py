"""Rebuilding a session's orders from its FIX journal and intent log after a restart.

Theory of operation
-------------------
Three inputs, all written before anything left the process:

* the intent log (``fixrouter.oms.intents``): ClOrdID -> (strategy, id), per allocation;
* the journal's outbound messages (`MessageStore.iter_outbound`): the NewOrderSingle,
  OrderCancelRequest and OrderCancelReplaceRequest messages actually handed to the
  session, with every order field;
* the journal's inbound application messages (`iter_inbound`): ExecutionReports and
  OrderCancelRejects, in arrival order, and the refusals IB sends instead of a report:
  session Rejects (35=3) and BusinessMessageRejects (35=j) naming one of our order
  messages by its MsgSeqNum (RefSeqNum 45).

Both journals (`JournalStore`, `MemoryStore`) are a `SearchableStore` and yield their
messages both ways in the order they were saved (`iter_messages`): one thread journals
a request before sending it and a report before delivering it, so that is the order
things happened, and the replay applies each message at its place, holding none of
them. A store that only yields the two directions separately is merged by causality
instead: requests are applied in their own order, and an inbound message that names a
ClOrdID (11) or OrigClOrdID (41) of a request not yet applied first applies every request
up to that one (a request always before any answer to it, as late as the answers
allow); requests still unapplied after the last inbound message were sent and never
answered, and are applied at the end.

Reports go through the same `OrderBook.on_message` as live ones (events discarded), so
dedupe, over-fill guards, busts and positions behave identically. A 35=3 or 35=j is
turned into the report the router made of it live, by the same functions
(`fixrouter.routing.rejects`: `refusal_of`, `find_sent`, `refusal_report`), at its place
in the journal, so the made-up ExecID dedupes a second Reject of the same message as it
did live. It names our message as numbered in this journal period, and only one sent
before it: a RefSeqNum beyond the last outbound message replayed so far, or naming a
message that is not a D, F or G (a heartbeat, a number never journaled), settles
nothing, as live. A 35=j without a RefSeqNum (only RefMsgType) names no message and
settles nothing either. A refusal the session made itself (`NOT_DELIVERED`, a message too
old to resend) leaves no inbound message and is not replayed. Then:

* an intent whose ClOrdID is in no journaled request, written during this journal period
  (its timestamp is at or after the journal's creation time), was never sent: the engine
  stopped between the two writes, or the session refused it (an ``X`` record says why).
  A new order is recorded as Rejected ("not sent: engine stopped before sending") and
  its strategy is owed a `Denied`; a replace's new id is recorded as Rejected and a
  cancel or replace is owed a `CancelRejected`. Refusals the strategy was already told
  about (``X``) owe nothing;
* intents from earlier journal periods whose request is not in this journal are kept
  aside (a retiring book looks them up in the intent log instead, when needed): if a
  report for that ClOrdID arrives later (a GTC order across a sequence reset), the
  order is filed under the right strategy instead of as an orphan;
* a journaled request without an intent (only possible after a power loss in ``fsync``
  mode if the intent log was not synced with the journal) is tracked under `ORPHAN`;
* every ClOrdID seen, in either file, is fed to the session's generator, so none is
  ever allocated again.

Orders finish during the replay as they did live, and a retiring book retires them as
it goes (`fixrouter.oms.book`), so a restart holds no more than the live engine did; a
report in the journal about an order already retired is read back like a live one
(`fixrouter.oms.recall`, bounded by the report's own place in the journal).
`apply_request` is also what the read-back replays an order's requests with.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from fixrouter.codec import FixMessage, decode_frame
from fixrouter.errors import GarbledMessageError
from fixrouter.events import CancelRejected, Denied, ErrorCode, Event, OrderState, OrderStatus
from fixrouter.oms.counters import Anomaly
from fixrouter.oms.intents import Intent, IntentKind, find_cl
from fixrouter.oms.order import ORPHAN, CancelIntent, Order, ReplaceIntent
from fixrouter.oms.positions import ZERO
from fixrouter.oms.wire import TIF, WireValueError, decimal, new_order_from_fix
from fixrouter.requests import NewOrder, OrderType, Side
from fixrouter.routing.rejects import (
    ORDER_TYPES,
    REFUSAL_TYPES,
    find_sent,
    refusal_of,
    refusal_report,
)
from fixrouter.store import MessageStore
from fixrouter.store.base import SearchableStore

if TYPE_CHECKING:
    from fixrouter.oms.book import OrderBook, _Session

log = logging.getLogger("fixrouter.oms")

NOT_SENT = "not sent: engine stopped before sending"
REPORT_TYPES = frozenset({b"8", b"9"})  # the reports the book applies
_INBOUND_TYPES = REPORT_TYPES | REFUSAL_TYPES


def _decode(book: OrderBook, data: bytes, where: str) -> FixMessage | None:
    try:
        return decode_frame(data)
    except GarbledMessageError as exc:
        book.counters.inc(Anomaly.GARBLED_JOURNAL_MESSAGE)
        log.error("journaled %s message does not decode (%s): skipped", where, exc)
        return None


def replay(book: OrderBook, sess: _Session, store: MessageStore) -> list[tuple[str, Event]]:
    """Rebuild `sess` into `book`. See the module docstring. Returns the events owed."""
    intents: dict[str, Intent] = {}
    failed: dict[str, str] = {}
    for intent in sess.intents.records():
        sess.ids.observe(intent.cl_ord_id)
        if intent.kind is IntentKind.FAILED:
            failed[intent.cl_ord_id] = intent.reason
        else:
            intents[intent.cl_ord_id] = intent

    if isinstance(store, SearchableStore):
        requests, reports = _in_order(book, sess, store, store, intents)
    else:
        requests, reports = _merged(book, sess, store, intents)

    # What is left in `intents` never reached this journal.
    owed: list[tuple[str, Event]] = []
    creation = store.creation_time
    for cl, intent in intents.items():
        if intent.ts < creation:
            if not book._search_intents:
                book._early_intents[cl] = intent
            continue
        owed.extend(_not_sent(book, sess, intent, failed.get(cl), intents))
    log.info("session %s: replayed %d requests and %d reports; %d events owed",
             sess.name, requests, reports, len(owed))
    return owed


def _in_order(book: OrderBook, sess: _Session, store: MessageStore,
              searchable: SearchableStore, intents: dict[str, Intent]) -> tuple[int, int]:
    """Apply every journaled request and report in file order (`store` is `searchable`,
    as each interface); the intents of the requests applied leave `intents`. Returns
    (requests, reports) applied."""
    requests = reports = 0
    # Non-superseded outbound messages come in increasing MsgSeqNum within a period, so
    # a Reject names a message journaled before it exactly when its RefSeqNum is at most
    # the highest number replayed so far.
    last_seq = 0
    try:
        for found in searchable.iter_messages():
            if found.outbound:
                last_seq = max(last_seq, found.seq)
                msg = _decode(book, found.data, "outbound")
                if msg is None or msg.msg_type not in ORDER_TYPES:
                    continue
                cl = msg.get_str(11)
                if cl is None:
                    continue
                sess.ids.observe(cl)
                apply_request(book, sess, msg, intents)
                intents.pop(cl, None)
                requests += 1
            else:
                msg = _decode(book, found.data, "inbound")
                if msg is None or msg.msg_type not in _INBOUND_TYPES:
                    continue
                if msg.msg_type in REFUSAL_TYPES:
                    msg = _refusal_report(store, sess, msg, last_seq)
                    if msg is None:
                        continue
                book._history_end = found.position  # a read-back stops here
                book.on_message(msg, sess.name)
                reports += 1
    finally:
        book._history_end = None
    return requests, reports


def _refusal_report(store: MessageStore, sess: _Session, reject: FixMessage,
                    last_seq: int) -> FixMessage | None:
    """The report the router made of a journaled 35=3 / 35=j live, or None if it settled
    nothing (see the module docstring)."""
    refused = refusal_of(reject)
    if refused is None:
        return None
    seq, reason = refused
    if seq > last_seq:
        return None  # not sent yet when it arrived (the number names a later message)
    sent = find_sent(store, seq)
    return None if sent is None else refusal_report(sent, sess.name, seq, reason)


def _merged(book: OrderBook, sess: _Session, store: MessageStore,
            intents: dict[str, Intent]) -> tuple[int, int]:
    """Merge the outbound and inbound streams by causality (see the module docstring)."""
    requests: list[FixMessage] = []
    position: dict[str, int] = {}
    by_seq: dict[int, int] = {}  # MsgSeqNum -> index in `requests`, for Rejects
    for seq, data in store.iter_outbound(1):
        msg = _decode(book, data, "outbound")
        if msg is None or msg.msg_type not in ORDER_TYPES:
            continue
        cl = msg.get_str(11)
        if cl is None:
            continue
        sess.ids.observe(cl)
        position[cl] = len(requests)
        by_seq[seq] = len(requests)
        requests.append(msg)

    applied = 0

    def catch_up(upto: int) -> None:
        nonlocal applied
        while applied <= upto:
            apply_request(book, sess, requests[applied], intents)
            applied += 1

    reports = 0
    for _, data in store.iter_inbound():
        msg = _decode(book, data, "inbound")
        if msg is None or msg.msg_type not in _INBOUND_TYPES:
            continue
        if msg.msg_type in REFUSAL_TYPES:
            # A refusal answers the request it names by number: that one first.
            refused = refusal_of(msg)
            at = None if refused is None else by_seq.get(refused[0])
            if refused is None or at is None:
                continue
            if at >= applied:
                catch_up(at)
            msg = refusal_report(requests[at], sess.name, refused[0], refused[1])
            if msg is None:
                continue
        for tag in (11, 41):
            cl = msg.get_str(tag)
            at = position.get(cl) if cl else None
            if at is not None and at >= applied:
                catch_up(at)
        book.on_message(msg, sess.name)
        reports += 1
    catch_up(len(requests) - 1)
    for cl in position:
        intents.pop(cl, None)
    return len(requests), reports


def apply_request(
    book: OrderBook, sess: _Session, msg: FixMessage, intents: dict[str, Intent]
) -> None:
    """Apply one journaled NewOrderSingle, cancel or replace to the book."""
    cl = msg.get_str(11) or ""
    intent = intents.get(cl)
    msg_type = msg.msg_type
    if msg_type == b"D":
        strategy, order_id = ORPHAN, cl
        if intent is not None and intent.kind is IntentKind.NEW:
            strategy, order_id = intent.strategy, intent.id
        else:
            book.counters.inc(Anomaly.ORPHAN_ORDER)
            log.warning("journaled order %s has no intent record: tracked as an orphan", cl)
        if book._id_taken(strategy, order_id):
            log.error("journaled order %s reuses id %r of %r: tracked under its ClOrdID",
                      cl, order_id, strategy)
            strategy, order_id = ORPHAN, cl
        try:
            req = new_order_from_fix(msg, strategy, order_id)
        except WireValueError as exc:
            book.counters.inc(Anomaly.GARBLED_JOURNAL_MESSAGE)
            log.error("journaled order %s is unreadable (%s): skipped", cl, exc)
            return
        book._register_order(Order(req, sess.name, cl))
        return
    orig = msg.get_str(41) or ""
    order = book._by_cl.get(orig)
    if order is None:
        # Unknown, or an order that finished before this request's answer (a cancel that
        # crossed a fill): nothing to apply it to.
        log.info("journaled %s %s names OrigClOrdID %r of no working order: skipped",
                 "cancel" if msg_type == b"F" else "replace", cl, orig)
        return
    if msg_type == b"F":
        book._register_cancel(CancelIntent(order, sess.name, cl, orig), replaying=True)
        return
    new_id = cl
    if intent is not None and intent.kind is IntentKind.REPLACE:
        new_id = intent.id
    else:
        book.counters.inc(Anomaly.ORPHAN_ORDER)
        log.warning("journaled replace %s has no intent record: new id is its ClOrdID", cl)
    if book._id_taken(order.strategy, new_id):
        new_id = cl
    try:
        qty = decimal(msg.get(38)) or order.qty
        price = decimal(msg.get(44))
        stop = decimal(msg.get(99))
    except WireValueError as exc:
        book.counters.inc(Anomaly.GARBLED_JOURNAL_MESSAGE)
        log.error("journaled replace %s is unreadable (%s): skipped", cl, exc)
        return
    tif = TIF.get(msg.get(59) or b"", order.tif)
    book._register_replace(
        ReplaceIntent(order, sess.name, cl, orig, new_id, qty, price, stop, tif),
        replaying=True,
    )


def _side(value: str) -> Side:
    try:
        return Side(value)
    except ValueError:
        return Side.BUY  # only what the order is displayed as; it was never sent


def _not_sent(
    book: OrderBook, sess: _Session, intent: Intent, failed: str | None,
    intents: dict[str, Intent],
) -> list[tuple[str, Event]]:
    """Record the truth about a request that never reached the wire; return what is owed."""
    reason = NOT_SENT if failed is None else f"not sent: {failed}"
    if failed is None:
        book.counters.inc(Anomaly.NOT_SENT)
        log.warning("%s %s of %r was never sent: engine stopped before sending",
                    intent.kind.name.lower(), intent.cl_ord_id, intent.strategy)
    if intent.kind is IntentKind.NEW:
        if book._id_taken(intent.strategy, intent.id):
            return []
        req = NewOrder(
            strategy=intent.strategy,
            id=intent.id,
            symbol=intent.symbol,
            side=_side(intent.side),
            qty=intent.qty if intent.qty is not None else ZERO,
            type=OrderType.LIMIT,  # not recorded; the order never existed anywhere else
        )
        order = Order(req, sess.name, intent.cl_ord_id)
        order.status = OrderStatus.REJECTED
        order.text = reason
        book._register_order(order)
        if failed is not None:
            return []
        return [(intent.strategy, Denied(intent.id, ErrorCode.ENGINE_UNAVAILABLE.value, reason))]
    orig = intent.orig_cl_ord_id or ""
    target = book._by_cl.get(orig)
    if target is not None:
        strategy, order_id = target.strategy, target.id
        symbol, side = target.req.symbol, target.req.side.value
        qty, price = target.qty, target.price
    else:
        # The order finished (and was retired) since: its owner still hears of it.
        named = intents.get(orig) or find_cl(sess.intents, orig)
        if named is None or named.kind not in (IntentKind.NEW, IntentKind.REPLACE):
            return []
        strategy, order_id = named.strategy, named.id
        symbol, side, qty, price = named.symbol, named.side, named.qty or ZERO, None
    if intent.kind is IntentKind.REPLACE:
        if not book._id_taken(strategy, intent.id):
            book._remember(strategy, OrderState(
                id=intent.id, cl_ord_id=intent.cl_ord_id, symbol=symbol, side=side,
                status=OrderStatus.REJECTED, qty=qty, cum_qty=ZERO, leaves_qty=ZERO,
                avg_px=ZERO, price=price,
            ))
        what = f"replace to {intent.id!r}"
    else:
        what = "cancel"
    if failed is not None:
        return []
    return [(strategy, CancelRejected(order_id, f"{what} {reason}"))]
