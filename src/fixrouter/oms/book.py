"""The order book: every order of every strategy, its state, its fills, and positions.

Theory of operation
-------------------
The book is pure and synchronous: the router calls it, it returns values, and the only
I/O it does is one append to the session's intent log per ClOrdID it allocates. Time is
always an argument (`now`, UTC epoch seconds, for the ClOrdID date).

**Outbound.** ``prepare_new`` checks the strategy's id is new, allocates a ClOrdID on the
session, writes the intent record, and records the order as PendingNew; the router then
builds and sends the NewOrderSingle and calls ``sent(order)`` for the `Accepted` event,
or ``send_failed(order, reason)`` if the session could not take it. ``prepare_cancel``
and ``prepare_replace`` work the same way and return a `CancelIntent` / `ReplaceIntent`
carrying the new ClOrdID and OrigClOrdID(41), the order's *current* ClOrdID. The order is
PendingCancel / PendingReplace from that moment.

**Identity and isolation.** Each strategy has its own map of ids to orders, and every
request is resolved in the requesting strategy's map only, so another strategy's order
is exactly as unknown as a missing one (`UNKNOWN_ORDER`, never a hint that it exists).
An id is never reused by a strategy while the book (and after a restart, the journal
period) remembers it: a replace's `new_id` is reserved when the replace is prepared, an
id that was replaced answers `Replaced`, and a refused replace's `new_id` answers
`Rejected`. While a replace is pending, its `new_id` already names the same order.

**Retirement** (issue 7: a flat engine over a million orders). An order that is
*finished* (terminal, with no cancel or replace of ours awaiting an answer: see
`Order.finished`) is retired: it leaves every map, and all the book keeps is its id's
final status in `RetiredIds` (8 bytes a slot) and its share of the day's totals
(`RetiredTotal`, read by the risk gate's rebuild). Retirement is deferred to the start
of the book's next call, so the router can still hand the finished order to the risk
gate (`book.order`) after the report that finished it; the gate drops its own record
when it sees the order finished. A retired id is refused as `DUPLICATE_ID`, and a
cancel or replace of it answers `ORDER_NOT_WORKING` with its final status, from memory.
What needs more than that reads the order back from disk (`fixrouter.oms.recall`, the
logged and counted slow path): a `status` query, and a report naming a retired order
(a bust, a correction, a duplicate fill, a late cancel or its reject), which brings the
order back as a live one so the ordinary path applies the report exactly once and
routes it to its strategy; `Order.recalled` tells the risk gate what it had counted.
`OrderBook(retire=False)` keeps every order, as the book always did (the scratch book
of a read-back, and tests that compare both).

**Inbound.** ``on_execution_report`` finds the order by ClOrdID(11), else OrigClOrdID(41),
else OrderID(37) (unsolicited reports carry no ClOrdID), else reads a retired one back,
applies it once, and returns the `(strategy, event)` pairs to deliver. A report is
applied once per order: trade reports (fills, busts, corrections) are keyed by
ExecID(17), other reports by ExecID with their ExecType, OrdStatus and ClOrdID (so a
broker that numbers acks loosely cannot make two different reports look alike), and the
keys live on the order (`Order.seen`). Resent reports (PossDup) are counted and dropped.
A report for an unknown order that names its OrderID, Symbol, Side and OrderQty is
adopted as an *orphan* (strategy `ORPHAN`, id = its ClOrdID or OrderID): IB-initiated
orders and unsolicited cancels are then tracked, their fills reach positions, and risk
sees them among the open orders.

Status changes go through `states.ROWS` (see `fixrouter.oms.states`). Fills are applied
whatever the status: an execution happened even if its report arrived out of order.
CumQty never exceeds OrderQty: the excess of an over-fill is logged, counted and not
applied, to the order or to the position. Busts (ExecTransType 1) remove the fill named
by ExecRefID(19) from the order and the position; corrections (2) replace its quantity
and price; status reports (3) adopt the broker's terminal status and apply no fill.
Positions keep their recent fills for exact busts (`fixrouter.oms.positions`, the fill
window); a bust of an older fill is exact in quantity, approximate in average price,
and counted (`Anomaly.HISTORY_EXCEEDED`).

An ExecutionReport rejecting (150=8) a ClOrdID that is one of our pending cancel or
replace requests is a refusal of that request, not of the order.

**Restart.** ``rebuild(session, store)`` replays the FIX journal and intent log (see
`fixrouter.oms.recovery`). Until every session added with ``add_session`` is rebuilt,
``ready`` is false and every request is refused with `ENGINE_UNAVAILABLE`; the risk gate
fails closed on the same flag.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from decimal import Decimal
from typing import Final, cast

from fixrouter.codec import FixMessage
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
)
from fixrouter.hashed_dict import hashed_dict
from fixrouter.oms import recall
from fixrouter.oms.clordid import ClOrdIdError, ClOrdIdGenerator, ClOrdIdMap, CounterTable
from fixrouter.oms.counters import Anomaly, AnomalyCounter
from fixrouter.oms.intents import (
    Intent,
    IntentKind,
    IntentLogError,
    IntentSink,
    encode_cancel,
    encode_failed,
    encode_new,
    encode_replace,
    find_cl,
)
from fixrouter.oms.order import ORPHAN, CancelIntent, OpenOrders, Order, ReplaceIntent
from fixrouter.oms.positions import (
    FILL_WINDOW,
    ZERO,
    Fill,
    FillWindow,
    Position,
    PositionView,
    order_instrument,
)
from fixrouter.oms.recovery import replay
from fixrouter.oms.retired import RetiredIds, RetiredTotal
from fixrouter.oms.states import (
    EXEC_TYPE_TRIGGER,
    ORD_STATUS,
    ROWS,
    TERMINAL,
    TRIGGER_KIND,
    Target,
    Trigger,
)
from fixrouter.oms.wire import WireValueError, decimal, new_order_from_fix
from fixrouter.requests import CancelOrder, NewOrder, ReplaceOrder, Side
from fixrouter.store import MessageStore
from fixrouter.store.base import SearchableStore

log = logging.getLogger("fixrouter.oms")

Routed = list[tuple[str, Event]]
Prepared = Order | CancelIntent | ReplaceIntent

_ER: Final = b"8"
_CANCEL_REJECT: Final = b"9"
_TRADE: Final = frozenset({Trigger.ER_PARTIAL, Trigger.ER_FILL})
_TRANS_TRIGGER: Final = {b"1": Trigger.BUST, b"2": Trigger.CORRECT, b"3": Trigger.STATUS}
_KEYED_BY_EXEC_ID: Final = frozenset({Trigger.ER_PARTIAL, Trigger.ER_FILL, Trigger.BUST,
                               Trigger.CORRECT})
_CXL_REJ_REASON: Final = {
    b"0": "too late to cancel",
    b"1": "unknown order",
    b"2": "broker option",
    b"3": "already pending cancel or replace",
}
_NOT_READY: Final = "the order book is recovering its state; try again shortly"
_PN: Final = OrderStatus.PENDING_NEW
_REPLACED: Final = OrderStatus.REPLACED
_REJECTED: Final = OrderStatus.REJECTED
_WORKING: Final = Target.WORKING
_BROKER: Final = Target.BROKER
_SIGN: Final = {Side.BUY: 1, Side.SELL: -1, Side.SHORT: -1}
_NAMING: Final = frozenset({IntentKind.NEW, IntentKind.REPLACE})  # intents that name an order
_FEW: Final = 8  # report keys kept in a tuple before a set
# The report path's enum members and tables, bound once: compiled code reads a `Final`
# directly, while `Trigger.BUST` is a ~65 ns class attribute look-up (a New report made
# about eleven of them) and a non-`Final` import a module-dict read.
_T_PENDING_NEW: Final = Trigger.ER_PENDING_NEW
_T_CANCELED: Final = Trigger.ER_CANCELED
_T_REPLACED: Final = Trigger.ER_REPLACED
_T_REJECTED: Final = Trigger.ER_REJECTED
_T_RESTATED: Final = Trigger.ER_RESTATED
_T_STATUS: Final = Trigger.STATUS
_T_BUST: Final = Trigger.BUST
_T_CORRECT: Final = Trigger.CORRECT
_K_STATUS: Final = ExecKind.STATUS
_EXEC_TRIGGER: Final = EXEC_TYPE_TRIGGER
_KIND_OF: Final = TRIGGER_KIND
_TERMINAL: Final = TERMINAL
_EXECUTION: Final = Execution
_tuple_new: Final = tuple.__new__


class OmsError(FixRouterError):
    """The order book was used wrongly (unknown session, duplicate prefix, rebuilt twice)."""


class _Session:
    __slots__ = ("ids", "intents", "name", "rebuilt", "searchable", "table")

    def __init__(self, name: str, ids: ClOrdIdGenerator, intents: IntentSink) -> None:
        self.name = name
        self.ids = ids
        self.intents = intents
        self.rebuilt = False
        self.searchable: SearchableStore | None = None  # the journal, set by rebuild
        # The book's `_by_cl` slots for the ids `ids` allocates now (its current stem).
        self.table: CounterTable[Order] | None = None


TotalKey = tuple[str, str, str, str, str, Decimal | None]


class OrderBook:
    """All orders, fills and positions of the engine. See the module docstring.

    `retire`: retire finished orders (the engine's book); False keeps every order in
    memory. `fill_window`: fills kept for exact busts (`positions.FILL_WINDOW`).
    """

    def __init__(self, *, retire: bool = True, fill_window: int = FILL_WINDOW) -> None:
        self._sessions: dict[str, _Session] = {}
        self._default: _Session | None = None
        self._ready = False
        self._retiring = retire
        self._ids: dict[str, dict[str, Order | OrderState]] = {}
        # Every ClOrdID of every live order; our own ids of the sessions' current stems
        # are filed by counter (`ClOrdIdMap`: no large dict, no rehash).
        self._by_cl: ClOrdIdMap[Order] = ClOrdIdMap()
        self._by_order_id: dict[str, Order] = {}
        self._open = OpenOrders()  # working orders, in the order they started working
        self._positions: dict[tuple[str, str], Position] = {}
        self._window = FillWindow(fill_window)
        self._early_intents: dict[str, Intent] = {}  # from earlier journal periods
        self._search_intents = retire  # look unknown ClOrdIDs up in the intent log
        self._retired = RetiredIds()
        self._finished: list[Order] = []  # finished since the last call: retired next
        self._totals: dict[TotalKey, RetiredTotal] = {}
        self._last_px: dict[str, Decimal] = {}  # instrument -> avg px of its last retired
        self._history_end: int | None = None  # set by a replay: where a read-back stops
        self.counters = AnomalyCounter()
        self.reported: Order | None = None
        """The order the latest `on_execution_report` or `on_cancel_reject` found (None if
        it found none): the one its events concern, which the router would otherwise
        look up by id again (a cache miss in a large map) for the risk gate."""

    # -- sessions and readiness ------------------------------------------------------------

    def add_session(self, name: str, prefix: str, intents: IntentSink) -> None:
        """Register a FIX session and its ClOrdID prefix; the book is not ready until
        ``rebuild(name, ...)`` has run. The first session is the default for new orders.

        Raises OmsError if the name or prefix is taken; ClOrdIdError for a bad prefix.
        """
        if name in self._sessions:
            raise OmsError(f"session {name!r} added twice")
        if any(s.ids.prefix == prefix for s in self._sessions.values()):
            raise OmsError(f"ClOrdID prefix {prefix!r} is used by another session")
        session = _Session(name, ClOrdIdGenerator(prefix), intents)
        self._sessions[name] = session
        if self._default is None:
            self._default = session
        self._ready = False
        self.counters.inc(Anomaly.INTENT_TORN, intents.torn)
        self.counters.inc(Anomaly.INTENT_CORRUPT, intents.corrupt)

    @property
    def ready(self) -> bool:
        """True once every session has been rebuilt: requests are accepted only then."""
        return self._ready

    @property
    def sessions(self) -> list[str]:
        return list(self._sessions)

    def rebuild(self, session: str, store: MessageStore) -> Routed:
        """Recover the session's orders from its FIX journal and intent log.

        Returns the events owed to strategies for orders that were never sent (the
        gateway delivers them when the strategy is connected). Raises OmsError for an
        unknown or already rebuilt session.
        """
        sess = self._session(session)
        if sess.rebuilt:
            raise OmsError(f"session {session!r} was already rebuilt")
        sess.searchable = store if isinstance(store, SearchableStore) else None
        events = replay(self, sess, store)
        if self._finished:
            self.retire_finished()
        sess.rebuilt = True
        self._ready = all(s.rebuilt for s in self._sessions.values())
        log.info("session %s rebuilt: %d open orders in the book", session, len(self._open))
        return events

    def _session(self, name: str) -> _Session:
        try:
            return self._sessions[name]
        except KeyError:
            raise OmsError(f"unknown session {name!r}") from None

    # -- requests ----------------------------------------------------------------------------

    def prepare_new(
        self, req: NewOrder, now: float, session: str | None = None
    ) -> Order | RequestError:
        """Allocate a ClOrdID, write the intent and record the order as PendingNew.

        `session` defaults to the first session added. The caller sends the order, then
        calls `sent` (or `send_failed`).
        """
        if self._finished:
            self.retire_finished()
        if not self._ready:
            return RequestError(ErrorCode.ENGINE_UNAVAILABLE, _NOT_READY, req.id)
        strategy = req.strategy
        oid = req.id
        ids = self._ids.get(strategy)
        if ids is None:
            ids = self._ids[strategy] = hashed_dict()
        sess = self._default if session is None else self._sessions.get(session)
        # The strategy's id map is as large as its working orders: look the id up and
        # claim it in one probe, and give it back on the rare refusals below.
        order = Order(req, "" if sess is None else sess.name, "")
        claimed = ids.setdefault(oid, order) is order
        if not claimed or self._retired.get(strategy, oid) is not None:
            if claimed:
                del ids[oid]
            return RequestError(ErrorCode.DUPLICATE_ID, f"id {oid!r} was already used today",
                                oid)
        if sess is None:
            del ids[oid]
            return RequestError(ErrorCode.BAD_VALUE, f"no FIX session {session!r}", oid)
        try:
            cl = sess.ids.next(now)
            sess.intents.write(encode_new(now, cl, req))
        except (IntentLogError, ClOrdIdError) as exc:
            del ids[oid]
            log.error("order %s/%s refused: %s", strategy, oid, exc)
            return RequestError(ErrorCode.ENGINE_UNAVAILABLE, str(exc), oid)
        except BaseException:
            # Anything unforeseen gives the id back too: a claimed id with no order
            # behind it would refuse the strategy's retry as a duplicate forever.
            del ids[oid]
            raise
        order.cl_ord_id = cl
        gen = sess.ids
        table = sess.table
        if table is None or table.stem != gen.stem:  # the first order, or a new day
            table = sess.table = self._by_cl.table(gen.stem)
        table.put(gen.counter, cl, order)
        self._open.add(order)
        return order

    def _ids_of(self, strategy: str) -> dict[str, Order | OrderState]:
        """The strategy's id map, created on first use."""
        ids = self._ids.get(strategy)
        if ids is None:
            ids = self._ids[strategy] = hashed_dict()
        return ids

    def id_used(self, strategy: str, order_id: str) -> bool:
        """Whether the strategy's id names an order, live or finished, today."""
        ids = self._ids.get(strategy)
        if ids is not None and order_id in ids:
            return True
        return self._retired.get(strategy, order_id) is not None

    def retired_status(self, strategy: str, order_id: str) -> OrderStatus | None:
        """The final status recorded when the id was retired, else None. (An order read
        back for a late report and working again holds its id live meanwhile.)"""
        return self._retired.get(strategy, order_id)

    def sent(self, item: Prepared) -> Accepted | None:
        """The prepared message is journaled and on its way. A new order gets `Accepted`;
        cancels and replaces are answered by the broker's reports."""
        if type(item) is Order:
            return Accepted(item.id, item.cl_ord_id)
        return None

    def send_failed(self, item: Prepared, reason: str, now: float = 0.0) -> Routed:
        """The session could not send the prepared message: undo it and say so.

        A new order becomes Rejected (`Denied` to the strategy, which never saw it
        accepted); a cancel or replace is withdrawn (`CancelRejected`).
        """
        if self._finished:
            self.retire_finished()
        sess = self._sessions.get(item.session)
        if sess is not None:
            try:
                sess.intents.write(encode_failed(now, item.cl_ord_id, reason))
            except IntentLogError as exc:
                log.error("could not record the failed send of %s: %s", item.cl_ord_id, exc)
        if isinstance(item, Order):
            item.text = reason
            self._transition(item, Trigger.SEND_FAILED)
            return [(item.strategy, Denied(item.id, ErrorCode.ENGINE_UNAVAILABLE.value,
                                           f"not sent: {reason}"))]
        order = item.order
        if isinstance(item, CancelIntent):
            if order.pending_cancel is item:
                order.pending_cancel = None
                self._transition(order, Trigger.CANCEL_REJECT)
            return [(order.strategy, CancelRejected(order.id, f"cancel not sent: {reason}"))]
        if order.pending_replace is item:
            return self._replace_refused(order, item, f"not sent: {reason}")
        return []

    def prepare_cancel(self, req: CancelOrder, now: float) -> CancelIntent | RequestError:
        """Allocate the cancel's ClOrdID and write its intent; the order is PendingCancel."""
        if self._finished:
            self.retire_finished()
        found = self._working(req.strategy, req.id)
        if isinstance(found, RequestError):
            return found
        order = found
        if order.pending_cancel is not None:
            return RequestError(
                ErrorCode.ORDER_NOT_WORKING,
                f"order {req.id!r} already has a cancel pending "
                f"({order.pending_cancel.cl_ord_id})",
                req.id,
            )
        sess = self._sessions[order.session]
        try:
            cl = sess.ids.next(now)
            sess.intents.write(encode_cancel(now, cl, order.cl_ord_id))
        except (IntentLogError, ClOrdIdError) as exc:
            log.error("cancel %s/%s refused: %s", req.strategy, req.id, exc)
            return RequestError(ErrorCode.ENGINE_UNAVAILABLE, str(exc), req.id)
        intent = CancelIntent(order, order.session, cl, order.cl_ord_id)
        self._register_cancel(intent)
        return intent

    def prepare_replace(self, req: ReplaceOrder, now: float) -> ReplaceIntent | RequestError:
        """Check the replace, allocate its ClOrdID, reserve `new_id`, write the intent.

        Refused: unknown id (`UNKNOWN_ORDER`), an order that is done or already has a
        cancel or replace pending (`ORDER_NOT_WORKING`), a `new_id` already used
        (`DUPLICATE_ID`), a quantity not above what is filled or a replace that changes
        nothing (`BAD_VALUE`).
        """
        if self._finished:
            self.retire_finished()
        found = self._working(req.strategy, req.id)
        if isinstance(found, RequestError):
            return found
        order = found
        pending = order.pending_replace or order.pending_cancel
        if pending is not None:
            what = "replace" if pending is order.pending_replace else "cancel"
            return RequestError(
                ErrorCode.ORDER_NOT_WORKING,
                f"order {req.id!r} has a {what} pending ({pending.cl_ord_id}); "
                "wait for its answer",
                req.id,
            )
        if self.id_used(req.strategy, req.new_id):
            return RequestError(
                ErrorCode.DUPLICATE_ID, f"new_id {req.new_id!r} was already used today", req.id
            )
        qty = order.qty if req.qty is None else req.qty
        price = order.price if req.price is None else req.price
        stop = order.stop_price if req.stop_price is None else req.stop_price
        tif = order.tif if req.tif is None else req.tif
        if qty <= order.cum_qty:
            return RequestError(
                ErrorCode.BAD_VALUE,
                f"qty {qty} must be above the quantity already filled ({order.cum_qty})",
                req.id,
            )
        if (qty, price, stop, tif) == (order.qty, order.price, order.stop_price, order.tif):
            return RequestError(ErrorCode.BAD_VALUE, "the replace changes nothing", req.id)
        sess = self._sessions[order.session]
        try:
            cl = sess.ids.next(now)
            sess.intents.write(encode_replace(
                now, cl, order.cl_ord_id, order.strategy, req.new_id))
        except (IntentLogError, ClOrdIdError) as exc:
            log.error("replace %s/%s refused: %s", req.strategy, req.id, exc)
            return RequestError(ErrorCode.ENGINE_UNAVAILABLE, str(exc), req.id)
        intent = ReplaceIntent(order, order.session, cl, order.cl_ord_id, req.new_id, qty,
                               price, stop, tif)
        self._register_replace(intent)
        return intent

    def _working(self, strategy: str, order_id: str) -> Order | RequestError:
        if not self._ready:
            return RequestError(ErrorCode.ENGINE_UNAVAILABLE, _NOT_READY, order_id)
        ids = self._ids.get(strategy)
        entry = None if ids is None else ids.get(order_id)
        if entry is None:
            retired = self.retired_status(strategy, order_id)
            if retired is not None:
                return RequestError(ErrorCode.ORDER_NOT_WORKING,
                                    f"order {order_id!r} is {retired.value}", order_id)
            return RequestError(ErrorCode.UNKNOWN_ORDER, f"no order with id {order_id!r}",
                                order_id)
        if isinstance(entry, OrderState):
            return RequestError(
                ErrorCode.ORDER_NOT_WORKING,
                f"order {order_id!r} is {entry.status.value}", order_id,
            )
        if entry.status in TERMINAL:
            return RequestError(
                ErrorCode.ORDER_NOT_WORKING,
                f"order {order_id!r} is {entry.status.value}", order_id,
            )
        return entry

    # -- registration (shared with recovery) -------------------------------------------------

    def _register_order(self, order: Order) -> None:
        self._ids_of(order.strategy)[order.id] = order
        self._by_cl[order.cl_ord_id] = order
        if order.status not in TERMINAL:
            self._open.add(order)
        elif order.finished:
            self._finish(order)

    def _register_cancel(self, intent: CancelIntent, replaying: bool = False) -> None:
        order = intent.order
        order.pending_cancel = intent
        self._link(order, intent.cl_ord_id)
        if not (replaying and order.status in TERMINAL):
            self._transition(order, Trigger.CANCEL_SENT)

    def _register_replace(self, intent: ReplaceIntent, replaying: bool = False) -> None:
        order = intent.order
        order.pending_replace = intent
        self._link(order, intent.cl_ord_id)
        self._ids[order.strategy][intent.new_id] = order
        if not (replaying and order.status in TERMINAL):
            self._transition(order, Trigger.REPLACE_SENT)

    def _link(self, order: Order, cl: str) -> None:
        self._by_cl[cl] = order
        chain = order.chain
        if chain is None:
            # No replace was confirmed without a link first: cl_ord_id is the first one.
            order.chain = [order.cl_ord_id, cl] if order.cl_ord_id else [cl]
        else:
            chain.append(cl)

    def _id_taken(self, strategy: str, order_id: str) -> bool:
        """Recovery's check: the id names a live order, a retired one or an old state."""
        return self.id_used(strategy, order_id)

    def _remember(self, strategy: str, state: OrderState) -> None:
        """An id that no longer names a live order: replaced away, or a refused replace's
        new id. The retiring book keeps its status only (a `status` query reads the
        rest back); the other keeps the whole state."""
        if self._retiring:
            ids = self._ids.get(strategy)
            if ids is not None:
                ids.pop(state.id, None)
            self._retired.put(strategy, state.id, state.status)
        else:
            self._ids_of(strategy)[state.id] = state

    # -- retirement --------------------------------------------------------------------------

    def _finish(self, order: Order) -> None:
        """Queue a finished order for retirement at the start of the next call."""
        if self._retiring and not order.queued:
            order.queued = True
            self._finished.append(order)

    def retire_finished(self) -> None:
        """Retire the orders that finished since the last call (every call of the book
        starts with this; the router's gate sync happens in between)."""
        finished = self._finished
        self._finished = []
        for order in finished:
            order.queued = False
            if order.finished:
                self._retire(order)

    def _retire(self, order: Order) -> None:
        """Drop a finished order from every map; keep its id's status and its totals."""
        strategy = order.strategy
        ids = self._ids.get(strategy)
        if ids is not None and ids.get(order.id) is order:
            del ids[order.id]
        by_cl = self._by_cl
        chain = order.chain
        if chain is None:
            cl = order.cl_ord_id
            if cl:
                by_cl.discard(cl, order)
        else:
            for cl in chain:
                by_cl.discard(cl, order)
        oid = order.order_id
        if oid and self._by_order_id.get(oid) is order:
            del self._by_order_id[oid]
        self._open.discard(order)
        self._retired.put(strategy, order.id, order.status)
        self._total(order, 1)

    def _total(self, order: Order, sign: int) -> None:
        """Add (1) or take back (-1) a retired order's share of the day's totals."""
        req = order.req
        derivative = req.derivative
        instrument = req.symbol if derivative is None else order_instrument(req)
        key = (order.strategy, req.account or "", req.symbol, instrument, req.currency,
               None if derivative is None else derivative.multiplier)
        total = self._totals.get(key)
        if total is None:
            total = self._totals[key] = RetiredTotal(*key)
        total.orders += sign
        cum = order.cum_qty
        if cum:
            total.filled += sign
            total.notional += order.notional if sign > 0 else -order.notional
            if sign > 0 and order.notional > 0:
                self._last_px[instrument] = order.notional / cum

    def _resurrect(self, order: Order) -> None:
        """File an order read back from disk as a live one again (see `recall`)."""
        order.recalled = (order.cum_qty, order.notional)
        order.position = None  # the scratch book's; bound again at its next fill
        order.queued = False
        self._total(order, -1)
        ids = self._ids_of(order.strategy)
        ids[order.id] = order
        pr = order.pending_replace
        if pr is not None:
            ids[pr.new_id] = order
        for cl in order.cls:
            self._by_cl[cl] = order
        if order.order_id:
            self._by_order_id[order.order_id] = order
        if order.status not in TERMINAL:
            self._open.add(order)
        elif order.finished:
            self._finish(order)

    def _scratch(self, sess: _Session) -> OrderBook:
        """A non-retiring book holding only `sess`, ready, to replay one order into."""
        scratch = OrderBook(retire=False, fill_window=self._window.capacity)
        scratch.add_session(sess.name, sess.ids.prefix, sess.intents)
        scratch._sessions[sess.name].rebuilt = True
        scratch._ready = True
        scratch._search_intents = True
        return scratch

    def retired_totals(self) -> list[RetiredTotal]:
        """The day's totals of the retired orders (for the risk gate's rebuild)."""
        return [t for t in self._totals.values() if t.orders]

    def last_prices(self) -> dict[str, Decimal]:
        """Average price of the last retired order with fills, per instrument."""
        return dict(self._last_px)

    @property
    def retired_ids(self) -> int:
        """Ids held in the compact form (finished orders, replaced and refused ids)."""
        return len(self._retired)

    # -- the state machine ----------------------------------------------------------------

    def _transition(self, order: Order, trigger: Trigger, ord_status: bytes | None = None) -> bool:
        """Move the order by the table; log and count an impossible move. True if moved."""
        old = order.status
        cell = ROWS[old].get(trigger)
        if cell is None:
            self.counters.inc(Anomaly.ILLEGAL_TRANSITION)
            log.warning("illegal transition for %s/%s (%s): %s on %s; status kept",
                        order.strategy, order.id, order.cl_ord_id, trigger.name, old.value)
            if order.finished:  # e.g. our cancel's answer came after the fill
                self._finish(order)
            return False
        if cell is _WORKING:
            new = self._derive(order)
        elif cell is _BROKER:
            broker = ORD_STATUS.get(ord_status or b"")
            if broker is not None and broker in TERMINAL and broker is not _REPLACED:
                new = broker
            else:
                new = self._derive(order)
        else:
            assert isinstance(cell, OrderStatus)
            new = cell
        order.status = new
        if new in TERMINAL:
            if old not in TERMINAL:
                self._open.discard(order)
            if order.pending_cancel is None and order.pending_replace is None:
                self._finish(order)
        elif old in TERMINAL:
            self._open.add(order)
        return True

    @staticmethod
    def _derive(order: Order) -> OrderStatus:
        """`Target.WORKING`; inlines `states.working_status` (hot path)."""
        if order.pending_cancel is not None:
            return OrderStatus.PENDING_CANCEL
        if order.pending_replace is not None:
            return OrderStatus.PENDING_REPLACE
        if not order.acknowledged:
            return _PN
        return OrderStatus.PARTIALLY_FILLED if order.cum_qty else OrderStatus.NEW

    # -- inbound -----------------------------------------------------------------------------

    def on_message(self, msg: FixMessage, session: str = "") -> Routed:
        """Dispatch an inbound application message; types other than 8 and 9 are ignored."""
        msg_type = msg.msg_type
        if msg_type == _ER:
            return self.on_execution_report(msg, session)
        if msg_type == _CANCEL_REJECT:
            return self.on_cancel_reject(msg, session)
        return []

    def on_execution_report(self, msg: FixMessage, session: str = "") -> Routed:
        """Apply an ExecutionReport once; return the events for the owning strategy.

        `session` is the FIX session it arrived on (used only to file orphans).
        Never raises on bad content: it is logged and counted.
        """
        if self._finished:
            self.retire_finished()
        # The decoder's dict: read through `Mapping` every `get` is a method call by name.
        idx = cast("dict[bytes, bytes]", msg.index)
        exec_id_b = idx.get(b"17")
        if exec_id_b is None:
            return self._bad(msg, "no ExecID(17)")
        trans = idx.get(b"20", b"0")
        exec_type = idx.get(b"150", b"")
        if trans == b"0":
            trigger = _EXEC_TRIGGER.get(exec_type, _T_STATUS)
        else:
            found = _TRANS_TRIGGER.get(trans)
            if found is None:
                return self._bad(msg, f"unknown ExecTransType(20) {trans!r}")
            trigger = found
        cl_b = idx.get(b"11")
        cl = cl_b.decode("latin-1") if cl_b else ""
        ord_status = idx.get(b"39")
        if trigger in _KEYED_BY_EXEC_ID:
            key = exec_id_b
        else:
            key = b"\x01".join((exec_id_b, trans, exec_type, ord_status or b"", cl_b or b""))
        order = self._locate(idx, cl)
        if order is None:
            order = self._read_back(msg, session)
            if order is None:
                order = self._adopt(msg, session)
        self.reported = order
        if order is None:
            return []
        # The keys applied: one (bytes), a few (a tuple), many (a set); no container
        # for most orders, so nothing more for the garbage collector to track.
        seen = order.seen
        if seen is None:
            order.seen = key
        elif seen == key or (not isinstance(seen, bytes) and key in seen):
            self.counters.inc(Anomaly.DUPLICATE_REPORT)
            log.debug("duplicate report %r ignored", exec_id_b)
            return []
        elif isinstance(seen, bytes):
            order.seen = (seen, key)
        elif isinstance(seen, tuple):
            order.seen = (*seen, key) if len(seen) < _FEW else {*seen, key}
        else:
            seen.add(key)
        oid = idx.get(b"37")
        if oid and not order.order_id:
            order.order_id = oid.decode("latin-1")
            self._by_order_id[order.order_id] = order
        if trigger is not _T_PENDING_NEW:
            order.acknowledged = True
        text_b = idx.get(b"58")
        reason = text_b.decode("latin-1") if text_b is not None else None
        exec_id = exec_id_b.decode("latin-1")
        last_qty = last_px = ZERO
        try:
            if trigger in _TRADE:
                last_qty, last_px = self._apply_fill(order, msg, exec_id)
            elif trigger is _T_REPLACED:
                pr = order.pending_replace
                if pr is None or (cl and cl != pr.cl_ord_id) or order.status in _TERMINAL:
                    # Nothing of ours to confirm, or the order is already done (a replace
                    # cannot revive it): keep the order as it is.
                    self.counters.inc(Anomaly.ILLEGAL_TRANSITION)
                    log.warning("replace report %s for %s/%s (%s) not applied",
                                cl, order.strategy, order.id, order.status.value)
                    return [(order.strategy, self._execution(order, trigger, exec_id, ZERO,
                                                             ZERO, reason))]
                self._apply_replace(order, pr)
            elif trigger is _T_REJECTED and cl and cl != order.cl_ord_id:
                # A reject of one of our cancel/replace requests, not of the order.
                if order.pending_replace is not None and cl == order.pending_replace.cl_ord_id:
                    return self._replace_refused(order, order.pending_replace, reason or "")
                if order.pending_cancel is not None and cl == order.pending_cancel.cl_ord_id:
                    return self._cancel_refused(order, reason or "rejected")
            elif trigger is _T_CANCELED:
                # Only the answer to our cancel settles it; after an unsolicited cancel
                # ours is still outstanding (its reject will follow) and the order is done.
                pc = order.pending_cancel
                if pc is not None and cl == pc.cl_ord_id:
                    order.pending_cancel = None
            elif trigger is _T_BUST:
                last_qty, last_px = self._bust(order, msg)
            elif trigger is _T_CORRECT:
                last_qty, last_px = self._correct(order, msg, exec_id)
            elif trigger is _T_RESTATED:
                restated = decimal(idx.get(b"38"))
                if restated is not None and restated >= order.cum_qty:
                    order.qty = restated
            elif trigger is _T_STATUS:
                broker_cum = decimal(idx.get(b"14"))
                if broker_cum is not None and broker_cum != order.cum_qty:
                    self.counters.inc(Anomaly.CUM_QTY_MISMATCH)
                    log.warning("%s/%s: broker CumQty %s, book %s", order.strategy, order.id,
                                broker_cum, order.cum_qty)
        except WireValueError as exc:
            return self._bad(msg, str(exc))
        if reason is not None and trigger is _T_REJECTED:
            order.text = reason
        self._transition(order, trigger, ord_status)
        return [(order.strategy,
                 self._execution(order, trigger, exec_id, last_qty, last_px, reason))]

    def on_cancel_reject(self, msg: FixMessage, session: str = "") -> Routed:
        """Apply an OrderCancelReject: the cancel or replace named by ClOrdID(11) failed."""
        if self._finished:
            self.retire_finished()
        cl_b = msg.get(11)
        cl = cl_b.decode("latin-1") if cl_b else ""
        order = self._by_cl.get(cl)
        if order is None and cl:
            order = self._read_back(msg, session)
        self.reported = order
        text_b = msg.get(58)
        if text_b:
            reason = text_b.decode("latin-1")
        else:
            reason = _CXL_REJ_REASON.get(msg.get(102) or b"", "")
        if order is not None:
            pc = order.pending_cancel
            pr = order.pending_replace
            if pc is not None and pc.cl_ord_id == cl:
                return self._cancel_refused(order, reason or "cancel rejected")
            if pr is not None and pr.cl_ord_id == cl:
                return self._replace_refused(order, pr, reason or "replace rejected")
        self.counters.inc(Anomaly.STALE_CANCEL_REJECT)
        log.info("cancel reject for %r matches no pending request (duplicate or late)", cl)
        return []

    def _cancel_refused(self, order: Order, reason: str) -> Routed:
        order.pending_cancel = None
        self._transition(order, Trigger.CANCEL_REJECT)
        return [(order.strategy, CancelRejected(order.id, reason))]

    def _replace_refused(self, order: Order, intent: ReplaceIntent, reason: str) -> Routed:
        order.pending_replace = None
        self._remember(order.strategy, OrderState(
            id=intent.new_id, cl_ord_id=intent.cl_ord_id, symbol=order.req.symbol,
            side=order.req.side.value, status=_REJECTED, qty=intent.qty, cum_qty=ZERO,
            leaves_qty=ZERO, avg_px=ZERO, price=intent.price,
        ))
        self._transition(order, Trigger.REPLACE_REJECT)
        return [(order.strategy,
                 CancelRejected(order.id, f"replace to {intent.new_id!r} rejected: {reason}"))]

    def _apply_replace(self, order: Order, intent: ReplaceIntent) -> None:
        self._remember(order.strategy, OrderState(
            id=order.id, cl_ord_id=order.cl_ord_id, symbol=order.req.symbol,
            side=order.req.side.value, status=_REPLACED, qty=order.qty,
            cum_qty=order.cum_qty, leaves_qty=ZERO, avg_px=order.avg_px, price=order.price,
        ))
        order.pending_replace = None
        order.id = intent.new_id
        order.cl_ord_id = intent.cl_ord_id
        # Fills may have arrived since the replace was checked; never below what is done.
        order.qty = max(intent.qty, order.cum_qty)
        order.price = intent.price
        order.stop_price = intent.stop_price
        order.tif = intent.tif
        self._ids[order.strategy][intent.new_id] = order

    def _locate(self, idx: dict[bytes, bytes], cl: str) -> Order | None:
        """By ClOrdID (`cl`, decoded once for the whole report), OrigClOrdID, OrderID."""
        by_cl = self._by_cl
        if cl:
            order = by_cl.get(cl)
            if order is not None:
                return order
        orig = idx.get(b"41")
        if orig:
            order = by_cl.get(orig.decode("latin-1"))
            if order is not None:
                return order
        oid = idx.get(b"37")
        return self._by_order_id.get(oid.decode("latin-1")) if oid else None

    def _read_back(self, msg: FixMessage, session: str) -> Order | None:
        """The retired order a report names, read back from disk and live again; None if
        the book does not retire or no retired order is found (`fixrouter.oms.recall`)."""
        if not self._retiring:
            return None
        found = recall.for_report(self, msg, session)
        if found is None:
            return None
        order = found.order
        by_cl = self._by_cl
        if any(cl in by_cl for cl in order.cls):
            return None  # the order is live: the report was not about a retired one
        self._resurrect(order)
        return order

    def _adopt(self, msg: FixMessage, session: str) -> Order | None:
        """File a report's unknown order as an orphan (or under the strategy that an
        earlier journal period's intent names), so it is tracked from now on."""
        self.counters.inc(Anomaly.UNKNOWN_ORDER_REPORT)
        oid = msg.get_str(37)
        cl = msg.get_str(11)
        if not oid:
            log.warning("report %r for an unknown order without OrderID: ignored", msg)
            return None
        intent = self._early_intents.get(cl or "")
        if intent is None and cl and self._search_intents:
            sess = recall.session_of(self, cl)
            if sess is not None:
                try:
                    intent = find_cl(sess.intents, cl)
                except IntentLogError as exc:
                    log.error("report for %s: the intent log cannot be read: %s", cl, exc)
                if intent is not None and intent.kind not in _NAMING:
                    intent = None
        strategy, order_id = ORPHAN, cl or oid
        if intent is not None:
            strategy, order_id = intent.strategy, intent.id
        ids = self._ids.setdefault(strategy, {})
        if self.id_used(strategy, order_id):
            strategy, order_id = ORPHAN, cl or oid
            ids = self._ids.setdefault(strategy, {})
            if self.id_used(strategy, order_id):
                order_id = f"{order_id}/{oid}"
        try:
            req = new_order_from_fix(msg, strategy, order_id)
        except WireValueError as exc:
            log.warning("report for an unknown order %s is unusable (%s): ignored", oid, exc)
            return None
        order = Order(req, session, cl or "")
        order.order_id = oid
        ids[order_id] = order
        if cl:
            self._by_cl[cl] = order
        self._by_order_id[oid] = order
        self._open.add(order)
        log.warning("report for unknown order %s (OrderID %s) filed under %r as %s",
                    cl, oid, strategy, order_id)
        return order

    # -- fills -------------------------------------------------------------------------------

    def _apply_fill(self, order: Order, msg: FixMessage, exec_id: str) -> tuple[Decimal, Decimal]:
        idx = cast("dict[bytes, bytes]", msg.index)
        qty = decimal(idx.get(b"32")) or ZERO
        px = decimal(idx.get(b"31")) or ZERO
        if qty <= 0:
            return ZERO, px
        room = order.qty - order.cum_qty
        if qty > room:
            self.counters.inc(Anomaly.OVERFILL)
            log.error("over-fill on %s/%s (%s): %s more with %s open; applying %s",
                      order.strategy, order.id, exec_id, qty, room, max(room, ZERO))
            qty = room if room > 0 else ZERO
        fill = Fill(exec_id, _SIGN[order.req.side], qty, px)
        fills = order.fills
        if fills is None:
            order.fills = {exec_id: fill}
        else:
            fills[exec_id] = fill
        order.cum_qty += qty
        order.notional += qty * px
        position = order.position
        if position is None:
            position = self._position_for(order)
        # Kept even when capped to 0: a correction may give it a quantity later.
        position.add(fill)
        return qty, px

    def _position_for(self, order: Order) -> Position:
        key = (order.req.account or "", order_instrument(order.req))
        position = self._positions.get(key)
        if position is None:
            position = self._positions[key] = Position(*key, self._window)
        order.position = position
        return position

    def _referenced_fill(self, order: Order, msg: FixMessage) -> Fill | None:
        ref = msg.get_str(19)
        fills = order.fills
        fill = None if fills is None else fills.get(ref or "")
        if fill is None or fill.busted:
            self.counters.inc(Anomaly.UNKNOWN_EXEC_REF)
            log.warning("%s/%s: ExecRefID %r names no standing fill of this order",
                        order.strategy, order.id, ref)
            return None
        return fill

    def _bust(self, order: Order, msg: FixMessage) -> tuple[Decimal, Decimal]:
        fill = self._referenced_fill(order, msg)
        if fill is None:
            return ZERO, ZERO
        fill.busted = True
        order.cum_qty -= fill.qty
        order.notional -= fill.qty * fill.px
        if fill.qty:
            position = order.position or self._position_for(order)
            if not position.bust(fill):
                self._beyond_history(order, "bust", fill)
        return fill.qty, fill.px

    def _correct(self, order: Order, msg: FixMessage, exec_id: str) -> tuple[Decimal, Decimal]:
        fill = self._referenced_fill(order, msg)
        if fill is None:
            return ZERO, ZERO
        qty = decimal(msg.get(32)) or ZERO
        px = decimal(msg.get(31)) or fill.px
        room = order.qty - (order.cum_qty - fill.qty)
        if qty > room:
            self.counters.inc(Anomaly.OVERFILL)
            log.error("correction %s would over-fill %s/%s; applying %s of %s",
                      exec_id, order.strategy, order.id, room, qty)
            qty = max(room, ZERO)
        order.cum_qty += qty - fill.qty
        order.notional += qty * px - fill.qty * fill.px
        old_qty, old_px = fill.qty, fill.px
        fill.qty = qty
        fill.px = px
        fills = order.fills
        assert fills is not None  # the corrected fill is in it
        fills[exec_id] = fill  # a later bust may name the correction instead
        position = order.position or self._position_for(order)
        if not position.correct(fill, old_qty, old_px):
            self._beyond_history(order, "correction", fill)
        return qty, px

    def _beyond_history(self, order: Order, what: str, fill: Fill) -> None:
        self.counters.inc(Anomaly.HISTORY_EXCEEDED)
        log.warning("%s of fill %s on %s/%s: the fill is older than the position's kept "
                    "history; quantity exact, average price and realized P&L adjusted at "
                    "the fill's price", what, fill.exec_id, order.strategy, order.id)

    def _execution(self, order: Order, trigger: Trigger, exec_id: str, last_qty: Decimal,
                   last_px: Decimal, reason: str | None) -> Execution:
        # Every field, in `Execution`'s order, through `tuple.__new__` from compiled code:
        # the NamedTuple's own `__new__` is a generated Python function (what it does is
        # this same call), and keywords to it cost ~0.3 µs more per report.
        return _tuple_new(_EXECUTION, (
            order.id, _KIND_OF.get(trigger, _K_STATUS), order.status, last_qty, last_px,
            order.cum_qty, order.leaves_qty, order.avg_px, exec_id, order.order_id, reason,
        ))

    def _bad(self, msg: FixMessage, why: str) -> Routed:
        self.counters.inc(Anomaly.BAD_REPORT)
        log.warning("unusable execution report (%s): %r", why, msg)
        return []

    # -- queries -------------------------------------------------------------------------------

    def status(self, strategy: str, order_id: str) -> OrderState | RequestError:
        """The truth about one of the strategy's orders, by any id it has had."""
        ids = self._ids.get(strategy)
        entry = None if ids is None else ids.get(order_id)
        if entry is None:
            retired = self.retired_status(strategy, order_id)
            if retired is None:
                return RequestError(ErrorCode.UNKNOWN_ORDER, f"no order with id {order_id!r}",
                                    order_id)
            state = recall.for_status(self, strategy, order_id, retired)
            if state is None:
                return RequestError(
                    ErrorCode.ENGINE_UNAVAILABLE,
                    f"order {order_id!r} is {retired.value}; its details could not be read "
                    "back from the journal", order_id)
            return state
        if isinstance(entry, OrderState):
            return entry
        if entry.id == order_id:
            return entry.state()
        pr = entry.pending_replace
        if pr is not None and pr.new_id == order_id:
            # The replacement the broker has not confirmed yet.
            return OrderState(
                id=order_id, cl_ord_id=pr.cl_ord_id, symbol=entry.req.symbol,
                side=entry.req.side.value,
                status=OrderStatus.PENDING_REPLACE if entry.is_working else entry.status,
                qty=pr.qty, cum_qty=entry.cum_qty,
                leaves_qty=pr.qty - entry.cum_qty if entry.is_working else ZERO,
                avg_px=entry.avg_px, price=pr.price,
            )
        state = entry.state()  # an id that no longer names the order (defensive)
        return OrderState(order_id, state.cl_ord_id, state.symbol, state.side, state.status,
                          state.qty, state.cum_qty, state.leaves_qty, state.avg_px,
                          state.price)

    def working_orders(self, strategy: str) -> list[OrderState]:
        """Every working order of the strategy, under its current id (the `orders` answer)."""
        return [o.state() for o in self._open if o.strategy == strategy]

    def open_orders(self) -> OpenOrders:
        """Every working order of every strategy, orphans included (for the risk gate),
        in the order they started working. A live view: do not change the book while
        iterating it."""
        return self._open

    def order(self, strategy: str, order_id: str) -> Order | None:
        """The live order a strategy's id names (None if unknown or retired). An order
        that finished in the last call is still found, until the next call retires it."""
        ids = self._ids.get(strategy)
        entry = None if ids is None else ids.get(order_id)
        return entry if isinstance(entry, Order) else None

    def order_by_cl_ord_id(self, cl_ord_id: str) -> Order | None:
        return self._by_cl.get(cl_ord_id)

    def position(self, account: str, instrument: str) -> Position | None:
        return self._positions.get((account, instrument))

    def positions(self) -> list[PositionView]:
        return [p.view() for p in self._positions.values()]

    def orders(self) -> Iterable[Order]:
        """Every order the book holds, once each: the live ones (and, with `retire=False`,
        the done ones too). Retired orders are in `retired_totals`."""
        seen: dict[Order, None] = dict.fromkeys(self._by_cl.values())
        for ids in self._ids.values():
            for entry in ids.values():
                if isinstance(entry, Order):
                    seen[entry] = None
        return list(seen)
