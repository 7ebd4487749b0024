"""The request parser, without sockets: every rule of spec sections 3 and 4."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import orjson
import pytest

from fixrouter.events import ErrorCode, RequestError
from fixrouter.gateway.config import GatewayConfig
from fixrouter.gateway.parse import PING, Hello, LineParser
from fixrouter.requests import (
    CancelOrder,
    Capacity,
    NewOrder,
    OpenClose,
    OrdersQuery,
    OrderType,
    PutOrCall,
    ReplaceOrder,
    SecurityType,
    Side,
    StatusQuery,
    TimeInForce,
)

PARSER = LineParser(GatewayConfig().fractional_qty)
BASE: dict[str, Any] = {
    "op": "new", "id": "o-1", "symbol": "AAPL", "side": "buy", "qty": 100, "type": "limit",
    "price": "187.25",
}  # fmt: skip


def parse(obj: object, strategy: str | None = "alpha", received_ns: int = 7) -> Any:
    line = obj if isinstance(obj, bytes) else orjson.dumps(obj)
    value, _req = PARSER.parse(line, strategy, received_ns)
    return value


def new(**changes: Any) -> Any:
    obj = {**BASE, **changes}
    return parse({k: v for k, v in obj.items() if v is not ...})


def assert_error(value: object, code: ErrorCode, field: str | None = None) -> None:
    assert isinstance(value, RequestError), value
    assert value.code is code, value
    if field is not None:
        assert value.reason.startswith(f"{field}: "), value.reason


def test_typical_new_is_stamped_with_the_connection_strategy() -> None:
    order = new(strategy="mallory")  # a field naming another strategy is refused...
    assert_error(order, ErrorCode.UNKNOWN_FIELD, "strategy")
    order = new()  # ...and the name always comes from the connection
    assert order == NewOrder(
        strategy="alpha", id="o-1", symbol="AAPL", side=Side.BUY, qty=Decimal(100),
        type=OrderType.LIMIT, price=Decimal("187.25"), received_ns=7,
    )  # fmt: skip


def test_full_option_order() -> None:
    order = new(
        sec_type="OPT", maturity="20991217", strike="450", put_or_call="call", multiplier=100,
        local_symbol="SPY   991217C00450000", trading_class="SPY", security_exchange="CBOE",
        capacity="firm", open_close="close", force_only_rth=True, what_if=False, tif="gtd",
        expire_time="20991217-20:00:00", currency="USD", exchange="CBOE", account="U1",
    )  # fmt: skip
    assert isinstance(order, NewOrder), order
    d = order.derivative
    assert d is not None
    assert (d.maturity_month_year, d.maturity_day) == ("209912", "17")
    assert (d.strike, d.put_or_call, d.multiplier) == (Decimal(450), PutOrCall.CALL, 100)
    assert d.local_symbol == "SPY   991217C00450000"
    assert (order.capacity, order.open_close) == (Capacity.FIRM, OpenClose.CLOSE)
    assert order.force_only_rth and not order.what_if
    assert (order.tif, order.expire_time, order.expire_date) == (
        TimeInForce.GTD,
        "20991217-20:00:00",
        None,
    )


@pytest.mark.parametrize(
    ("line", "code"),
    [
        (b"{", ErrorCode.BAD_JSON),
        (b"\xff\xfe\x00garbage", ErrorCode.BAD_JSON),
        (b'{"op": "ping"} {}', ErrorCode.BAD_JSON),
        (b"NaN", ErrorCode.BAD_JSON),
        (b"[1, 2]", ErrorCode.NOT_OBJECT),
        (b'"new"', ErrorCode.NOT_OBJECT),
        (b"{}", ErrorCode.MISSING_FIELD),
        (b'{"op": "sell"}', ErrorCode.UNKNOWN_OP),
        (b'{"op": 1}', ErrorCode.UNKNOWN_OP),
        (b'{"op": "ping", "x": 1}', ErrorCode.UNKNOWN_FIELD),
    ],
)
def test_envelope_errors(line: bytes, code: ErrorCode) -> None:
    assert_error(parse(line), code)


def test_order_before_hello_but_ping_is_fine() -> None:
    for op in ("new", "cancel", "replace", "status", "orders"):
        assert_error(parse({"op": op, "id": "x"}, strategy=None), ErrorCode.NOT_HELLO)
    assert parse({"op": "ping"}, strategy=None) is PING


def test_hello() -> None:
    assert parse({"op": "hello", "client": "alpha"}, None) == Hello("alpha")
    assert parse({"op": "hello", "client": "a.b-c_1", "token": "t"}, None) == Hello("a.b-c_1", "t")
    assert_error(parse({"op": "hello", "client": "alpha"}, "alpha"), ErrorCode.ALREADY_HELLO)
    assert_error(parse({"op": "hello"}, None), ErrorCode.MISSING_FIELD, "client")
    for bad in ("", "-x", "a b", "x" * 33, 5, "al\x01pha"):
        assert_error(parse({"op": "hello", "client": bad}, None), ErrorCode.BAD_VALUE, "client")
    error = parse({"op": "hello", "client": "a", "token": "bad\ttoken"}, None)
    assert_error(error, ErrorCode.BAD_VALUE, "token")
    assert "bad" not in error.reason.split(":", 1)[1]  # the token is never echoed
    assert "token='t'" not in repr(Hello("a", "t"))


def test_req_is_echoed_and_checked() -> None:
    assert PARSER.parse(b'{"op": "ping", "req": 5}', None, 0) == (PING, 5)
    assert PARSER.parse(b'{"op": "ping", "req": "a-1"}', None, 0) == (PING, "a-1")
    value, req = PARSER.parse(b'{"op": "nope", "req": 9}', None, 0)
    assert_error(value, ErrorCode.UNKNOWN_OP)
    assert req == 9
    for bad in ([1], 1.5, True, "x" * 65, "a\nb", 2**60):
        value, req = PARSER.parse(orjson.dumps({"op": "ping", "req": bad}), None, 0)
        assert_error(value, ErrorCode.BAD_VALUE, "req")
        assert req is None


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        # missing fields, in check order
        ({"id": ...}, ErrorCode.MISSING_FIELD, "id"),
        ({"symbol": None}, ErrorCode.MISSING_FIELD, "symbol"),
        ({"side": ...}, ErrorCode.MISSING_FIELD, "side"),
        ({"qty": ...}, ErrorCode.MISSING_FIELD, "qty"),
        ({"type": ...}, ErrorCode.MISSING_FIELD, "type"),
        ({"price": ...}, ErrorCode.MISSING_FIELD, "price"),
        ({"type": "stop", "price": ...}, ErrorCode.MISSING_FIELD, "stop_price"),
        ({"type": "stop_limit"}, ErrorCode.MISSING_FIELD, "stop_price"),
        ({"tif": "gtd"}, ErrorCode.MISSING_FIELD, "expire_time"),
        ({"sec_type": "FUT"}, ErrorCode.MISSING_FIELD, "maturity"),
        ({"sec_type": "OPT", "maturity": "209912"}, ErrorCode.MISSING_FIELD, "strike"),
        (
            {"sec_type": "FOP", "maturity": "209912", "strike": "1"},
            ErrorCode.MISSING_FIELD,
            "put_or_call",
        ),
        # unknown fields
        ({"stop_prcie": "1"}, ErrorCode.UNKNOWN_FIELD, "stop_prcie"),
        ({"client": "bob"}, ErrorCode.UNKNOWN_FIELD, "client"),
        # wrong types and values
        ({"id": 5}, ErrorCode.BAD_VALUE, "id"),
        ({"id": ""}, ErrorCode.BAD_VALUE, "id"),
        ({"id": "a b"}, ErrorCode.BAD_VALUE, "id"),
        ({"id": "x" * 65}, ErrorCode.BAD_VALUE, "id"),
        ({"id": "o\x01-1"}, ErrorCode.BAD_VALUE, "id"),
        ({"symbol": "AAPL\x01"}, ErrorCode.BAD_VALUE, "symbol"),
        ({"symbol": "AAPL\u00e9"}, ErrorCode.BAD_VALUE, "symbol"),
        ({"symbol": " AAPL"}, ErrorCode.BAD_VALUE, "symbol"),
        ({"symbol": ["AAPL"]}, ErrorCode.BAD_VALUE, "symbol"),
        ({"side": "BUY"}, ErrorCode.BAD_VALUE, "side"),
        ({"side": ["buy"]}, ErrorCode.BAD_VALUE, "side"),
        ({"type": "iceberg"}, ErrorCode.BAD_VALUE, "type"),
        ({"tif": "forever"}, ErrorCode.BAD_VALUE, "tif"),
        ({"sec_type": "CRYPTO"}, ErrorCode.BAD_VALUE, "sec_type"),
        ({"sec_type": "stk"}, ErrorCode.BAD_VALUE, "sec_type"),
        ({"currency": "usd"}, ErrorCode.BAD_VALUE, "currency"),
        ({"currency": "US"}, ErrorCode.BAD_VALUE, "currency"),
        ({"account": "U 1"}, ErrorCode.BAD_VALUE, "account"),
        ({"exchange": "x" * 17}, ErrorCode.BAD_VALUE, "exchange"),
        # quantities
        ({"qty": 0}, ErrorCode.BAD_VALUE, "qty"),
        ({"qty": -5}, ErrorCode.BAD_VALUE, "qty"),
        ({"qty": "0"}, ErrorCode.BAD_VALUE, "qty"),
        ({"qty": "-5"}, ErrorCode.BAD_VALUE, "qty"),
        ({"qty": 1.5}, ErrorCode.BAD_VALUE, "qty"),
        ({"qty": 100.0}, ErrorCode.BAD_VALUE, "qty"),
        ({"qty": "1.5"}, ErrorCode.BAD_VALUE, "qty"),
        ({"qty": "1e3"}, ErrorCode.BAD_VALUE, "qty"),
        ({"qty": "NaN"}, ErrorCode.BAD_VALUE, "qty"),
        ({"qty": True}, ErrorCode.BAD_VALUE, "qty"),
        ({"qty": 10**12}, ErrorCode.BAD_VALUE, "qty"),
        ({"qty": "0.000000001", "sec_type": "CASH"}, ErrorCode.BAD_VALUE, "qty"),
        # prices
        ({"price": "NaN"}, ErrorCode.BAD_VALUE, "price"),
        ({"price": "Infinity"}, ErrorCode.BAD_VALUE, "price"),
        ({"price": "-1"}, ErrorCode.BAD_VALUE, "price"),
        ({"price": -1}, ErrorCode.BAD_VALUE, "price"),
        ({"price": 0}, ErrorCode.BAD_VALUE, "price"),
        ({"price": "0.000"}, ErrorCode.BAD_VALUE, "price"),
        ({"price": "1.123456789"}, ErrorCode.BAD_VALUE, "price"),
        ({"price": 1.123456789}, ErrorCode.BAD_VALUE, "price"),
        ({"price": "1e2"}, ErrorCode.BAD_VALUE, "price"),
        ({"price": " 1"}, ErrorCode.BAD_VALUE, "price"),
        ({"price": "1_000"}, ErrorCode.BAD_VALUE, "price"),
        ({"price": "+1"}, ErrorCode.BAD_VALUE, "price"),
        ({"price": "1234567890123"}, ErrorCode.BAD_VALUE, "price"),
        ({"price": 1e300}, ErrorCode.BAD_VALUE, "price"),
        ({"price": True}, ErrorCode.BAD_VALUE, "price"),
        ({"price": {"v": 1}}, ErrorCode.BAD_VALUE, "price"),
        # fields that do not go together
        ({"type": "market"}, ErrorCode.BAD_VALUE, "price"),
        ({"type": "moc"}, ErrorCode.BAD_VALUE, "price"),
        ({"type": "stop", "stop_price": "1"}, ErrorCode.BAD_VALUE, "price"),
        ({"stop_price": "1"}, ErrorCode.BAD_VALUE, "stop_price"),
        ({"expire_date": "20991231"}, ErrorCode.BAD_VALUE, "expire_date"),
        ({"expire_time": "20991231-10:00:00"}, ErrorCode.BAD_VALUE, "expire_time"),
        (
            {"tif": "gtd", "expire_date": "20991231", "expire_time": "20991231-10:00:00"},
            ErrorCode.BAD_VALUE,
            "expire_date",
        ),
        ({"tif": "gtd", "expire_date": "20990231"}, ErrorCode.BAD_VALUE, "expire_date"),
        ({"tif": "gtd", "expire_date": 20991231}, ErrorCode.BAD_VALUE, "expire_date"),
        ({"tif": "gtd", "expire_time": "20991231 10:00:00"}, ErrorCode.BAD_VALUE, "expire_time"),
        ({"tif": "gtd", "expire_time": "20991231-25:00:00"}, ErrorCode.BAD_VALUE, "expire_time"),
        ({"strike": "100"}, ErrorCode.BAD_VALUE, "strike"),
        ({"put_or_call": "put"}, ErrorCode.BAD_VALUE, "put_or_call"),
        ({"maturity": "209912"}, ErrorCode.BAD_VALUE, "maturity"),
        ({"multiplier": 100}, ErrorCode.BAD_VALUE, "multiplier"),
        ({"sec_type": "FUT", "maturity": "209913"}, ErrorCode.BAD_VALUE, "maturity"),
        ({"sec_type": "FUT", "maturity": "2099"}, ErrorCode.BAD_VALUE, "maturity"),
        ({"sec_type": "FUT", "maturity": "209912", "multiplier": "-5"}, ErrorCode.BAD_VALUE,
         "multiplier"),
        ({"sec_type": "FUT", "maturity": "209912", "strike": "5"}, ErrorCode.BAD_VALUE, "strike"),
        ({"sec_type": "OPT", "maturity": "209912", "strike": "5", "put_or_call": "P"},
         ErrorCode.BAD_VALUE, "put_or_call"),
        # booleans are JSON booleans
        ({"what_if": "Y"}, ErrorCode.BAD_VALUE, "what_if"),
        ({"what_if": 1}, ErrorCode.BAD_VALUE, "what_if"),
        ({"force_only_rth": "true"}, ErrorCode.BAD_VALUE, "force_only_rth"),
        ({"capacity": "agency"}, ErrorCode.BAD_VALUE, "capacity"),
        ({"open_close": "both"}, ErrorCode.BAD_VALUE, "open_close"),
    ],
)  # fmt: skip
def test_new_refused(changes: dict[str, Any], code: ErrorCode, field: str) -> None:
    value = new(**changes)
    assert_error(value, code, field)
    if "id" not in changes:
        assert value.id == "o-1"  # the error names the order when it can


@pytest.mark.parametrize(
    ("changes", "attr", "expected"),
    [
        ({"qty": "100"}, "qty", Decimal(100)),
        ({"qty": "100.00"}, "qty", Decimal(100)),
        ({"qty": 10**12 - 1}, "qty", Decimal(10**12 - 1)),
        ({"qty": "2.5", "sec_type": "CASH"}, "qty", Decimal("2.5")),
        ({"qty": "0.00000001", "sec_type": "CMDTY"}, "qty", Decimal("0.00000001")),
        ({"price": 187.25}, "price", Decimal("187.25")),
        ({"price": 187}, "price", Decimal(187)),
        ({"price": 0.00001}, "price", Decimal("0.00001")),
        ({"price": "0.00000001"}, "price", Decimal("0.00000001")),
        ({"price": "999999999999.99999999"}, "price", Decimal("999999999999.99999999")),
        ({"price": None}, "price", ...),  # null is absent: then the limit lacks its price
        ({"symbol": "BRK B"}, "symbol", "BRK B"),
        ({"sec_type": "CS"}, "sec_type", SecurityType.CS),
        ({"side": "short"}, "side", Side.SHORT),
        ({"tif": "opg"}, "tif", TimeInForce.OPG),
        ({"sec_type": "WAR"}, "derivative", None),
        ({"tif": None}, "tif", TimeInForce.DAY),
    ],
)
def test_new_accepted_values(changes: dict[str, Any], attr: str, expected: object) -> None:
    value = new(**changes)
    if expected is ...:
        assert_error(value, ErrorCode.MISSING_FIELD, attr)
    else:
        assert isinstance(value, NewOrder), value
        assert getattr(value, attr) == expected


def test_cancel_replace_status_orders() -> None:
    assert parse({"op": "cancel", "id": "o-1"}, received_ns=3) == CancelOrder("alpha", "o-1", 3)
    assert parse({"op": "status", "id": "o-1"}) == StatusQuery("alpha", "o-1")
    assert parse({"op": "orders"}) == OrdersQuery("alpha")
    assert parse({"op": "replace", "id": "a", "new_id": "b", "price": "2", "tif": "gtc"}) == (
        ReplaceOrder("alpha", "a", "b", price=Decimal(2), tif=TimeInForce.GTC, received_ns=7)
    )
    # the gateway does not know the instrument: the order book judges a fractional qty
    replace = parse({"op": "replace", "id": "a", "new_id": "b", "qty": "0.5"})
    assert isinstance(replace, ReplaceOrder) and replace.qty == Decimal("0.5")


@pytest.mark.parametrize(
    ("obj", "code", "field"),
    [
        ({"op": "cancel"}, ErrorCode.MISSING_FIELD, "id"),
        ({"op": "cancel", "id": 7}, ErrorCode.BAD_VALUE, "id"),
        ({"op": "cancel", "id": "a", "qty": 1}, ErrorCode.UNKNOWN_FIELD, "qty"),
        ({"op": "status"}, ErrorCode.MISSING_FIELD, "id"),
        ({"op": "orders", "id": "a"}, ErrorCode.UNKNOWN_FIELD, "id"),
        ({"op": "replace", "id": "a"}, ErrorCode.MISSING_FIELD, "new_id"),
        ({"op": "replace", "id": "a", "new_id": "b"}, ErrorCode.MISSING_FIELD, "qty"),
        ({"op": "replace", "id": "a", "new_id": "a", "qty": 1}, ErrorCode.BAD_VALUE, "new_id"),
        ({"op": "replace", "id": "a", "new_id": "b", "qty": 0}, ErrorCode.BAD_VALUE, "qty"),
        ({"op": "replace", "id": "a", "new_id": "b", "price": "x"}, ErrorCode.BAD_VALUE, "price"),
        ({"op": "replace", "id": "a", "new_id": "b", "tif": "gtd"}, ErrorCode.BAD_VALUE, "tif"),
        ({"op": "replace", "id": "a", "new_id": "b", "symbol": "X", "qty": 1},
         ErrorCode.UNKNOWN_FIELD, "symbol"),
    ],
)  # fmt: skip
def test_other_ops_refused(obj: dict[str, Any], code: ErrorCode, field: str) -> None:
    assert_error(parse(obj), code, field)


def test_fractional_sec_types_follow_the_config() -> None:
    strict = LineParser(frozenset())
    line = orjson.dumps({**BASE, "qty": "0.5", "sec_type": "CASH"})
    assert_error(strict.parse(line, "a", 0)[0], ErrorCode.BAD_VALUE, "qty")
    stocks = LineParser(frozenset({SecurityType.STK}))
    order = stocks.parse(orjson.dumps({**BASE, "qty": "0.5"}), "a", 0)[0]
    assert isinstance(order, NewOrder) and order.qty == Decimal("0.5")


def test_errors_are_stable_with_several_faults() -> None:
    # unknown fields come before bad values; fields go in table order
    first = new(qty=-1, side="up", bogus=1)
    assert_error(first, ErrorCode.UNKNOWN_FIELD, "bogus")
    assert_error(new(qty=-1, side="up"), ErrorCode.BAD_VALUE, "side")


def test_line_with_crlf_and_trailing_newline() -> None:
    assert isinstance(PARSER.parse(orjson.dumps(BASE) + b"\r\n", "a", 0)[0], NewOrder)
