"""The router between fake ends: what is sent, what each strategy hears, what is refused."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from fixrouter.events import (
    Accepted,
    CancelRejected,
    Denied,
    ErrorCode,
    ExecKind,
    Execution,
    OrderStatus,
    RequestError,
    SessionChanged,
)
from fixrouter.oms import ORPHAN, MemoryIntentLog, Order, OrderBook
from fixrouter.oms.intents import encode_new
from fixrouter.requests import (
    CancelOrder,
    NewOrder,
    OrdersQuery,
    OrderType,
    ReplaceOrder,
    SecurityType,
    Side,
    StatusQuery,
)
from fixrouter.routing.gate import PassThroughGate
from fixrouter.session import EventKind, SessionEvent
from fixrouter.store import MemoryStore, StoreError

from .conftest import Broker, Stack, risk_stack


def test_a_new_order_goes_out_after_its_intent_and_is_accepted(stack: Stack) -> None:
    stack.new("o1")
    (sent,) = stack.port.sent
    assert sent.msg_type == b"D"
    assert sent.get_str(55) == "AAPL" and sent.get_str(44) == "190" and sent.get_str(38) == "100"
    cl = sent.get_str(11)
    assert cl is not None and cl.startswith("231114A-")
    assert stack.port.intents_at_send == [1]  # the intent record was written first
    assert b'"alpha","o1"' in stack.intents["s1"].lines[0]
    assert stack.outlet.of("alpha") == [Accepted("o1", cl)]
    assert stack.router.stats.accepted == 1


def test_reports_reach_the_owner_only(stack: Stack, broker: Broker) -> None:
    stack.new("o1", strategy="alpha")
    stack.new("o1", strategy="beta", symbol="MSFT")
    alpha_d, _ = stack.port.sent
    stack.outlet.take("alpha")
    stack.outlet.take("beta")
    stack.router.on_deliver("s1", broker.report(alpha_d, "0", "0"))
    stack.router.on_deliver("s1", broker.report(alpha_d, "2", "2", cum="100", last="100",
                                                px="190"))
    events = stack.outlet.take("alpha")
    assert [e.exec_type for e in events if isinstance(e, Execution)] == [ExecKind.NEW,
                                                                          ExecKind.FILL]
    assert events[-1].status is OrderStatus.FILLED  # type: ignore[union-attr]
    assert stack.outlet.of("beta") == []
    state = stack.router.status(StatusQuery("alpha", "o1"))
    assert state.status is OrderStatus.FILLED  # type: ignore[union-attr]
    assert stack.router.status(StatusQuery("beta", "o1")).status is OrderStatus.PENDING_NEW  # type: ignore[union-attr]


def test_an_unknown_orders_report_is_dropped_and_counted(stack: Stack, broker: Broker) -> None:
    stack.router.on_deliver("s1", broker.unsolicited("8", [
        (37, "IB-OWN"), (17, "X1"), (20, "0"), (150, "0"), (39, "0"), (55, "IBM"), (54, "1"),
        (38, "5"), (32, "0"), (31, "0"), (14, "0"), (151, "5"), (6, "0"),
    ]))
    assert stack.outlet.events == {}
    assert stack.router.stats.orphan_events == 1


def test_nothing_is_taken_before_recovery() -> None:
    stack = Stack(PassThroughGate(), recover=False)
    stack.new("o1")
    assert stack.port.sent == []
    (denied,) = stack.outlet.of("alpha")
    assert isinstance(denied, Denied) and denied.code == "ENGINE_UNAVAILABLE"
    assert "recovering" in denied.reason
    status = stack.router.status(StatusQuery("alpha", "o1"))
    assert isinstance(status, RequestError) and status.code is ErrorCode.ENGINE_UNAVAILABLE


def test_an_order_for_a_session_that_is_down_is_denied_before_risk_counts_it() -> None:
    stack = risk_stack()
    stack.port.logged_on = False
    stack.new("o1")
    assert stack.port.sent == []
    (denied,) = stack.outlet.of("alpha")
    assert isinstance(denied, Denied) and denied.code == "ENGINE_UNAVAILABLE"
    assert "s1 is not logged on" in denied.reason
    assert stack.gate.risk.exposure.account("").open_count == 0  # type: ignore[attr-defined]


def test_a_journal_failure_refuses_the_order_once_and_never_sends_it(stack: Stack) -> None:
    stack.port.fail = StoreError("disk full")
    stack.new("o1")
    assert stack.port.sent == []
    (denied,) = stack.outlet.take("alpha")
    assert isinstance(denied, Denied) and denied.code == "ENGINE_UNAVAILABLE"
    assert "not sent: disk full" in denied.reason
    assert stack.router.stats.send_failed == 1
    assert stack.router.status(StatusQuery("alpha", "o1")).status is OrderStatus.REJECTED  # type: ignore[union-attr]
    assert b'"X"' in stack.intents["s1"].lines[-1]  # the failure is recorded for restarts
    stack.port.fail = None
    stack.new("o1")  # the same id again: refused, so the order can never go out twice
    (error,) = stack.outlet.take("alpha")
    assert isinstance(error, RequestError) and error.code is ErrorCode.DUPLICATE_ID
    assert stack.port.sent == []


def test_an_intent_log_failure_refuses_the_order(stack: Stack) -> None:
    stack.intents["s1"].fail = True
    stack.new("o1")
    assert stack.port.sent == []
    (error,) = stack.outlet.of("alpha")
    assert isinstance(error, RequestError) and error.code is ErrorCode.ENGINE_UNAVAILABLE
    assert stack.router.stats.rejected_requests[ErrorCode.ENGINE_UNAVAILABLE] == 1


def test_an_order_the_dialect_cannot_build_is_a_bad_request(stack: Stack) -> None:
    stack.new("o1", sec_type=SecurityType.OPT)  # an option without its contract
    assert stack.port.sent == []
    (error,) = stack.outlet.of("alpha")
    assert isinstance(error, RequestError) and error.code is ErrorCode.BAD_VALUE
    assert error.reason.startswith("not sent:")
    assert stack.router.stats.unbuildable == 1


def test_cancel_and_replace_name_the_latest_clordid(stack: Stack, broker: Broker) -> None:
    stack.new("o1")
    d = stack.port.sent[0]
    stack.router.on_deliver("s1", broker.report(d, "0", "0"))
    stack.router.handle(ReplaceOrder("alpha", "o1", "o2", price=Decimal("191")))
    g = stack.port.sent[-1]
    assert g.msg_type == b"G" and g.get(41) == d.get(11) and g.get_str(44) == "191"
    assert g.get_str(37) == "OID1"  # IB's OrderID, once known
    stack.router.on_deliver("s1", broker.report(g, "5", "0"))
    stack.router.handle(CancelOrder("alpha", "o2"))
    f = stack.port.sent[-1]
    assert f.msg_type == b"F" and f.get(41) == g.get(11) and f.get(11) not in (d.get(11), g.get(11))
    stack.router.on_deliver("s1", broker.cancel_reject(f))
    events = stack.outlet.take("alpha")
    assert isinstance(events[-1], CancelRejected) and "Too late" in events[-1].reason
    assert [s.id for s in stack.router.orders(OrdersQuery("alpha"))] == ["o2"]


def test_another_strategys_order_is_unknown(stack: Stack) -> None:
    stack.new("o1", strategy="alpha")
    stack.router.handle(CancelOrder("beta", "o1"))
    stack.router.handle(ReplaceOrder("beta", "o1", "o9", qty=Decimal(5)))
    assert [e.code for e in stack.outlet.of("beta")] == [ErrorCode.UNKNOWN_ORDER] * 2  # type: ignore[union-attr]
    assert [m.msg_type for m in stack.port.sent] == [b"D"]


def test_a_session_reject_of_an_order_rejects_it(stack: Stack) -> None:
    stack.new("o1")
    seq = stack.port.sent[0].get_str(34)
    assert seq is not None
    stack.outlet.take("alpha")
    stack.router.on_event("s1", SessionEvent(EventKind.REJECT_RECEIVED, "reject", int(seq)))
    (event,) = stack.outlet.take("alpha")
    assert isinstance(event, Execution) and event.exec_type is ExecKind.REJECTED
    assert event.reason is not None and event.reason.startswith("session reject:")
    assert stack.router.stats.session_refusals == 1


def test_a_business_reject_of_a_cancel_is_a_cancel_reject(stack: Stack, broker: Broker) -> None:
    stack.new("o1")
    stack.router.on_deliver("s1", broker.report(stack.port.sent[0], "0", "0"))
    stack.router.handle(CancelOrder("alpha", "o1"))
    seq = stack.port.sent[-1].get_str(34)
    stack.outlet.take("alpha")
    stack.router.on_deliver("s1", broker.unsolicited("j", [
        (45, seq or ""), (372, "F"), (380, "3"), (58, "Unsupported"),
    ]))
    (event,) = stack.outlet.take("alpha")
    assert isinstance(event, CancelRejected) and "business reject: Unsupported" in event.reason
    assert stack.router.status(StatusQuery("alpha", "o1")).status is OrderStatus.NEW  # type: ignore[union-attr]


def test_logon_is_announced_and_open_orders_are_asked_for(stack: Stack) -> None:
    stack.router.on_event("s1", SessionEvent(EventKind.LOGGED_ON, "logged on"))
    assert stack.outlet.broadcasts == [SessionChanged("s1", "logged_on", "logged on")]
    assert stack.port.sent == []  # not from inside the session's own callback
    stack.timers.run_soon()
    (h,) = stack.port.sent
    assert h.msg_type == b"H" and h.get(11) == b"*"
    stack.router.on_event("s1", SessionEvent(EventKind.LOGGED_OUT, "peer closed"))
    assert stack.outlet.broadcasts[-1] == SessionChanged("s1", "logged_out", "peer closed")
    stack.router.on_event("s1", SessionEvent(EventKind.HEARTBEAT_RTT, "0.001"))
    assert len(stack.outlet.broadcasts) == 2


def test_strategies_route_to_their_sessions() -> None:
    stack = Stack(PassThroughGate(), sessions=("s1", "s2"),
                  routing={"strategies": {"beta": "s2"}, "prefixes": {"s2": "Z"}})
    stack.new("a", strategy="alpha")
    stack.new("b", strategy="beta")
    assert [m.get_str(11)[:8] for m in stack.ports["s1"].sent] == ["231114A-"]  # type: ignore[index]
    assert [m.get_str(11)[:8] for m in stack.ports["s2"].sent] == ["231114Z-"]  # type: ignore[index]
    stack.router.handle(CancelOrder("beta", "b"))  # a cancel follows its order's session
    assert [m.msg_type for m in stack.ports["s2"].sent] == [b"D", b"F"]


def test_events_owed_by_the_rebuild_wait_for_their_strategy() -> None:
    intents = MemoryIntentLog()
    book = OrderBook()
    book.add_session("s1", "A", intents)
    book.rebuild("s1", MemoryStore(now=0))
    order = book.prepare_new(NewOrder("alpha", "lost", "AAPL", Side.BUY, Decimal(1),
                                      OrderType.MARKET), 1_700_000_000.0)
    assert not isinstance(order, RequestError)  # intent written, then the engine "died"
    stack = Stack(PassThroughGate(), recover=False)
    stack.intents["s1"].lines.extend(intents.lines)
    stack.router.recover()
    assert stack.outlet.events == {}
    stack.router.strategy_connected("alpha")
    (denied,) = stack.outlet.of("alpha")
    assert isinstance(denied, Denied) and denied.id == "lost" and "not sent" in denied.reason
    stack.router.strategy_connected("alpha")
    assert len(stack.outlet.of("alpha")) == 1  # delivered once


# -- with the real risk gate ------------------------------------------------------------------


def test_a_risk_denial_is_the_strategys_denied_event_and_nothing_is_sent() -> None:
    stack = risk_stack()
    stack.new("big", qty=Decimal(5000))
    assert stack.port.sent == []
    (denied,) = stack.outlet.of("alpha")
    assert denied == Denied("big", "MAX_ORDER_QTY", denied.reason, "1000", "5000")  # type: ignore[union-attr]
    assert stack.router.stats.denied["MAX_ORDER_QTY"] == 1


def test_a_reused_id_is_duplicate_id_whichever_stage_sees_it_first(broker: Broker) -> None:
    stack = risk_stack()
    stack.new("o1")
    stack.router.on_deliver("s1", broker.report(stack.port.sent[0], "0", "0"))
    stack.outlet.take("alpha")
    stack.new("o1", price=Decimal("189"))
    stack.router.handle(ReplaceOrder("alpha", "o1", "o1", qty=Decimal(50)))
    codes = [e.code for e in stack.outlet.take("alpha")]  # type: ignore[union-attr]
    assert codes == [ErrorCode.DUPLICATE_ID, ErrorCode.DUPLICATE_ID]
    assert len(stack.port.sent) == 1


def test_a_finished_orders_id_is_duplicate_id_and_the_gate_counts_nothing(
    broker: Broker,
) -> None:
    # The order is retired once it is filled (issue 7): the gate no longer knows it, the
    # book refuses its id for the rest of the day, and what the gate counted meanwhile
    # is handed back.
    stack = risk_stack()
    stack.new("o1")
    stack.router.on_deliver("s1", broker.report(stack.port.sent[0], "2", "2", cum="100"))
    stack.outlet.take("alpha")
    risk = stack.gate.risk  # type: ignore[attr-defined]
    account = risk.exposure.account("")
    messages = account.messages
    stack.new("o1", price=Decimal("189"))
    (error,) = stack.outlet.take("alpha")
    assert isinstance(error, RequestError) and error.code is ErrorCode.DUPLICATE_ID
    assert len(stack.port.sent) == 1
    assert (account.open_count, account.messages) == (0, messages)
    assert risk.record("alpha", "o1") is None
    assert stack.router.book.retired_status("alpha", "o1") is OrderStatus.FILLED


def test_a_replace_is_checked_on_its_new_terms() -> None:
    stack = risk_stack()
    stack.new("o1")
    stack.router.handle(ReplaceOrder("alpha", "o1", "o2", qty=Decimal(5000)))
    (denied,) = stack.outlet.take("alpha")[1:]
    assert isinstance(denied, Denied) and denied.id == "o2" and denied.code == "MAX_ORDER_QTY"
    assert [m.msg_type for m in stack.port.sent] == [b"D"]


def test_held_requests_go_out_when_the_throttle_releases_them() -> None:
    stack = risk_stack({"throttle": {"mode": "queue", "rate": 10, "burst": 1}})
    stack.new("o1")
    stack.new("o2", price=Decimal("189"))
    assert [m.get_str(44) for m in stack.port.sent] == ["190"]
    ((delay, drain),) = stack.timers.later
    assert delay == pytest.approx(0.1)  # one token at 10/s
    stack.clock.advance(delay)
    drain()
    assert [m.get_str(44) for m in stack.port.sent] == ["190", "189"]
    assert [type(e).__name__ for e in stack.outlet.of("alpha")] == ["Accepted", "Accepted"]


def test_cancelling_a_held_order_withdraws_it_unsent() -> None:
    stack = risk_stack({"throttle": {"mode": "queue", "rate": 10, "burst": 1}})
    stack.new("o1")
    stack.new("o2", price=Decimal("189"))
    stack.router.handle(CancelOrder("alpha", "o2"))
    event = stack.outlet.of("alpha")[-1]
    assert isinstance(event, Execution) and event.id == "o2"
    assert event.exec_type is ExecKind.CANCELED
    stack.clock.advance(1)
    for _, drain in stack.timers.later:
        drain()
    assert len(stack.port.of_type(b"D")) == 1


def test_an_automatic_kill_switch_cancels_the_strategys_working_orders() -> None:
    stack = risk_stack({"kill_switch": {"max_denials": 2, "cancel_all": True}})
    stack.new("live")
    for i in range(3):
        stack.new(f"big{i}", qty=Decimal(5000))
    assert [m.msg_type for m in stack.port.sent] == [b"D", b"F"]
    assert stack.port.sent[1].get(41) == stack.port.sent[0].get(11)
    stack.new("after", price=Decimal("189"))
    denied = stack.outlet.of("alpha")[-1]
    assert isinstance(denied, Denied) and denied.code == "KILL_SWITCH"


def test_a_gtc_order_from_an_earlier_period_is_relearned_for_its_strategy(
    broker: Broker,
) -> None:
    """The journal was reset (a new session period): only the intent log remembers the
    order. IB's answer to the status request sent at logon files it under its owner."""
    stack = Stack(PassThroughGate(), recover=False)
    earlier = NewOrder("alpha", "gtc-1", "IBM", Side.BUY, Decimal(10), OrderType.LIMIT,
                       price=Decimal("150"))
    stack.intents["s1"].lines.append(encode_new(stack.clock.now - 86_400, "231113A-1", earlier))
    stack.router.recover()
    assert stack.router.orders(OrdersQuery("alpha")) == []  # not in this period's journal
    stack.router.on_event("s1", SessionEvent(EventKind.LOGGED_ON, "logged on"))
    stack.timers.run_soon()
    assert stack.port.sent[-1].get(11) == b"*"
    stack.router.on_deliver("s1", broker.unsolicited("8", [
        (37, "OID9"), (11, "231113A-1"), (17, "S1"), (20, "3"), (150, "0"), (39, "0"),
        (55, "IBM"), (54, "1"), (38, "10"), (44, "150"), (40, "2"), (32, "0"), (31, "0"),
        (14, "0"), (151, "10"), (6, "0"),
    ]))
    (event,) = stack.outlet.of("alpha")
    assert isinstance(event, Execution) and event.id == "gtc-1"
    assert event.exec_type is ExecKind.STATUS
    assert [o.id for o in stack.router.orders(OrdersQuery("alpha"))] == ["gtc-1"]
    stack.router.handle(CancelOrder("alpha", "gtc-1"))  # and it can be cancelled
    assert stack.port.sent[-1].msg_type == b"F" and stack.port.sent[-1].get(41) == b"231113A-1"


class RecordingGate:
    """The pass-through gate, recording the order and kind each report showed it."""

    def __init__(self) -> None:
        self._inner = PassThroughGate()
        self.reports: list[tuple[Order, ExecKind | None]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def on_report(self, order: Order, now: float, exec_type: ExecKind | None) -> None:
        self.reports.append((order, exec_type))


def test_the_gate_sees_each_report_on_the_order_the_strategys_id_names(broker: Broker) -> None:
    gate = RecordingGate()
    stack = Stack(gate)  # type: ignore[arg-type]
    stack.new("o1", strategy="alpha")
    stack.new("o1", strategy="beta", symbol="MSFT")
    alpha_d, beta_d = stack.port.sent
    alpha, beta = stack.book.order("alpha", "o1"), stack.book.order("beta", "o1")
    assert alpha is not None and beta is not None
    stack.router.on_deliver("s1", broker.report(beta_d, "0", "0", order_id="OID2"))
    stack.router.on_deliver("s1", broker.report(alpha_d, "0", "0"))
    assert gate.reports == [(beta, ExecKind.NEW), (alpha, ExecKind.NEW)]
    stack.router.handle(ReplaceOrder("alpha", "o1", "o2", price=Decimal("191")))
    stack.router.on_deliver("s1", broker.report(stack.port.sent[-1], "5", "0"))
    assert gate.reports[-1] == (alpha, ExecKind.REPLACED) and alpha.id == "o2"
    assert stack.book.order("alpha", "o2") is alpha
    stack.router.handle(CancelOrder("alpha", "o2"))
    stack.router.on_deliver("s1", broker.cancel_reject(stack.port.sent[-1]))
    assert gate.reports[-1] == (alpha, None)
    stack.router.on_deliver("s1", broker.unsolicited("8", [
        (37, "IB-OWN"), (17, "X1"), (20, "0"), (150, "0"), (39, "0"), (55, "IBM"), (54, "1"),
        (38, "5"), (32, "0"), (31, "0"), (14, "0"), (151, "5"), (6, "0"),
    ]))
    orphan, kind = gate.reports[-1]
    assert kind is ExecKind.NEW and orphan.strategy == ORPHAN and orphan.req.symbol == "IBM"
    assert stack.book.order(ORPHAN, orphan.id) is orphan
    assert len(gate.reports) == 5
