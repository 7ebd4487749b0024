"""`dialect/values`: the number memo serves only the very object that passed."""

from __future__ import annotations

from decimal import Decimal

import pytest

from fixrouter.dialect import values
from fixrouter.dialect.values import CACHE_LIMIT, price_bytes, qty_bytes
from fixrouter.errors import LocalProtocolError


def test_a_remembered_number_is_served_again_and_an_equal_one_keeps_its_spelling() -> None:
    price = Decimal("1.50")
    assert price_bytes("Price(44)", price) == b"1.50"
    assert price_bytes("Price(44)", price) == b"1.50"
    assert price_bytes("Price(44)", Decimal("1.5")) == b"1.5"
    qty = Decimal(100)
    assert qty_bytes("OrderQty(38)", qty) == qty_bytes("OrderQty(38)", qty) == b"100"
    assert qty_bytes("OrderQty(38)", Decimal("1E+2")) == b"100"
    assert qty_bytes("OrderQty(38)", Decimal("100.0")) == b"100.0"


def test_what_fails_is_never_remembered() -> None:
    for _ in range(2):
        with pytest.raises(LocalProtocolError):
            price_bytes("Price(44)", 1.5)  # type: ignore[arg-type]  # a float misprices
        with pytest.raises(LocalProtocolError):
            qty_bytes("OrderQty(38)", Decimal(0))
        with pytest.raises(LocalProtocolError):
            price_bytes("Price(44)", Decimal("NaN"))


def test_the_memo_stays_bounded_and_right_past_its_limit() -> None:
    numbers = [Decimal(i) / 4 for i in range(1, CACHE_LIMIT * 2)]
    for number in numbers:
        assert price_bytes("Price(44)", number) == str(number).encode()
    assert all(price_bytes("Price(44)", n) == str(n).encode() for n in numbers[:10])
    assert 0 < len(values._PRICE_WIRE) <= CACHE_LIMIT
