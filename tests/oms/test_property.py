"""Property: random report streams keep the book's invariants, retirement changes nothing a
strategy or the risk gate can observe, and a replay reproduces both books.

A random script of requests and broker behaviour (acks, partial fills that may over-fill,
PossDup resends, cancels and replaces answered or refused, unsolicited cancels, busts,
corrections, status reports, late reports for finished orders) is run through two
`Engine`s at once: one over a book that keeps every order (`retire=False`, the
reference) and one over the engine's retiring book, each with its own journal and
intent log. After every step:

* on the reference: 0 <= CumQty <= OrderQty, LeavesQty = OrderQty - CumQty while
  working, 0 once done; each order's CumQty, and each position, equals the sum of the
  fills the events said were applied (fills, minus busts, with corrections replacing
  quantities); the open-order set is exactly the working orders;
* both books returned the same events, hold the same positions (quantity, average
  price, realized P&L), the same working orders, and answer `status` for every id ever
  used the same way (the retiring book reads finished ones back from its journal);
* the retiring book holds only unfinished orders, and its totals of retired orders
  equal the reference's sums over its finished orders.

At the end a fresh book of each kind rebuilt from its own journal and intent log must be
identical to it.
"""

from __future__ import annotations

from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fixrouter.events import ExecKind, Execution, OrderStatus
from fixrouter.oms import MemoryIntentLog, Order, OrderBook
from fixrouter.requests import Side
from fixrouter.store import MemoryStore

from .conftest import T0, Broker, Engine, new_order
from .test_recovery import snapshot

ACTIONS = ["new", "ack", "fill", "fill", "fill", "resend", "cancel", "replace", "answer",
           "unsolicited", "bust", "correct", "status"]


class Model:
    """What the events said: applied fills per ExecID (signed), busts and corrections."""

    def __init__(self) -> None:
        self.fills: dict[str, tuple[Order, Decimal]] = {}  # exec id -> (order, qty)
        self.alias: dict[str, str] = {}

    def apply(self, order: Order, ev: Execution, ref: str | None) -> None:
        if ev.exec_type in (ExecKind.PARTIAL, ExecKind.FILL):
            # even a fill capped to 0 by the over-fill guard: a correction may revive it
            self.fills[ev.exec_id] = (order, ev.last_qty)
            return
        if ref is None:
            return
        key = self.alias.get(ref, ref)
        if key not in self.fills or self.fills[key][0] is not order:
            return  # the book must refuse it: no standing fill of this order
        if ev.exec_type is ExecKind.BUST:
            del self.fills[key]
        elif ev.exec_type is ExecKind.CORRECT:
            self.fills[key] = (order, ev.last_qty)
            self.alias[ev.exec_id] = key

    def cum(self, order: Order) -> Decimal:
        return sum((q for o, q in self.fills.values() if o is order), Decimal(0))

    def position(self) -> Decimal:
        sign = {Side.BUY: 1, Side.SELL: -1, Side.SHORT: -1}
        return sum((q * sign[o.req.side] for o, q in self.fills.values()), Decimal(0))


def make(retire: bool) -> tuple[OrderBook, Engine, MemoryIntentLog]:
    store = MemoryStore(now=T0)
    intents = MemoryIntentLog()
    book = OrderBook(retire=retire)
    book.add_session("s1", "A", intents)
    book.rebuild("s1", store)
    return book, Engine(book, store), intents


def rebuilt(engine: Engine, intents: MemoryIntentLog, retire: bool) -> OrderBook:
    book = OrderBook(retire=retire)
    book.add_session("s1", "A", intents)
    assert book.rebuild("s1", engine.store) == []
    return book


def totals(book: OrderBook) -> dict[tuple[object, ...], tuple[int, int, Decimal]]:
    return {(t.strategy, t.account, t.symbol, t.instrument, t.currency, t.multiplier):
            (t.orders, t.filled, t.notional) for t in book.retired_totals()}


def finished_sums(book: OrderBook) -> dict[tuple[object, ...], tuple[int, int, Decimal]]:
    """The reference book's sums over its finished orders (orphans included)."""
    out: dict[tuple[object, ...], tuple[int, int, Decimal]] = {}
    for o in book.orders():
        if o.finished:
            key = (o.strategy, o.req.account or "", o.req.symbol, o.req.symbol,
                   o.req.currency, None)
            n, f, notional = out.get(key, (0, 0, Decimal(0)))
            out[key] = (n + 1, f + (1 if o.cum_qty else 0), notional + o.notional)
    return out


def observed(book: OrderBook, ids: set[tuple[str, str]]) -> dict[str, object]:
    return {
        "positions": sorted((p.account, p.instrument, p.qty, p.avg_px, p.realized_pnl)
                            for p in book.positions()),
        "working": {s: sorted(book.working_orders(s), key=lambda w: w.id)
                    for s in ("alpha", "beta")},
        "status": {key: book.status(*key) for key in sorted(ids)},
        "open": sorted(o.cl_ord_id for o in book.open_orders()),
    }


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_random_report_streams(data: st.DataObject) -> None:
    book, engine, intents = make(retire=False)
    rbook, rengine, rintents = make(retire=True)
    broker = Broker()
    model = Model()
    orders: list[Order] = []
    sent: list[bytes] = []
    trade_ids: list[str] = []
    ids: set[tuple[str, str]] = set()

    def receive(order: Order, frame: bytes, ref: str | None = None) -> None:
        sent.append(frame)
        out = engine.receive(frame)
        assert rengine.receive(frame) == out
        for _, ev in out:
            if isinstance(ev, Execution):
                model.apply(order, ev, ref)

    for step in range(data.draw(st.integers(1, 40))):
        action = data.draw(st.sampled_from(ACTIONS))
        if action == "new" or not orders:
            side = data.draw(st.sampled_from(list(Side)))
            strategy = data.draw(st.sampled_from(["alpha", "beta"]))
            qty = data.draw(st.integers(1, 100))
            req = new_order(strategy, f"n{step}", qty=qty, side=side)
            orders.append(engine.new(req))
            assert rengine.new(req).cl_ord_id == orders[-1].cl_ord_id
            ids.add((strategy, req.id))
            continue
        o = data.draw(st.sampled_from(orders))
        if action == "ack":
            receive(o, broker.report(o, "0", "0"))
        elif action == "fill":
            qty = data.draw(st.integers(1, int(o.qty) + 5))  # may over-fill
            px = data.draw(st.sampled_from(["9.5", "10", "10.25"]))
            exec_id = broker.exec_id()
            trade_ids.append(exec_id)
            full = o.cum_qty + qty >= o.qty
            receive(o, broker.report(o, "2" if full else "1", "2" if full else "1",
                                     last_qty=qty, last_px=px, exec_id=exec_id))
        elif action == "resend" and sent:
            receive(o, data.draw(st.sampled_from(sent)))
        elif action == "cancel" and o.is_working and o.pending_cancel is None:
            assert rengine.cancel(o.strategy, o.id).cl_ord_id == \
                engine.cancel(o.strategy, o.id).cl_ord_id
        elif action == "replace" and o.is_working and not (o.pending_cancel
                                                           or o.pending_replace):
            assert rengine.replace(o.strategy, o.id, f"r{step}", qty=o.qty + 1).cl_ord_id == \
                engine.replace(o.strategy, o.id, f"r{step}", qty=o.qty + 1).cl_ord_id
            ids.add((o.strategy, f"r{step}"))
        elif action == "answer":
            pc, pr = o.pending_cancel, o.pending_replace
            accept = data.draw(st.booleans())
            if pc is not None:
                receive(o, broker.report(o, "4", "4", cl=pc.cl_ord_id, orig=pc.orig_cl_ord_id)
                        if accept else broker.cancel_reject(o, pc.cl_ord_id, pc.orig_cl_ord_id))
            elif pr is not None:
                receive(o, broker.report(o, "5", "0", cl=pr.cl_ord_id, orig=pr.orig_cl_ord_id)
                        if accept else broker.cancel_reject(o, pr.cl_ord_id, pr.orig_cl_ord_id,
                                                            response_to="2"))
        elif action == "unsolicited":
            receive(o, broker.report(o, "4", "4", cl=None))
        elif action in ("bust", "correct") and trade_ids:
            ref = data.draw(st.sampled_from(trade_ids))
            exec_id = broker.exec_id()
            if action == "bust":
                receive(o, broker.report(o, "0", "1", trans="1", exec_id=exec_id, ref=ref), ref)
            else:
                qty = data.draw(st.integers(0, 20))
                trade_ids.append(exec_id)
                receive(o, broker.report(o, "1", "1", trans="2", exec_id=exec_id, ref=ref,
                                         last_qty=qty, last_px="10"), ref)
        elif action == "status":
            receive(o, broker.report(o, "1", "1", trans="3"))

        for order in orders:
            assert 0 <= order.cum_qty <= order.qty
            if order.is_working:
                assert order.leaves_qty == order.qty - order.cum_qty
                assert order in book.open_orders()
            else:
                assert order.leaves_qty == 0 and order not in book.open_orders()
            assert order.cum_qty == model.cum(order)
        position = book.position("U1234567", "AAPL")
        assert (position.qty if position else 0) == model.position()

        assert observed(rbook, ids) == observed(book, ids)
        rbook.retire_finished()  # what the book's next call would do first
        assert all(not o.finished for o in rbook.orders())
        assert len(list(rbook.orders())) == sum(1 for o in book.orders() if not o.finished)
        assert totals(rbook) == finished_sums(book)

    for retire, (b, e, i) in ((False, (book, engine, intents)), (True, (rbook, rengine, rintents))):
        again = rebuilt(e, i, retire)
        assert snapshot(again) == snapshot(b)
        assert observed(again, ids) == observed(book, ids)
        if retire:
            assert totals(again) == finished_sums(book)
    assert all(o.status in OrderStatus for o in rbook.orders())
