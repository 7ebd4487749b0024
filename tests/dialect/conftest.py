"""Shared fixtures: the real spec dictionary, a validator, dialects, and wire helpers."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from fixrouter.codec import Encoder, decode_frame, split_fields
from fixrouter.dialect import Dialect, DialectSettings
from fixrouter.dictionary import CompiledValidator, load_dictionary
from fixrouter.requests import NewOrder, OrderType, Side

SPEC = Path(__file__).resolve().parents[2] / "spec" / "fix42-ib.xml"
TT = b"20261124-10:22:16.120"  # a TransactTime as the session's clock would format it
TT_S = TT.decode()

VALIDATOR = CompiledValidator(load_dictionary(SPEC))
ENCODER = Encoder("FIXROUTER", "IB")


@pytest.fixture
def validator() -> CompiledValidator:
    return VALIDATOR


@pytest.fixture
def dialect() -> Dialect:
    """Default settings: no default account, TransactTime sent."""
    return Dialect(DialectSettings(), VALIDATOR)


@pytest.fixture
def make_dialect() -> Callable[..., Dialect]:
    def make(**settings: Any) -> Dialect:
        return Dialect(DialectSettings(**settings), VALIDATOR)

    return make


def order(**fields: Any) -> NewOrder:
    """A NewOrder with test defaults: buy 100 AAPL limit 190.25 DAY, account U1234567."""
    base: dict[str, Any] = {
        "strategy": "s1",
        "id": "o1",
        "symbol": "AAPL",
        "side": Side.BUY,
        "qty": Decimal(100),
        "type": OrderType.LIMIT,
        "price": Decimal("190.25"),
        "account": "U1234567",
    }
    base.update(fields)
    return NewOrder(**base)


def bar(body: bytes) -> str:
    """A body with SOH shown as `|`, for readable literals."""
    return body.replace(b"\x01", b"|").decode("ascii")


def fields_of(body: bytes) -> list[tuple[int, bytes]]:
    return split_fields(body)


def frame(msg_type: bytes, body: bytes, seq: int = 2) -> bytes:
    """A whole message around `body`, as the session would send it."""
    return ENCODER.encode(msg_type, seq, b"20261124-10:22:16.123", body)


def assert_valid(msg_type: bytes, body: bytes) -> None:
    """The body passes the dictionary's full outbound check, and survives the codec."""
    VALIDATOR.validate_outbound(msg_type, fields_of(body))
    message = decode_frame(frame(msg_type, body))
    assert message.msg_type == msg_type
    assert [f for f in message.fields if f[0] not in (8, 9, 35, 34, 49, 52, 56, 10)] == (
        fields_of(body)
    )
