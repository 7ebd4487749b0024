"""Order terms and the replace merge (`dialect/terms`)."""

from __future__ import annotations

from decimal import Decimal

from fixrouter.dialect import OrderTerms, Terms, merge_replace
from fixrouter.requests import (
    Derivative,
    OrderType,
    ReplaceOrder,
    SecurityType,
    Side,
    TimeInForce,
)

from .conftest import order


def _change(**fields: object) -> ReplaceOrder:
    return ReplaceOrder(strategy="s1", id="o1", new_id="o2", **fields)  # type: ignore[arg-type]


def test_terms_of_a_new_order_keep_every_term() -> None:
    new = order(sec_type=SecurityType.OPT, derivative=Derivative(local_symbol="X"),
                force_only_rth=True, what_if=False, tif=TimeInForce.GTD, expire_date="20261231")
    terms = OrderTerms.of(new)
    for name in OrderTerms.__dataclass_fields__:
        assert getattr(terms, name) == getattr(new, name), name


def test_a_new_order_is_terms() -> None:
    terms: Terms = order()  # NewOrder satisfies the protocol; mypy checks this line
    assert terms.symbol == "AAPL"


def test_merge_changes_only_given_fields() -> None:
    terms = OrderTerms.of(order(type=OrderType.STOP_LIMIT, stop_price=Decimal(180)))
    assert terms.replaced(_change()) == terms
    merged = terms.replaced(_change(qty=Decimal(300), stop_price=Decimal(181)))
    assert (merged.qty, merged.price, merged.stop_price) == (Decimal(300), Decimal("190.25"),
                                                             Decimal(181))
    assert (merged.symbol, merged.side, merged.account) == ("AAPL", Side.BUY, "U1234567")


def test_merge_from_a_new_order_gives_terms() -> None:
    merged = merge_replace(order(), _change(price=Decimal(1)))
    assert isinstance(merged, OrderTerms)
    assert merged.price == Decimal(1)


def test_leaving_gtd_drops_the_expiry_and_staying_keeps_it() -> None:
    gtd = OrderTerms.of(order(tif=TimeInForce.GTD, expire_time="20261231-20:00:00"))
    assert gtd.replaced(_change(qty=Decimal(1))).expire_time == "20261231-20:00:00"
    day = gtd.replaced(_change(tif=TimeInForce.DAY))
    assert (day.tif, day.expire_time, day.expire_date) == (TimeInForce.DAY, None, None)
