"""oms/wire: messages built by the real IB dialect read back into the same order."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from fixrouter.codec import Encoder, decode_frame
from fixrouter.dialect import Dialect, DialectSettings, Terms
from fixrouter.dictionary import CompiledValidator, load_dictionary
from fixrouter.oms import Order, OrderBook
from fixrouter.oms.wire import new_order_from_fix
from fixrouter.requests import (
    Derivative,
    NewOrder,
    OrderType,
    PutOrCall,
    ReplaceOrder,
    SecurityType,
    Side,
    TimeInForce,
)
from fixrouter.store import MemoryStore

from .conftest import T0, Broker, Engine, ready_book

SPEC = Path(__file__).resolve().parents[2] / "spec" / "fix42-ib.xml"
TT = b"20231114-22:13:20.000"
ENCODER = Encoder("FIXR", "IB")


@pytest.fixture(scope="module")
def dialect() -> Dialect:
    return Dialect(DialectSettings(), CompiledValidator(load_dictionary(SPEC)))


ORDERS = [
    NewOrder("a", "1", "AAPL", Side.BUY, Decimal(100), OrderType.LIMIT, price=Decimal("190.25"),
             account="U1234567"),
    NewOrder("a", "2", "MSFT", Side.SHORT, Decimal(5), OrderType.STOP_LIMIT, TimeInForce.GTC,
             price=Decimal("300"), stop_price=Decimal("301.5"), account="U1234567"),
    NewOrder("a", "3", "SPY", Side.SELL, Decimal(1), OrderType.MOC, account="U7654321"),
    NewOrder("a", "4", "AAPL", Side.BUY, Decimal(2), OrderType.LIMIT, price=Decimal("1.5"),
             sec_type=SecurityType.OPT, account="U1234567",
             derivative=Derivative(maturity_month_year="202401", maturity_day="19",
                                   strike=Decimal("150"), put_or_call=PutOrCall.CALL,
                                   multiplier=Decimal(100))),
]


@pytest.mark.parametrize("req", ORDERS, ids=lambda r: r.id)
def test_dialect_new_order_reads_back(dialect: Dialect, req: NewOrder) -> None:
    body = dialect.new_order_body(req, "231114A-1", TT)
    msg = decode_frame(ENCODER.encode(b"D", 1, TT, body))
    back = new_order_from_fix(msg, req.strategy, req.id)
    for field in ("symbol", "side", "qty", "type", "tif", "price", "stop_price", "account",
                  "sec_type", "currency", "exchange"):
        assert getattr(back, field) == getattr(req, field), field
    if req.derivative is not None:
        assert back.derivative is not None
        for field in ("maturity_month_year", "maturity_day", "strike", "put_or_call"):
            assert getattr(back.derivative, field) == getattr(req.derivative, field)


def test_order_is_the_dialects_terms_after_a_replace(dialect: Dialect, engine: Engine,
                                                     broker: Broker) -> None:
    o = engine.new(ORDERS[0])
    engine.receive(broker.report(o, "0", "0"))
    r = engine.replace("a", "1", "1b", qty=Decimal(150))
    engine.receive(broker.report(o, "5", "0", cl=r.cl_ord_id, orig=r.orig_cl_ord_id))
    terms: Terms = o  # the order restates itself as it stands now
    body = dialect.cancel_body(terms, "231114A-9", o.cl_ord_id, TT, order_id=o.order_id)
    f = decode_frame(ENCODER.encode(b"F", 2, TT, body))
    assert (f[38], f[41], f[37]) == (b"150", o.cl_ord_id.encode(), o.order_id.encode())


def test_restart_from_dialect_built_messages(dialect: Dialect) -> None:
    store = MemoryStore(now=T0)
    book = ready_book(store=store)
    seq = 1
    for req in ORDERS:
        order = book.prepare_new(req, T0 + 1)
        assert isinstance(order, Order)
        store.save_outbound(seq, ENCODER.encode(b"D", seq, TT,
                                                dialect.new_order_body(req, order.cl_ord_id, TT)))
        seq += 1
    order = book.order("a", "1")
    assert order is not None
    change = ReplaceOrder("a", "1", "1b", price=Decimal("191"))
    intent = book.prepare_replace(change, T0 + 2)
    body = dialect.replace_body(order, change, intent.cl_ord_id,  # type: ignore[union-attr]
                                order.cl_ord_id, TT)
    store.save_outbound(seq, ENCODER.encode(b"G", seq, TT, body))

    rebuilt = OrderBook()
    rebuilt.add_session("s1", "A", book._sessions["s1"].intents)
    assert rebuilt.rebuild("s1", store) == []
    for req in ORDERS:
        got = rebuilt.order("a", req.id)
        assert got is not None
        assert (got.symbol, got.side, got.qty, got.price, got.type) == (
            req.symbol, req.side, req.qty, req.price, req.type)
    again = rebuilt.order("a", "1")
    assert again is not None and again.pending_replace is not None
    assert again.pending_replace.price == Decimal("191")
    assert again.pending_replace.new_id == "1b"
