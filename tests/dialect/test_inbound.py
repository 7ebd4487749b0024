"""Side(54) as IB reports it (`dialect/inbound`)."""

from __future__ import annotations

from fixrouter.dialect import SIDE_FROM_WIRE, decode_side
from fixrouter.dialect.tables import SIDES
from fixrouter.requests import Side

from .conftest import VALIDATOR


def test_round_trip_of_what_we_send() -> None:
    for side, wire in SIDES.items():
        assert decode_side(wire) is side


def test_every_fix42_side_decodes() -> None:
    assert set(VALIDATOR.dictionary.fields[54].values) == {
        w.decode() for w in SIDE_FROM_WIRE
    }
    assert decode_side(b"6") is Side.SHORT
    assert decode_side(b"3") is Side.BUY
    assert decode_side(b"4") is Side.SELL
    assert decode_side(b"7") is None
    assert decode_side(b"") is None
