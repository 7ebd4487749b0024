"""oms/states: every cell of the transition table, every impossible move, and real sequences."""

from __future__ import annotations

import logging
from decimal import Decimal

import pytest

from fixrouter.events import ExecKind, Execution, OrderStatus
from fixrouter.oms import TABLE, TERMINAL, WORKING, Anomaly, Order, OrderBook, Target, Trigger
from fixrouter.oms.order import CancelIntent, ReplaceIntent
from fixrouter.oms.states import working_status

from .conftest import Broker, Engine, new_order

S = OrderStatus
ALL_CELLS = [(s, t) for s in OrderStatus for t in Trigger]
LEGAL = [(s, t) for s, t in ALL_CELLS if t in TABLE[s]]
ILLEGAL = [(s, t) for s, t in ALL_CELLS if t not in TABLE[s]]


def placed(book: OrderBook, status: OrderStatus, *, cancel: bool = False,
           replace: bool = False, acked: bool = True, filled: str = "0") -> Order:
    """An order registered in the book, forced into `status` with the given facts."""
    order = Order(new_order(id=f"x{len(book.orders())}"), "s1", "C1")
    order.status = status
    order.acknowledged = acked
    order.cum_qty = Decimal(filled)
    if cancel:
        order.pending_cancel = CancelIntent(order, "s1", "C2", "C1")
    if replace:
        order.pending_replace = ReplaceIntent(order, "s1", "C3", "C1", "y", Decimal(5), None,
                                              None, order.tif)
    book._register_order(order)
    return order


@pytest.mark.parametrize(("status", "trigger"), LEGAL, ids=lambda v: str(v.name))
def test_every_legal_cell(book: OrderBook, status: OrderStatus, trigger: Trigger) -> None:
    cell = TABLE[status][trigger]
    order = placed(book, status, acked=True, filled="3")
    assert book._transition(order, trigger, b"0") is True
    if isinstance(cell, OrderStatus):
        assert order.status is cell
    else:
        # acked, 3 filled, no request pending: derives PartiallyFilled; a broker "New"
        # (39=0) is not terminal, so BROKER derives too.
        assert order.status is S.PARTIALLY_FILLED
    assert (order in book.open_orders()) == (order.status not in TERMINAL)
    assert book.counters[Anomaly.ILLEGAL_TRANSITION] == 0


@pytest.mark.parametrize(("status", "trigger"), ILLEGAL, ids=lambda v: str(v.name))
def test_every_illegal_cell_is_logged_counted_and_kept(
    book: OrderBook, status: OrderStatus, trigger: Trigger, caplog: pytest.LogCaptureFixture
) -> None:
    order = placed(book, status)
    with caplog.at_level(logging.WARNING, logger="fixrouter.oms"):
        assert book._transition(order, trigger) is False
    assert order.status is status
    assert book.counters[Anomaly.ILLEGAL_TRANSITION] == 1
    assert "illegal transition" in caplog.text


def test_documented_cells() -> None:
    assert TABLE[S.PARTIALLY_FILLED].get(Trigger.ER_NEW) is None  # no going back
    assert TABLE[S.CANCELED].get(Trigger.ER_PARTIAL) is None  # fill after cancel
    assert TABLE[S.NEW].get(Trigger.ER_PENDING_NEW) is None
    assert TABLE[S.FILLED].get(Trigger.CANCEL_SENT) is None
    assert TABLE[S.PENDING_CANCEL].get(Trigger.REPLACE_SENT) is None
    assert TABLE[S.NEW][Trigger.ER_FILL] is S.FILLED
    assert TABLE[S.PENDING_CANCEL][Trigger.ER_PARTIAL] is Target.WORKING
    assert TABLE[S.FILLED][Trigger.CANCEL_REJECT] is S.FILLED  # "too late to cancel"
    assert TABLE[S.FILLED][Trigger.BUST] is Target.BROKER
    assert TABLE[S.PENDING_NEW][Trigger.SEND_FAILED] is S.REJECTED
    assert frozenset(OrderStatus) == WORKING | TERMINAL and not WORKING & TERMINAL


@pytest.mark.parametrize("cancel", [False, True])
@pytest.mark.parametrize("replace", [False, True])
@pytest.mark.parametrize("acked", [False, True])
@pytest.mark.parametrize("filled", [False, True])
def test_working_status(cancel: bool, replace: bool, acked: bool, filled: bool) -> None:
    got = working_status(cancel_pending=cancel, replace_pending=replace, acknowledged=acked,
                         filled_any=filled)
    if cancel:
        assert got is S.PENDING_CANCEL
    elif replace:
        assert got is S.PENDING_REPLACE
    elif not acked:
        assert got is S.PENDING_NEW
    else:
        assert got is (S.PARTIALLY_FILLED if filled else S.NEW)
    book = OrderBook()
    order = placed(book, S.NEW, cancel=cancel, replace=replace, acked=acked,
                   filled="1" if filled else "0")
    assert book._derive(order) is got  # the inlined copy agrees


def test_broker_target_adopts_terminal_status(book: OrderBook) -> None:
    order = placed(book, S.FILLED, filled="3")
    book._transition(order, Trigger.BUST, b"4")
    assert order.status is S.CANCELED
    book._transition(order, Trigger.STATUS, b"1")  # working again, by the broker's word
    assert order.status is S.PARTIALLY_FILLED
    assert order in book.open_orders()
    book._transition(order, Trigger.STATUS, b"5")  # 39=5 is not a live order's status
    assert order.status is S.PARTIALLY_FILLED


# -- sequences through the book, as IB sends them ----------------------------------------------


def statuses(events: list[tuple[str, object]]) -> list[tuple[ExecKind, OrderStatus]]:
    return [(e.exec_type, e.status) for _, e in events if isinstance(e, Execution)]


def test_full_lifecycle(engine: Engine, broker: Broker) -> None:
    o = engine.new(new_order(qty=100))
    assert o.status is S.PENDING_NEW
    engine.receive(broker.report(o, "A", "A"))
    assert o.status is S.PENDING_NEW
    engine.receive(broker.report(o, "0", "0"))
    engine.receive(broker.report(o, "1", "1", last_qty=40, last_px="10"))
    engine.receive(broker.report(o, "2", "2", last_qty=60, last_px="10.5"))
    assert statuses(engine.events) == [
        (ExecKind.STATUS, S.PENDING_NEW), (ExecKind.NEW, S.NEW),
        (ExecKind.PARTIAL, S.PARTIALLY_FILLED), (ExecKind.FILL, S.FILLED),
    ]
    assert o.cum_qty == 100 and o.leaves_qty == 0 and o.avg_px == Decimal("10.3")
    assert o not in engine.book.open_orders()
    assert engine.book.counters.total() == 0


def test_fill_while_cancel_pending_then_canceled(engine: Engine, broker: Broker) -> None:
    o = engine.new(new_order(qty=100))
    engine.receive(broker.report(o, "0", "0"))
    c = engine.cancel("alpha", "o1")
    assert o.status is S.PENDING_CANCEL
    engine.receive(broker.report(o, "1", "1", last_qty=10, last_px="10"))
    assert o.status is S.PENDING_CANCEL  # the fill does not end the pending cancel
    engine.receive(broker.report(o, "6", "6", cl=c.cl_ord_id, orig=o.cl_ord_id))
    engine.receive(broker.report(o, "4", "4", cl=c.cl_ord_id, orig=o.cl_ord_id))
    assert o.status is S.CANCELED and o.cum_qty == 10 and o.leaves_qty == 0
    assert engine.book.counters.total() == 0


def test_cancel_before_ack_then_rejected_returns_to_pending_new(
    engine: Engine, broker: Broker
) -> None:
    o = engine.new(new_order())
    c = engine.cancel("alpha", "o1")
    assert o.status is S.PENDING_CANCEL
    engine.receive(broker.cancel_reject(o, c.cl_ord_id, o.cl_ord_id, reason="1"))
    assert o.status is S.PENDING_NEW
    engine.receive(broker.report(o, "0", "0"))
    assert o.status is S.NEW


def test_illegal_report_still_delivers_the_fill(engine: Engine, broker: Broker) -> None:
    o = engine.new(new_order(qty=100))
    engine.receive(broker.report(o, "0", "0"))
    engine.receive(broker.report(o, "4", "4", cl=None))  # IB cancels it
    out = engine.receive(broker.report(o, "1", "1", last_qty=5, last_px="9"))  # late fill
    back = engine.book.order("alpha", "o1")  # read back: the canceled order was retired
    assert back is not None
    o = back
    assert o.status is S.CANCELED
    assert engine.book.counters[Anomaly.ILLEGAL_TRANSITION] == 1
    (_, ev), = out
    assert isinstance(ev, Execution) and ev.last_qty == 5 and ev.cum_qty == 5
    assert o.cum_qty == 5
