"""The Prometheus collector: the engine's plain counters turned into metric families.

Theory of operation
-------------------
Nothing on the order path touches prometheus-client. The components count into plain
integers and `LatencyHistogram`s as they work (`flow`, `sessions`, `journal`, the
gateway's `stats`, the router's `stats`, the transport's `stats`, the risk gate's
kill switches). At scrape time prometheus-client calls `EngineCollector.collect()`,
which asks its `sample` callable for one `EngineSample`, a frozen copy of every value,
and yields the families below from it. This is the library's documented pattern for
values that live elsewhere ("custom collectors"). The router's routing counters
(`routing.table.RoutingStats`: failovers, cancels queued for a session that is down) and
its count of orders refused at session level (35=3 / 35=j / not delivered) come the same
way, and so do the counts of what the engine survived rather than did: the order book's
anomalies (`oms.counters.AnomalyCounter`), the requests that passed risk but were not sent,
the events nobody received, and the gateway's connections, lines and `error` events.

*What is not exported twice.* The router's `rejected_requests` (DUPLICATE_ID,
UNKNOWN_ORDER, ...) are `error` events the gateway writes and counts by code, so they are
in `fixrouter_request_errors_total` with the gateway's own (BAD_JSON, NOT_HELLO, ...);
`denied` is `fixrouter_orders_denied_total`, `session_refusals` is
`fixrouter_session_refusals_total`, and slow-client drops keep their own series rather
than being a connection event.

The `sample` callable is expected to take its copy on the event-loop thread (see
`server.LoopSampler`), so the collector never reads a dict the loop is changing and all
values of one scrape belong to the same instant.

**The metric contract.** Names, types and labels are exactly those of deploy/README.md
("Metric contract"), which the alert rules and the dashboard are written against;
`CONTRACT` lists them and tests check both sides. Label values come from bounded sets:
session names (configured), `SessionState`, `DisconnectReason`, denial codes (the risk
gate's `DenialCode` plus the router's own `ENGINE_UNAVAILABLE`), `ExecKind`, kill-switch
scopes, `sent`/`received`, the collector policy's collection kinds (`gc_policy.KINDS`),
`Anomaly` names (lower case), `ErrorCode`, the fixed reasons and events below, and for
positions the configured symbols only. Failovers are labelled by two session
names (`from_session`, the route's preferred one, and `to_session`, the one that took the
order): every ordered pair of configured sessions, so at most N*(N-1) series.

**Every labelled series exists from the first scrape**, at 0: each session gets every
state, every disconnect reason, every exec type and both resend directions, and every
denial code is present. Prometheus's `increase()` cannot see the first event of a series
that appears with value 1, and the case-15 alert depends on exactly that first event.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from fixrouter.events import ErrorCode
from fixrouter.gc_policy import KINDS as GC_KINDS
from fixrouter.oms.counters import Anomaly
from fixrouter.risk import DenialCode, KillScope
from fixrouter.session import DisconnectReason, SessionState

from .flow import EXEC_KINDS, SessionFlowSample
from .histogram import HistogramSample
from .sessions import SessionCountsSample

DENIAL_CODES: tuple[str, ...] = (*(c.value for c in DenialCode), ErrorCode.ENGINE_UNAVAILABLE.value)
"""Every code a `denied` event can carry: the gate's, and the router's own refusal of an
order on a session that is not logged on (or before recovery)."""
DISCONNECT_REASONS: tuple[str, ...] = tuple(r.value for r in DisconnectReason)
SESSION_STATES: tuple[str, ...] = tuple(s.value for s in SessionState)
KILL_SCOPES: tuple[str, ...] = tuple(s.value for s in KillScope)
RESEND_DIRECTIONS = ("sent", "received")
ANOMALY_KINDS: tuple[str, ...] = tuple(kind.name.lower() for kind in Anomaly)
REQUEST_ERROR_CODES: tuple[str, ...] = tuple(code.value for code in ErrorCode)
NOT_SENT_REASONS = ("send_failed", "unbuildable")
"""`send_failed`: the session would not take the prepared message (its journal write
failed, or it logged out in between); `unbuildable`: the dialect could not build it."""
DROP_REASONS = ("orphan", "disconnected", "not_started")
"""`orphan`: the order has no owning strategy; `disconnected`: its strategy has no live
gateway connection; `not_started`: produced before the gateway was attached."""
CONNECTION_EVENTS = ("opened", "closed", "hello_refused")

CONTRACT: Mapping[str, tuple[str, tuple[str, ...]]] = {
    # name (without _total for counters): (type, labels)
    "fixrouter_session_up": ("gauge", ("session",)),
    "fixrouter_session_state": ("gauge", ("session", "state")),
    "fixrouter_session_in_trading_hours": ("gauge", ("session",)),
    "fixrouter_seqnum_next_outbound": ("gauge", ("session",)),
    "fixrouter_seqnum_next_inbound": ("gauge", ("session",)),
    "fixrouter_logons_total": ("counter", ("session",)),
    "fixrouter_disconnects_total": ("counter", ("session", "reason")),
    "fixrouter_reconnects_total": ("counter", ("session",)),
    "fixrouter_heartbeat_rtt_seconds": ("histogram", ("session",)),
    "fixrouter_resend_requests_total": ("counter", ("session", "direction")),
    "fixrouter_gap_fills_total": ("counter", ("session",)),
    "fixrouter_orders_received_total": ("counter", ()),
    "fixrouter_orders_accepted_total": ("counter", ("session",)),
    "fixrouter_orders_denied_total": ("counter", ("code",)),
    "fixrouter_orders_rejected_total": ("counter", ("session",)),
    "fixrouter_execution_reports_total": ("counter", ("session", "exec_type")),
    "fixrouter_fills_total": ("counter", ("session",)),
    "fixrouter_filled_quantity_total": ("counter", ("session",)),
    "fixrouter_open_orders": ("gauge", ("session",)),
    "fixrouter_position": ("gauge", ("account", "symbol")),
    "fixrouter_throttle_queue_depth": ("gauge", ("session",)),
    "fixrouter_kill_switch_engaged": ("gauge", ("scope",)),
    "fixrouter_strategies_connected": ("gauge", ()),
    "fixrouter_slow_client_disconnects_total": ("counter", ()),
    "fixrouter_journal_write_errors_total": ("counter", ("session",)),
    "fixrouter_tick_to_wire_seconds": ("histogram", ()),
    "fixrouter_order_ack_seconds": ("histogram", ("session",)),
    "fixrouter_exec_report_to_strategy_seconds": ("histogram", ()),
    "fixrouter_journal_append_seconds": ("histogram", ("session",)),
    "fixrouter_gc_collections_total": ("counter", ("kind",)),
    "fixrouter_gc_pause_seconds": ("histogram", ("kind",)),
    "fixrouter_gc_freezes_total": ("counter", ()),
    "fixrouter_failovers_total": ("counter", ("from_session", "to_session")),
    "fixrouter_cancels_queued_total": ("counter", ()),
    "fixrouter_session_refusals_total": ("counter", ()),
    "fixrouter_order_anomalies_total": ("counter", ("kind",)),
    "fixrouter_request_errors_total": ("counter", ("code",)),
    "fixrouter_requests_not_sent_total": ("counter", ("reason",)),
    "fixrouter_events_dropped_total": ("counter", ("reason",)),
    "fixrouter_gateway_connections_total": ("counter", ("event",)),
    "fixrouter_gateway_lines_total": ("counter", ()),
    "fixrouter_news_messages_total": ("counter", ()),
    "fixrouter_order_status_requests_total": ("counter", ()),
}


@dataclass(frozen=True, slots=True)
class SessionSample:
    """One FIX session at scrape time."""

    name: str
    state: SessionState
    in_trading_hours: bool
    next_outbound: int
    next_inbound: int
    reconnects: int = 0
    disconnects: Mapping[str, int] = field(default_factory=dict)
    throttle_queue_depth: int = 0
    open_orders: int = 0
    journal_write_errors: int = 0
    journal_append: HistogramSample = field(default_factory=HistogramSample.empty)
    events: SessionCountsSample = field(default_factory=SessionCountsSample.empty)
    flow: SessionFlowSample = field(default_factory=SessionFlowSample.empty)

    @property
    def up(self) -> bool:
        return self.state in (SessionState.ACTIVE, SessionState.RESENDING)


@dataclass(frozen=True, slots=True)
class EngineSample:
    """Everything one scrape exports, copied at one instant."""

    sessions: Sequence[SessionSample]
    orders_received: int = 0
    denied: Mapping[str, int] = field(default_factory=dict)
    tick_to_wire: HistogramSample = field(default_factory=HistogramSample.empty)
    exec_to_strategy: HistogramSample = field(default_factory=HistogramSample.empty)
    positions: Sequence[tuple[str, str, float]] = ()
    """(account, symbol, quantity) for the configured symbols."""
    kill_switches: Mapping[str, int] = field(default_factory=dict)
    """Scope -> switches engaged in it (0/1 for the engine)."""
    strategies_connected: int = 0
    slow_client_disconnects: int = 0
    gc_collections: Mapping[str, int] = field(default_factory=dict)
    """Garbage collections by `fixrouter.gc_policy` kind."""
    gc_pauses: Mapping[str, HistogramSample] = field(default_factory=dict)
    gc_freezes: int = 0
    failovers: Mapping[tuple[str, str], int] = field(default_factory=dict)
    """New orders sent on a later session of their route: (preferred, chosen) -> count."""
    cancels_queued: int = 0
    """Cancels held for a session that was down (`cancel_while_down = "queue"`)."""
    session_refusals: int = 0
    """Order messages IB refused with a Reject or BusinessMessageReject, or that could
    not be resent (the router settled each with a made-up reject)."""
    anomalies: Mapping[str, int] = field(default_factory=dict)
    """Order-book anomalies by `ANOMALY_KINDS` name."""
    request_errors: Mapping[str, int] = field(default_factory=dict)
    """`error` events written to strategies, by `ErrorCode` value."""
    not_sent: Mapping[str, int] = field(default_factory=dict)
    """By `NOT_SENT_REASONS`."""
    events_dropped: Mapping[str, int] = field(default_factory=dict)
    """By `DROP_REASONS`."""
    gateway_connections: Mapping[str, int] = field(default_factory=dict)
    """By `CONNECTION_EVENTS`."""
    gateway_lines: int = 0
    news: int = 0
    status_requests: int = 0


class EngineCollector(Collector):
    """Yields the contract's families from `sample()`. See the module docstring."""

    def __init__(self, sample: Callable[[], EngineSample]) -> None:
        self._sample = sample

    def describe(self) -> list[Metric]:
        # Registration must not take a sample (the engine may not be running yet).
        return []

    def collect(self) -> Iterator[Metric]:
        s = self._sample()
        sessions = s.sessions
        yield from _session_families(sessions)
        yield from _flow_families(s)
        yield from _latency_families(s)
        yield from _gc_families(s)
        yield from _routing_families(s)
        yield from _survival_families(s)


def _gauge(name: str, doc: str, labels: Sequence[str] = ()) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, labels=labels)


def _counter(name: str, doc: str, labels: Sequence[str] = ()) -> CounterMetricFamily:
    # CounterMetricFamily adds `_total` to the exposed sample name itself.
    return CounterMetricFamily(name.removesuffix("_total"), doc, labels=labels)


def _session_families(sessions: Sequence[SessionSample]) -> Iterator[Metric]:
    up = _gauge("fixrouter_session_up", "1 while the FIX session is logged on", ["session"])
    state = _gauge("fixrouter_session_state",
                   "1 for the session's current state, 0 for the others", ["session", "state"])
    hours = _gauge("fixrouter_session_in_trading_hours",
                   "1 while the session's schedule says it should be logged on", ["session"])
    out_seq = _gauge("fixrouter_seqnum_next_outbound",
                     "MsgSeqNum of the next message we send", ["session"])
    in_seq = _gauge("fixrouter_seqnum_next_inbound",
                    "MsgSeqNum we expect next from the counterparty", ["session"])
    logons = _counter("fixrouter_logons_total", "Logons accepted by the counterparty",
                      ["session"])
    disconnects = _counter("fixrouter_disconnects_total", "Connections closed, by reason",
                           ["session", "reason"])
    reconnects = _counter("fixrouter_reconnects_total",
                          "Connection attempts after the first one of the process", ["session"])
    resends = _counter("fixrouter_resend_requests_total",
                       "ResendRequests sent (a gap on our side) and received (on theirs)",
                       ["session", "direction"])
    gap_fills = _counter("fixrouter_gap_fills_total",
                         "Gaps we asked to be resent that have been filled", ["session"])
    journal_errors = _counter("fixrouter_journal_write_errors_total",
                              "Journal appends and syncs that failed", ["session"])
    throttle = _gauge("fixrouter_throttle_queue_depth",
                      "Requests held by the session's throttle", ["session"])
    open_orders = _gauge("fixrouter_open_orders", "Working orders on the session", ["session"])
    for sess in sessions:
        name = sess.name
        up.add_metric([name], 1.0 if sess.up else 0.0)
        current = sess.state.value
        for value in SESSION_STATES:
            state.add_metric([name, value], 1.0 if value == current else 0.0)
        hours.add_metric([name], 1.0 if sess.in_trading_hours else 0.0)
        out_seq.add_metric([name], float(sess.next_outbound))
        in_seq.add_metric([name], float(sess.next_inbound))
        logons.add_metric([name], float(sess.events.logons))
        for reason in _with_extra(DISCONNECT_REASONS, sess.disconnects):
            disconnects.add_metric([name, reason], float(sess.disconnects.get(reason, 0)))
        reconnects.add_metric([name], float(sess.reconnects))
        resends.add_metric([name, "sent"], float(sess.events.resend_sent))
        resends.add_metric([name, "received"], float(sess.events.resend_received))
        gap_fills.add_metric([name], float(sess.events.gap_fills))
        journal_errors.add_metric([name], float(sess.journal_write_errors))
        throttle.add_metric([name], float(sess.throttle_queue_depth))
        open_orders.add_metric([name], float(sess.open_orders))
    yield from (up, state, hours, out_seq, in_seq, logons, disconnects, reconnects, resends,
                gap_fills, journal_errors, throttle, open_orders)


def _flow_families(s: EngineSample) -> Iterator[Metric]:
    yield CounterMetricFamily("fixrouter_orders_received",
                              "New-order requests from strategies", value=s.orders_received)
    accepted = _counter("fixrouter_orders_accepted_total",
                        "New orders that passed risk and were handed to the session",
                        ["session"])
    rejected = _counter("fixrouter_orders_rejected_total",
                        "Execution reports with ExecType Rejected (8) from the broker",
                        ["session"])
    reports = _counter("fixrouter_execution_reports_total",
                       "Execution reports applied to the order book, by exec type",
                       ["session", "exec_type"])
    fills = _counter("fixrouter_fills_total", "Partial and full fills", ["session"])
    filled = _counter("fixrouter_filled_quantity_total", "Quantity filled (shares, contracts)",
                      ["session"])
    for sess in s.sessions:
        name = sess.name
        flow = sess.flow
        accepted.add_metric([name], float(flow.accepted))
        rejected.add_metric([name], float(flow.rejected))
        for kind in EXEC_KINDS:
            reports.add_metric([name, kind.value], float(flow.reports.get(kind, 0)))
        fills.add_metric([name], float(flow.fills))
        filled.add_metric([name], flow.filled_qty)
    yield from (accepted, rejected, reports, fills, filled)
    yield _labelled("fixrouter_orders_denied_total",
                    "Orders and replaces refused before sending, by denial code",
                    "code", DENIAL_CODES, s.denied)
    position = _gauge("fixrouter_position",
                      "Net position (configured symbols only)", ["account", "symbol"])
    for account, symbol, qty in s.positions:
        position.add_metric([account, symbol], qty)
    yield position
    kill = _gauge("fixrouter_kill_switch_engaged",
                  "Kill switches engaged: 0/1 for the engine, a count for account and strategy",
                  ["scope"])
    for scope in KILL_SCOPES:
        kill.add_metric([scope], float(s.kill_switches.get(scope, 0)))
    yield kill
    yield GaugeMetricFamily("fixrouter_strategies_connected",
                            "Strategies with at least one live gateway connection",
                            value=s.strategies_connected)
    yield CounterMetricFamily("fixrouter_slow_client_disconnects",
                              "Strategy connections dropped for not reading their events",
                              value=s.slow_client_disconnects)


def _latency_families(s: EngineSample) -> Iterator[Metric]:
    yield _histogram("fixrouter_tick_to_wire_seconds",
                     "Upstream request line read to NewOrderSingle handed to the socket",
                     [((), s.tick_to_wire)])
    yield _histogram("fixrouter_exec_report_to_strategy_seconds",
                     "ExecutionReport bytes read to its event written to the strategy",
                     [((), s.exec_to_strategy)])
    yield _histogram("fixrouter_order_ack_seconds",
                     "NewOrderSingle sent to ExecutionReport New received",
                     [((sess.name,), sess.flow.order_ack) for sess in s.sessions], ["session"])
    yield _histogram("fixrouter_journal_append_seconds", "One journal append (write(2))",
                     [((sess.name,), sess.journal_append) for sess in s.sessions], ["session"])
    yield _histogram("fixrouter_heartbeat_rtt_seconds", "TestRequest to its Heartbeat",
                     [((sess.name,), sess.events.heartbeat_rtt) for sess in s.sessions],
                     ["session"])


def _gc_families(s: EngineSample) -> Iterator[Metric]:
    yield _labelled("fixrouter_gc_collections_total",
                    "Cyclic garbage collections, by kind (fixrouter.gc_policy)",
                    "kind", GC_KINDS, s.gc_collections)
    empty = HistogramSample.empty()
    yield _histogram("fixrouter_gc_pause_seconds", "One cyclic garbage collection, by kind",
                     [((kind,), s.gc_pauses.get(kind, empty)) for kind in GC_KINDS], ["kind"])
    yield CounterMetricFamily("fixrouter_gc_freezes",
                              "Young generations frozen without a collection (busy loop)",
                              value=s.gc_freezes)


def _routing_families(s: EngineSample) -> Iterator[Metric]:
    failovers = _counter(
        "fixrouter_failovers_total",
        "New orders sent on a later session of their route because the preferred one was "
        "not logged on ([routing] failover), by preferred (from) and chosen (to) session",
        ["from_session", "to_session"])
    names = [sess.name for sess in s.sessions]
    pairs = [(a, b) for a in names for b in names if a != b]
    # A pair outside the configured sessions is not expected; exporting it beats hiding it.
    pairs += [pair for pair in s.failovers if pair not in pairs]
    for pair in pairs:
        failovers.add_metric(list(pair), float(s.failovers.get(pair, 0)))
    yield failovers
    yield CounterMetricFamily(
        "fixrouter_cancels_queued",
        "Cancels held while their order's session was down, sent once it logged on "
        "again ([routing] cancel_while_down = \"queue\")", value=s.cancels_queued)
    yield CounterMetricFamily(
        "fixrouter_session_refusals",
        "Order messages refused without an order report: a session Reject (35=3) or "
        "BusinessMessageReject (35=j) naming them, or too old to resend; each was settled "
        "as rejected (orders) or cancel-rejected (cancels, replaces)",
        value=s.session_refusals)


def _survival_families(s: EngineSample) -> Iterator[Metric]:
    """What the engine survived rather than did: each label value at 0 from the start."""
    yield _labelled(
        "fixrouter_order_anomalies_total",
        "Things the order book survived, by kind (fixrouter.oms.counters.Anomaly; each is "
        "also logged on fixrouter.oms). overfill: a fill past OrderQty was capped, the "
        "position differs from the broker's; orphan_order: a journaled order without an "
        "intent record, owned by no strategy; garbled_journal_message: a journaled FIX "
        "message no longer decodes and was skipped at recovery; cum_qty_mismatch, "
        "unknown_exec_ref, bad_report: the book's fills may differ from the broker's. "
        "Counted again by the recovery at each start for what the journal holds",
        "kind", ANOMALY_KINDS, s.anomalies)
    yield _labelled(
        "fixrouter_request_errors_total",
        "error events written to strategies, by code: malformed or refused requests "
        "(BAD_JSON, NOT_HELLO, BAD_TOKEN, ...) and requests the order book refused "
        "(DUPLICATE_ID, UNKNOWN_ORDER, ...); nothing was sent for any of them",
        "code", REQUEST_ERROR_CODES, s.request_errors)
    yield _labelled(
        "fixrouter_requests_not_sent_total",
        "Orders, cancels and replaces that passed risk but never reached the wire, undone "
        "in the book and refused to the strategy. send_failed: the session would not take "
        "the message (journal write failed, logged out in between); unbuildable: the "
        "dialect could not build a valid FIX message from the request",
        "reason", NOT_SENT_REASONS, s.not_sent)
    yield _labelled(
        "fixrouter_events_dropped_total",
        "Order events no strategy received. orphan: the order has no owning strategy; "
        "disconnected: the strategy had no live connection (it must resync with `orders`); "
        "not_started: produced before the gateway was attached",
        "reason", DROP_REASONS, s.events_dropped)
    yield _labelled(
        "fixrouter_gateway_connections_total",
        "Strategy connections to the gateway: opened, closed (for any reason), and "
        "hello_refused (bad token, name in use, no hello in time; also counted as closed)",
        "event", CONNECTION_EVENTS, s.gateway_connections)
    yield CounterMetricFamily("fixrouter_gateway_lines",
                              "Request lines read from strategies, well-formed or not",
                              value=s.gateway_lines)
    yield CounterMetricFamily("fixrouter_news_messages",
                              "News (35=B) received from IB; the text is in the event log",
                              value=s.news)
    yield CounterMetricFamily(
        "fixrouter_order_status_requests",
        "OrderStatusRequests for every open order (35=H, ClOrdID *) sent after a logon; "
        "fewer than the logons means a resync after a logon failed (see the event log)",
        value=s.status_requests)


# One counter per known label value, each exported from the first scrape (at 0).
def _labelled(name: str, doc: str, label: str, known: tuple[str, ...],
              counts: Mapping[str, int]) -> CounterMetricFamily:
    family = _counter(name, doc, [label])
    for value in _with_extra(known, counts):
        family.add_metric([value], float(counts.get(value, 0)))
    return family


def _histogram(
    name: str,
    doc: str,
    series: Sequence[tuple[tuple[str, ...], HistogramSample]],
    labels: Sequence[str] = (),
) -> HistogramMetricFamily:
    family = HistogramMetricFamily(name, doc, labels=labels)
    for values, sample in series:
        family.add_metric(list(values), sample.cumulative(), sample.sum_seconds)
    return family


def _with_extra(known: tuple[str, ...], seen: Mapping[str, int]) -> Iterator[str]:
    """The bounded label set, then any value a counter holds outside it (in practice
    none; exporting it beats hiding a count)."""
    yield from known
    for value in seen:
        if value not in known:
            yield value
