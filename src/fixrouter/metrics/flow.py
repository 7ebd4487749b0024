"""Order-flow counters and latencies, recorded on the order path as plain Python values.

Theory of operation
-------------------
The router calls into one `OrderFlow` at a handful of points of the order path; every
call is a few integer additions and at most one `LatencyHistogram.observe_ns` (a `bisect`
and a list add, see `histogram`). Nothing here imports prometheus-client or takes a lock:
the collector copies these values on the event-loop thread at scrape time (`snapshot`).

What is recorded, and where (the router's wiring):

* `new_order()` for every new-order request the router is handed (before any check), so
  `received = accepted + denied + refused + held` holds at any instant.
* `sent_new(flow, order, received_ns)` right after the session took a NewOrderSingle
  (journaled and handed to the socket): the order is counted as accepted on its session,
  the tick-to-wire latency is observed from the gateway's `received_ns` stamp, and the
  send time is kept on the order itself (`Order.ack_sent_ns`) for the acknowledgement
  latency.
* `reports(flow, message, routed, order)` for every ExecutionReport after the router
  delivered its events, with the order the book applied it to: each `Execution` event is
  counted by its `ExecKind`, fills and filled quantity are added up, the first report of
  the order's first ClOrdID on the session it was sent on ends its wait for an
  acknowledgement (observed only when it is ExecType New), and the report-to-strategy
  latency is observed from the read stamp of the session's transport (`SessionFlow.line`,
  bound at start-up; without one it is not observed).

Tick-to-wire ends when `send_app` returns: in `os` durability the first order of a loop
turn is in the kernel by then, later ones in the same turn wait for the end of the turn
(a few µs more, not counted); in `fsync` durability the bytes wait for the group commit,
which `fixrouter_journal_append_seconds` does not show either (it times the append).
Orders released later by the throttle have no tick: their wait is the throttle's, not
the engine's, and would swamp the histogram's meaning; they are not observed.

The send time lives on the `Order`, not in a map keyed by ClOrdID: the router holds the
order when it sends and the book hands it back with each report, so the wait costs one
attribute store and one load per order instead of a dict insert, a ClOrdID decode and a
pop, and an order that never gets an answer holds no memory beyond its own lifetime (no
bound or clearing is needed). A report the book could only match to a read-back or
adopted order (a fresh `Order`, never sent by this engine run) observes nothing.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Final, Protocol

from fixrouter.codec import FixMessage
from fixrouter.events import Event, ExecKind, Execution
from fixrouter.oms.order import Order

from .histogram import HistogramSample, LatencyHistogram

EXEC_KINDS: tuple[ExecKind, ...] = tuple(ExecKind)
_KIND_INDEX: Final[dict[ExecKind, int]] = {kind: i for i, kind in enumerate(EXEC_KINDS)}
_EXECUTION: Final = Execution
_FILL: Final = ExecKind.FILL
_PARTIAL: Final = ExecKind.PARTIAL
_REJECTED_INDEX: Final = _KIND_INDEX[ExecKind.REJECTED]
_ER_NEW: Final = b"0"
_ZERO: Final = Decimal(0)

_ns: Final = time.monotonic_ns


class ReadStamp(Protocol):
    """Where the time of the latest socket read is kept (`transport.TransportStats`)."""

    @property
    def last_read_ns(self) -> int: ...


class SessionFlow:
    """The per-session part of `OrderFlow`; the router keeps one bound per session."""

    __slots__ = ("accepted", "filled_qty", "fills", "line", "name", "order_ack",
                 "reports")  # fmt: skip

    def __init__(self, name: str) -> None:
        self.name = name
        self.accepted = 0
        self.reports = [0] * len(EXEC_KINDS)
        """Execution events by `EXEC_KINDS` index."""
        self.fills = 0
        self.filled_qty = _ZERO
        self.order_ack = LatencyHistogram()
        self.line: ReadStamp | None = None
        """The session's transport stats, for the read stamp of an inbound report."""

    def snapshot(self) -> SessionFlowSample:
        return SessionFlowSample(
            accepted=self.accepted,
            reports=dict(zip(EXEC_KINDS, self.reports, strict=True)),
            rejected=self.reports[_REJECTED_INDEX],
            fills=self.fills,
            filled_qty=float(self.filled_qty),
            order_ack=self.order_ack.snapshot(),
        )


class OrderFlow:
    """Every order-path counter of one engine. See the module docstring."""

    __slots__ = ("exec_to_strategy", "received", "sessions", "tick_to_wire")

    def __init__(self, sessions: Iterable[str] = ()) -> None:
        self.received = 0
        self.tick_to_wire = LatencyHistogram()
        self.exec_to_strategy = LatencyHistogram()
        self.sessions: dict[str, SessionFlow] = {name: SessionFlow(name) for name in sessions}

    def session(self, name: str) -> SessionFlow:
        """The session's counters (created on first use: sessions are operator-bounded)."""
        flow = self.sessions.get(name)
        if flow is None:
            flow = self.sessions[name] = SessionFlow(name)
        return flow

    # -- the order path --------------------------------------------------------------------

    def new_order(self) -> None:
        self.received += 1

    def sent_new(self, flow: SessionFlow, order: Order, received_ns: int) -> None:
        """`order` was handed to `flow`'s session under its first ClOrdID."""
        now = _ns()
        flow.accepted += 1
        if received_ns:
            self.tick_to_wire.observe_ns(now - received_ns)
        order.ack_sent_ns = now

    def reports(
        self, flow: SessionFlow, message: FixMessage, routed: Sequence[tuple[str, Event]],
        order: Order | None = None,
    ) -> None:
        """After the events of ExecutionReport `message`, applied to `order` (None: the
        book found none), were delivered."""
        now = _ns()
        if order is not None:
            sent = order.ack_sent_ns
            # The wait is for the NewOrderSingle's own ClOrdID on the session it went out
            # on: a report for a cancel or replace sent before the ack (another ClOrdID),
            # or one arriving on another session, leaves it waiting.
            if sent and order.session == flow.name:
                cl_ord_id = message.get(11)
                if cl_ord_id is not None and cl_ord_id.decode("ascii", "replace") == (
                    order.chain[0] if order.chain else order.cl_ord_id
                ):
                    order.ack_sent_ns = 0
                    if message.get(150) == _ER_NEW:
                        flow.order_ack.observe_ns(now - sent)
        delivered = False
        for strategy, event in routed:
            if type(event) is _EXECUTION:
                kind = event.exec_type
                flow.reports[_KIND_INDEX[kind]] += 1
                if kind is _FILL or kind is _PARTIAL:
                    flow.fills += 1
                    flow.filled_qty += event.last_qty
                # Orphans' events (strategy "") are dropped, not written upstream.
                delivered = delivered or bool(strategy)
        line = flow.line
        if delivered and line is not None:
            self.exec_to_strategy.observe_ns(now - line.last_read_ns)

    # -- the exporter's side ---------------------------------------------------------------

    def snapshot(self) -> OrderFlowSample:
        return OrderFlowSample(
            received=self.received,
            tick_to_wire=self.tick_to_wire.snapshot(),
            exec_to_strategy=self.exec_to_strategy.snapshot(),
            sessions={name: flow.snapshot() for name, flow in self.sessions.items()},
        )


@dataclass(frozen=True, slots=True)
class SessionFlowSample:
    accepted: int
    reports: Mapping[ExecKind, int]
    rejected: int
    fills: int
    filled_qty: float
    order_ack: HistogramSample

    @classmethod
    def empty(cls) -> SessionFlowSample:
        return cls(0, dict.fromkeys(EXEC_KINDS, 0), 0, 0, 0.0, HistogramSample.empty())


@dataclass(frozen=True, slots=True)
class OrderFlowSample:
    received: int
    tick_to_wire: HistogramSample
    exec_to_strategy: HistogramSample
    sessions: Mapping[str, SessionFlowSample]
