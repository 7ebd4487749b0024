"""metrics/flow and metrics/sessions: what the order path and the session events count."""

from __future__ import annotations

from decimal import Decimal

from fixrouter.codec import FixMessage, decode_frame, encode_fields
from fixrouter.events import Accepted, Event, ExecKind, Execution, OrderStatus
from fixrouter.metrics import OrderFlow, SessionEventCounter
from fixrouter.metrics.flow import MAX_AWAITING_ACK
from fixrouter.session import EventKind, SessionEvent


def execution(kind: ExecKind, last_qty: int = 0) -> Execution:
    q = Decimal(last_qty)
    return Execution("o1", kind, OrderStatus.NEW, q, Decimal(100), q, Decimal(0), Decimal(100),
                     "E1", "O1")


class Line:
    last_read_ns = 1


def report(cl_ord_id: str, exec_type: str) -> FixMessage:
    return decode_frame(encode_fields([(35, "8"), (49, "IB"), (56, "US"), (34, 5),
                                       (52, "20240101-00:00:00"), (11, cl_ord_id),
                                       (150, exec_type)]))


def test_order_path_counts_and_latencies() -> None:
    flow = OrderFlow(["s1"])
    s1 = flow.session("s1")
    s1.line = Line()
    for _ in range(3):
        flow.new_order()
    flow.sent_new(s1, "C1", received_ns=0)  # released by the throttle: no tick
    flow.sent_new(s1, "C2", received_ns=1)  # a stamp from long ago: counted
    routed: list[tuple[str, Event]] = [("strat", execution(ExecKind.NEW))]
    flow.reports(s1, report("C2", "0"), routed)
    flow.reports(s1, report("C1", "8"), [("strat", execution(ExecKind.REJECTED))])
    flow.reports(s1, report("C2", "2"), [("strat", execution(ExecKind.FILL, 100))])
    flow.reports(s1, report("X", "1"), [("", execution(ExecKind.PARTIAL, 5))])
    flow.reports(s1, report("C2", "0"), [("strat", Accepted("o", "C"))])
    s1.line = None
    flow.reports(s1, report("C3", "0"), [("strat", execution(ExecKind.NEW))])
    sample = flow.snapshot()
    assert sample.received == 3
    assert sample.tick_to_wire.count == 1
    s = sample.sessions["s1"]
    assert s.accepted == 2
    assert s.order_ack.count == 1  # C2's New; C1's first report was a reject
    assert s.reports[ExecKind.NEW] == 2 and s.reports[ExecKind.REJECTED] == 1
    assert s.rejected == 1
    assert (s.fills, s.filled_qty) == (2, 105.0)  # the orphan's partial fill counts too
    # Delivered to a strategy with a read stamp: the first NEW, the REJECTED and the FILL
    # (not the orphan's, not a report without an execution, not one without a stamp).
    assert sample.exec_to_strategy.count == 3
    assert not s1.awaiting_ack


def test_awaiting_acks_are_bounded() -> None:
    flow = OrderFlow()
    s = flow.session("s")
    for i in range(MAX_AWAITING_ACK + 5):
        flow.sent_new(s, f"C{i}", 0)
    assert len(s.awaiting_ack) <= MAX_AWAITING_ACK


def test_session_event_counter() -> None:
    counter = SessionEventCounter(["s1"])
    for kind, detail in [
        (EventKind.LOGGED_ON, ""), (EventKind.LOGGED_ON, ""), (EventKind.GAP_DETECTED, ""),
        (EventKind.RESEND_REQUESTED, "resend 1..3"), (EventKind.GAP_FILLED, ""),
        (EventKind.HEARTBEAT_RTT, "0.004000"), (EventKind.HEARTBEAT_RTT, "garbage"),
        (EventKind.TEST_REQUEST_SENT, ""),
    ]:  # fmt: skip
        counter("s1", SessionEvent(kind, detail))
    counter("new", SessionEvent(EventKind.LOGGED_ON, ""))
    s = counter.sessions["s1"].snapshot()
    assert (s.logons, s.resend_sent, s.resend_received, s.gap_fills) == (2, 1, 1, 1)
    assert s.heartbeat_rtt.count == 1 and abs(s.heartbeat_rtt.sum_seconds - 0.004) < 1e-9
    assert counter.sessions["new"].logons == 1
