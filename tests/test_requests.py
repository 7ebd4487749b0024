"""`requests`: the compiled `new_order` builds the very value `NewOrder(...)` builds."""

from __future__ import annotations

import copy
import pickle
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fixrouter import COMPILED_MODULES
from fixrouter.requests import (
    Capacity,
    Derivative,
    NewOrder,
    OpenClose,
    OrderType,
    SecurityType,
    Side,
    TimeInForce,
    new_order,
)

maybe_text = st.none() | st.text(max_size=8)
maybe_decimal = st.none() | st.decimals(allow_nan=False, places=3)


@given(
    fields=st.tuples(
        st.text(max_size=8), st.text(max_size=8), st.text(max_size=8), st.sampled_from(Side),
        st.decimals(allow_nan=False), st.sampled_from(OrderType), st.sampled_from(TimeInForce),
        maybe_decimal, maybe_decimal, maybe_text, st.sampled_from(SecurityType),
        st.text(max_size=3), st.text(max_size=8), maybe_text, maybe_text,
        st.none() | st.builds(Derivative, strike=maybe_decimal),
        st.none() | st.sampled_from(Capacity), st.none() | st.sampled_from(OpenClose),
        st.booleans(), st.booleans(), st.integers(0, 2**63),
    )
)
def test_new_order_is_the_named_tuple_with_the_same_fields(fields: tuple[object, ...]) -> None:
    built = new_order(*fields)
    assert type(built) is NewOrder
    assert built == NewOrder(*fields)
    assert built._fields == NewOrder._fields
    assert list(built._asdict().values()) == list(fields)
    assert built.received_ns == fields[-1] and built.symbol == fields[2]


def test_new_order_with_the_defaults_equals_the_short_form() -> None:
    short = NewOrder("s", "o", "AAPL", Side.BUY, Decimal(1), OrderType.MARKET)
    full = new_order("s", "o", "AAPL", Side.BUY, Decimal(1), OrderType.MARKET,
                     TimeInForce.DAY, None, None, None, SecurityType.STK, "USD", "SMART",
                     None, None, None, None, None, False, False, 0)  # fmt: skip
    assert full == short and repr(full) == repr(short)


def test_new_order_copies_and_pickles_to_an_equal_value() -> None:
    """As the NamedTuple did: `copy` and `pickle` rebuild it from its fields. (Without a
    `Derivative`: the compiled frozen dataclass cannot be copied or pickled, before and
    after `NewOrder` stopped being a tuple.)"""
    req = NewOrder("s", "o", "AAPL", Side.SELL, Decimal("1.5"), OrderType.LIMIT,
                   price=Decimal("190.25"), account="U1", received_ns=7)
    for again in (copy.copy(req), copy.deepcopy(req), pickle.loads(pickle.dumps(req))):
        assert type(again) is NewOrder and again == req and repr(again) == repr(req)


def test_new_order_is_immutable_and_equal_by_value() -> None:
    req = NewOrder("s", "o", "AAPL", Side.BUY, Decimal(1), OrderType.MARKET)
    same = req._replace()
    assert same == req and hash(same) == hash(req)
    assert (same != req) is False  # __ne__ is __eq__'s negation
    assert req._replace(id="p") != req and req != ("s", "o")
    with pytest.raises(ValueError, match="unexpected field names"):
        req._replace(quantity=Decimal(2))
    if "fixrouter.requests" in COMPILED_MODULES:  # interpreted, `Final` is only for mypy
        with pytest.raises(AttributeError):
            req.qty = Decimal(2)  # type: ignore[misc]
