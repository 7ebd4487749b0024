"""Exact bodies the dialect builds for D, F, G and H, and what it refuses (`dialect/builder`)."""

from __future__ import annotations

import os
import timeit
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

import fixrouter
from fixrouter.dialect import ALL_OPEN_ORDERS, Dialect, OrderTerms
from fixrouter.dictionary import CompiledValidator
from fixrouter.errors import ConfigError, LocalProtocolError
from fixrouter.requests import (
    Capacity,
    Derivative,
    OpenClose,
    OrderType,
    PutOrCall,
    ReplaceOrder,
    SecurityType,
    Side,
    TimeInForce,
)

from .conftest import TT, TT_S, VALIDATOR, assert_valid, bar, order

# Which prices each order type carries, and the fragment they render to.
TYPES = {
    OrderType.MARKET: ("1", {}, ""),
    OrderType.LIMIT: ("2", {"price": Decimal("190.25")}, "44=190.25|"),
    OrderType.STOP: ("3", {"stop_price": Decimal("185")}, "99=185|"),
    OrderType.STOP_LIMIT: (
        "4", {"price": Decimal("190.25"), "stop_price": Decimal("185.5")},
        "44=190.25|99=185.5|",
    ),
    OrderType.MOC: ("5", {}, ""),
    OrderType.LOC: ("B", {"price": Decimal("190.25")}, "44=190.25|"),
}
TIFS: dict[str, tuple[dict[str, Any], str, str]] = {
    "day": ({"tif": TimeInForce.DAY}, "0", ""),
    "gtc": ({"tif": TimeInForce.GTC}, "1", ""),
    "opg": ({"tif": TimeInForce.OPG}, "2", ""),
    "ioc": ({"tif": TimeInForce.IOC}, "3", ""),
    "fok": ({"tif": TimeInForce.FOK}, "4", ""),
    "gtd-time": (
        {"tif": TimeInForce.GTD, "expire_time": "20261201-21:00:00"}, "6",
        "126=20261201-21:00:00|",
    ),
    "gtd-date": ({"tif": TimeInForce.GTD, "expire_date": "20261201"}, "6", "432=20261201|"),
}


def test_plain_limit_order(dialect: Dialect) -> None:
    body = dialect.new_order_body(order(), "FR1124A000001", TT)
    assert bar(body) == (
        "11=FR1124A000001|1=U1234567|21=2|55=AAPL|167=STK|54=1|38=100|40=2|44=190.25|59=0|"
        f"60={TT_S}|100=SMART|15=USD|"
    )
    assert_valid(b"D", body)


@pytest.mark.parametrize("order_type", list(TYPES))
@pytest.mark.parametrize("tif", list(TIFS))
def test_every_order_type_and_time_in_force(
    dialect: Dialect, order_type: OrderType, tif: str
) -> None:
    wire_type, prices, price_fields = TYPES[order_type]
    tif_fields, wire_tif, expiry = TIFS[tif]
    body = dialect.new_order_body(
        order(**{"type": order_type, "price": None, **prices, **tif_fields}), "C1", TT
    )
    assert bar(body) == (
        f"11=C1|1=U1234567|21=2|55=AAPL|167=STK|54=1|38=100|40={wire_type}|{price_fields}"
        f"59={wire_tif}|{expiry}60={TT_S}|100=SMART|15=USD|"
    )
    assert_valid(b"D", body)


@pytest.mark.parametrize(("side", "wire"), [(Side.BUY, "1"), (Side.SELL, "2"), (Side.SHORT, "5")])
def test_sides_including_short_sale(dialect: Dialect, side: Side, wire: str) -> None:
    body = dialect.new_order_body(order(side=side, type=OrderType.MARKET, price=None), "C1", TT)
    assert bar(body) == (
        f"11=C1|1=U1234567|21=2|55=AAPL|167=STK|54={wire}|38=100|40=1|59=0|60={TT_S}|"
        "100=SMART|15=USD|"
    )


def test_option_order_with_every_contract_field(dialect: Dialect) -> None:
    option = Derivative(
        maturity_month_year="202612",
        maturity_day="18",
        strike=Decimal("200"),
        put_or_call=PutOrCall.CALL,
        multiplier=Decimal(100),
        local_symbol="AAPL  261218C00200000",
        trading_class="AAPL",
        security_exchange="CBOE",
    )
    body = dialect.new_order_body(
        order(
            sec_type=SecurityType.OPT, qty=Decimal(5), price=Decimal("3.45"), derivative=option,
            capacity=Capacity.CUSTOMER, open_close=OpenClose.OPEN,
        ),
        "C7",
        TT,
    )
    assert bar(body) == (
        "11=C7|1=U1234567|21=2|55=AAPL|167=OPT|54=1|38=5|40=2|44=3.45|59=0|"
        f"60={TT_S}|100=SMART|15=USD|200=202612|205=18|201=1|202=200|231=100|207=CBOE|"
        "6035=AAPL  261218C00200000|6058=AAPL|204=0|77=O|"
    )
    assert_valid(b"D", body)


def test_put_option_named_by_local_symbol_only(dialect: Dialect) -> None:
    put = Derivative(local_symbol="SPY   261218P00500000")
    body = dialect.new_order_body(
        order(symbol="SPY", sec_type=SecurityType.OPT, type=OrderType.MARKET, price=None,
              derivative=put, open_close=OpenClose.CLOSE, side=Side.SELL),
        "C8",
        TT,
    )
    assert bar(body) == (
        f"11=C8|1=U1234567|21=2|55=SPY|167=OPT|54=2|38=100|40=1|59=0|60={TT_S}|100=SMART|"
        "15=USD|6035=SPY   261218P00500000|77=C|"
    )


def test_future_order(dialect: Dialect) -> None:
    future = Derivative(
        maturity_month_year="202612", multiplier=Decimal(50), security_exchange="CME"
    )
    body = dialect.new_order_body(
        order(symbol="ES", sec_type=SecurityType.FUT, qty=Decimal(2), price=Decimal("6010.25"),
              exchange="CME", derivative=future, capacity=Capacity.FIRM),
        "C9",
        TT,
    )
    assert bar(body) == (
        "11=C9|1=U1234567|21=2|55=ES|167=FUT|54=1|38=2|40=2|44=6010.25|59=0|"
        f"60={TT_S}|100=CME|15=USD|200=202612|231=50|207=CME|204=1|"
    )
    assert_valid(b"D", body)


def test_future_option_put(dialect: Dialect) -> None:
    fop = Derivative(maturity_month_year="202612", strike=Decimal("6000"),
                     put_or_call=PutOrCall.PUT, trading_class="EW")
    body = dialect.new_order_body(
        order(symbol="ES", sec_type=SecurityType.FOP, exchange="CME", derivative=fop), "C10", TT
    )
    assert "|201=0|202=6000|" in bar(body)
    assert bar(body).endswith("100=CME|15=USD|200=202612|201=0|202=6000|6058=EW|")
    assert_valid(b"D", body)


def test_ib_flags_only_when_set(dialect: Dialect) -> None:
    body = dialect.new_order_body(order(force_only_rth=True, what_if=True), "C11", TT)
    assert bar(body).endswith("100=SMART|15=USD|6205=1|6091=1|")
    plain = dialect.new_order_body(order(), "C12", TT)
    assert b"6205=" not in plain and b"6091=" not in plain
    assert_valid(b"D", body)


def test_fractional_quantity_and_exponent_decimals_render_plain(dialect: Dialect) -> None:
    body = dialect.new_order_body(
        order(symbol="EUR", sec_type=SecurityType.CASH, qty=Decimal("1E+5"),
              price=Decimal("1.0825"), exchange="IDEALPRO"), "C13", TT
    )
    assert "|38=100000|40=2|44=1.0825|" in bar(body)
    body = dialect.new_order_body(order(qty=Decimal("0.5"), price=Decimal("1E-7")), "C14", TT)
    assert "|38=0.5|40=2|44=0.0000001|" in bar(body)
    assert_valid(b"D", body)


def test_settings_defaults_fill_the_gaps(make_dialect: Callable[..., Dialect]) -> None:
    dialect = make_dialect(
        default_account="DU999", default_capacity=Capacity.FIRM, default_exchange="ISLAND",
        default_currency="CAD", send_transact_time=False,
    )
    body = dialect.new_order_body(order(account=None, exchange="", currency=""), "C15", TT)
    assert bar(body) == (
        "11=C15|1=DU999|21=2|55=AAPL|167=STK|54=1|38=100|40=2|44=190.25|59=0|100=ISLAND|"
        "15=CAD|204=1|"
    )
    # The order's own values win over the defaults.
    body = dialect.new_order_body(order(capacity=Capacity.CUSTOMER), "C16", TT)
    assert bar(body) == (
        "11=C16|1=U1234567|21=2|55=AAPL|167=STK|54=1|38=100|40=2|44=190.25|59=0|100=SMART|"
        "15=USD|204=0|"
    )


def test_no_account_anywhere_leaves_tag_1_out(dialect: Dialect) -> None:
    body = dialect.new_order_body(order(account=None), "C17", TT)
    assert bar(body).startswith("11=C17|21=2|55=AAPL|")


# OrderCancelRequest (F)


def test_cancel_restates_the_order(dialect: Dialect) -> None:
    body = dialect.cancel_body(order(), "C2", "C1", TT)
    assert bar(body) == f"41=C1|11=C2|1=U1234567|55=AAPL|167=STK|54=1|38=100|60={TT_S}|"
    assert_valid(b"F", body)


def test_cancel_of_an_option_with_order_id(dialect: Dialect) -> None:
    terms = OrderTerms(
        symbol="AAPL", side=Side.SELL, qty=Decimal(3), type=OrderType.LIMIT,
        price=Decimal("1.5"), sec_type=SecurityType.OPT, account="U1",
        derivative=Derivative(maturity_month_year="202612", maturity_day="18",
                              strike=Decimal("200"), put_or_call=PutOrCall.CALL,
                              local_symbol="AAPL  261218C00200000", trading_class="AAPL"),
    )
    body = dialect.cancel_body(terms, "C5", "C4", TT, order_id="000009a5.00004691.603c7978.0001")
    assert bar(body) == (
        "41=C4|37=000009a5.00004691.603c7978.0001|11=C5|1=U1|55=AAPL|167=OPT|54=2|38=3|"
        f"60={TT_S}|200=202612|205=18|201=1|202=200|6035=AAPL  261218C00200000|6058=AAPL|"
    )
    assert_valid(b"F", body)


def test_cancel_without_transact_time(make_dialect: Callable[..., Dialect]) -> None:
    body = make_dialect(send_transact_time=False).cancel_body(order(account=None), "C2", "C1", TT)
    assert bar(body) == "41=C1|11=C2|55=AAPL|167=STK|54=1|38=100|"


# OrderCancelReplaceRequest (G)


def test_replace_merges_changes_over_the_original(dialect: Dialect) -> None:
    original = order(tif=TimeInForce.GTC, force_only_rth=True)
    change = ReplaceOrder(strategy="s1", id="o1", new_id="o1b", price=Decimal("191"))
    body = dialect.replace_body(original, change, "C2", "C1", TT)
    assert bar(body) == (
        "41=C1|11=C2|1=U1234567|21=2|55=AAPL|167=STK|54=1|38=100|40=2|44=191|59=1|"
        f"60={TT_S}|100=SMART|15=USD|6205=1|"
    )
    assert_valid(b"G", body)


def test_replace_chain_uses_the_previous_cl_ord_id(dialect: Dialect) -> None:
    """41 is the ClOrdID of the version being replaced, not the first one."""
    terms = OrderTerms.of(order(type=OrderType.STOP_LIMIT, stop_price=Decimal("189")))
    first = ReplaceOrder(strategy="s1", id="o1", new_id="o2", qty=Decimal(200))
    body = dialect.replace_body(terms, first, "C2", "C1", TT)
    assert bar(body).startswith("41=C1|11=C2|")
    assert "|38=200|40=4|44=190.25|99=189|" in bar(body)
    terms = terms.replaced(first)
    second = ReplaceOrder(strategy="s1", id="o2", new_id="o3", stop_price=Decimal("188.5"),
                          tif=TimeInForce.GTD)
    with pytest.raises(LocalProtocolError, match="GTD order needs ExpireTime"):
        dialect.replace_body(terms, second, "C3", "C2", TT)
    terms = OrderTerms.of(order(type=OrderType.STOP_LIMIT, stop_price=Decimal("189"),
                                qty=Decimal(200), tif=TimeInForce.GTD, expire_date="20261231"))
    body = dialect.replace_body(terms, second, "C3", "C2", TT, order_id="IB77")
    assert bar(body) == (
        "41=C2|37=IB77|11=C3|1=U1234567|21=2|55=AAPL|167=STK|54=1|38=200|40=4|44=190.25|"
        f"99=188.5|59=6|432=20261231|60={TT_S}|100=SMART|15=USD|"
    )
    assert_valid(b"G", body)


def test_replace_away_from_gtd_drops_the_expiry(dialect: Dialect) -> None:
    original = order(tif=TimeInForce.GTD, expire_time="20261231-20:00:00")
    change = ReplaceOrder(strategy="s1", id="o1", new_id="o2", tif=TimeInForce.DAY)
    body = dialect.replace_body(original, change, "C2", "C1", TT)
    assert b"126=" not in body and b"|59=0|" in body.replace(b"\x01", b"|")


def test_replace_cannot_put_a_price_on_a_market_order(dialect: Dialect) -> None:
    original = order(type=OrderType.MARKET, price=None)
    change = ReplaceOrder(strategy="s1", id="o1", new_id="o2", price=Decimal(5))
    with pytest.raises(LocalProtocolError, match=r"Price\(44\)=5 is not allowed on a market"):
        dialect.replace_body(original, change, "C2", "C1", TT)


def test_replace_keeps_option_contract(dialect: Dialect) -> None:
    original = order(sec_type=SecurityType.OPT, derivative=Derivative(local_symbol="X 1"))
    change = ReplaceOrder(strategy="s1", id="o1", new_id="o2", qty=Decimal(1))
    body = dialect.replace_body(original, change, "C2", "C1", TT)
    assert bar(body).endswith("100=SMART|15=USD|6035=X 1|")


# OrderStatusRequest (H)


def test_status_of_all_open_orders(dialect: Dialect) -> None:
    assert bar(dialect.status_body()) == "11=*|"
    assert bar(dialect.status_body(ALL_OPEN_ORDERS)) == "11=*|"
    assert_valid(b"H", dialect.status_body())


def test_status_of_one_order(dialect: Dialect) -> None:
    body = dialect.status_body("C1", order(), order_id="IB1")
    assert bar(body) == "37=IB1|11=C1|1=U1234567|55=AAPL|167=STK|54=1|"
    assert_valid(b"H", body)
    option = order(sec_type=SecurityType.OPT, derivative=Derivative(
        maturity_month_year="202612", strike=Decimal(1), put_or_call=PutOrCall.PUT,
        local_symbol="L"))
    body = dialect.status_body("C1", option)
    assert bar(body) == "11=C1|1=U1234567|55=AAPL|167=OPT|54=1|200=202612|201=0|202=1|"
    assert_valid(b"H", body)
    assert bar(dialect.status_body("C1")) == "11=C1|"


# What the dialect refuses. Each is a LocalProtocolError naming the field.

BAD_ORDERS: list[tuple[dict[str, Any], str]] = [
    ({"type": OrderType.MARKET}, r"Price\(44\)=190.25 is not allowed on a market order"),
    ({"type": OrderType.MOC}, r"Price\(44\)=190.25 is not allowed on a moc order"),
    ({"price": None}, r"a limit order needs Price\(44\)"),
    ({"type": OrderType.LOC, "price": None}, r"a loc order needs Price\(44\)"),
    ({"type": OrderType.STOP, "price": None}, r"a stop order needs StopPx\(99\)"),
    ({"stop_price": Decimal(1)}, r"StopPx\(99\)=1 is not allowed on a limit order"),
    ({"type": OrderType.STOP_LIMIT}, r"a stop_limit order needs StopPx\(99\)"),
    ({"tif": TimeInForce.GTD}, r"GTD order needs ExpireTime\(126\) or ExpireDate\(432\)"),
    ({"tif": TimeInForce.GTD, "expire_time": "20261201-21:00:00", "expire_date": "20261201"},
     "not both"),
    ({"expire_date": "20261201"}, "only allowed with GTD, not with DAY"),
    ({"tif": TimeInForce.GTD, "expire_date": "2026-12-01"}, r"ExpireDate\(432\)='2026-12-01'"),
    ({"tif": TimeInForce.GTD, "expire_time": "20261201"}, r"ExpireTime\(126\)='20261201'"),
    ({"symbol": "AA\x01PL"}, r"Symbol\(55\)='AA\\x01PL' contains the SOH delimiter"),
    ({"symbol": "AA\nPL"}, r"Symbol\(55\)='AA\\nPL' contains a control character"),
    ({"symbol": "ÄPL"}, r"Symbol\(55\)='ÄPL' contains a non-ASCII character"),
    ({"symbol": ""}, r"Symbol\(55\)='' is empty"),
    ({"symbol": "X" * 65}, r"Symbol\(55\)='X+' is 65 characters long; the limit is 64"),
    ({"account": "U" * 33}, r"Account\(1\)='U+' is 33 characters long; the limit is 32"),
    ({"account": "U1\x7f"}, r"Account\(1\)='U1\\x7f' contains a control character"),
    ({"exchange": "SM\x01RT"}, r"ExDestination\(100\)"),
    ({"currency": "usd"}, r"Currency\(15\)='usd' is not a three-letter ISO 4217 code"),
    ({"currency": "USDX"}, r"Currency\(15\)"),
    ({"qty": Decimal(0)}, r"OrderQty\(38\)=0 must be positive"),
    ({"qty": Decimal(-5)}, r"OrderQty\(38\)=-5 must be positive"),
    ({"qty": Decimal("NaN")}, r"OrderQty\(38\)=NaN is not a finite number"),
    ({"qty": Decimal("Infinity")}, r"OrderQty\(38\)=Infinity is not a finite number"),
    ({"qty": 1.5}, r"OrderQty\(38\)=1.5 must be a Decimal, not float"),
    ({"price": Decimal("sNaN")}, r"Price\(44\)=sNaN is not a finite number"),
    ({"price": 190.25}, r"Price\(44\)=190.25 must be a Decimal, not float"),
    ({"sec_type": SecurityType.OPT}, r"OPT order needs LocalSymbol\(6035\) or the contract's "
     "maturity_month_year, strike, put_or_call"),
    ({"sec_type": SecurityType.FUT, "derivative": Derivative(multiplier=Decimal(5))},
     "FUT order needs .* maturity_month_year"),
    ({"sec_type": SecurityType.FOP, "derivative": Derivative(maturity_month_year="202612")},
     "FOP order needs .* strike, put_or_call"),
    ({"derivative": Derivative(maturity_month_year="202613")}, r"MaturityMonthYear\(200\)"),
    ({"derivative": Derivative(maturity_day="32")}, r"MaturityDay\(205\)='32'"),
    ({"derivative": Derivative(multiplier=Decimal(0))}, r"ContractMultiplier\(231\)=0"),
    ({"derivative": Derivative(local_symbol="A\x01")}, r"IBLocalSymbol\(6035\)"),
    ({"derivative": Derivative(trading_class="")}, r"TradingClass\(6058\)='' is empty"),
    ({"derivative": Derivative(security_exchange="C\tB")}, r"SecurityExchange\(207\)"),
    ({"derivative": Derivative(strike=Decimal("Infinity"))}, r"StrikePrice\(202\)=Infinity"),
]


@pytest.mark.parametrize(("fields", "message"), BAD_ORDERS)
def test_bad_orders_are_local_errors(
    dialect: Dialect, fields: dict[str, Any], message: str
) -> None:
    with pytest.raises(LocalProtocolError, match=message):
        dialect.new_order_body(order(**fields), "C1", TT)


@pytest.mark.parametrize(
    ("cl_ord_id", "message"),
    [
        ("", r"ClOrdID\(11\)='' is empty"),
        ("C\x011", r"ClOrdID\(11\)='C\\x011' contains the SOH delimiter"),
        ("C" * 65, "is 65 characters long; the limit is 64"),
        ("Cé", "non-ASCII"),
    ],
)
def test_bad_cl_ord_ids(dialect: Dialect, cl_ord_id: Any, message: str) -> None:
    with pytest.raises(LocalProtocolError, match=message):
        dialect.new_order_body(order(), cl_ord_id, TT)
    orig_message = message.replace(r"ClOrdID\(11\)", r"OrigClOrdID\(41\)")
    with pytest.raises(LocalProtocolError, match=orig_message):
        dialect.cancel_body(order(), "C2", cl_ord_id, TT)
    with pytest.raises(LocalProtocolError, match=orig_message):
        dialect.replace_body(order(), ReplaceOrder("s", "o", "n"), "C2", cl_ord_id, TT)
    with pytest.raises(LocalProtocolError):
        dialect.status_body(cl_ord_id)


def _wrong_python_type(message: str) -> Any:
    """A value of the wrong Python type is refused: by the builder's own check when it runs
    interpreted, by mypyc's argument check (a TypeError naming both types) when compiled."""
    if "fixrouter.dialect.builder" in fixrouter.COMPILED_MODULES:
        return pytest.raises(TypeError, match="object expected; got")
    return pytest.raises(LocalProtocolError, match=message)


def test_a_bytes_cl_ord_id_is_refused(dialect: Dialect) -> None:
    cl_ord_id: Any = b"C1"
    with _wrong_python_type(r"ClOrdID\(11\)=b'C1' must be a string, not bytes"):
        dialect.new_order_body(order(), cl_ord_id, TT)
    with _wrong_python_type(r"OrigClOrdID\(41\)=b'C1' must be a string, not bytes"):
        dialect.cancel_body(order(), "C2", cl_ord_id, TT)
    with _wrong_python_type("must be a string, not bytes"):
        dialect.status_body(cl_ord_id)


def test_a_str_transact_time_is_refused(dialect: Dialect) -> None:
    transact_time: Any = TT.decode()
    with _wrong_python_type(r"TransactTime\(60\)"):
        dialect.new_order_body(order(), "C2", transact_time)


def test_limits_are_settings(make_dialect: Callable[..., Dialect]) -> None:
    dialect = make_dialect(max_cl_ord_id_length=8, max_account_length=4, max_text_length=5)
    with pytest.raises(LocalProtocolError, match="limit is 8"):
        dialect.new_order_body(order(), "C" * 9, TT)
    with pytest.raises(LocalProtocolError, match="limit is 4"):
        dialect.new_order_body(order(), "C1", TT)
    with pytest.raises(LocalProtocolError, match=r"Symbol\(55\)='ABCDEF' is 6 characters"):
        dialect.new_order_body(order(account="U1", symbol="ABCDEF"), "C1", TT)
    dialect.new_order_body(order(account="U1", symbol="ABCDE"), "C1234567", TT)


@pytest.mark.parametrize(
    "transact_time",
    [b"", b"20261124-10:22:16.1", b"20261124-25:22:16.120", b"20261124 10:22:16.120",
     b"20261124-10:22:16.12\x01"],
)
def test_bad_transact_time(dialect: Dialect, transact_time: Any) -> None:
    dialect.new_order_body(order(), "C1", TT)  # primes the per-second cache
    with pytest.raises(LocalProtocolError, match=r"TransactTime\(60\)"):
        dialect.new_order_body(order(), "C2", transact_time)


def test_transact_time_precisions(dialect: Dialect) -> None:
    for value in (b"20261124-10:22:16", b"20261124-10:22:16.120", b"20261124-10:22:16.120999",
                  b"20261124-10:22:17.000", b"20261124-10:22:17.001"):
        body = dialect.new_order_body(order(), "C1", value)
        assert b"\x0160=" + value + b"\x01" in body


def test_a_refused_order_leaves_no_trace(dialect: Dialect) -> None:
    """Refusal happens before any bytes exist, and an unproved shape is never cached."""
    with pytest.raises(LocalProtocolError):
        dialect.new_order_body(order(symbol="A\x01"), "C1", TT)
    assert dialect.proven_shapes() == {b"D": [], b"F": [], b"G": [], b"H": []}


class _RefusingValidator(CompiledValidator):
    """A validator whose dictionary check refuses everything, to see the dialect obey it."""

    def __init__(self) -> None:
        super().__init__(VALIDATOR.dictionary)
        self.calls = 0

    def validate_outbound(self, msg_type: bytes, body: Any) -> None:
        self.calls += 1
        raise LocalProtocolError(f"refused {msg_type!r}")


def test_the_dictionary_check_guards_every_new_shape() -> None:
    from fixrouter.dialect import DialectSettings

    refusing = _RefusingValidator()
    dialect = Dialect(DialectSettings(), refusing)
    for _ in range(2):
        with pytest.raises(LocalProtocolError, match="refused b'D'"):
            dialect.new_order_body(order(), "C1", TT)
    assert refusing.calls == 2  # never cached, so asked again
    assert dialect.proven_shapes()[b"D"] == []


def test_validate_every_message_runs_the_full_check(make_dialect: Callable[..., Dialect]) -> None:
    calls: list[bytes] = []

    class Counting(CompiledValidator):
        def validate_outbound(self, msg_type: bytes, body: Any) -> None:
            calls.append(msg_type)
            super().validate_outbound(msg_type, body)

    from fixrouter.dialect import DialectSettings

    counting = Counting(VALIDATOR.dictionary)
    every = Dialect(DialectSettings(validate_every_message=True), counting)
    once = Dialect(DialectSettings(), counting)
    for i in range(3):
        every.new_order_body(order(), f"C{i}", TT)
        once.new_order_body(order(), f"C{i}", TT)
    assert len(calls) == 3 + 1


def test_proven_shapes_lists_what_was_checked(dialect: Dialect) -> None:
    dialect.new_order_body(order(), "C1", TT)
    dialect.new_order_body(order(price=Decimal(2)), "C2", TT)  # same shape
    dialect.new_order_body(order(type=OrderType.MARKET, price=None), "C3", TT)
    shapes = dialect.proven_shapes()[b"D"]
    assert sorted(shapes) == sorted([
        (11, 1, 21, 55, 167, 54, 38, 40, 44, 59, 60, 100, 15),
        (11, 1, 21, 55, 167, 54, 38, 40, 59, 60, 100, 15),
    ])


def test_handl_inst_must_be_allowed_by_the_dictionary(
    make_dialect: Callable[..., Dialect],
) -> None:
    with pytest.raises(ConfigError, match=r"HandlInst\(21\)='1'"):
        make_dialect(handl_inst="1")


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ({"default_currency": "usd"}, r"Currency\(15\): 'usd' is not a three-letter"),
        ({"default_exchange": "SM\x01RT"}, r"ExDestination\(100\): 'SM\\x01RT' contains"),
        ({"default_account": "U" * 40}, r"Account\(1\): 'U+' is 40 characters long"),
    ],
)
def test_bad_defaults_stop_start_up(
    make_dialect: Callable[..., Dialect], setting: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        make_dialect(**setting)


def test_nos_cost() -> None:
    """Per-order cost of a plain limit NOS body, checks included (house rule 9).

    Prints the figure; asserts only a generous bound, since CI machines vary.
    `tests/bench/bench_dialect.py` gives the median and p99.
    """
    from fixrouter.dialect import DialectSettings

    dialect = Dialect(DialectSettings(), VALIDATOR)
    new = order()
    dialect.new_order_body(new, "FR1124A000001", TT)
    runs = 20_000
    best = min(timeit.repeat(
        lambda: dialect.new_order_body(new, "FR1124A000001", TT), number=runs, repeat=5
    ))
    per_call_us = best / runs * 1e6
    print(f"new_order_body(plain limit order): {per_call_us:.2f} us")
    assert per_call_us < float(os.environ.get("FIXROUTER_DIALECT_LIMIT_US", "10"))
