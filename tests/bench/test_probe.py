"""The tick-to-wire probe pairs the n-th tick with the n-th NewOrderSingle written."""

from __future__ import annotations

from decimal import Decimal

from fixrouter.bench.probe import BenchFlow, WireProbe
from fixrouter.codec import Encoder
from fixrouter.metrics.flow import OrderFlow
from fixrouter.oms import Order
from fixrouter.requests import NewOrder, OrderType, Side

ENCODER = Encoder("FIXROUTER", "IB")


def _frame(msg_type: bytes, seq: int) -> bytes:
    return ENCODER.encode(msg_type, seq, b"20261124-10:00:00.000", b"11=A1\x01")


def test_pairs_ticks_with_order_writes_in_either_order() -> None:
    probe = WireProbe(capacity=8)
    probe.tap(True, _frame(b"D", 1))  # the first order of a turn is written first ...
    probe.tick(100)  # ... and ticked after send_app returns
    probe.tick(200)
    probe.tap(True, _frame(b"H", 2))  # not an order
    probe.tap(False, _frame(b"D", 3))  # inbound
    probe.tap(True, _frame(b"D", 4))
    latencies = probe.latencies_ns(0)
    assert len(latencies) == 2
    assert latencies[0] == probe.wires[0] - 100
    assert latencies[1] == probe.wires[1] - 200


def test_orders_without_a_tick_are_skipped_and_runs_start_at_their_mark() -> None:
    probe = WireProbe(capacity=4)
    probe.tick(0)  # released by the throttle: no tick
    probe.tap(True, _frame(b"D", 1))
    mark = probe.mark()
    for n in range(6):  # more than the ring holds: the latest 4 are kept
        probe.tick(1 + n)
        probe.tap(True, _frame(b"D", 2 + n))
    assert probe.latencies_ns(0) == probe.latencies_ns(mark)[-4:]
    assert len(probe.latencies_ns(mark)) == 4


def test_bench_flow_keeps_the_router_counters() -> None:
    flow = OrderFlow()
    session = flow.session("default")
    probe = WireProbe(capacity=4)
    bench = BenchFlow(probe, flow)
    req = NewOrder("s1", "o1", "AAPL", Side.BUY, Decimal(1), OrderType.MARKET)
    bench.sent_new(session, Order(req, "default", "A1"), 5)
    assert session.accepted == 1
    assert bench.sessions is flow.sessions
    assert probe.n_tick == 1 and probe.ticks[0] == 5
