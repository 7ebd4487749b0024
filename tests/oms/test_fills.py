"""oms/book: fills applied once, over-fill guard, busts, corrections, unsolicited reports."""

from __future__ import annotations

import logging
from decimal import Decimal

import pytest

from fixrouter.events import ExecKind, Execution, OrderStatus
from fixrouter.oms import ORPHAN, Anomaly, Order

from .conftest import Broker, Engine, frame, new_order

S = OrderStatus


def execution(out: list[tuple[str, object]]) -> Execution:
    (_, ev), = out
    assert isinstance(ev, Execution)
    return ev


def position(engine: Engine, symbol: str = "AAPL") -> tuple[Decimal, Decimal, Decimal]:
    p = engine.book.position("U1234567", symbol)
    assert p is not None
    return p.qty, p.avg_px, p.realized_pnl


def test_possdup_resend_applies_a_fill_once(engine: Engine, broker: Broker) -> None:
    o = engine.new(new_order(qty=100))
    ack = broker.report(o, "0", "0", exec_id="A1")
    fill = broker.report(o, "1", "1", last_qty=40, last_px="10", exec_id="F1")
    engine.receive(ack)
    engine.receive(fill)
    # IB's recovery resends both with PossDup (same ExecIDs, new sequence numbers)
    assert engine.receive(broker.report(o, "0", "0", exec_id="A1", possdup=True)) == []
    assert engine.receive(broker.report(o, "1", "1", last_qty=40, last_px="10",
                                        exec_id="F1", possdup=True)) == []
    assert o.cum_qty == 40 and position(engine)[0] == 40
    assert engine.book.counters[Anomaly.DUPLICATE_REPORT] == 2


def test_acks_sharing_an_exec_id_are_not_mistaken_for_duplicates(
    engine: Engine, broker: Broker
) -> None:
    # A broker that numbers non-trade reports loosely (ExecID 0) still gets each applied.
    o = engine.new(new_order(qty=100))
    engine.receive(broker.report(o, "0", "0", exec_id="0"))
    c = engine.cancel("alpha", "o1")
    engine.receive(broker.report(o, "6", "6", cl=c.cl_ord_id, orig=o.cl_ord_id, exec_id="0"))
    engine.receive(broker.report(o, "4", "4", cl=c.cl_ord_id, orig=o.cl_ord_id, exec_id="0"))
    assert o.status is S.CANCELED


def test_over_fill_is_capped_logged_and_counted(
    engine: Engine, broker: Broker, caplog: pytest.LogCaptureFixture
) -> None:
    o = engine.new(new_order(qty=100))
    engine.receive(broker.report(o, "1", "1", last_qty=80, last_px="10"))
    with caplog.at_level(logging.ERROR, logger="fixrouter.oms"):
        ev = execution(engine.receive(broker.report(o, "2", "2", last_qty=50, last_px="10")))
    assert "over-fill" in caplog.text
    assert ev.last_qty == 20 and ev.cum_qty == 100 and ev.leaves_qty == 0
    assert o.cum_qty == 100 and position(engine)[0] == 100
    ev = execution(engine.receive(broker.report(o, "2", "2", last_qty=5, last_px="10")))
    assert ev.last_qty == 0 and o.cum_qty == 100
    assert engine.book.counters[Anomaly.OVERFILL] == 2


def test_positions_average_price_reduce_and_flip(engine: Engine, broker: Broker) -> None:
    from fixrouter.requests import Side

    b1 = engine.new(new_order(id="b1", qty=100))
    engine.receive(broker.report(b1, "2", "2", last_qty=100, last_px="10"))
    b2 = engine.new(new_order(id="b2", qty=100))
    engine.receive(broker.report(b2, "2", "2", last_qty=100, last_px="12"))
    assert position(engine) == (200, 11, 0)
    s1 = engine.new(new_order(id="s1", qty=50, side=Side.SELL))
    engine.receive(broker.report(s1, "2", "2", last_qty=50, last_px="13"))
    assert position(engine) == (150, 11, 100)  # reduce: average kept, (13-11)*50 realized
    s2 = engine.new(new_order(id="s2", qty=200, side=Side.SHORT))
    engine.receive(broker.report(s2, "2", "2", last_qty=200, last_px="9"))
    assert position(engine) == (-50, 9, 100 - 300)  # flip: 150 closed at 9, 50 short at 9
    b3 = engine.new(new_order(id="b3", qty=50))
    engine.receive(broker.report(b3, "2", "2", last_qty=50, last_px="8"))
    assert position(engine) == (0, 0, -200 + 50)  # short covered 1 lower
    other = engine.new(new_order(id="m", symbol="MSFT", qty=1))
    engine.receive(broker.report(other, "2", "2", last_qty=1, last_px="300"))
    assert position(engine, "MSFT") == (1, 300, 0)
    assert {p.instrument for p in engine.book.positions()} == {"AAPL", "MSFT"}


def test_bust_reverses_the_fill(engine: Engine, broker: Broker) -> None:
    o = engine.new(new_order(qty=200))
    engine.receive(broker.report(o, "1", "1", last_qty=100, last_px="10", exec_id="F1"))
    engine.receive(broker.report(o, "2", "2", last_qty=100, last_px="12", exec_id="F2"))
    assert o.status is S.FILLED and position(engine) == (200, 11, 0)
    ev = execution(engine.receive(broker.report(o, "0", "1", trans="1", exec_id="B1",
                                                ref="F2", cum=100)))
    assert ev.exec_type is ExecKind.BUST and ev.last_qty == 100 and ev.last_px == 12
    # The filled order had been retired: the bust read it back from the journal.
    assert engine.book.counters[Anomaly.RECALLED] == 1
    back = engine.book.order("alpha", "o1")
    assert back is not None
    o = back
    assert o.cum_qty == 100 and o.avg_px == 10 and o.status is S.PARTIALLY_FILLED
    assert position(engine) == (100, 10, 0)  # as if F2 never happened, not a sale at 12
    assert o in engine.book.open_orders()
    # busting it again, or busting an unknown ExecID, changes nothing and is counted
    engine.receive(broker.report(o, "0", "1", trans="1", exec_id="B2", ref="F2"))
    engine.receive(broker.report(o, "0", "1", trans="1", exec_id="B3", ref="nope"))
    assert o.cum_qty == 100 and engine.book.counters[Anomaly.UNKNOWN_EXEC_REF] == 2


def test_correction_replaces_qty_and_price(engine: Engine, broker: Broker) -> None:
    o = engine.new(new_order(qty=200))
    engine.receive(broker.report(o, "1", "1", last_qty=100, last_px="10", exec_id="F1"))
    engine.receive(broker.report(o, "1", "1", last_qty=50, last_px="11", exec_id="F2"))
    ev = execution(engine.receive(broker.report(o, "1", "1", trans="2", exec_id="K1",
                                                ref="F1", last_qty=80, last_px="10.5")))
    assert ev.exec_type is ExecKind.CORRECT and (ev.last_qty, ev.last_px) == (80, Decimal("10.5"))
    assert o.cum_qty == 130
    assert o.avg_px == (80 * Decimal("10.5") + 50 * 11) / 130
    assert position(engine)[0] == 130
    # a later bust may name the correction's ExecID
    engine.receive(broker.report(o, "1", "1", trans="1", exec_id="B1", ref="K1"))
    assert o.cum_qty == 50 and position(engine) == (50, 11, 0)


def test_status_report_does_not_double_count(engine: Engine, broker: Broker) -> None:
    o = engine.new(new_order(qty=100))
    engine.receive(broker.report(o, "1", "1", last_qty=40, last_px="10"))
    ev = execution(engine.receive(broker.report(o, "1", "1", trans="3", last_qty=40,
                                                last_px="10", cum=40)))
    assert ev.exec_type is ExecKind.STATUS and ev.last_qty == 0
    assert o.cum_qty == 40 and position(engine)[0] == 40
    engine.receive(broker.report(o, "1", "1", trans="3", cum=70))
    assert engine.book.counters[Anomaly.CUM_QTY_MISMATCH] == 1
    engine.receive(broker.report(o, "4", "4", trans="3", cum=40))
    assert o.status is S.CANCELED  # the broker's terminal word is adopted


def test_unsolicited_cancel_found_by_order_id(engine: Engine, broker: Broker) -> None:
    o = engine.new(new_order(qty=100))
    engine.receive(broker.report(o, "0", "0"))  # teaches the book the OrderID
    ev = execution(engine.receive(broker.report(o, "4", "4", cl=None,
                                                text="Canceled: outside RTH")))
    assert ev.exec_type is ExecKind.CANCELED and ev.id == "o1"
    assert ev.reason == "Canceled: outside RTH"
    assert o.status is S.CANCELED and o not in engine.book.open_orders()


def test_report_for_an_unknown_order_is_adopted_as_orphan(
    engine: Engine, broker: Broker, caplog: pytest.LogCaptureFixture
) -> None:
    stranger = Order(new_order(strategy="?", id="?"), "s1", "ELSEWHERE-1")
    with caplog.at_level(logging.WARNING, logger="fixrouter.oms"):
        out = engine.receive(broker.report(stranger, "0", "0", cl=None, order_id="IB-9"))
    assert "unknown order" in caplog.text
    (who, ev), = out
    assert who == ORPHAN and isinstance(ev, Execution) and ev.order_id == "IB-9"
    orphan = next(iter(engine.book.open_orders()))
    assert orphan.strategy == ORPHAN and orphan.order_id == "IB-9"
    engine.receive(broker.report(stranger, "1", "1", cl=None, order_id="IB-9", last_qty=10,
                                 last_px="5"))
    assert orphan.cum_qty == 10 and position(engine)[0] == 10  # its fill is real
    engine.receive(broker.report(stranger, "4", "4", cl=None, order_id="IB-9"))
    assert not list(engine.book.open_orders())
    assert engine.book.counters[Anomaly.UNKNOWN_ORDER_REPORT] == 1
    assert engine.book.working_orders(ORPHAN) == []


def test_unusable_reports_are_counted_not_raised(engine: Engine, broker: Broker) -> None:
    o = engine.new(new_order())
    book = engine.book
    assert engine.receive(frame("8", [(37, "X"), (150, "0"), (39, "0")])) == []  # no ExecID
    assert engine.receive(frame("8", [(37, "X"), (17, "Z"), (20, "7"), (150, "0")])) == []
    bad_qty = broker.report(o, "1", "1", last_qty=1).replace(b"\x0132=1\x01", b"\x0132=x\x01")
    from fixrouter.codec import decode_frame, encode_fields, split_fields

    fields = [(t, v) for t, v in split_fields(bad_qty) if t not in (8, 9, 10)]
    assert engine.book.on_message(decode_frame(encode_fields(fields))) == []
    nobody = frame("8", [(17, "Q"), (20, "0"), (150, "0"), (39, "0")])  # no ids at all
    assert engine.receive(nobody) == []
    assert book.counters[Anomaly.BAD_REPORT] == 3
    assert o.cum_qty == 0
    assert engine.receive(frame("B", [(148, "news")])) == []  # other types are ignored


def test_a_partial_fill_event_carries_each_field_by_name(engine: Engine, broker: Broker) -> None:
    # Every field a different value, so a field put in another's place cannot pass.
    o = engine.new(new_order(qty=100))
    engine.receive(broker.report(o, "0", "0", exec_id="A1"))
    engine.receive(broker.report(o, "1", "1", last_qty=40, last_px="10", exec_id="F1"))
    ev = execution(engine.receive(broker.report(o, "1", "1", last_qty=20, last_px="13",
                                                exec_id="F2")))
    assert ev._asdict() == {
        "id": o.id, "exec_type": ExecKind.PARTIAL, "status": S.PARTIALLY_FILLED,
        "last_qty": Decimal(20), "last_px": Decimal(13), "cum_qty": Decimal(60),
        "leaves_qty": Decimal(40), "avg_px": Decimal(11), "exec_id": "F2",
        "order_id": o.order_id, "reason": None,
    }  # fmt: skip
    assert o.order_id
