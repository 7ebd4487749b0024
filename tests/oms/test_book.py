"""oms/book: identifiers, chains, duplicates, isolation, refusals, queries."""

from __future__ import annotations

import gc
import sys
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
    OrderState,
    OrderStatus,
    RequestError,
)
from fixrouter.oms import (
    CancelIntent,
    MemoryIntentLog,
    OmsError,
    Order,
    OrderBook,
    ReplaceIntent,
)
from fixrouter.requests import CancelOrder, ReplaceOrder
from fixrouter.store import MemoryStore

from .conftest import DAY, T0, Broker, Engine, new_order, ready_book

S = OrderStatus


def error(result: object) -> ErrorCode:
    assert isinstance(result, RequestError), result
    return result.code


def test_prepare_new_allocates_and_records_intent() -> None:
    log = MemoryIntentLog()
    book = ready_book(log)
    order = book.prepare_new(new_order(id="o1"), T0)
    assert isinstance(order, Order)
    assert order.cl_ord_id == f"{DAY}A-1" and order.status is S.PENDING_NEW
    assert order.session == "s1"
    assert book.sent(order) == Accepted("o1", f"{DAY}A-1")
    (intent,) = log.records()
    assert (intent.cl_ord_id, intent.strategy, intent.id) == (order.cl_ord_id, "alpha", "o1")
    assert list(book.open_orders()) == [order]


def test_not_ready_until_every_session_is_rebuilt() -> None:
    book = OrderBook()
    book.add_session("s1", "A", MemoryIntentLog())
    book.add_session("s2", "B", MemoryIntentLog())
    assert error(book.prepare_new(new_order(), T0)) is ErrorCode.ENGINE_UNAVAILABLE
    book.rebuild("s1", MemoryStore(now=T0))
    assert not book.ready
    assert error(book.prepare_cancel(CancelOrder("alpha", "o1"), T0)) is (
        ErrorCode.ENGINE_UNAVAILABLE)
    book.rebuild("s2", MemoryStore(now=T0))
    assert book.ready
    with pytest.raises(OmsError):
        book.rebuild("s2", MemoryStore(now=T0))
    with pytest.raises(OmsError):
        book.add_session("s3", "B", MemoryIntentLog())  # prefix taken


def test_sessions_carry_their_orders() -> None:
    book = OrderBook()
    book.add_session("s1", "A", MemoryIntentLog())
    book.add_session("s2", "B", MemoryIntentLog())
    for name in ("s1", "s2"):
        book.rebuild(name, MemoryStore(now=T0))
    a = book.prepare_new(new_order(id="a"), T0)
    b = book.prepare_new(new_order(id="b"), T0, "s2")
    assert isinstance(a, Order) and isinstance(b, Order)
    assert (a.session, b.session) == ("s1", "s2")
    assert a.cl_ord_id == f"{DAY}A-1" and b.cl_ord_id == f"{DAY}B-1"
    cancel = book.prepare_cancel(CancelOrder("alpha", "b"), T0)
    assert isinstance(cancel, CancelIntent) and cancel.session == "s2"  # the order's session
    assert cancel.cl_ord_id == f"{DAY}B-2"
    assert error(book.prepare_new(new_order(id="c"), T0, "nope")) is ErrorCode.BAD_VALUE


def test_duplicate_id_is_refused(book: OrderBook) -> None:
    assert isinstance(book.prepare_new(new_order(id="o1"), T0), Order)
    assert error(book.prepare_new(new_order(id="o1"), T0)) is ErrorCode.DUPLICATE_ID
    # the same id from another strategy is that strategy's own business
    assert isinstance(book.prepare_new(new_order(strategy="beta", id="o1"), T0), Order)


def test_duplicate_id_refused_even_when_the_first_is_done(engine: Engine, broker: Broker) -> None:
    o = engine.new(new_order(id="o1"))
    engine.receive(broker.report(o, "8", "8", text="no"))
    assert o.status is S.REJECTED
    assert error(engine.book.prepare_new(new_order(id="o1"), T0)) is ErrorCode.DUPLICATE_ID


def test_isolation_between_strategies(engine: Engine, broker: Broker) -> None:
    a = engine.new(new_order(strategy="alpha", id="x"))
    b = engine.new(new_order(strategy="beta", id="y"))
    book = engine.book
    # beta cannot see, cancel or replace alpha's order: it is simply unknown to beta
    for result in (book.prepare_cancel(CancelOrder("beta", "x"), T0),
                   book.prepare_replace(ReplaceOrder("beta", "x", "x2", qty=Decimal(5)), T0),
                   book.status("beta", "x")):
        assert isinstance(result, RequestError)
        assert result.code is ErrorCode.UNKNOWN_ORDER and "alpha" not in result.reason
    assert [s.id for s in book.working_orders("alpha")] == ["x"]
    assert [s.id for s in book.working_orders("beta")] == ["y"]
    # reports go to the owner only
    (who, ev), = engine.receive(broker.report(a, "0", "0"))
    assert who == "alpha" and isinstance(ev, Execution) and ev.id == "x"
    (who, ev), = engine.receive(broker.report(b, "0", "0"))
    assert who == "beta"


def test_cancel_chain_uses_current_cl_ord_id(engine: Engine, broker: Broker) -> None:
    o = engine.new(new_order(id="o1"))
    engine.receive(broker.report(o, "0", "0"))
    c = engine.cancel("alpha", "o1")
    assert c.orig_cl_ord_id == o.cl_ord_id and c.cl_ord_id != o.cl_ord_id
    assert error(engine.book.prepare_cancel(CancelOrder("alpha", "o1"), T0)) is (
        ErrorCode.ORDER_NOT_WORKING)  # one cancel at a time
    (_who, ev), = engine.receive(broker.report(o, "4", "4", cl=c.cl_ord_id, orig=o.cl_ord_id))
    assert isinstance(ev, Execution) and ev.exec_type is ExecKind.CANCELED and ev.id == "o1"
    assert error(engine.book.prepare_cancel(CancelOrder("alpha", "o1"), T0)) is (
        ErrorCode.ORDER_NOT_WORKING)


def test_replace_chain_orig_is_the_previous_cl_ord_id(engine: Engine, broker: Broker) -> None:
    o = engine.new(new_order(id="v1", qty=100, price="10"))
    cl1 = o.cl_ord_id
    engine.receive(broker.report(o, "0", "0"))
    r1 = engine.replace("alpha", "v1", "v2", price=Decimal("10.5"))
    assert (r1.orig_cl_ord_id, r1.qty, r1.price) == (cl1, 100, Decimal("10.5"))
    assert o.status is S.PENDING_REPLACE
    pending = engine.book.status("alpha", "v2")
    assert isinstance(pending, OrderState) and pending.status is S.PENDING_REPLACE
    (_who, ev), = engine.receive(broker.report(o, "5", "0", cl=r1.cl_ord_id, orig=cl1))
    assert isinstance(ev, Execution) and ev.id == "v2" and ev.exec_type is ExecKind.REPLACED
    assert (o.id, o.cl_ord_id, o.price, o.status) == ("v2", r1.cl_ord_id, Decimal("10.5"), S.NEW)
    r2 = engine.replace("alpha", "v2", "v3", qty=Decimal(200))
    assert r2.orig_cl_ord_id == r1.cl_ord_id  # the previous one, not the first
    engine.receive(broker.report(o, "5", "0", cl=r2.cl_ord_id, orig=r1.cl_ord_id))
    c = engine.cancel("alpha", "v3")
    assert c.orig_cl_ord_id == r2.cl_ord_id
    # the old ids tell the truth and can no longer be acted on
    old = engine.book.status("alpha", "v1")
    assert isinstance(old, OrderState) and old.status is S.REPLACED and old.cl_ord_id == cl1
    assert error(engine.book.prepare_cancel(CancelOrder("alpha", "v1"), T0)) is (
        ErrorCode.ORDER_NOT_WORKING)
    assert error(engine.book.prepare_new(new_order(id="v2"), T0)) is ErrorCode.DUPLICATE_ID
    assert [s.id for s in engine.book.working_orders("alpha")] == ["v3"]


def test_fills_across_a_replace_accumulate(engine: Engine, broker: Broker) -> None:
    o = engine.new(new_order(id="v1", qty=100))
    engine.receive(broker.report(o, "0", "0"))
    engine.receive(broker.report(o, "1", "1", last_qty=30, last_px="10"))
    r = engine.replace("alpha", "v1", "v2", qty=Decimal(50))
    engine.receive(broker.report(o, "1", "1", last_qty=10, last_px="10"))  # on the old id
    assert o.status is S.PENDING_REPLACE and o.cum_qty == 40
    engine.receive(broker.report(o, "5", "1", cl=r.cl_ord_id, orig=r.orig_cl_ord_id))
    assert o.status is S.PARTIALLY_FILLED and o.leaves_qty == 10
    (_who, ev), = engine.receive(broker.report(o, "2", "2", last_qty=10, last_px="10"))
    assert isinstance(ev, Execution) and ev.id == "v2" and ev.status is S.FILLED
    assert ev.cum_qty == 50


def test_replace_refusals(engine: Engine, broker: Broker) -> None:
    book = engine.book
    o = engine.new(new_order(id="o1", qty=100))
    engine.new(new_order(id="other"))
    engine.receive(broker.report(o, "0", "0"))
    engine.receive(broker.report(o, "1", "1", last_qty=60, last_px="10"))

    def replace(**kw: object) -> object:
        return book.prepare_replace(ReplaceOrder("alpha", "o1", **kw), T0)  # type: ignore[arg-type]

    assert error(replace(new_id="other", qty=Decimal(200))) is ErrorCode.DUPLICATE_ID
    assert error(replace(new_id="o1", qty=Decimal(200))) is ErrorCode.DUPLICATE_ID
    assert error(replace(new_id="o2", qty=Decimal(60))) is ErrorCode.BAD_VALUE  # <= filled
    assert error(replace(new_id="o2")) is ErrorCode.BAD_VALUE  # changes nothing
    assert error(book.prepare_replace(ReplaceOrder("alpha", "zz", "o2", qty=Decimal(1)),
                                      T0)) is ErrorCode.UNKNOWN_ORDER
    assert isinstance(replace(new_id="o2", qty=Decimal(200)), ReplaceIntent)
    assert error(replace(new_id="o3", qty=Decimal(300))) is ErrorCode.ORDER_NOT_WORKING
    engine.receive(broker.report(o, "2", "2", last_qty=40, last_px="10"))  # filled meanwhile
    assert o.status is S.FILLED


def test_replace_of_filled_order_is_refused_locally(engine: Engine, broker: Broker) -> None:
    o = engine.new(new_order(id="o1", qty=100))
    engine.receive(broker.report(o, "2", "2", last_qty=100, last_px="10"))
    sent_before = engine.store.next_sender_seq
    result = engine.book.prepare_replace(ReplaceOrder("alpha", "o1", "o2", qty=Decimal(200)),
                                         T0)
    assert error(result) is ErrorCode.ORDER_NOT_WORKING
    assert "filled" in result.reason  # type: ignore[union-attr]
    assert engine.store.next_sender_seq == sent_before
    assert error(engine.book.prepare_cancel(CancelOrder("alpha", "o1"), T0)) is (
        ErrorCode.ORDER_NOT_WORKING)


def test_replace_rejected_by_broker(engine: Engine, broker: Broker) -> None:
    o = engine.new(new_order(id="o1"))
    engine.receive(broker.report(o, "0", "0"))
    r = engine.replace("alpha", "o1", "o2", price=Decimal("11"))
    out = engine.receive(broker.cancel_reject(o, r.cl_ord_id, o.cl_ord_id, response_to="2",
                                              text="Price too far"))
    (_who, ev), = out
    assert isinstance(ev, CancelRejected) and ev.id == "o1" and "Price too far" in ev.reason
    assert o.status is S.NEW and o.price == 10 and o.id == "o1"
    refused = engine.book.status("alpha", "o2")
    assert isinstance(refused, OrderState) and refused.status is S.REJECTED
    # a resent (duplicate) reject is stale, not a second event
    assert engine.receive(broker.cancel_reject(o, r.cl_ord_id, o.cl_ord_id)) == []


def test_replace_refused_with_an_execution_report(engine: Engine, broker: Broker) -> None:
    # Some venues refuse a replace with 150=8 on the replace's ClOrdID: not an order reject.
    o = engine.new(new_order(id="o1"))
    engine.receive(broker.report(o, "0", "0"))
    r = engine.replace("alpha", "o1", "o2", price=Decimal("11"))
    (_who, ev), = engine.receive(broker.report(o, "8", "0", cl=r.cl_ord_id, orig=o.cl_ord_id,
                                              text="no"))
    assert isinstance(ev, CancelRejected) and o.status is S.NEW


def test_cancel_rejected_too_late(engine: Engine, broker: Broker) -> None:
    o = engine.new(new_order(id="o1"))
    engine.receive(broker.report(o, "0", "0"))
    c = engine.cancel("alpha", "o1")
    engine.receive(broker.report(o, "2", "2", last_qty=100, last_px="10"))
    assert o.status is S.FILLED
    (_who, ev), = engine.receive(broker.cancel_reject(o, c.cl_ord_id, o.cl_ord_id, reason="0",
                                                     status="2"))
    assert isinstance(ev, CancelRejected) and ev.reason == "too late to cancel"
    assert o.status is S.FILLED and o.pending_cancel is None
    assert engine.book.counters.total() == 0


def test_cancel_while_replace_pending(engine: Engine, broker: Broker) -> None:
    o = engine.new(new_order(id="o1"))
    engine.receive(broker.report(o, "0", "0"))
    r = engine.replace("alpha", "o1", "o2", price=Decimal("11"))
    c = engine.cancel("alpha", "o2")  # by the pending new id: same order
    assert c.orig_cl_ord_id == o.cl_ord_id  # the last one the broker accepted
    assert o.status is S.PENDING_CANCEL
    engine.receive(broker.cancel_reject(o, r.cl_ord_id, o.cl_ord_id, response_to="2"))
    assert o.status is S.PENDING_CANCEL
    engine.receive(broker.report(o, "4", "4", cl=c.cl_ord_id, orig=o.cl_ord_id))
    assert o.status is S.CANCELED


def test_send_failed(book: OrderBook) -> None:
    o = book.prepare_new(new_order(id="o1"), T0)
    assert isinstance(o, Order)
    (who, ev), = book.send_failed(o, "journal full")
    assert who == "alpha" and isinstance(ev, Denied) and "journal full" in ev.reason
    assert o.status is S.REJECTED and o not in book.open_orders()
    o2 = book.prepare_new(new_order(id="o2"), T0)
    assert isinstance(o2, Order)
    c = book.prepare_cancel(CancelOrder("alpha", "o2"), T0)
    assert isinstance(c, CancelIntent) and o2.status is S.PENDING_CANCEL
    (who, ev), = book.send_failed(c, "disconnected")
    assert isinstance(ev, CancelRejected) and o2.status is S.PENDING_NEW
    r = book.prepare_replace(ReplaceOrder("alpha", "o2", "o3", qty=Decimal(7)), T0)
    assert isinstance(r, ReplaceIntent)
    (who, ev), = book.send_failed(r, "disconnected")
    assert isinstance(ev, CancelRejected) and o2.status is S.PENDING_NEW and o2.qty == 100


def test_intent_log_failure_refuses_the_order() -> None:
    log = MemoryIntentLog()
    book = ready_book(log)
    log.fail = True
    assert error(book.prepare_new(new_order(id="o1"), T0)) is ErrorCode.ENGINE_UNAVAILABLE
    assert not list(book.open_orders())
    log.fail = False
    assert isinstance(book.prepare_new(new_order(id="o1"), T0), Order)  # id still free


def test_an_unforeseen_intent_log_error_gives_the_id_back() -> None:
    class Broken:
        """A memory log whose write fails with something other than IntentLogError."""

        def __init__(self) -> None:
            self.inner = MemoryIntentLog()
            self.broken = True

        def write(self, line: bytes) -> None:
            if self.broken:
                raise RuntimeError("bug")
            self.inner.write(line)

        def __getattr__(self, name: str) -> Any:
            return getattr(self.inner, name)

    log = Broken()
    book = ready_book(log)  # type: ignore[arg-type]
    with pytest.raises(RuntimeError):
        book.prepare_new(new_order(id="o1"), T0)
    assert not book.id_used("alpha", "o1") and not list(book.open_orders())
    log.broken = False
    assert isinstance(book.prepare_new(new_order(id="o1"), T0), Order)  # id still free


def test_refused_new_orders_leave_the_id_as_it_was(engine: Engine, broker: Broker) -> None:
    # prepare_new claims the id before its checks and gives it back on each refusal.
    e, book = engine, engine.book
    done = e.new(new_order(id="done"))
    e.receive(broker.report(done, "2", "2", last_qty=100, last_px="10"))
    live = e.new(new_order(id="live"))
    assert error(book.prepare_new(new_order(id="done"), T0)) is ErrorCode.DUPLICATE_ID
    assert book.order("alpha", "done") is None  # still retired, not a live order
    assert book.retired_status("alpha", "done") is S.FILLED
    assert error(book.prepare_new(new_order(id="done"), T0)) is ErrorCode.DUPLICATE_ID
    assert error(book.prepare_new(new_order(id="live"), T0)) is ErrorCode.DUPLICATE_ID
    assert book.order("alpha", "live") is live  # the duplicate did not displace it
    assert error(book.prepare_new(new_order(id="n1"), T0, "nope")) is ErrorCode.BAD_VALUE
    assert book.order("alpha", "n1") is None and not book.id_used("alpha", "n1")
    # (An intent log that cannot be written: test_intent_log_failure_refuses_the_order.)
    n1 = book.prepare_new(new_order(id="n1"), T0)
    assert isinstance(n1, Order) and book.order("alpha", "n1") is n1
    assert n1.cl_ord_id and book.order_by_cl_ord_id(n1.cl_ord_id) is n1
    assert list(book.open_orders()) == [live, n1]


def test_open_orders_follow_each_orders_working_life(engine: Engine, broker: Broker) -> None:
    e, book = engine, engine.book
    a, b, c = (e.new(new_order(id=i)) for i in ("a", "b", "c"))
    assert list(book.open_orders()) == [a, b, c] and len(book.open_orders()) == 3
    e.receive(broker.report(b, "2", "2", last_qty=100, last_px="10", exec_id="F1"))
    assert list(book.open_orders()) == [a, c] and b not in book.open_orders()
    e.receive(broker.report(a, "0", "0"))
    ca = e.cancel("alpha", "a")
    assert list(book.open_orders()) == [a, c]  # pending cancel: still working
    e.receive(broker.report(a, "4", "4", cl=ca.cl_ord_id, orig=a.cl_ord_id))
    d = e.new(new_order(id="d"))
    assert list(book.open_orders()) == [c, d]
    # A bust of b's retired fill reads b back from the journal: working again, last.
    e.receive(broker.report(b, "0", "1", trans="1", exec_id="B1", ref="F1", cum=0))
    back = book.order("alpha", "b")
    assert back is not None and back.is_working
    assert [o.id for o in book.open_orders()] == ["c", "d", "b"] and back in book.open_orders()
    assert [s.id for s in book.working_orders("alpha")] == ["c", "d", "b"]


def test_orders_that_stop_working_leave_no_cycles_for_the_collector(
    engine: Engine, broker: Broker
) -> None:
    # Working orders are linked to one another (`OpenOrders`); an order that stops
    # working is unlinked, so once retired it is freed by reference counting alone.
    gc.collect()
    gc.disable()
    try:
        for i in range(20):
            o = engine.new(new_order(id=f"g{i}"))
            engine.receive(broker.report(o, "2", "2", last_qty=100, last_px="10"))
        del o
        engine.book.retire_finished()
        assert not list(engine.book.open_orders()) and engine.book.retired_ids == 20
        assert gc.collect() == 0
    finally:
        gc.enable()


def test_status_queries(engine: Engine, broker: Broker) -> None:
    book = engine.book
    o = engine.new(new_order(id="o1", qty=100, price="10"))
    engine.receive(broker.report(o, "1", "1", last_qty=25, last_px="10"))
    st = book.status("alpha", "o1")
    assert st == OrderState("o1", o.cl_ord_id, "AAPL", "buy", S.PARTIALLY_FILLED,
                            Decimal(100), Decimal(25), Decimal(75), Decimal(10), Decimal(10))
    assert error(book.status("alpha", "nope")) is ErrorCode.UNKNOWN_ORDER
    assert error(book.status("nobody", "o1")) is ErrorCode.UNKNOWN_ORDER
    assert book.order("alpha", "o1") is o and book.order("beta", "o1") is None
    assert book.order_by_cl_ord_id(o.cl_ord_id) is o


def test_a_strategys_id_map_keeps_each_entrys_hash() -> None:
    # The per-strategy id maps hold every working order: built in the dict layout that
    # stores each key's hash (a probe's collision then reads no key object), which is
    # larger than the str-only layout for the same keys.
    book = ready_book()
    for i in range(200):
        assert isinstance(book.prepare_new(new_order(id=f"o{i}"), T0), Order)
    ids = book._ids["alpha"]
    plain = {f"o{i}": None for i in range(200)}
    assert list(ids) == list(plain)
    assert sys.getsizeof(ids) > sys.getsizeof(plain)
