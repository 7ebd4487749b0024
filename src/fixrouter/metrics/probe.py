"""The engine as the exporter sees it: one `EngineSample` read from the live components.

`EngineProbe.sample()` runs on the event-loop thread (see `server.LoopSampler`) and only
reads: each session's state, schedule and sequence numbers, its transport's `stats`, its
journal's `JournalMeter`, the `SessionEventCounter`, the router's `OrderFlow` and its
denial counts, the order book's working orders and positions, the risk gate's kill
switches and throttle queues, the gateway's connections, and the garbage-collector policy's
counts (`gc_policy.GcStats`), the router's routing counters, session-level refusals and
`RouterStats`, the order book's `AnomalyCounter` and the gateway's `GatewayStats`. Each
is optional where a process can run without it (a gateway-less test engine, a
pass-through gate), and its series are then exported at 0. Every one of them is a plain
int (or a small dict of them) the owner increments on its own path; reading them here,
at scrape time, is all the exporter costs the order path.

The views below are Protocols for exactly what is read, so the probe is tested with
plain stand-ins and never reaches into a component beyond them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Protocol

from fixrouter.events import ErrorCode
from fixrouter.oms.counters import Anomaly
from fixrouter.risk import KillScope
from fixrouter.session import SessionState
from fixrouter.transport import TransportStats

from .collector import EngineSample, SessionSample
from .flow import OrderFlow, SessionFlowSample
from .histogram import HistogramSample
from .journal import JournalMeter
from .sessions import SessionCountsSample, SessionEventCounter


class SessionView(Protocol):
    """`fixrouter.session.Session`, as read here."""

    @property
    def state(self) -> SessionState: ...

    @property
    def next_sender_seq(self) -> int: ...

    @property
    def next_target_seq(self) -> int: ...

    def is_session_time(self, now: float) -> bool: ...


class TransportView(Protocol):
    @property
    def stats(self) -> TransportStats: ...


class EngineSessionView(Protocol):
    """`fixrouter.engine.EngineSession`, as read here."""

    @property
    def session(self) -> SessionView: ...

    @property
    def transport(self) -> TransportView: ...


class OpenOrderView(Protocol):
    @property
    def session(self) -> str: ...


class PositionLike(Protocol):
    @property
    def account(self) -> str: ...

    @property
    def instrument(self) -> str: ...

    @property
    def qty(self) -> Decimal: ...


class BookView(Protocol):
    """`fixrouter.oms.OrderBook`, as read here."""

    def open_orders(self) -> Iterable[OpenOrderView]: ...

    def positions(self) -> Iterable[PositionLike]: ...


class KillSwitchView(Protocol):
    """`fixrouter.risk.KillSwitch`, as read here."""

    @property
    def engine(self) -> object | None: ...

    @property
    def accounts(self) -> Mapping[str, object]: ...

    @property
    def strategies(self) -> Mapping[str, object]: ...


class GatewayStatsView(Protocol):
    @property
    def slow_disconnects(self) -> int: ...


class GatewayView(Protocol):
    """`fixrouter.gateway.Gateway`, as read here."""

    @property
    def stats(self) -> GatewayStatsView: ...

    def connected(self) -> list[str]: ...


class RoutingStatsView(Protocol):
    """`fixrouter.routing.table.RoutingStats`, as read here."""

    @property
    def failovers(self) -> Mapping[tuple[str, str], int]: ...

    @property
    def cancels_queued(self) -> int: ...


class AnomalyCounterView(Protocol):
    """`fixrouter.oms.AnomalyCounter` (the book's `counters`), as read here."""

    def snapshot(self) -> Mapping[Anomaly, int]: ...


class RouterStatsView(Protocol):
    """`fixrouter.router.RouterStats`, as read here (its `denied` comes through its own
    argument, its `rejected_requests` through the gateway's `errors`)."""

    @property
    def send_failed(self) -> int: ...

    @property
    def unbuildable(self) -> int: ...

    @property
    def orphan_events(self) -> int: ...

    @property
    def undelivered(self) -> int: ...

    @property
    def news(self) -> int: ...

    @property
    def status_requests(self) -> int: ...

    @property
    def session_refusals(self) -> int: ...


class GatewayCountersView(Protocol):
    """`fixrouter.gateway.server.GatewayStats`, as read here."""

    @property
    def connections_opened(self) -> int: ...

    @property
    def connections_closed(self) -> int: ...

    @property
    def hellos_refused(self) -> int: ...

    @property
    def lines(self) -> int: ...

    @property
    def undeliverable(self) -> int: ...

    @property
    def errors(self) -> Mapping[ErrorCode, int]: ...


class GcStatsView(Protocol):
    """`fixrouter.gc_policy.GcStats`, as read here."""

    @property
    def collections(self) -> Mapping[str, int]: ...

    @property
    def freezes(self) -> int: ...

    def pause_samples(self) -> Mapping[str, HistogramSample]: ...


class EngineProbe:
    """Reads the components into an `EngineSample`. Construct once, call `sample()` per
    scrape (on the loop thread)."""

    def __init__(
        self,
        sessions: Mapping[str, EngineSessionView],
        *,
        flow: OrderFlow | None = None,
        events: SessionEventCounter | None = None,
        journals: Mapping[str, JournalMeter] | None = None,
        denied: Callable[[], Mapping[str, int]] | None = None,
        book: BookView | None = None,
        kill_switch: KillSwitchView | None = None,
        throttle_depth: Callable[[str], int] | None = None,
        gateway: GatewayView | None = None,
        position_symbols: frozenset[str] = frozenset(),
        gc: GcStatsView | None = None,
        routing: RoutingStatsView | None = None,
        anomalies: AnomalyCounterView | None = None,
        router_stats: RouterStatsView | None = None,
        gateway_counters: GatewayCountersView | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._sessions = sessions
        self._flow = flow
        self._events = events
        self._journals = journals or {}
        self._denied = denied
        self._book = book
        self._kill_switch = kill_switch
        self._throttle_depth = throttle_depth
        self._gateway = gateway
        self._symbols = position_symbols
        self._gc = gc
        self._routing = routing
        self._anomalies = anomalies
        self._router_stats = router_stats
        self._gateway_counters = gateway_counters
        self._clock = clock

    def sample(self) -> EngineSample:
        now = self._clock()
        router = self._router_stats
        gateway = self._gateway_counters
        flow = self._flow.snapshot() if self._flow is not None else None
        open_orders: dict[str, int] = {}
        if self._book is not None:
            for order in self._book.open_orders():
                open_orders[order.session] = open_orders.get(order.session, 0) + 1
        sessions = []
        for name, es in self._sessions.items():
            session = es.session
            stats = es.transport.stats
            journal = self._journals.get(name)
            counts = self._events.sessions.get(name) if self._events is not None else None
            sessions.append(SessionSample(
                name=name,
                state=session.state,
                in_trading_hours=session.is_session_time(now),
                next_outbound=session.next_sender_seq,
                next_inbound=session.next_target_seq,
                reconnects=max(0, stats.connect_attempts - 1),
                disconnects={reason.value: n for reason, n in stats.disconnects.items()},
                throttle_queue_depth=(self._throttle_depth(name)
                                      if self._throttle_depth is not None else 0),
                open_orders=open_orders.get(name, 0),
                journal_write_errors=journal.errors if journal is not None else 0,
                journal_append=(journal.append.snapshot() if journal is not None
                                else HistogramSample.empty()),
                events=counts.snapshot() if counts is not None else SessionCountsSample.empty(),
                flow=(flow.sessions.get(name) or SessionFlowSample.empty()) if flow is not None
                else SessionFlowSample.empty(),
            ))  # fmt: skip
        return EngineSample(
            sessions=sessions,
            orders_received=flow.received if flow is not None else 0,
            denied=dict(self._denied()) if self._denied is not None else {},
            tick_to_wire=flow.tick_to_wire if flow is not None else HistogramSample.empty(),
            exec_to_strategy=(flow.exec_to_strategy if flow is not None
                              else HistogramSample.empty()),
            positions=self._positions(),
            kill_switches=self._kills(),
            strategies_connected=len(self._gateway.connected()) if self._gateway else 0,
            slow_client_disconnects=self._gateway.stats.slow_disconnects if self._gateway else 0,
            gc_collections=dict(self._gc.collections) if self._gc is not None else {},
            gc_pauses=self._gc.pause_samples() if self._gc is not None else {},
            gc_freezes=self._gc.freezes if self._gc is not None else 0,
            failovers=dict(self._routing.failovers) if self._routing is not None else {},
            cancels_queued=self._routing.cancels_queued if self._routing is not None else 0,
            session_refusals=router.session_refusals if router is not None else 0,
            anomalies=({kind.name.lower(): n for kind, n in self._anomalies.snapshot().items()}
                       if self._anomalies is not None else {}),
            request_errors=({code.value: n for code, n in gateway.errors.items()}
                            if gateway is not None else {}),
            not_sent=({"send_failed": router.send_failed, "unbuildable": router.unbuildable}
                      if router is not None else {}),
            events_dropped={
                "orphan": router.orphan_events if router is not None else 0,
                "disconnected": gateway.undeliverable if gateway is not None else 0,
                "not_started": router.undelivered if router is not None else 0,
            },
            gateway_connections=({"opened": gateway.connections_opened,
                                  "closed": gateway.connections_closed,
                                  "hello_refused": gateway.hellos_refused}
                                 if gateway is not None else {}),
            gateway_lines=gateway.lines if gateway is not None else 0,
            news=router.news if router is not None else 0,
            status_requests=router.status_requests if router is not None else 0,
        )

    def _positions(self) -> list[tuple[str, str, float]]:
        if self._book is None or not self._symbols:
            return []
        symbols = self._symbols
        return [(p.account, p.instrument, float(p.qty))
                for p in self._book.positions() if p.instrument in symbols]

    def _kills(self) -> dict[str, int]:
        ks = self._kill_switch
        if ks is None:
            return {}
        return {
            KillScope.ENGINE.value: 0 if ks.engine is None else 1,
            KillScope.ACCOUNT.value: len(ks.accounts),
            KillScope.STRATEGY.value: len(ks.strategies),
        }
