"""Every body shape the dialect can build is valid: for our dictionary and for QuickFIX's.

The dialect proves a shape with the dictionary's full check the first time it occurs and
from then on checks only values (`dialect/builder`). These tests show that no shape it can
produce would fail that first check, in three ways:

1. Structurally: in every layout, each tag is allowed in that message and appears once,
   and each tag the dictionary requires is always written. `validate_outbound` checks
   exactly allowed tags, no repeats and required tags (plus values), so every subset the
   presence bits can select passes the shape part of it.
2. By enumeration: the cross product of every option of the typed requests (order type,
   time in force and both GTD forms, account, capacity, open/close, RTH, WhatIf, every
   subset of the contract fields, both TransactTime settings, OrderID) is built and each
   body checked with `validate_outbound`.
3. Independently: one whole message of every distinct shape is validated by QuickFIX's
   own `DataDictionary` loaded from the same `spec/fix42-ib.xml` (skipped without quickfix).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from fixrouter.dialect import LAYOUTS, Dialect, DialectSettings, OrderTerms
from fixrouter.requests import (
    Capacity,
    Derivative,
    NewOrder,
    OpenClose,
    OrderType,
    PutOrCall,
    ReplaceOrder,
    SecurityType,
    TimeInForce,
)

from .conftest import SPEC, TT, VALIDATOR, fields_of, frame, order

PRICES: dict[OrderType, dict[str, Any]] = {
    OrderType.MARKET: {},
    OrderType.LIMIT: {"price": Decimal("10.5")},
    OrderType.STOP: {"stop_price": Decimal("9")},
    OrderType.STOP_LIMIT: {"price": Decimal("10.5"), "stop_price": Decimal("9.5")},
    OrderType.MOC: {},
    OrderType.LOC: {"price": Decimal("10")},
}
TIF_FORMS: list[dict[str, Any]] = [
    {"tif": tif} for tif in TimeInForce if tif is not TimeInForce.GTD
] + [
    {"tif": TimeInForce.GTD, "expire_time": "20261201-21:00:00"},
    {"tif": TimeInForce.GTD, "expire_date": "20261201"},
]
CONTRACT_FIELDS: dict[str, Any] = {
    "maturity_month_year": "202612",
    "maturity_day": "18",
    "put_or_call": PutOrCall.CALL,
    "strike": Decimal("200"),
    "multiplier": Decimal(100),
    "security_exchange": "CBOE",
    "local_symbol": "AAPL  261218C00200000",
    "trading_class": "AAPL",
}
# Every subset of the contract fields, on a warrant (IB asks no contract minimum of it),
# plus the minimal and full forms on options and futures.
INSTRUMENTS: list[dict[str, Any]] = [
    {"sec_type": SecurityType.STK},
    {"sec_type": SecurityType.CS},
    *(
        {"sec_type": SecurityType.WAR,
         "derivative": Derivative(**{name: CONTRACT_FIELDS[name] for name in subset})}
        for size in range(len(CONTRACT_FIELDS) + 1)
        for subset in itertools.combinations(CONTRACT_FIELDS, size)
    ),
    {"sec_type": SecurityType.OPT, "derivative": Derivative(**CONTRACT_FIELDS)},
    {"sec_type": SecurityType.OPT, "derivative": Derivative(local_symbol="X")},
    {"sec_type": SecurityType.FOP, "derivative": Derivative(
        maturity_month_year="202612", strike=Decimal(1), put_or_call=PutOrCall.PUT)},
    {"sec_type": SecurityType.FUT, "derivative": Derivative(maturity_month_year="202612")},
]
OPTIONS_OF_NOTE: list[dict[str, Any]] = [
    {"account": account, "capacity": capacity, "open_close": open_close,
     "force_only_rth": rth, "what_if": what_if}
    for account in (None, "U1")
    for capacity in (None, *Capacity)
    for open_close in (None, *OpenClose)
    for rth in (False, True)
    for what_if in (False, True)
]


def _orders() -> Iterator[NewOrder]:
    """The cross product, thinned where dimensions are independent of each other.

    Order type x TIF x options is full; the 256+ instrument variants run against a
    rotating choice of the others, which still sets every bit in every combination
    with every instrument, since the instrument bits are disjoint from the rest.
    """
    core = [
        {"type": order_type, "price": None, **PRICES[order_type], **tif, **options}
        for order_type in OrderType
        for tif in TIF_FORMS
        for options in OPTIONS_OF_NOTE
    ]
    for fields in core:
        yield order(**fields)
    for i, instrument in enumerate(INSTRUMENTS):
        for fields in core[i % 7 :: 97]:
            yield order(**{**fields, **instrument})


DIALECTS = [
    Dialect(DialectSettings(), VALIDATOR),
    Dialect(DialectSettings(send_transact_time=False), VALIDATOR),
]


def test_layouts_are_sound() -> None:
    dictionary = VALIDATOR.dictionary
    for msg_type, layout in LAYOUTS.items():
        spec = dictionary.message(msg_type)
        assert spec is not None
        tags = [tag for tag, _ in layout]
        assert len(tags) == len(set(tags)), msg_type
        assert set(tags) <= spec.body.tags, msg_type
        assert not set(tags) & set(spec.body.groups), msg_type
        always = {tag for tag, bit in layout if bit == 0}
        assert spec.body.required <= always, (msg_type, spec.body.required - always)


def _check_all(bodies: Iterator[tuple[bytes, bytes]]) -> dict[tuple[bytes, tuple[int, ...]], bytes]:
    """validate_outbound every body; return one body per distinct (type, tag list)."""
    shapes: dict[tuple[bytes, tuple[int, ...]], bytes] = {}
    count = 0
    for msg_type, body in bodies:
        fields = fields_of(body)
        VALIDATOR.validate_outbound(msg_type, fields)
        shapes.setdefault((msg_type, tuple(tag for tag, _ in fields)), body)
        count += 1
    assert count > 0
    return shapes


def _all_bodies() -> Iterator[tuple[bytes, bytes]]:
    for dialect in DIALECTS:
        for i, new in enumerate(_orders()):
            yield b"D", dialect.new_order_body(new, f"C{i}", TT)
            if new.what_if:
                continue  # a WhatIf order is never placed, so never cancelled or replaced
            terms = OrderTerms.of(new)
            order_id = "IB1" if i % 2 else None
            yield b"F", dialect.cancel_body(terms, f"X{i}", f"C{i}", TT, order_id=order_id)
            yield b"H", dialect.status_body(f"C{i}", terms if i % 3 else None,
                                            order_id=order_id)
            for change in _changes(new):
                yield b"G", dialect.replace_body(terms, change, f"R{i}", f"C{i}", TT,
                                                 order_id=order_id)
    yield b"H", DIALECTS[0].status_body()


def _changes(new: NewOrder) -> Iterator[ReplaceOrder]:
    yield ReplaceOrder("s1", "o1", "o2", qty=Decimal(7))
    if new.price is not None:
        yield ReplaceOrder("s1", "o1", "o2", price=Decimal("11"))
    if new.stop_price is not None:
        yield ReplaceOrder("s1", "o1", "o2", stop_price=Decimal("8"))
    if new.tif is TimeInForce.GTD:
        yield ReplaceOrder("s1", "o1", "o2", tif=TimeInForce.DAY)
    else:
        yield ReplaceOrder("s1", "o1", "o2", tif=TimeInForce.GTC)


@pytest.fixture(scope="module")
def shapes() -> dict[tuple[bytes, tuple[int, ...]], bytes]:
    return _check_all(_all_bodies())


def test_every_reachable_shape_passes_validate_outbound(
    shapes: dict[tuple[bytes, tuple[int, ...]], bytes],
) -> None:
    kinds = {msg_type for msg_type, _ in shapes}
    assert kinds == {b"D", b"F", b"G", b"H"}
    # Every tag of every layout was exercised by some body.
    for msg_type, layout in LAYOUTS.items():
        seen = {tag for (kind, tags) in shapes if kind == msg_type for tag in tags}
        assert seen == {tag for tag, _ in layout}, msg_type
    # And the dialect's own record of proved shapes is exactly what was built.
    proven = {
        (msg_type, tags)
        for dialect in DIALECTS
        for msg_type, shape_list in dialect.proven_shapes().items()
        for tags in shape_list
    }
    assert proven == set(shapes)


def test_every_shape_passes_quickfix(shapes: dict[tuple[bytes, tuple[int, ...]], bytes]) -> None:
    fix = pytest.importorskip("quickfix")
    dd = fix.DataDictionary(str(SPEC))
    for (msg_type, _tags), body in shapes.items():
        raw = frame(msg_type, body).decode("ascii")
        dd.validate(fix.Message(raw, dd, True))


def test_quickfix_agrees_a_bad_body_is_bad() -> None:
    """The QuickFIX check above can fail: it rejects what our dictionary rejects."""
    fix = pytest.importorskip("quickfix")
    dd = fix.DataDictionary(str(SPEC))
    body = DIALECTS[0].new_order_body(order(), "C1", TT)
    bad = body.replace(b"\x0140=2\x01", b"\x0140=Z\x01")
    with pytest.raises(fix.IncorrectTagValue):
        dd.validate(fix.Message(frame(b"D", bad).decode("ascii"), dd, True))
