"""Every order type, time in force and lifecycle, from a strategy's socket to IB and back.

Each test checks both ends: the events the strategy reads, and the FIX message the
simulator received (QuickFIX's own log), so a field mapped wrongly cannot pass.
"""

from __future__ import annotations

import os
import signal
from decimal import Decimal

import pytest

from fixrouter.client import CancelRejected, ExecKind, Execution, OrderStatus, RequestRefused

from .conftest import Stack

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(
    ("order_type", "fields", "wire"),
    [
        ("market", {}, {40: "1", 44: None, 99: None}),
        ("limit", {"price": "190"}, {40: "2", 44: "190", 99: None}),
        ("stop", {"stop_price": "195"}, {40: "3", 44: None, 99: "195"}),
        ("stop_limit", {"price": "196", "stop_price": "195"}, {40: "4", 44: "196", 99: "195"}),
        ("moc", {}, {40: "5", 44: None, 99: None}),
        ("loc", {"price": "190.5"}, {40: "B", 44: "190.5", 99: None}),
    ],
)
def test_every_order_type_reaches_ib_as_its_ordtype(
    stack: Stack, order_type: str, fields: dict[str, str], wire: dict[int, str | None]
) -> None:
    s = stack.strategy(f"type-{order_type}")
    s.client.new("o1", "AAPL", "buy", 10, order_type, **fields)  # type: ignore[arg-type]
    accepted = s.accepted("o1")
    assert s.exec("o1", "new").status is OrderStatus.NEW
    sent = stack.wire(accepted.cl_ord_id)
    for tag, value in wire.items():
        assert sent.get_str(tag) == value, (tag, sent)
    assert (sent.get_str(55), sent.get_str(54), sent.get_str(38)) == ("AAPL", "1", "10")
    assert (sent.get_str(21), sent.get_str(100), sent.get_str(167)) == ("2", "SMART", "STK")


@pytest.mark.parametrize(
    ("tif", "extra", "wire"),
    [
        ("day", {}, {59: "0"}),
        ("gtc", {}, {59: "1"}),
        ("opg", {}, {59: "2"}),
        ("ioc", {}, {59: "3"}),
        ("fok", {}, {59: "4"}),
        ("gtd", {"expire_date": "20991231"}, {59: "6", 432: "20991231", 126: None}),
        ("gtd", {"expire_time": "20991231-20:00:00"}, {59: "6", 126: "20991231-20:00:00"}),
    ],
)
def test_every_time_in_force_reaches_ib(
    stack: Stack, tif: str, extra: dict[str, str], wire: dict[int, str | None]
) -> None:
    s = stack.strategy(f"tif-{tif}-{len(extra) and next(iter(extra))}")
    s.client.new("o1", "IBM", "buy", 5, "limit", price="150", tif=tif, **extra)
    accepted = s.accepted("o1")
    s.exec("o1", "new")
    sent = stack.wire(accepted.cl_ord_id)
    for tag, value in wire.items():
        assert sent.get_str(tag) == value, (tag, sent)
    s.client.cancel("o1")
    assert s.done("o1").status is OrderStatus.CANCELED


def test_a_short_sale_and_an_option_order(stack: Stack) -> None:
    s = stack.strategy("short-and-option")
    s.client.new("short-1", "AAPL", "short", 25, "limit", price="190", account="U1234567")
    s.client.new("opt-1", "SPY", "buy", 2, "limit", price="1.05", sec_type="OPT",
                 maturity="20991217", strike="450", put_or_call="call", multiplier=100,
                 exchange="CBOE", open_close="open", capacity="customer")
    short = stack.wire(s.accepted("short-1").cl_ord_id)
    assert (short.get_str(54), short.get_str(1)) == ("5", "U1234567")
    assert s.done("short-1").status is OrderStatus.FILLED
    option = stack.wire(s.accepted("opt-1").cl_ord_id)
    assert {tag: option.get_str(tag) for tag in (167, 200, 205, 202, 201, 231, 100, 77, 204)} \
        == {167: "OPT", 200: "209912", 205: "17", 202: "450", 201: "1", 231: "100",
            100: "CBOE", 77: "O", 204: "0"}
    fill = s.done("opt-1")
    assert (fill.status, fill.cum_qty, fill.avg_px) == (OrderStatus.FILLED, 2, Decimal("1.05"))


def test_full_fill_and_partial_fills(stack: Stack) -> None:
    s = stack.strategy("fills")
    s.client.new("full", "AAPL", "buy", 100, "limit", price="190")
    s.client.new("parts", "MSFT", "sell", 150, "limit", price="410")
    fill = s.done("full")
    assert (fill.exec_type, fill.cum_qty, fill.leaves_qty, fill.avg_px) == (
        ExecKind.FILL, 100, 0, 190)
    s.done("parts")
    kinds = [(e.exec_type, e.last_qty, e.cum_qty) for e in s.of("parts")
             if isinstance(e, Execution)]
    assert kinds == [(ExecKind.NEW, 0, 0), (ExecKind.PARTIAL, 50, 50),
                     (ExecKind.PARTIAL, 50, 100), (ExecKind.FILL, 50, 150)]
    assert s.client.status("parts").status is OrderStatus.FILLED
    assert s.client.orders() == []


def test_cancel_replace_and_a_replace_chain(stack: Stack) -> None:
    s = stack.strategy("chains")
    s.client.new("c1", "IBM", "buy", 10, "limit", price="150")
    s.exec("c1", "new")
    s.client.cancel("c1")
    canceled = s.done("c1")
    assert (canceled.exec_type, canceled.leaves_qty) == (ExecKind.CANCELED, 0)

    s.client.new("r1", "IBM", "buy", 10, "limit", price="149")
    first = s.accepted("r1").cl_ord_id
    s.exec("r1", "new")
    s.client.replace("r1", "r2", price="149.5")
    s.exec("r2", "replaced")
    s.client.replace("r2", "r3", qty=30)
    replaced = s.exec("r3", "replaced")
    assert (replaced.leaves_qty, replaced.status) == (30, OrderStatus.NEW)
    state = s.client.status("r3")
    assert (state.qty, state.price) == (30, Decimal("149.5"))
    assert s.client.status("r1").status is OrderStatus.REPLACED
    second = stack.wire(state.cl_ord_id, b"G")
    g1 = stack.wire(second.get_str(41) or "", b"G")
    assert g1.get_str(41) == first  # each replace names the ClOrdID before it
    assert [o.id for o in s.client.orders()] == ["r3"]
    s.client.cancel("r3")
    assert s.done("r3").status is OrderStatus.CANCELED


def test_an_ib_reject_carries_ibs_reason(stack: Stack) -> None:
    s = stack.strategy("rejects")
    s.client.new("z1", "ZZZZ", "buy", 10, "limit", price="100")
    rejected = s.done("z1")
    assert (rejected.exec_type, rejected.status) == (ExecKind.REJECTED, OrderStatus.REJECTED)
    assert rejected.reason == "No security definition has been found for the request"


def test_a_cancel_too_late_is_rejected_by_ib(stack: Stack) -> None:
    """The cancel leaves before the router learns of the fill that beat it to IB."""
    s = stack.strategy("too-late")
    s.client.new("t1", "IBM", "buy", 10, "limit", price="150")
    cl = s.accepted("t1").cl_ord_id
    s.exec("t1", "new")
    engine = stack.engine.proc.pid
    os.kill(engine, signal.SIGSTOP)  # the engine reads neither socket until SIGCONT
    try:
        s.client.cancel("t1")  # ready on the gateway socket first...
        stack.admin("fill", cl_ord_id=cl)  # ...then IB's fill on the FIX socket
    finally:
        os.kill(engine, signal.SIGCONT)
    rejected = s.wait(lambda e: isinstance(e, CancelRejected) and e.id == "t1",
                      "cancel_rejected")
    assert "too late" in rejected.reason.lower()
    assert s.done("t1").status is OrderStatus.FILLED
    # The cancel did reach IB, and IB refused it: the refusal is IB's, not the engine's.
    assert [e["action"] for e in stack.sim.events() if e.get("dir") == "in"
            and e.get("msg_type") == "F" and e.get("orig_cl_ord_id") == cl] == [
        "cancel_rejected"]


def test_ib_initiated_cancel_bust_and_correction(stack: Stack) -> None:
    s = stack.strategy("tricks")
    for order_id in ("u1", "b1", "k1"):
        s.client.new(order_id, "IBM", "buy", 10, "limit", price="150")
    cl = {order_id: s.accepted(order_id).cl_ord_id for order_id in ("u1", "b1", "k1")}
    for order_id in cl:
        s.exec(order_id, "new")

    stack.admin("unsolicited_cancel", cl_ord_id=cl["u1"], text="Canceled by IB operator")
    canceled = s.done("u1")
    assert (canceled.exec_type, canceled.reason) == (ExecKind.CANCELED,
                                                     "Canceled by IB operator")

    stack.admin("fill", cl_ord_id=cl["b1"], price="150")
    assert s.done("b1").cum_qty == 10
    stack.admin("bust", cl_ord_id=cl["b1"])
    bust = s.exec("b1", "bust")
    assert (bust.last_qty, bust.cum_qty, bust.leaves_qty) == (10, 0, 10)
    assert s.client.status("b1").status is OrderStatus.NEW  # working again

    stack.admin("fill", cl_ord_id=cl["k1"], price="150")
    s.done("k1")
    stack.admin("correct", cl_ord_id=cl["k1"], qty="10", price="149.90")
    corrected = s.exec("k1", "correct")
    assert (corrected.cum_qty, corrected.avg_px) == (10, Decimal("149.90"))
    s.client.cancel("b1")
    s.done("b1")


def test_status_and_orders_tell_the_truth(stack: Stack) -> None:
    s = stack.strategy("queries")
    s.client.new("w1", "IBM", "buy", 10, "limit", price="150")
    s.client.new("w2", "IBM", "sell", 20, "limit", price="151")
    s.client.new("f1", "AAPL", "buy", 5, "limit", price="190")
    s.exec("w1", "new")
    s.exec("w2", "new")
    s.done("f1")
    cl = s.accepted("w2").cl_ord_id
    stack.admin("fill", cl_ord_id=cl, qty="5", price="151")
    s.exec("w2", "partial")
    working = {o.id: o for o in s.client.orders()}
    assert set(working) == {"w1", "w2"}
    assert (working["w2"].status, working["w2"].cum_qty, working["w2"].leaves_qty) == (
        OrderStatus.PARTIALLY_FILLED, 5, 15)
    assert working["w2"].cl_ord_id == cl and working["w2"].side == "sell"
    done = s.client.status("f1")
    assert (done.status, done.cum_qty, done.avg_px) == (OrderStatus.FILLED, 5, 190)
    with pytest.raises(RequestRefused) as refused:
        s.client.status("nope")
    assert refused.value.code == "UNKNOWN_ORDER"
    for order_id in ("w1", "w2"):
        s.client.cancel(order_id)
        s.done(order_id)
    assert s.client.orders() == []
