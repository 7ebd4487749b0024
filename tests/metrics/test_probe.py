"""metrics/probe: the components read into one sample (stand-ins for each view)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from fixrouter.gc_policy import GcStats
from fixrouter.metrics import JournalMeter, OrderFlow, SessionEventCounter
from fixrouter.metrics.probe import EngineProbe
from fixrouter.oms import Order
from fixrouter.requests import NewOrder, OrderType, Side
from fixrouter.risk import KillScope
from fixrouter.risk.killswitch import KillSwitch
from fixrouter.session import DisconnectReason, EventKind, SessionEvent, SessionState
from fixrouter.transport import TransportStats


@dataclass
class FakeSession:
    state: SessionState = SessionState.ACTIVE
    next_sender_seq: int = 10
    next_target_seq: int = 20
    trading: bool = True

    def is_session_time(self, now: float) -> bool:
        return self.trading


@dataclass
class FakeTransport:
    stats: TransportStats = field(default_factory=TransportStats)


@dataclass
class FakeEngineSession:
    session: FakeSession
    transport: FakeTransport = field(default_factory=FakeTransport)


@dataclass
class FakeOrder:
    session: str


@dataclass
class FakePosition:
    account: str
    instrument: str
    qty: Decimal


class FakeBook:
    def open_orders(self) -> list[FakeOrder]:
        return [FakeOrder("a"), FakeOrder("a"), FakeOrder("b")]

    def positions(self) -> list[FakePosition]:
        return [FakePosition("U1", "AAPL", Decimal(300)), FakePosition("U1", "GME", Decimal(5))]


@dataclass
class FakeGatewayStats:
    slow_disconnects: int = 2


class FakeGateway:
    stats = FakeGatewayStats()

    def connected(self) -> list[str]:
        return ["s1", "s2"]


def test_reads_every_component() -> None:
    a = FakeEngineSession(FakeSession())
    b = FakeEngineSession(FakeSession(SessionState.DISCONNECTED, trading=False))
    a.transport.stats.connect_attempts = 3
    a.transport.stats.disconnects[DisconnectReason.SEQ_TOO_LOW] = 1
    flow = OrderFlow(["a", "b"])
    flow.new_order()
    req = NewOrder("s1", "o1", "AAPL", Side.BUY, Decimal(1), OrderType.MARKET)
    flow.sent_new(flow.session("a"), Order(req, "a", "C1"), 0)
    events = SessionEventCounter(["a", "b"])
    events("a", SessionEvent(EventKind.LOGGED_ON, ""))
    journal = JournalMeter()
    journal.append_errors = 1
    kill = KillSwitch()
    kill.engage(KillScope.STRATEGY, "s1", "test", 0.0)
    gc_stats = GcStats()
    gc_stats.collections["idle_young"] = 3
    gc_stats.pauses["idle_young"].observe_ns(100_000)
    gc_stats.freezes = 2
    probe = EngineProbe(
        {"a": a, "b": b}, flow=flow, events=events, journals={"a": journal},
        denied=lambda: {"MAX_ORDER_QTY": 2}, book=FakeBook(), kill_switch=kill,
        throttle_depth=lambda name: 7 if name == "a" else 0, gateway=FakeGateway(),
        position_symbols=frozenset({"AAPL"}), gc=gc_stats,
    )  # fmt: skip
    s = probe.sample()
    sa, sb = s.sessions
    assert (sa.name, sa.up, sa.in_trading_hours, sa.next_outbound, sa.next_inbound) == \
        ("a", True, True, 10, 20)
    assert (sb.up, sb.in_trading_hours) == (False, False)
    assert sa.reconnects == 2 and sb.reconnects == 0
    assert sa.disconnects["SEQ_TOO_LOW"] == 1
    assert (sa.open_orders, sb.open_orders) == (2, 1)
    assert (sa.throttle_queue_depth, sa.journal_write_errors, sa.events.logons) == (7, 1, 1)
    assert sa.flow.accepted == 1 and s.orders_received == 1
    assert s.denied == {"MAX_ORDER_QTY": 2}
    assert s.positions == [("U1", "AAPL", 300.0)]
    assert s.kill_switches == {"engine": 0, "account": 0, "strategy": 1}
    assert (s.strategies_connected, s.slow_client_disconnects) == (2, 2)
    assert s.gc_collections["idle_young"] == 3 and s.gc_freezes == 2
    assert s.gc_pauses["idle_young"].count == 1


def test_runs_without_optional_components() -> None:
    s = EngineProbe({"a": FakeEngineSession(FakeSession())}).sample()
    assert s.sessions[0].flow.accepted == 0 and s.positions == [] and s.kill_switches == {}
    assert s.gc_collections == {} and s.gc_freezes == 0
