"""oms/book: finished orders are retired to a compact form; what must survive does.

No test here times anything or reads RSS: memory is asserted on structure (what the book
holds after orders finish), and the slow path is asserted on its outcome and its count.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from fixrouter.events import (
    CancelRejected,
    ErrorCode,
    ExecKind,
    Execution,
    OrderState,
    OrderStatus,
    RequestError,
)
from fixrouter.oms import Anomaly, Order, OrderBook
from fixrouter.requests import CancelOrder, ReplaceOrder

from .conftest import T0, Broker, Engine, Files, new_order

S = OrderStatus


def held(book: OrderBook) -> list[Order]:
    """What the book still holds after the retirement its next call would do."""
    book.retire_finished()
    return list(book.orders())


def only(events: list[tuple[str, object]]) -> tuple[str, Execution]:
    (who, ev), = events
    assert isinstance(ev, Execution)
    return who, ev


def test_each_way_an_order_finishes_retires_it(engine: Engine, broker: Broker) -> None:
    e, book = engine, engine.book
    filled = e.new(new_order(id="filled"))
    e.receive(broker.report(filled, "2", "2", last_qty=100, last_px="10"))
    canceled = e.new(new_order(id="canceled"))
    c = e.cancel("alpha", "canceled")
    e.receive(broker.report(canceled, "4", "4", cl=c.cl_ord_id, orig=canceled.cl_ord_id))
    gone = e.new(new_order(id="gone"))
    e.receive(broker.report(gone, "0", "0"))
    e.receive(broker.report(gone, "4", "4", cl=None))  # IB cancels it on its own
    rejected = e.new(new_order(id="rejected"))
    e.receive(broker.report(rejected, "8", "8", text="no"))
    expired = e.new(new_order(id="expired"))
    e.receive(broker.report(expired, "C", "C"))
    failed = book.prepare_new(new_order(id="failed"), T0 + 60)
    assert isinstance(failed, Order)
    book.send_failed(failed, "not logged on")
    moved = e.new(new_order(id="v1"))
    e.receive(broker.report(moved, "0", "0"))
    r = e.replace("alpha", "v1", "v2", price=Decimal("10.5"))
    e.receive(broker.report(moved, "5", "0", cl=r.cl_ord_id, orig=r.orig_cl_ord_id))
    refused = e.replace("alpha", "v2", "v3", price=Decimal("11"))
    e.receive(broker.cancel_reject(moved, refused.cl_ord_id, refused.orig_cl_ord_id,
                                   response_to="2"))
    working = e.new(new_order(id="working"))

    assert sorted(o.id for o in held(book)) == ["v2", "working"]
    assert all(not o.finished for o in held(book))
    assert [book.retired_status("alpha", i) for i in (
        "filled", "canceled", "gone", "rejected", "expired", "failed", "v1", "v3")] == [
        S.FILLED, S.CANCELED, S.CANCELED, S.REJECTED, S.EXPIRED, S.REJECTED, S.REPLACED,
        S.REJECTED]
    assert book.retired_ids == 8
    assert book.order("alpha", "filled") is None and book.order("alpha", "v2") is moved
    assert book.order_by_cl_ord_id(filled.cl_ord_id) is None
    assert book.order_by_cl_ord_id(working.cl_ord_id) is working
    assert book.retired_status("alpha", "v2") is None  # live


def test_finished_orders_leave_nothing_per_order_behind(engine: Engine,
                                                        broker: Broker) -> None:
    book = engine.book
    n = 2_000
    for i in range(n):
        o = engine.new(new_order(id=f"o{i}", qty=10))
        engine.receive(broker.report(o, "0", "0"))
        engine.receive(broker.report(o, "2", "2", last_qty=10, last_px="10"))
    working = engine.new(new_order(id="w", qty=10))
    assert held(book) == [working]
    assert dict(book._by_cl.items()) == {working.cl_ord_id: working} and book._by_order_id == {}
    assert {s: list(ids) for s, ids in book._ids.items()} == {"alpha": ["w"]}
    assert list(book.open_orders()) == [working]
    assert book.retired_ids == n and book._retired.nbytes / n <= 21
    assert len(book._window.fills) == n <= book._window.capacity  # a bounded window
    (total,) = book.retired_totals()
    assert (total.orders, total.filled, total.notional) == (n, n, Decimal(100 * n))
    assert book.position("U1234567", "AAPL").qty == 10 * n  # type: ignore[union-attr]


def test_a_finished_orders_id_is_still_taken(engine: Engine, broker: Broker) -> None:
    e, book = engine, engine.book
    o = e.new(new_order(id="done"))
    e.receive(broker.report(o, "2", "2", last_qty=100, last_px="10"))
    live = e.new(new_order(id="live"))
    assert held(book) == [live]
    dup = book.prepare_new(new_order(id="done"), T0 + 60)
    assert isinstance(dup, RequestError) and dup.code is ErrorCode.DUPLICATE_ID
    assert book.id_used("alpha", "done") and not book.id_used("beta", "done")
    assert isinstance(book.prepare_new(new_order("beta", "done"), T0 + 60), Order)
    cancel = book.prepare_cancel(CancelOrder("alpha", "done"), T0 + 60)
    assert isinstance(cancel, RequestError) and cancel.code is ErrorCode.ORDER_NOT_WORKING
    assert "filled" in cancel.reason
    to_done = book.prepare_replace(ReplaceOrder("alpha", "live", "done", qty=Decimal(5)),
                                   T0 + 60)
    assert isinstance(to_done, RequestError) and to_done.code is ErrorCode.DUPLICATE_ID
    assert book.counters[Anomaly.RECALLED] == 0  # all of that without reading the journal


def test_an_order_waiting_for_our_cancels_answer_is_not_retired(engine: Engine,
                                                                broker: Broker) -> None:
    # The cancel crosses the fill at IB: the order is filled, and IB's "too late to
    # cancel" must still reach the strategy.
    e, book = engine, engine.book
    o = e.new(new_order(id="t1"))
    e.receive(broker.report(o, "0", "0"))
    c = e.cancel("alpha", "t1")
    e.receive(broker.report(o, "2", "2", last_qty=100, last_px="10"))
    assert o.status is S.FILLED and held(book) == [o]
    out = e.receive(broker.cancel_reject(o, c.cl_ord_id, o.cl_ord_id, reason="0",
                                         status="2"))
    (who, ev), = out
    assert who == "alpha" and isinstance(ev, CancelRejected) and ev.id == "t1"
    assert held(book) == [] and book.retired_status("alpha", "t1") is S.FILLED


def test_late_reports_for_a_retired_order_reach_its_strategy_once(
    engine: Engine, broker: Broker
) -> None:
    e, book = engine, engine.book
    o = e.new(new_order("alpha", "x", qty=100))
    e.receive(broker.report(o, "0", "0"))
    e.receive(broker.report(o, "1", "1", last_qty=60, last_px="10", exec_id="F1"))
    e.receive(broker.report(o, "2", "2", last_qty=40, last_px="11", exec_id="F2"))
    other = e.new(new_order("beta", "y", qty=5))
    assert held(book) == [other]

    def position() -> tuple[Decimal, Decimal]:
        p = book.position("U1234567", "AAPL")
        assert p is not None
        return p.qty, p.avg_px

    assert position() == (100, Decimal("10.4"))
    # The fill again, without PossDup: read back, recognised, dropped.
    assert e.receive(broker.report(o, "2", "2", last_qty=40, last_px="11",
                                   exec_id="F2")) == []
    assert position() == (100, Decimal("10.4"))
    assert book.counters[Anomaly.DUPLICATE_REPORT] == 1
    # An unsolicited cancel after the fill: the strategy hears it, nothing moves.
    who, ev = only(e.receive(broker.report(o, "4", "4", cl=None, exec_id="U1")))
    assert (who, ev.id, ev.exec_type, ev.status) == ("alpha", "x", ExecKind.CANCELED,
                                                      S.FILLED)
    assert ev.cum_qty == 100 and position() == (100, Decimal("10.4"))
    # A bust of F1: exact, as if F1 never happened; the order works again.
    who, ev = only(e.receive(broker.report(o, "0", "1", trans="1", exec_id="B1", ref="F1",
                                           cum=40)))
    assert (who, ev.id, ev.exec_type, ev.last_qty, ev.cum_qty) == (
        "alpha", "x", ExecKind.BUST, 60, 40)
    assert position() == (40, 11)
    back = book.order("alpha", "x")
    assert back is not None and back.status is S.PARTIALLY_FILLED and back in held(book)
    assert book.counters[Anomaly.RECALLED] == 3
    assert book.counters[Anomaly.HISTORY_EXCEEDED] == 0
    # Once it works again it is an ordinary live order.
    who, ev = only(e.receive(broker.report(back, "2", "2", last_qty=60, last_px="9")))
    assert (ev.cum_qty, ev.status) == (100, S.FILLED) and position() == (100, Decimal("9.8"))
    assert held(book) == [other]
    (total,) = [t for t in book.retired_totals() if t.strategy == "alpha"]
    assert (total.orders, total.filled, total.notional) == (1, 1, Decimal(980))


def test_a_correction_of_a_retired_order(engine: Engine, broker: Broker) -> None:
    e, book = engine, engine.book
    o = e.new(new_order(id="k", qty=10))
    e.receive(broker.report(o, "2", "2", last_qty=10, last_px="150", exec_id="F1"))
    assert held(book) == []
    who, ev = only(e.receive(broker.report(o, "2", "2", trans="2", exec_id="K1", ref="F1",
                                           last_qty=10, last_px="149.90")))
    assert (who, ev.exec_type, ev.cum_qty, ev.avg_px) == ("alpha", ExecKind.CORRECT, 10,
                                                          Decimal("149.90"))
    p = book.position("U1234567", "AAPL")
    assert p is not None and (p.qty, p.avg_px) == (10, Decimal("149.90"))
    assert held(book) == []
    state = book.status("alpha", "k")
    assert isinstance(state, OrderState) and state.avg_px == Decimal("149.90")


def test_status_of_a_finished_order_is_read_back(engine: Engine, broker: Broker) -> None:
    e, book = engine, engine.book
    o = e.new(new_order(id="v1", qty=100))
    e.receive(broker.report(o, "0", "0"))
    r = e.replace("alpha", "v1", "v2", qty=Decimal(150))
    e.receive(broker.report(o, "1", "1", last_qty=30, last_px="10"))
    e.receive(broker.report(o, "5", "1", cl=r.cl_ord_id, orig=r.orig_cl_ord_id))
    e.receive(broker.report(o, "2", "2", last_qty=120, last_px="12"))
    assert held(book) == []
    now = book.status("alpha", "v2")
    assert isinstance(now, OrderState)
    assert (now.status, now.qty, now.cum_qty, now.leaves_qty, now.cl_ord_id) == (
        S.FILLED, 150, 150, 0, r.cl_ord_id)
    assert now.avg_px == (30 * 10 + 120 * 12) / Decimal(150)
    then = book.status("alpha", "v1")  # as it stood when it was replaced
    assert isinstance(then, OrderState) and (then.status, then.qty, then.cum_qty) == (
        S.REPLACED, 100, 30)
    assert book.counters[Anomaly.RECALLED] == 2
    unknown = book.status("alpha", "nope")
    assert isinstance(unknown, RequestError) and unknown.code is ErrorCode.UNKNOWN_ORDER


def test_a_book_that_does_not_retire_keeps_everything(broker: Broker) -> None:
    from fixrouter.oms import MemoryIntentLog
    from fixrouter.store import MemoryStore

    store = MemoryStore(now=T0)
    book = OrderBook(retire=False)
    book.add_session("s1", "A", MemoryIntentLog())
    book.rebuild("s1", store)
    e = Engine(book, store)
    o = e.new(new_order(id="done"))
    e.receive(broker.report(o, "2", "2", last_qty=100, last_px="10"))
    assert held(book) == [o] and book.retired_ids == 0 and book.retired_totals() == []


def test_after_a_restart_a_finished_id_is_taken_and_a_late_bust_arrives(
    files: Files,
) -> None:
    broker = Broker()
    engine, _ = files.start()
    o = engine.new(new_order("alpha", "f1", qty=100))
    engine.receive(broker.report(o, "0", "0"))
    engine.receive(broker.report(o, "2", "2", last_qty=100, last_px="10", exec_id="F1"))
    w = engine.new(new_order("beta", "w1", qty=10))
    files.close()

    engine2, owed = files.start(now=T0 + 999)
    book = engine2.book
    assert owed == [] and held(book) == [book.order("beta", "w1")]
    assert book.retired_status("alpha", "f1") is S.FILLED
    dup = book.prepare_new(new_order("alpha", "f1"), T0 + 1000)
    assert isinstance(dup, RequestError) and dup.code is ErrorCode.DUPLICATE_ID
    who, ev = only(engine2.receive(broker.report(o, "0", "0", trans="1", exec_id="B1",
                                                 ref="F1", cum=0)))
    assert (who, ev.id, ev.exec_type, ev.last_qty, ev.cum_qty) == ("alpha", "f1",
                                                                    ExecKind.BUST, 100, 0)
    p = book.position("U1234567", "AAPL")
    assert p is not None and p.qty == 0
    assert book.counters[Anomaly.RECALLED] == 1
    assert w.cl_ord_id in {x.cl_ord_id for x in held(book)}
    files.close()
    engine3, _ = files.start(now=T0 + 2000)  # and the bust survives another restart
    p = engine3.book.position("U1234567", "AAPL")
    assert p is not None and p.qty == 0
    state = engine3.book.status("alpha", "f1")
    assert isinstance(state, OrderState) and (state.cum_qty, state.status) == (0, S.NEW)


@pytest.mark.parametrize("late", ["duplicate", "unsolicited_cancel"])
def test_after_a_restart_late_reports_are_not_double_counted(files: Files, late: str) -> None:
    broker = Broker()
    engine, _ = files.start()
    o = engine.new(new_order("alpha", "f1", qty=100))
    engine.receive(broker.report(o, "2", "2", last_qty=100, last_px="10", exec_id="F1"))
    files.close()
    engine2, _ = files.start(now=T0 + 999)
    if late == "duplicate":
        assert engine2.receive(broker.report(o, "2", "2", last_qty=100, last_px="10",
                                             exec_id="F1")) == []
    else:
        who, ev = only(engine2.receive(broker.report(o, "4", "4", cl=None, exec_id="C9")))
        assert (who, ev.status) == ("alpha", S.FILLED)
    p = engine2.book.position("U1234567", "AAPL")
    assert p is not None and p.qty == 100
    assert held(engine2.book) == []
    (total,) = engine2.book.retired_totals()
    assert (total.orders, total.notional) == (1, 1000)
