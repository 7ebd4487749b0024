"""The gate beside the real order book (`fixrouter.oms.OrderBook`), driven the way the
router will drive both: the book's `Order` satisfies the gate's protocols, and the gate's
sums follow the book through acks, fills, a replace, a cancel and a rebuild."""

from __future__ import annotations

import itertools
from decimal import Decimal as D

from fixrouter.codec import decode_frame, encode_fields
from fixrouter.codec.encoder import Field
from fixrouter.events import Execution
from fixrouter.oms import CancelIntent, MemoryIntentLog, Order, OrderBook, ReplaceIntent
from fixrouter.requests import CancelOrder, ReplaceOrder
from fixrouter.risk import OrderSource, RiskConfig, RiskGate
from fixrouter.store import MemoryStore

from .conftest import loose, order, records

T0 = 1_700_000_000.0
_exec_ids = itertools.count(1)


def report(order_: Order, exec_type: str, status: str, *, cl: str | None = None,
           last_qty: int = 0, last_px: str = "0", qty: D | None = None) -> list[Field]:
    fields: list[Field] = [
        (35, "8"), (49, "IB"), (56, "FIXR"), (34, 1), (52, "20231114-22:13:20.000"),
        (37, "OID1"), (17, f"E{next(_exec_ids)}"), (20, "0"), (150, exec_type), (39, status),
        (55, order_.req.symbol), (54, "1"), (38, qty if qty is not None else order_.qty),
        (32, D(last_qty)), (31, D(last_px)), (14, order_.cum_qty + D(last_qty)),
        (151, D(0)), (6, D(0)), (11, cl or order_.cl_ord_id),
    ]
    return fields


def apply(book: OrderBook, gate: RiskGate, order_: Order, fields: list[Field],
          now: float) -> None:
    """What the router does with an inbound report: the book first, then the gate."""
    events = book.on_message(decode_frame(encode_fields(fields)), "s1")
    kind = next((e.exec_type for _, e in events if isinstance(e, Execution)), None)
    gate.on_report(order_, now, kind)


def test_gate_follows_the_real_book() -> None:
    book = OrderBook()
    book.add_session("s1", "A", MemoryIntentLog())
    book.rebuild("s1", MemoryStore(now=T0))
    source: OrderSource = book  # the book satisfies the gate's protocol (checked by mypy)
    gate = RiskGate(RiskConfig.from_toml_table(loose(max_position=1000)))
    gate.rebuild(source)
    gate.rebuild_complete()
    gate.set_reference("AAPL", D(100))

    req = order("a1", qty=300, price="100")
    assert gate.check_new(req, "s1", T0) is None
    placed = book.prepare_new(req, T0, "s1")
    assert isinstance(placed, Order)
    book.sent(placed)
    inst = gate.exposure.instruments[("U1", "AAPL")]
    apply(book, gate, placed, report(placed, "0", "0"), T0)
    assert inst.open_qty[1] == D(300)

    apply(book, gate, placed, report(placed, "1", "1", last_qty=100, last_px="100.5"), T0)
    assert inst.position == D(100) and inst.open_qty[1] == D(200)
    assert gate.references.get("AAPL") == D("100.5")

    change = ReplaceOrder("s1", "a1", "a2", qty=D(500))
    assert gate.check_replace(change, "s1", T0) is None
    intent = book.prepare_replace(change, T0)
    assert isinstance(intent, ReplaceIntent)
    book.sent(intent)
    gate.on_report(placed, T0)
    assert inst.open_qty[1] == D(400)  # 500 - 100 counted while pending
    apply(book, gate, placed, report(placed, "5", "1", cl=intent.cl_ord_id, qty=D(500)), T0)
    assert placed.id == "a2" and inst.open_qty[1] == D(400)

    # The rebuilt gate of a restarted engine sees the same.
    fresh = RiskGate(RiskConfig.from_toml_table(loose(max_position=1000)))
    fresh.rebuild(book)
    fresh_inst = fresh.exposure.instruments[("U1", "AAPL")]
    assert (fresh_inst.position, fresh_inst.open_qty[1]) == (D(100), D(400))

    assert gate.check_cancel(CancelOrder("s1", "a2"), "s1", T0) is None
    cancel = book.prepare_cancel(CancelOrder("s1", "a2"), T0)
    assert isinstance(cancel, CancelIntent)
    book.sent(cancel)
    apply(book, gate, placed, report(placed, "4", "4", cl=cancel.cl_ord_id), T0)
    assert inst.open_qty[1] == D(0) and gate.exposure.accounts["U1"].open_count == 0
    assert inst.position == D(100)


def test_the_gate_follows_a_retiring_book_through_late_reports_and_a_restart() -> None:
    """Orders finish and leave both the book and the gate; a late duplicate fill, an
    unsolicited cancel after the fill and a bust reach the right strategy and move the
    gate's sums by exactly their own difference; a restart rebuilds the same sums."""
    from oms.conftest import Broker, Engine, new_order

    store = MemoryStore(now=T0)
    intents = MemoryIntentLog()
    book = OrderBook()
    book.add_session("s1", "A", intents)
    book.rebuild("s1", store)
    engine = Engine(book, store)
    broker = Broker()
    gate = RiskGate(RiskConfig.from_toml_table(loose()))
    gate.rebuild(book)
    gate.rebuild_complete()
    gate.set_reference("AAPL", D(10))

    def receive(frame: bytes) -> list[tuple[str, object]]:
        """The router's inbound path: the book, then the gate for each event's order."""
        events = engine.receive(frame)
        for strategy, event in events:
            if isinstance(event, Execution):
                found = book.order(strategy, event.id)
                if found is not None:
                    gate.on_report(found, T0, event.exec_type)
        return list(events)

    orders = []
    for n in range(3):
        req = new_order("alpha", f"f{n}", qty=100)
        assert gate.check_new(req, "s1", T0) is None
        orders.append(engine.new(req))
    for o in orders:
        receive(broker.report(o, "0", "0"))
        receive(broker.report(o, "2", "2", last_qty=100, last_px="10", exec_id=f"F-{o.id}"))
    inst = gate.exposure.instruments[("U1234567", "AAPL")]
    acct = gate.exposure.accounts["U1234567"]
    assert inst.position == D(300) and acct.filled_notional["USD"] == D(3000)
    book.retire_finished()
    assert list(book.orders()) == [] and records(gate._records) == {}  # nothing per order is left
    assert book.retired_ids == 3

    f0, f1, f2 = orders
    assert receive(broker.report(f0, "2", "2", last_qty=100, last_px="10",
                                 exec_id="F-f0")) == []  # a duplicate, read back and dropped
    (who, ev), = receive(broker.report(f1, "4", "4", cl=None, exec_id="U1"))
    assert who == "alpha" and isinstance(ev, Execution) and ev.id == "f1"
    assert ev.status.value == "filled"  # an unsolicited cancel after the fill changes nothing
    (who, ev), = receive(broker.report(f2, "0", "1", trans="1", exec_id="B1", ref="F-f2",
                                       cum=0))
    assert who == "alpha" and isinstance(ev, Execution) and ev.exec_type.value == "bust"
    assert inst.position == D(200) and acct.filled_notional["USD"] == D(2000)
    assert inst.open_qty[1] == D(100) and acct.open_count == 1  # f2 works again
    assert book.position("U1234567", "AAPL").qty == D(200)  # type: ignore[union-attr]

    restarted = OrderBook()
    restarted.add_session("s1", "A", intents)
    restarted.rebuild("s1", store)
    fresh = RiskGate(RiskConfig.from_toml_table(loose()))
    fresh.rebuild(restarted)
    fresh_inst = fresh.exposure.instruments[("U1234567", "AAPL")]
    fresh_acct = fresh.exposure.accounts["U1234567"]
    assert (fresh_inst.position, fresh_inst.open_qty[1]) == (D(200), D(100))
    assert fresh_acct.filled_notional["USD"] == D(2000)
    assert (fresh_acct.messages, fresh_acct.executions) == (3, 2)
    assert [o.id for o in restarted.orders()] == ["f2"]
