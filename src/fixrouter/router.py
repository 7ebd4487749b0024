"""The router: the order path from a strategy's request to FIX bytes, and back.

Theory of operation
-------------------
`Router` is the `RequestHandler` behind the gateway and the receiver of the engine's
`on_deliver` / `on_event` callbacks. It owns no I/O and no asyncio: every stage is a plain
object with synchronous methods, called on the event-loop thread, and the router calls
them in order::

    outbound   handle(request) -> gate.check_* -> book.prepare_* -> dialect.*_body
               -> session.send_app (journal write, then the socket) -> book.sent
    inbound    on_deliver(8 | 9 | j) -> book -> gate.on_report -> outlet.deliver(owner)
    sessions   on_event -> outlet.broadcast_session; after logon, OrderStatusRequest `*`

*Where an order goes.* A new order goes out on the first session of its route
(`fixrouter.routing.table.RouteTable`, compiled from `[routing]` at `recover()`: by
account, else strategy, else `default_session`); no route at all is `denied NO_ROUTE`.
If that session is not logged on, the order is denied `ENGINE_UNAVAILABLE` naming it,
unless `[routing] failover = true`, in which case the next logged-on session of the route
takes it (logged and counted in `routing_stats`). Cancels and replaces go on the session
the book recorded for the order they name, never elsewhere; while that session is down a
cancel is refused (`cancel_rejected`) or, with `cancel_while_down = "queue"`, parked and
sent once it has logged on again (`fixrouter.routing.parked`). Sessions share nothing on
this path but the event loop: each has its own throttle queue and timer, and a session
that is down refuses in one look-up, so it cannot delay another session's orders.

*Refusals are events, never silence.* Before anything is counted, an order whose sessions
are not logged on is denied (`ENGINE_UNAVAILABLE`, with the session's name). A gate
denial becomes the strategy's `denied` event (for a replace, under its `new_id`), except
that a refused id the book already knows is the protocol's `error DUPLICATE_ID`; a book
refusal (DUPLICATE_ID, UNKNOWN_ORDER, ORDER_NOT_WORKING, an intent log that cannot be
written) its `error` event. A message the dialect cannot build is `error BAD_VALUE`; one
the session cannot take (not logged on after all, a journal write that failed) is undone
in the book with `send_failed` (the strategy gets `denied ENGINE_UNAVAILABLE "not sent:
..."` or `cancel_rejected`) and the gate stops counting it. Either way nothing reached the
wire, the failure is logged and counted in `stats`, and the order is never retried, so it
can never be sent twice. Only after `send_app` returned is `accepted` delivered.

*Who hears what.* Every event the book returns names its strategy; the router hands it
to `outlet.deliver(strategy, event)`, which writes it to that strategy's connections only.
Events of orders the book holds under `ORPHAN` (IB-initiated orders, journaled orders
without an intent) have nobody to go to: they are logged, counted and dropped. Session
state changes go to everyone (`broadcast_session`): a strategy with working orders must
learn of an outage even though no report says so.

*Refusals without a report.* A session-level Reject (35=3) or BusinessMessageReject
(35=j) of one of our order messages, or a message the session could not resend
(`NOT_DELIVERED`), is looked up in the session's journal by its MsgSeqNum and turned into
the reject the book understands (`fixrouter.routing.rejects`). News (35=B) is logged.

*Start-up fails closed.* `add_session` registers each FIX session with the book (its
intent log lives beside the session's journal); `recover()` rebuilds the book from every
journal and intent log, then the gate from the book. Until it has run, every order is
refused (`ENGINE_UNAVAILABLE`) and the gate refuses on its own too. Events the rebuild owes
a strategy (orders that never reached the wire before a crash) wait until that strategy
connects. After each logon the router asks IB for every open order (35=H, ClOrdID `*`),
so orders from earlier journal periods (GTC) are learned again; the book files their
reports under the strategy named by the intent log.

*Throttle and kill switch.* A request the gate holds (`HELD`) comes back from
`gate.drain` when a timer (`Timers.call_later`) fires at `gate.next_release`. Kill-switch
engagements the gate reports after a denial or a report are acted on at once: dropped
requests are denied `KILL_SWITCH`, and working orders in scope are cancelled when asked.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Final, Protocol

from fixrouter.codec import FixMessage, format_utc_ms
from fixrouter.dialect import Dialect
from fixrouter.errors import FixRouterError, LocalProtocolError
from fixrouter.events import (
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
from fixrouter.metrics.flow import OrderFlow, SessionFlow
from fixrouter.oms import ORPHAN, CancelIntent, IntentSink, Order, OrderBook, ReplaceIntent
from fixrouter.requests import (
    CancelOrder,
    NewOrder,
    OrderRequest,
    OrdersQuery,
    ReplaceOrder,
    StatusQuery,
)
from fixrouter.routing.config import CancelWhileDown, Routes
from fixrouter.routing.gate import HELD, Engaged, OrderGate, Withdrawn
from fixrouter.routing.parked import ParkedCancels
from fixrouter.routing.rejects import (
    business_reject_reason,
    find_sent,
    refusal_of,
    refusal_report,
    session_reject_reason,
)
from fixrouter.routing.table import RouteTable, RoutingStats, first_up
from fixrouter.session import EventKind, SessionEvent
from fixrouter.store import MessageStore

log = logging.getLogger("fixrouter.router")

Clock = Callable[[], float]

_UNAVAILABLE: Final = ErrorCode.ENGINE_UNAVAILABLE.value
_RECOVERING: Final = "the engine is recovering its order book; nothing was sent"
_DUPLICATE: Final = "DUPLICATE_ORDER"  # the risk gate's code for a reused id (and for a resend)
_NO_ROUTE: Final = "NO_ROUTE"  # DenialCode.NO_ROUTE: [routing] names no session for the order
_EXECUTION: Final = Execution  # read per report event: a Final is not a module-dict read
_BROADCAST: Final = {
    EventKind.LOGGED_ON: "logged_on",
    EventKind.LOGGED_OUT: "logged_out",
    EventKind.SEQ_TOO_LOW_ON_LOGON: "operator_action_required",
    EventKind.OUT_OF_SESSION: "out_of_session",
    EventKind.PROTOCOL_ERROR: "protocol_error",
}
"""Session events every strategy hears, and the `state` they are announced as."""


class SessionPort(Protocol):
    """One FIX session as the router needs it (`EnginePort` adapts the engine's)."""

    @property
    def name(self) -> str: ...

    @property
    def store(self) -> MessageStore: ...

    @property
    def logged_on(self) -> bool: ...

    def send_app(self, msg_type: bytes, body: bytes) -> None:
        """Journal and send; raises FixRouterError (NotLoggedOn, StoreError, ...) if not."""
        ...


class Outlet(Protocol):
    """Where events go: `fixrouter.gateway.Gateway`."""

    def deliver(self, strategy: str, event: Event) -> None: ...

    def broadcast_session(self, event: SessionChanged) -> None: ...


class Timers(Protocol):
    """Deferred work on the event loop (the service adapts asyncio's loop)."""

    def call_soon(self, callback: Callable[[], None]) -> None: ...

    def call_later(self, delay: float, callback: Callable[[], None]) -> None: ...


class _Nowhere:
    """Outlet and timers before the gateway and the loop are attached: events are held
    back by the caller or dropped with a count; deferred work runs at once."""

    def __init__(self, stats: RouterStats) -> None:
        self._stats = stats

    def deliver(self, strategy: str, event: Event) -> None:
        self._stats.undelivered += 1

    def broadcast_session(self, event: SessionChanged) -> None:
        pass

    def call_soon(self, callback: Callable[[], None]) -> None:
        callback()

    def call_later(self, delay: float, callback: Callable[[], None]) -> None:
        pass


class RouterStats:
    """Plain counters, read by the metrics collector at scrape time."""

    __slots__ = (
        "accepted", "denied", "news", "orphan_events", "rejected_requests", "send_failed",
        "session_refusals", "status_requests", "unbuildable", "undelivered",
    )  # fmt: skip

    def __init__(self) -> None:
        self.accepted = 0
        self.denied: dict[str, int] = {}
        """Denials by code (the gate's codes, ENGINE_UNAVAILABLE, KILL_SWITCH)."""
        self.rejected_requests: dict[ErrorCode, int] = {}
        """Requests the order book refused, by code (DUPLICATE_ID, UNKNOWN_ORDER, ...)."""
        self.send_failed = 0
        """Prepared messages the session could not take (journal failure, not logged on)."""
        self.unbuildable = 0
        """Orders the dialect could not turn into a valid message."""
        self.orphan_events = 0
        """Events of orders without a known owner, dropped."""
        self.session_refusals = 0
        """Order messages IB refused with a Reject or BusinessMessageReject, or that the
        session could not resend."""
        self.news = 0
        self.status_requests = 0
        self.undelivered = 0
        """Events produced before an outlet was attached (none in a normal start)."""


class _Link:
    """One session, with the bound methods the hot path calls."""

    __slots__ = ("flow", "name", "port", "send_app")

    def __init__(self, port: SessionPort, flow: SessionFlow) -> None:
        self.port = port
        self.name = port.name
        self.send_app = port.send_app
        self.flow = flow


class Router:
    """See the module docstring. Attach sessions with `add_session`, then `recover()`;
    set `outlet` (the gateway) and `timers` before traffic flows."""

    def __init__(
        self,
        book: OrderBook,
        gate: OrderGate,
        dialect: Dialect,
        routes: Routes,
        *,
        clock: Clock = time.time,
        monotonic: Clock = time.monotonic,
    ) -> None:
        self.book = book
        self.gate = gate
        self.dialect = dialect
        self.routes = routes
        self.stats = RouterStats()
        self.flow = OrderFlow()
        """The order path's metrics (counts and latencies), read at scrape time."""
        nowhere = _Nowhere(self.stats)
        self.outlet: Outlet = nowhere
        self.timers: Timers = nowhere
        self._clock = clock
        self._monotonic = monotonic
        self._links: dict[str, _Link] = {}
        self._table: RouteTable[_Link] = RouteTable.unrouted()
        self.routing_stats = RoutingStats()
        """Failovers and queued cancels, read at scrape time."""
        self._parked = ParkedCancels()
        self._open = False
        self._owed: dict[str, list[Event]] = {}
        self._armed: set[str] = set()

    # -- start-up ----------------------------------------------------------------------------

    def add_session(self, port: SessionPort, intents: IntentSink) -> None:
        """Register a FIX session and its intent log. Raises OmsError (duplicate name or
        prefix), ClOrdIdError (bad prefix), KeyError if `routes` has no prefix for it."""
        self.book.add_session(port.name, self.routes.prefixes[port.name], intents)
        self._links[port.name] = _Link(port, self.flow.session(port.name))

    @property
    def ready(self) -> bool:
        """True once `recover()` has run: orders are taken from then on."""
        return self._open

    def recover(self) -> None:
        """Rebuild the book from every session's journal and intent log, then the gate
        from the book, and start taking orders. Raises OmsError if run twice, ConfigError
        if `routes` names a session that was not added."""
        self._table = RouteTable(self.routes, self._links)
        for name, link in self._links.items():
            for strategy, event in self.book.rebuild(name, link.port.store):
                if strategy != ORPHAN:
                    self._owed.setdefault(strategy, []).append(event)
        self.gate.rebuild(self.book)
        self._open = True
        working = sum(1 for _ in self.book.open_orders())
        log.info("order book recovered: %d working orders, %d strategies owed events",
                 working, len(self._owed))

    # -- RequestHandler --------------------------------------------------------------------------

    def handle(self, request: OrderRequest) -> None:
        kind = type(request)
        if kind is NewOrder:
            self._new(request)  # type: ignore[arg-type]
        elif kind is CancelOrder:
            self._cancel(request)  # type: ignore[arg-type]
        else:
            self._replace(request)  # type: ignore[arg-type]

    def status(self, query: StatusQuery) -> OrderState | RequestError:
        if not self._open:
            return RequestError(ErrorCode.ENGINE_UNAVAILABLE, _RECOVERING, query.id)
        return self.book.status(query.strategy, query.id)

    def orders(self, query: OrdersQuery) -> Iterable[OrderState]:
        """Raises FixRouterError before `recover()` (the gateway answers
        ENGINE_UNAVAILABLE); an empty list would be a lie."""
        if not self._open:
            raise FixRouterError(_RECOVERING)
        return self.book.working_orders(query.strategy)

    def strategy_connected(self, strategy: str) -> None:
        owed = self._owed.pop(strategy, None)
        if owed:
            log.info("delivering %d events owed to %s since the restart", len(owed), strategy)
            for event in owed:
                self.outlet.deliver(strategy, event)

    def strategy_disconnected(self, strategy: str) -> None:
        pass  # its orders keep working; it asks `orders` for the truth when it is back

    # -- new orders ------------------------------------------------------------------------------

    def _link_for(self, strategy: str) -> _Link:
        """A session for a cancel or replace of an order the book does not know (it will
        refuse it; the gate still sees the request on some session)."""
        route = self._table.candidates(strategy, None)
        return route[0] if route else next(iter(self._links.values()))

    def _new(self, req: NewOrder) -> None:
        self.flow.new_order()
        if not self._open:
            return self._deny(req.strategy, Denied(req.id, _UNAVAILABLE, _RECOVERING))
        route = self._table.candidates(req.strategy, req.account)
        if not route:
            return self._deny(req.strategy, Denied(req.id, _NO_ROUTE, (
                f"no route: [routing] has no session for account {req.account!r}, strategy "
                f"{req.strategy!r} or by default; nothing was sent")))
        link = route[0]
        if not link.port.logged_on:
            failover = self._failover(req, route)
            if failover is None:
                return
            link = failover
        verdict = self.gate.check_new(req, link.name, self._monotonic())
        if verdict is not None:
            if verdict is HELD:
                return self._arm(link.name)
            assert isinstance(verdict, Denied)
            if verdict.code == _DUPLICATE and self._id_used(req.strategy, req.id):
                return self._refused(req.strategy, RequestError(
                    ErrorCode.DUPLICATE_ID, f"id {req.id!r} was already used today", req.id))
            return self._deny(req.strategy, verdict, engagements=True)
        self._send_new(req, link)

    def _failover(self, req: NewOrder, route: tuple[_Link, ...]) -> _Link | None:
        """The preferred session is down: the next one that is up (if failover is on),
        or None after denying the order."""
        table = self._table
        chosen = first_up(route[1:], _logged_on) if table.failover else None
        if chosen is None:
            if not table.failover or len(route) == 1:
                self._deny(req.strategy, _session_down(req.id, route[0].name))
            else:
                names = ", ".join(link.name for link in route)
                self._deny(req.strategy, Denied(req.id, _UNAVAILABLE, (
                    f"FIX sessions {names} are not logged on; nothing was sent")))
            return None
        preferred = route[0].name
        self.routing_stats.failover(preferred, chosen.name)
        log.warning("%s/%s: FIX session %s is down; failing over to %s (%s)", req.strategy,
                    req.id, preferred, chosen.name, table.rule(req.strategy, req.account))
        return chosen

    def _id_used(self, strategy: str, order_id: str) -> bool:
        """Whether the book knows the id. A gate refusing an id it has seen before is
        refusing what the protocol calls DUPLICATE_ID; the strategy gets that code.
        (Not `book.status`: for a finished order that reads the journal.)"""
        return self.book.id_used(strategy, order_id)

    def _send_new(self, req: NewOrder, link: _Link, tick: bool = True) -> None:
        """`tick`: False for an order the throttle held, whose tick-to-wire would measure
        the throttle's wait rather than the engine."""
        now = self._clock()
        order = self.book.prepare_new(req, now, link.name)
        if type(order) is not Order:
            assert isinstance(order, RequestError)
            self.gate.on_send_failed(req.strategy, req.id)
            return self._refused(req.strategy, order)
        try:
            body = self.dialect.new_order_body(req, order.cl_ord_id, format_utc_ms(now))
        except LocalProtocolError as exc:
            return self._unbuildable(order, req.id, exc, now)
        try:
            link.send_app(b"D", body)
        except FixRouterError as exc:
            return self._send_failed(order, req.id, exc, now)
        self.stats.accepted += 1
        self.flow.sent_new(link.flow, order, req.received_ns if tick else 0)
        accepted = self.book.sent(order)
        if accepted is not None:
            self.outlet.deliver(req.strategy, accepted)

    # -- cancels -----------------------------------------------------------------------------------

    def _cancel(self, req: CancelOrder) -> None:
        order = self.book.order(req.strategy, req.id) if self._open else None
        link = self._links[order.session] if order is not None else self._link_for(req.strategy)
        if order is not None and order.is_working and not link.port.logged_on:
            return self._cancel_while_down(req, link)
        verdict = self.gate.check_cancel(req, link.name, self._monotonic())
        if verdict is not None:
            if verdict is HELD:
                return self._arm(link.name)
            assert isinstance(verdict, Withdrawn)
            return self._withdrawn(verdict)
        self._send_cancel(req, link)

    def _cancel_while_down(self, req: CancelOrder, link: _Link) -> None:
        # Only the order's own session can cancel it at IB: refuse, or wait for it.
        if self._table.cancel_while_down is CancelWhileDown.QUEUE:
            if self._parked.park(link.name, req):
                self.routing_stats.cancels_queued += 1
                log.warning("%s/%s: FIX session %s is down; the cancel waits for its logon",
                            req.strategy, req.id, link.name)
            return None
        return self.outlet.deliver(req.strategy, CancelRejected(
            req.id, f"FIX session {link.name} is not logged on; nothing was sent"))

    def _release_parked(self, session: str) -> None:
        parked = self._parked.take(session)
        if parked:
            log.info("%s: sending %d cancels held while it was down", session, len(parked))
            for req in parked:
                self._cancel(req)

    def _send_cancel(self, req: CancelOrder, link: _Link) -> None:
        now = self._clock()
        intent = self.book.prepare_cancel(req, now)
        if type(intent) is not CancelIntent:
            assert isinstance(intent, RequestError)
            return self._refused(req.strategy, intent)
        order = intent.order
        link = self._links[intent.session]
        try:
            body = self.dialect.cancel_body(order, intent.cl_ord_id, intent.orig_cl_ord_id,
                                            format_utc_ms(now), order_id=order.order_id or None)
        except LocalProtocolError as exc:
            return self._unbuildable(intent, req.id, exc, now)
        try:
            link.send_app(b"F", body)
        except FixRouterError as exc:
            return self._send_failed(intent, req.id, exc, now)
        self.book.sent(intent)

    def _withdrawn(self, withdrawn: Withdrawn) -> None:
        # The order never left the gate: the book never saw it, so `status` will not
        # know it; the strategy learns it is cancelled, which is the whole truth.
        order = withdrawn.order
        log.info("%s/%s cancelled while held by the throttle; never sent",
                 order.strategy, order.id)
        zero = order.qty - order.qty
        self.outlet.deliver(order.strategy, Execution(
            id=order.id, exec_type=ExecKind.CANCELED, status=OrderStatus.CANCELED,
            last_qty=zero, last_px=zero, cum_qty=zero, leaves_qty=zero, avg_px=zero,
            exec_id="", order_id="", reason="cancelled before it was sent (throttle)",
        ))

    # -- replaces ----------------------------------------------------------------------------------

    def _replace(self, req: ReplaceOrder) -> None:
        order = self.book.order(req.strategy, req.id) if self._open else None
        if order is None or not order.is_working:
            # Unknown, done or recovering: the book says which, precisely.
            return self._send_replace(req, self._link_for(req.strategy), passed=False)
        link = self._links[order.session]
        if not link.port.logged_on:
            return self.outlet.deliver(req.strategy, CancelRejected(
                req.id, f"FIX session {link.name} is not logged on; nothing was sent"))
        verdict = self.gate.check_replace(req, link.name, self._monotonic())
        if verdict is not None:
            if verdict is HELD:
                return self._arm(link.name)
            assert isinstance(verdict, Denied)
            if verdict.code == _DUPLICATE and self._id_used(req.strategy, req.new_id):
                return self._refused(req.strategy, RequestError(
                    ErrorCode.DUPLICATE_ID, f"new_id {req.new_id!r} was already used today",
                    req.id))
            return self._deny(req.strategy, verdict, engagements=True)
        self._send_replace(req, link)

    def _send_replace(self, req: ReplaceOrder, link: _Link, passed: bool = True) -> None:
        now = self._clock()
        intent = self.book.prepare_replace(req, now)
        if type(intent) is not ReplaceIntent:
            assert isinstance(intent, RequestError)
            # Release what the gate counted under `new_id`, unless `new_id` names another
            # order (DUPLICATE_ID): releasing that would uncount a live order.
            if passed and intent.code is not ErrorCode.DUPLICATE_ID:
                self.gate.on_send_failed(req.strategy, req.new_id)
            return self._refused(req.strategy, intent)
        order = intent.order
        link = self._links[intent.session]
        try:
            body = self.dialect.replace_body(order, req, intent.cl_ord_id, intent.orig_cl_ord_id,
                                             format_utc_ms(now), order_id=order.order_id or None)
        except LocalProtocolError as exc:
            return self._unbuildable(intent, req.id, exc, now)
        try:
            link.send_app(b"G", body)
        except FixRouterError as exc:
            return self._send_failed(intent, req.id, exc, now)
        self.book.sent(intent)

    # -- refusals --------------------------------------------------------------------------------

    def _deny(self, strategy: str, denied: Denied, engagements: bool = False) -> None:
        counts = self.stats.denied
        counts[denied.code] = counts.get(denied.code, 0) + 1
        self.outlet.deliver(strategy, denied)
        if engagements:
            self._act_on(self.gate.take_engagements())

    def _refused(self, strategy: str, error: RequestError) -> None:
        counts = self.stats.rejected_requests
        counts[error.code] = counts.get(error.code, 0) + 1
        self.outlet.deliver(strategy, error)

    def _send_failed(self, item: Order | CancelIntent | ReplaceIntent, request_id: str,
                     exc: Exception, now: float) -> None:
        """The session refused a prepared message: undo it in the book and the gate."""
        self.stats.send_failed += 1
        order = item if isinstance(item, Order) else item.order
        log.error("%s/%s not sent on %s (%s): %s", order.strategy, request_id, item.session,
                  type(exc).__name__, exc)
        self._undo(item, str(exc), now)

    def _unbuildable(self, item: Order | CancelIntent | ReplaceIntent, request_id: str,
                     exc: LocalProtocolError, now: float) -> None:
        """The dialect refused to build the message: the request itself was bad."""
        self.stats.unbuildable += 1
        order = item if isinstance(item, Order) else item.order
        log.warning("%s/%s not sent: %s", order.strategy, request_id, exc)
        if isinstance(item, Order):
            # The book records it as rejected (its id stays used); the strategy gets the
            # precise reason as a bad request rather than an engine fault.
            self.book.send_failed(item, str(exc), now)
            self.gate.on_send_failed(item.strategy, item.id)
            self._refused(item.strategy, RequestError(
                ErrorCode.BAD_VALUE, f"not sent: {exc}", request_id))
            return
        self._undo(item, str(exc), now)

    def _undo(self, item: Order | CancelIntent | ReplaceIntent, reason: str, now: float) -> None:
        routed = self.book.send_failed(item, reason, now)
        gate = self.gate
        if isinstance(item, Order):
            gate.on_send_failed(item.strategy, item.id)
        elif isinstance(item, ReplaceIntent):
            gate.on_send_failed(item.order.strategy, item.new_id)
        else:
            gate.on_report(item.order, self._monotonic(), None)
        for strategy, event in routed:
            if type(event) is Denied:
                counts = self.stats.denied
                counts[event.code] = counts.get(event.code, 0) + 1
            self.outlet.deliver(strategy, event)

    # -- the throttle's queue and the kill switch ------------------------------------------------

    def _arm(self, session: str) -> None:
        """Make sure a timer will drain the session's held requests when they may go."""
        if session in self._armed:
            return
        now = self._monotonic()
        when = self.gate.next_release(session, now)
        if when is None:
            return
        self._armed.add(session)
        self.timers.call_later(max(0.0, when - now), lambda: self._drain(session))

    def _drain(self, session: str) -> None:
        self._armed.discard(session)
        link = self._links[session]
        for item in self.gate.drain(session, self._monotonic()):
            kind = type(item)
            if kind is NewOrder:
                self._send_new(item, link, tick=False)  # type: ignore[arg-type]
            elif kind is CancelOrder:
                self._send_cancel(item, link)  # type: ignore[arg-type]
            else:
                self._send_replace(item, link)  # type: ignore[arg-type]
        self._arm(session)

    def act_on_engagements(self) -> None:
        """Act on kill-switch engagements the gate queued outside an order's path (an
        operator's `fixrouter kill-switch on`): deny the held requests they dropped and
        cancel the working orders they name."""
        engagements = self.gate.take_engagements()
        if engagements:
            self._act_on(engagements)

    def _act_on(self, engagements: Sequence[Engaged]) -> None:
        for engaged in engagements:
            log.error("kill switch engaged: %s (%d held requests dropped, %d orders to cancel)",
                      engaged.reason, len(engaged.dropped), len(engaged.cancel))
            for request in engaged.dropped:
                order_id = request.new_id if isinstance(request, ReplaceOrder) else request.id
                self._deny(request.strategy, Denied(
                    order_id, "KILL_SWITCH", f"dropped before sending: {engaged.reason}"))
            for strategy, order_id in engaged.cancel:
                self._cancel(CancelOrder(strategy, order_id))

    # -- inbound ---------------------------------------------------------------------------------

    def on_deliver(self, session: str, message: FixMessage) -> None:
        """An inbound application message from session `session` (engine callback)."""
        msg_type = message.msg_type
        if msg_type == b"8":
            routed = self.book.on_execution_report(message, session)
        elif msg_type == b"9":
            routed = self.book.on_cancel_reject(message)
        elif msg_type == b"j":
            routed = self._business_reject(session, message)
        elif msg_type == b"B":
            self.stats.news += 1
            log.info("%s: news from IB: %s", session, message.get_str(148) or "")
            return
        else:
            log.warning("%s: ignored an inbound 35=%s", session, msg_type.decode("latin-1"))
            return
        if routed:
            self._route(routed)
            if msg_type == b"8":
                link = self._links.get(session)
                if link is not None:
                    self.flow.reports(link.flow, message, routed, self.book.reported)

    def _route(self, routed: list[tuple[str, Event]]) -> None:
        """Deliver the events of one report (`book.on_execution_report` or
        `on_cancel_reject`), after the risk gate has seen the order they concern."""
        book = self.book
        gate = self.gate
        deliver = self.outlet.deliver
        now = self._monotonic()
        reported = book.reported
        for strategy, event in routed:
            if type(event) is _EXECUTION:
                order_id: str | None = event.id
            else:
                order_id = getattr(event, "id", None)
            # The order the book just found is the one a strategy's id names (what
            # `book.order` answers) when id and strategy agree: no second look-up.
            if (reported is not None and reported.id == order_id
                    and reported.strategy == strategy):
                order: Order | None = reported
            else:
                order = book.order(strategy, order_id) if order_id else None
            if order is not None:
                gate.on_report(order, now,
                               event.exec_type if type(event) is _EXECUTION else None)
            if strategy == ORPHAN:
                self.stats.orphan_events += 1
                log.info("event for an order without owner dropped: %r", event)
                continue
            deliver(strategy, event)
        engagements = gate.take_engagements()
        if engagements:
            self._act_on(engagements)

    def on_event(self, session: str, event: SessionEvent) -> None:
        """A session event (engine callback)."""
        kind = event.kind
        state = _BROADCAST.get(kind)
        if state is not None:
            self.outlet.broadcast_session(SessionChanged(session, state, event.detail))
            if kind is EventKind.LOGGED_ON:
                # Not from inside the session's own callback: let the logon finish first.
                # Held cancels go after the status request, on the same session.
                self.timers.call_soon(lambda: self._ask_status(session))
                self.timers.call_soon(lambda: self._release_parked(session))
        elif kind is EventKind.REJECT_RECEIVED and event.ref_seq is not None:
            reject = event.message
            reason = (f"session reject: {event.detail}" if reject is None
                      else session_reject_reason(reject))
            self._session_refusal(session, event.ref_seq, None, reason)
        elif kind is EventKind.NOT_DELIVERED and event.ref_seq is not None:
            self._session_refusal(session, event.ref_seq, event.message,
                                  "not delivered: too old to resend")

    def _ask_status(self, session: str) -> None:
        link = self._links.get(session)
        if link is None or not link.port.logged_on:
            return
        try:
            link.send_app(b"H", self.dialect.status_body())
        except FixRouterError as exc:
            log.warning("%s: could not ask for open orders: %s", session, exc)
            return
        self.stats.status_requests += 1
        log.info("%s: asked IB for every open order (35=H, 11=*)", session)

    def _business_reject(self, session: str, message: FixMessage) -> list[tuple[str, Event]]:
        refused = refusal_of(message)
        if refused is None:
            log.warning("%s: BusinessMessageReject names no MsgSeqNum (45=%s): %s", session,
                        message.get_str(45), business_reject_reason(message))
            return []
        seq, reason = refused
        log.warning("%s: BusinessMessageReject of seq %d: %s", session, seq, reason)
        return self._refusal(session, seq, None, reason)

    def _session_refusal(self, session: str, seq: int, sent: FixMessage | None,
                         reason: str) -> None:
        log.warning("%s: our message seq %d was refused: %s", session, seq, reason)
        routed = self._refusal(session, seq, sent, reason)
        if routed:
            self._route(routed)

    def _refusal(self, session: str, seq: int, sent: FixMessage | None,
                 reason: str) -> list[tuple[str, Event]]:
        link = self._links.get(session)
        if sent is None and link is not None:
            sent = find_sent(link.port.store, seq)
        report = None if sent is None else refusal_report(sent, session, seq, reason)
        if report is None:
            return []
        self.stats.session_refusals += 1
        if report.msg_type == b"8":
            return self.book.on_execution_report(report, session)
        return self.book.on_cancel_reject(report)


def _session_down(order_id: str, session: str) -> Denied:
    return Denied(order_id, _UNAVAILABLE,
                  f"FIX session {session} is not logged on; nothing was sent")


def _logged_on(link: _Link) -> bool:
    return link.port.logged_on


class EnginePort:
    """`SessionPort` over one of the engine's sessions (`Engine.sessions[name]`)."""

    __slots__ = ("_session", "_transport", "send_app")

    def __init__(self, session: _EngineSession) -> None:
        self._session = session
        # The engine's session keeps its transport for life: held here, `logged_on` (read
        # for every order) is one attribute read fewer.
        self._transport = session.transport
        self.send_app = self._transport.send_app

    @property
    def name(self) -> str:
        return self._session.name

    @property
    def store(self) -> MessageStore:
        return self._session.store

    @property
    def logged_on(self) -> bool:
        return self._transport.logged_on


class _Transport(Protocol):
    @property
    def logged_on(self) -> bool: ...

    def send_app(self, msg_type: bytes, body: bytes) -> None: ...


class _EngineSession(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def store(self) -> MessageStore: ...

    @property
    def transport(self) -> _Transport: ...
