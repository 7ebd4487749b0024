"""metrics/flow and metrics/sessions: what the order path and the session events count."""

from __future__ import annotations

import random
from decimal import Decimal

from fixrouter.codec import FixMessage, decode_frame, encode_fields
from fixrouter.events import Accepted, Event, ExecKind, Execution, OrderStatus
from fixrouter.metrics import OrderFlow, SessionEventCounter
from fixrouter.oms import Order
from fixrouter.requests import NewOrder, OrderType, Side
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


def order(cl_ord_id: str, session: str = "s1") -> Order:
    req = NewOrder("strat", "o" + cl_ord_id, "AAPL", Side.BUY, Decimal(100), OrderType.LIMIT,
                   price=Decimal(1))
    return Order(req, session, cl_ord_id)


def test_order_path_counts_and_latencies() -> None:
    flow = OrderFlow(["s1"])
    s1 = flow.session("s1")
    s1.line = Line()
    for _ in range(3):
        flow.new_order()
    c1, c2 = order("C1"), order("C2")
    flow.sent_new(s1, c1, received_ns=0)  # released by the throttle: no tick
    flow.sent_new(s1, c2, received_ns=1)  # a stamp from long ago: counted
    routed: list[tuple[str, Event]] = [("strat", execution(ExecKind.NEW))]
    flow.reports(s1, report("C2", "0"), routed, c2)
    flow.reports(s1, report("C1", "8"), [("strat", execution(ExecKind.REJECTED))], c1)
    flow.reports(s1, report("C2", "2"), [("strat", execution(ExecKind.FILL, 100))], c2)
    flow.reports(s1, report("X", "1"), [("", execution(ExecKind.PARTIAL, 5))], order("X"))
    flow.reports(s1, report("C2", "0"), [("strat", Accepted("o", "C"))], c2)
    s1.line = None
    flow.reports(s1, report("C3", "0"), [("strat", execution(ExecKind.NEW))], None)
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
    assert c1.ack_sent_ns == c2.ack_sent_ns == 0  # nothing left waiting


def test_the_ack_wait_ends_only_with_the_first_cl_ord_id_on_its_session() -> None:
    flow = OrderFlow(["s1", "s2"])
    s1, s2 = flow.session("s1"), flow.session("s2")
    o = order("C1")
    flow.sent_new(s1, o, 0)
    sent = o.ack_sent_ns
    assert sent > 0
    # A cancel sent before the ack is answered under its own ClOrdID; another session's
    # report is not this order's answer: the order goes on waiting.
    o.chain = ["C1", "K1"]
    o.cl_ord_id = "K1"
    flow.reports(s1, report("K1", "6"), [("strat", execution(ExecKind.PENDING_CANCEL))], o)
    flow.reports(s2, report("C1", "0"), [("strat", execution(ExecKind.NEW))], o)
    assert o.ack_sent_ns == sent
    assert s1.order_ack.snapshot().count == s2.order_ack.snapshot().count == 0
    flow.reports(s1, report("C1", "0"), [("strat", execution(ExecKind.NEW))], o)
    assert o.ack_sent_ns == 0
    assert s1.order_ack.snapshot().count == 1
    flow.reports(s1, report("C1", "0"), [("strat", execution(ExecKind.NEW))], o)
    assert s1.order_ack.snapshot().count == 1  # only the first report is the ack
    never = order("C9")
    flow.reports(s1, report("C9", "0"), [("strat", execution(ExecKind.NEW))], never)
    assert s1.order_ack.snapshot().count == 1  # never sent: no wait to end


def test_ack_latency_counts_equal_the_clordid_map_it_replaced() -> None:
    """Equivalence with the earlier bookkeeping (a per-session dict ClOrdID -> send time,
    popped by the first report of that ClOrdID on that session), over random traffic:
    sends on two sessions, reports for first ClOrdIDs and for cancel ClOrdIDs, in any
    order, on the right or the wrong session, repeated, and for orders never sent."""
    rng = random.Random(7)
    for _ in range(20):
        flow = OrderFlow(["s1", "s2"])
        awaiting: dict[str, set[str]] = {"s1": set(), "s2": set()}
        expected = {"s1": 0, "s2": 0}
        orders: list[Order] = []
        for step in range(200):
            session = rng.choice(["s1", "s2"])
            if not orders or rng.random() < 0.3:
                o = order(f"C{step}", session)
                orders.append(o)
                if rng.random() < 0.9:  # the rest never went out (refused, unbuildable)
                    flow.sent_new(flow.session(session), o, 0)
                    awaiting[session].add(o.cl_ord_id)
                continue
            o = rng.choice(orders)
            if rng.random() < 0.2 and o.chain is None:  # a cancel of ours goes out
                o.chain = [o.cl_ord_id, f"K{step}"]
            cl = rng.choice(o.chain) if o.chain else o.cl_ord_id
            exec_type = rng.choice(["0", "0", "8", "6", "2"])
            at = o.session if rng.random() < 0.8 else rng.choice(["s1", "s2"])
            if cl in awaiting[at]:
                awaiting[at].discard(cl)
                expected[at] += exec_type == "0"
            flow.reports(flow.session(at), report(cl, exec_type),
                         [("strat", execution(ExecKind.NEW))], o)
        for name in ("s1", "s2"):
            assert flow.session(name).order_ack.snapshot().count == expected[name]
        still = {(o.session, o.chain[0] if o.chain else o.cl_ord_id)
                 for o in orders if o.ack_sent_ns}
        assert still == {(s, cl) for s, cls in awaiting.items() for cl in cls}


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
