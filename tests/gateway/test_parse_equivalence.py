"""`gateway/parse` gives exactly what the parser gave before its hot path was reworked.

The reference is the earlier parser itself, frozen in `reference_parse.py`. Lines are
drawn from every field the protocol knows, one it does not, and for each field good values,
bad ones, nulls and wrong types, so both the accepted requests and every error code and
reason are compared. A result is compared by type and `repr` as well as by `==`: two
`Decimal`s can be equal and still spell differently on the wire ("1.0" and "1.00").
"""

from __future__ import annotations

from dataclasses import astuple, is_dataclass
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fixrouter.gateway import parse
from fixrouter.gateway.config import GatewayConfig
from fixrouter.gateway.parse import MEMO_LIMIT, LineParser
from fixrouter.requests import SecurityType

from . import reference_parse

FRACTIONAL = [frozenset(), GatewayConfig().fractional_qty,
              frozenset({SecurityType.STK, SecurityType.CASH})]  # fmt: skip

junk: st.SearchStrategy[Any] = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 5), st.floats(allow_nan=False),
    st.lists(st.integers(-9, 9), max_size=2),
    st.dictionaries(st.text(max_size=2), st.integers(-9, 9), max_size=1),
    st.text(max_size=6),
)  # fmt: skip
ids = st.sampled_from(["o-1", "o 1", "", "x" * 64, "x" * 65, "é", "a\x01b", "o-2"])
prices = st.sampled_from([
    "187.25", "187.250", "0", "0.0", "-1", "1e3", "1.123456789", "1234567890123", " 1",
    "NaN", "100", "000012.5", "1.", ".5", "１", 187.25, 1e-05, 12, 0, -3, True,
])  # fmt: skip
quantities = st.sampled_from([
    100, 0, -1, 10**12, 10**12 - 1, 10_000, 10_001, "100", "100.00", "0.5", "1.123456789",
    "-2", "1e2", 1.5, "abc", None, True,
])  # fmt: skip

FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "id": ids,
    "symbol": st.sampled_from(["AAPL", "BRK B", " AAPL", "AAPL ", "", "x" * 33, "\x7f"]),
    "side": st.sampled_from(["buy", "sell", "short", "BUY", "hold"]),
    "qty": quantities,
    "type": st.sampled_from(["market", "limit", "stop", "stop_limit", "moc", "loc", "lmt"]),
    "price": prices,
    "stop_price": prices,
    "tif": st.sampled_from(["day", "gtc", "ioc", "fok", "opg", "gtd", "DAY"]),
    "account": st.sampled_from(["U1234567", "U 1", "", "x" * 33]),
    "sec_type": st.sampled_from(["STK", "CS", "OPT", "FUT", "FOP", "WAR", "CASH", "stk"]),
    "currency": st.sampled_from(["USD", "usd", "EURO", "E1R"]),
    "exchange": st.sampled_from(["SMART", "ISLAND", "SM ART", "x" * 17]),
    "expire_time": st.sampled_from(["20261124-10:22:16", "20261124-10:22:16.123",
                                    "20261324-10:22:16", "2026"]),
    "expire_date": st.sampled_from(["20261124", "20260230", "2026-11-24"]),
    "maturity": st.sampled_from(["202612", "20261218", "202613", "20260230", "2026"]),
    "strike": prices,
    "put_or_call": st.sampled_from(["put", "call", "P"]),
    "multiplier": st.sampled_from(["100", 100, "0", "-1", "1.123456789", 2.5]),
    "local_symbol": st.sampled_from(["AAPL  261218C00200000", " X"]),
    "trading_class": st.sampled_from(["AAPL", "A A"]),
    "security_exchange": st.sampled_from(["CBOE", "C B"]),
    "capacity": st.sampled_from(["customer", "firm", "broker"]),
    "open_close": st.sampled_from(["open", "close", "O"]),
    "force_only_rth": st.sampled_from([True, False, 1]),
    "what_if": st.sampled_from([True, False, "yes"]),
    "new_id": ids,
    "client": st.sampled_from(["alpha", "-bad", "x" * 33]),
    "token": st.sampled_from(["secret", "", 7]),
    "req": st.sampled_from([1, "r-1", 2**53, "x" * 65, 1.5, None]),
    "bogus": st.integers(-9, 9),
    "strategy": st.just("mallory"),
}


NEW_FIELDS = sorted(set(FIELDS) - {"new_id", "client", "token", "bogus", "strategy"})
OPTION: dict[str, Any] = {"sec_type": "OPT", "maturity": "20261218", "strike": "200",
                          "put_or_call": "call"}  # fmt: skip


@st.composite
def orders(draw: st.DrawFn) -> dict[str, Any]:
    """A `new` that is valid, or nearly: a few fields drawn from good and bad values."""
    order_type = draw(st.sampled_from(["market", "limit", "stop", "stop_limit", "moc", "loc"]))
    obj: dict[str, Any] = {"op": "new", "id": "o-1", "symbol": "AAPL", "side": "buy",
                           "qty": 100, "type": order_type}  # fmt: skip
    if order_type in ("limit", "stop_limit", "loc"):
        obj["price"] = draw(st.sampled_from(["187.25", "3.5", 187.25, "100"]))
    if order_type in ("stop", "stop_limit"):
        obj["stop_price"] = draw(st.sampled_from(["180", "180.125"]))
    if draw(st.booleans()):
        obj.update(OPTION)
    for name in draw(st.lists(st.sampled_from(NEW_FIELDS), max_size=4, unique=True)):
        obj[name] = draw(FIELDS[name] | junk) if draw(st.integers(0, 7)) == 0 \
            else draw(FIELDS[name])
    return obj


@st.composite
def lines(draw: st.DrawFn) -> bytes:
    kind = draw(st.integers(0, 19))
    if kind == 0:
        return draw(st.sampled_from([b"", b"{", b"[]", b"3", b'"new"', b"{}\n", b"\xff",
                                     b'{"op":"new"}{}']))
    if kind < 10:
        obj = draw(orders())
    else:
        obj = {}
        if draw(st.integers(0, 9)):
            obj["op"] = draw(st.sampled_from(
                ["new", "cancel", "replace", "status", "orders", "hello", "ping", "nope", 3]))
        for name in draw(st.lists(st.sampled_from(sorted(FIELDS)), max_size=10, unique=True)):
            obj[name] = draw(FIELDS[name] | junk) if draw(st.integers(0, 7)) == 0 \
                else draw(FIELDS[name])
    return orjson.dumps(obj) + draw(st.sampled_from([b"", b"\n"]))


def described(result: tuple[object, object]) -> tuple[str, str, object, object]:
    """Type name, repr, fields and req: `Hello` and `Ping` are separate classes in the
    reference, and a `Hello` hides its token from its repr."""
    value, req = result
    fields = astuple(value) if is_dataclass(value) else value  # type: ignore[arg-type]
    return type(value).__qualname__, repr(value), fields, req


@settings(max_examples=3000, suppress_health_check=[HealthCheck.too_slow])
@given(line=lines(), strategy=st.sampled_from(["alpha", None]), fractional=st.sampled_from(
    range(len(FRACTIONAL))))
def test_every_line_parses_exactly_as_before(
    line: bytes, strategy: str | None, fractional: int
) -> None:
    parser = LineParser(FRACTIONAL[fractional])
    reference = reference_parse.LineParser(FRACTIONAL[fractional])
    got = parser.parse(line, strategy, 42)
    want = reference.parse(line, strategy, 42)
    assert described(got) == described(want)
    # The price memo answers the second time: the same again.
    assert described(parser.parse(line, strategy, 42)) == described(want)


def test_full_memos_are_emptied_and_results_stay_right() -> None:
    parser = LineParser()
    reference = reference_parse.LineParser()
    for i in range(MEMO_LIMIT + 10):
        line = orjson.dumps({"op": "new", "id": "o", "symbol": f"S{i}", "side": "buy",
                             "qty": 1, "type": "limit", "price": f"{i + 1}.{i % 100:02d}",
                             "account": f"U{i}"})  # fmt: skip
        assert described(parser.parse(line, "s", 1)) == described(reference.parse(line, "s", 1))
    for memo in (parse._PRICES, parse._SYMBOLS, parse._ACCOUNTS):
        assert 0 < len(memo) <= MEMO_LIMIT
