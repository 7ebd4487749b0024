"""Properties over random orders (`dialect/builder`, `dialect/values`).

1. Any valid NewOrder builds a body that decodes, through the codec, to exactly the fields
   an independent model of the CTCI mapping expects, and passes `validate_outbound`.
2. Any order at all (hostile strings, odd decimals) either builds a body that passes
   `validate_outbound`, or is refused with `LocalProtocolError`: never an invalid body,
   never another exception.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fixrouter.codec import decode_frame
from fixrouter.dialect import Dialect, DialectSettings
from fixrouter.errors import LocalProtocolError
from fixrouter.requests import (
    Capacity,
    Derivative,
    NewOrder,
    OpenClose,
    OrderType,
    PutOrCall,
    SecurityType,
    Side,
    TimeInForce,
)

from .conftest import TT, VALIDATOR, fields_of, frame

DIALECT = Dialect(DialectSettings(), VALIDATOR)

PRINTABLE = st.characters(min_codepoint=0x20, max_codepoint=0x7E)
text = st.text(PRINTABLE, min_size=1, max_size=64)
positive = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal(10**9), places=4)
prices = st.decimals(min_value=Decimal(-10**6), max_value=Decimal(10**7), places=6)
dates = st.dates(min_value=__import__("datetime").date(2000, 1, 1))
times = st.datetimes(min_value=__import__("datetime").datetime(2000, 1, 1))

# The mapping, written out again independently of `dialect.tables`.
SIDE = {Side.BUY: b"1", Side.SELL: b"2", Side.SHORT: b"5"}
TYPE = {OrderType.MARKET: b"1", OrderType.LIMIT: b"2", OrderType.STOP: b"3",
        OrderType.STOP_LIMIT: b"4", OrderType.MOC: b"5", OrderType.LOC: b"B"}
TIF = {TimeInForce.DAY: b"0", TimeInForce.GTC: b"1", TimeInForce.OPG: b"2",
       TimeInForce.IOC: b"3", TimeInForce.FOK: b"4", TimeInForce.GTD: b"6"}
NEEDS_PRICE = {OrderType.LIMIT, OrderType.STOP_LIMIT, OrderType.LOC}
NEEDS_STOP = {OrderType.STOP, OrderType.STOP_LIMIT}


@st.composite
def derivatives(draw: st.DrawFn, sec_type: SecurityType) -> Derivative | None:
    must_name = sec_type in (SecurityType.OPT, SecurityType.FOP, SecurityType.FUT)
    if not must_name and draw(st.booleans()):
        return None
    maybe = st.booleans()
    return Derivative(
        maturity_month_year=draw(dates.map(lambda d: d.strftime("%Y%m"))) if draw(maybe)
        else None,
        maturity_day=draw(st.integers(1, 31).map(lambda d: f"{d:02d}")) if draw(maybe)
        else None,
        strike=draw(positive) if draw(maybe) else None,
        put_or_call=draw(st.sampled_from(PutOrCall)) if draw(maybe) else None,
        multiplier=draw(positive) if draw(maybe) else None,
        # An option or future must name its contract; LocalSymbol always does.
        local_symbol=draw(text) if must_name or draw(maybe) else None,
        trading_class=draw(text) if draw(maybe) else None,
        security_exchange=draw(text) if draw(maybe) else None,
    )


@st.composite
def valid_orders(draw: st.DrawFn) -> NewOrder:
    order_type = draw(st.sampled_from(OrderType))
    tif = draw(st.sampled_from(TimeInForce))
    expire: dict[str, Any] = {}
    if tif is TimeInForce.GTD:
        if draw(st.booleans()):
            stamp = draw(times)
            expire["expire_time"] = stamp.strftime("%Y%m%d-%H:%M:%S") + draw(
                st.sampled_from(["", f".{stamp.microsecond // 1000:03d}"]))
        else:
            expire["expire_date"] = draw(dates).strftime("%Y%m%d")
    sec_type = draw(st.sampled_from(SecurityType))
    return NewOrder(
        strategy="s",
        id="o",
        symbol=draw(text),
        side=draw(st.sampled_from(Side)),
        qty=draw(positive),
        type=order_type,
        tif=tif,
        price=draw(prices) if order_type in NEEDS_PRICE else None,
        stop_price=draw(prices) if order_type in NEEDS_STOP else None,
        account=draw(st.none() | st.text(PRINTABLE, min_size=1, max_size=32)),
        sec_type=sec_type,
        currency=draw(st.text(st.characters(min_codepoint=65, max_codepoint=90), min_size=3,
                              max_size=3)),
        exchange=draw(text),
        derivative=draw(derivatives(sec_type)),
        capacity=draw(st.none() | st.sampled_from(Capacity)),
        open_close=draw(st.none() | st.sampled_from(OpenClose)),
        force_only_rth=draw(st.booleans()),
        what_if=draw(st.booleans()),
        **expire,
    )


def _plain(value: Decimal) -> bytes:
    return format(value, "f").encode()


def expected_fields(order: NewOrder, cl_ord_id: str) -> dict[int, bytes]:
    want: dict[int, bytes] = {
        11: cl_ord_id.encode(), 21: b"2", 55: order.symbol.encode(),
        167: order.sec_type.value.encode(), 54: SIDE[order.side], 38: _plain(order.qty),
        40: TYPE[order.type], 59: TIF[order.tif], 60: TT, 100: order.exchange.encode(),
        15: order.currency.encode(),
    }
    if order.account is not None:
        want[1] = order.account.encode()
    if order.price is not None:
        want[44] = _plain(order.price)
    if order.stop_price is not None:
        want[99] = _plain(order.stop_price)
    if order.expire_time is not None:
        want[126] = order.expire_time.encode()
    if order.expire_date is not None:
        want[432] = order.expire_date.encode()
    d = order.derivative
    if d is not None:
        for tag, value in ((200, d.maturity_month_year), (205, d.maturity_day),
                           (6035, d.local_symbol), (6058, d.trading_class),
                           (207, d.security_exchange)):
            if value is not None:
                want[tag] = value.encode()
        if d.strike is not None:
            want[202] = _plain(d.strike)
        if d.multiplier is not None:
            want[231] = _plain(d.multiplier)
        if d.put_or_call is not None:
            want[201] = b"1" if d.put_or_call is PutOrCall.CALL else b"0"
    if order.capacity is not None:
        want[204] = b"1" if order.capacity is Capacity.FIRM else b"0"
    if order.open_close is not None:
        want[77] = b"O" if order.open_close is OpenClose.OPEN else b"C"
    if order.force_only_rth:
        want[6205] = b"1"
    if order.what_if:
        want[6091] = b"1"
    return want


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(order=valid_orders(), cl_ord_id=st.text(PRINTABLE, min_size=1, max_size=64))
def test_valid_orders_decode_to_the_expected_fields(order: NewOrder, cl_ord_id: str) -> None:
    body = DIALECT.new_order_body(order, cl_ord_id, TT)
    VALIDATOR.validate_outbound(b"D", fields_of(body))
    message = decode_frame(frame(b"D", body))
    fields = [(tag, value) for tag, value in message.fields
              if tag not in (8, 9, 10, 34, 35, 49, 52, 56)]
    got = dict(fields)
    assert len(got) == len(fields)  # no tag twice
    want = expected_fields(order, cl_ord_id)
    # A Decimal's str() and format "f" may differ in form (never in value) only when
    # str() uses an exponent; the dialect then falls back to "f", so bytes must match.
    assert got == want


hostile_text = st.text(max_size=70) | st.sampled_from(["", "A\x01B", "\x7f", "é", "X" * 65])
any_decimal = st.decimals(allow_nan=True, allow_infinity=True) | st.sampled_from(
    [Decimal(0), Decimal("-0"), Decimal("1E+3"), Decimal("1e-30"), Decimal("sNaN")])


@settings(max_examples=600, suppress_health_check=[HealthCheck.too_slow])
@given(
    order=valid_orders(),
    symbol=st.none() | hostile_text,
    account=st.none() | hostile_text,
    exchange=st.none() | hostile_text,
    currency=st.none() | hostile_text,
    qty=st.none() | any_decimal,
    price=st.none() | any_decimal,
    cl_ord_id=hostile_text,
)
def test_anything_is_either_valid_or_a_local_error(
    order: NewOrder, symbol: str | None, account: str | None, exchange: str | None,
    currency: str | None, qty: Decimal | None, price: Decimal | None, cl_ord_id: str,
) -> None:
    changes: dict[str, Any] = {}
    for name, value in (("symbol", symbol), ("account", account), ("exchange", exchange),
                        ("currency", currency), ("qty", qty), ("price", price)):
        if value is not None:
            changes[name] = value
    hostile = order._replace(**changes)
    try:
        body = DIALECT.new_order_body(hostile, cl_ord_id, TT)
    except LocalProtocolError:
        return
    VALIDATOR.validate_outbound(b"D", fields_of(body))
    assert decode_frame(frame(b"D", body)).msg_type == b"D"
