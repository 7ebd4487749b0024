"""Each pure check at, just under and just over its limit (`fixrouter.risk.checks`)."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from fixrouter.requests import OrderType, SecurityType, TimeInForce
from fixrouter.risk.checks import (
    check_account,
    check_destination,
    check_duplicate,
    check_efficiency_ratio,
    check_gross_notional,
    check_kill_switch,
    check_market_order,
    check_open_orders,
    check_order_notional,
    check_order_qty,
    check_order_type,
    check_position,
    check_price_collar,
    check_rate,
    check_reference,
    check_security_type,
    check_state,
    check_symbol,
    check_tif,
    efficiency_ratio,
)
from fixrouter.risk.denial import DenialCode
from fixrouter.risk.killswitch import Engagement, KillScope
from fixrouter.risk.limits import MissingReference


def code(denial: object) -> DenialCode | None:
    return None if denial is None else denial.code  # type: ignore[attr-defined]


@pytest.mark.parametrize(("qty", "expected"), [
    ("999", None), ("1000", None), ("1000.0001", DenialCode.MAX_ORDER_QTY),
    ("1001", DenialCode.MAX_ORDER_QTY),
])
def test_max_order_qty(qty: str, expected: DenialCode | None) -> None:
    assert code(check_order_qty(D(qty), D(1000))) == expected


def test_max_order_qty_reports_limit_and_value() -> None:
    denial = check_order_qty(D(1001), D(1000))
    assert denial is not None
    assert (denial.limit, denial.value) == ("1000", "1001")
    assert check_order_qty(D(10**9), None) is None  # off


@pytest.mark.parametrize(("notional", "expected"), [
    ("99999.99", None), ("100000", None), ("100000.01", DenialCode.MAX_ORDER_NOTIONAL),
])
def test_max_order_notional(notional: str, expected: DenialCode | None) -> None:
    assert code(check_order_notional(D(notional), D(100_000))) == expected


@pytest.mark.parametrize(("price", "expected"), [
    ("104.99", None), ("105", None), ("105.01", DenialCode.PRICE_COLLAR),
    ("95", None), ("94.99", DenialCode.PRICE_COLLAR),
])
def test_price_collar_percent(price: str, expected: DenialCode | None) -> None:
    assert code(check_price_collar(D(price), D(100), D("0.05"), None)) == expected


@pytest.mark.parametrize(("price", "expected"), [
    ("100.09", None), ("100.10", None), ("100.11", DenialCode.PRICE_COLLAR),
    ("99.90", None), ("99.89", DenialCode.PRICE_COLLAR),
])
def test_price_collar_ticks(price: str, expected: DenialCode | None) -> None:
    # 10 ticks of 0.01 around 100
    assert code(check_price_collar(D(price), D(100), None, D("0.10"))) == expected


def test_price_collar_both_bands_the_tighter_wins() -> None:
    assert check_price_collar(D("100.10"), D(100), D("0.05"), D("0.10")) is None
    denial = check_price_collar(D("100.11"), D(100), D("0.05"), D("0.10"))
    assert denial is not None and "tick collar" in denial.message
    denial = check_price_collar(D("105.01"), D(100), D("0.05"), D(10))
    assert denial is not None and denial.limit == "±5% of 100"
    assert check_price_collar(D(1), D(100), None, None) is None  # off


def test_market_orders() -> None:
    for kind in (OrderType.MARKET, OrderType.MOC, OrderType.STOP):
        assert code(check_market_order(kind, False)) == DenialCode.MARKET_ORDERS_NOT_ALLOWED
        assert check_market_order(kind, True) is None
    for kind in (OrderType.LIMIT, OrderType.LOC, OrderType.STOP_LIMIT):
        assert check_market_order(kind, False) is None


def test_symbol_lists() -> None:
    assert check_symbol("AAPL", None, frozenset()) is None
    assert check_symbol("AAPL", frozenset({"AAPL"}), frozenset()) is None
    assert code(check_symbol("MSFT", frozenset({"AAPL"}), frozenset())) == \
        DenialCode.SYMBOL_NOT_ALLOWED
    assert code(check_symbol("GME", None, frozenset({"GME"}))) == DenialCode.RESTRICTED_SYMBOL
    # restricted beats allowed
    assert code(check_symbol("GME", frozenset({"GME"}), frozenset({"GME"}))) == \
        DenialCode.RESTRICTED_SYMBOL


def test_allow_lists() -> None:
    assert check_security_type(SecurityType.STK, None) is None
    assert check_security_type(SecurityType.STK, {SecurityType.STK}) is None
    assert code(check_security_type(SecurityType.OPT, {SecurityType.STK})) == \
        DenialCode.SECURITY_TYPE_NOT_ALLOWED
    assert check_account("U1", None) is None
    assert check_account("U1", {"U1"}) is None
    assert code(check_account("U2", {"U1"})) == DenialCode.ACCOUNT_NOT_ALLOWED
    # no account given (IB's session default) cannot be shown to be on the list
    assert code(check_account(None, {"U1"})) == DenialCode.ACCOUNT_NOT_ALLOWED
    assert check_account(None, None) is None
    assert check_destination("SMART", {"SMART"}) is None
    assert code(check_destination("ISLAND", {"SMART"})) == DenialCode.DESTINATION_NOT_ALLOWED
    assert check_order_type(OrderType.LIMIT, {OrderType.LIMIT}) is None
    assert code(check_order_type(OrderType.STOP, {OrderType.LIMIT})) == \
        DenialCode.ORDER_TYPE_NOT_ALLOWED
    assert check_tif(TimeInForce.DAY, {TimeInForce.DAY}) is None
    assert code(check_tif(TimeInForce.GTC, {TimeInForce.DAY})) == DenialCode.TIF_NOT_ALLOWED


@pytest.mark.parametrize(("count", "expected"), [
    (8, None), (9, None), (10, DenialCode.MAX_OPEN_ORDERS),
])
def test_max_open_orders(count: int, expected: DenialCode | None) -> None:
    # `count` is before this order: with 9 working, the 10th is allowed; with 10, not.
    assert code(check_open_orders(count, 10, 0, None)) == expected


@pytest.mark.parametrize(("count", "expected"), [
    (13, None), (14, None), (15, DenialCode.MAX_OPEN_ORDERS_SYMBOL_SIDE),
])
def test_max_open_orders_symbol_side(count: int, expected: DenialCode | None) -> None:
    assert code(check_open_orders(0, None, count, 15)) == expected


def test_open_orders_reports_the_count_this_order_would_make() -> None:
    denial = check_open_orders(10, 10, 0, 15)
    assert denial is not None and (denial.limit, denial.value) == ("10", "11")


@pytest.mark.parametrize(("qty", "expected"), [
    ("199", None), ("200", None), ("201", DenialCode.POSITION_LIMIT),
])
def test_position_limit(qty: str, expected: DenialCode | None) -> None:
    # 500 held + 300 open same side + qty <= 1000
    assert code(check_position(D(500), D(300), D(qty), D(1000))) == expected


def test_position_limit_leaves_room_to_reduce() -> None:
    # Long 1000 at the limit: a sell sees the position as -1000 and has room.
    assert check_position(D(-1000), D(0), D(1500), D(1000)) is None
    assert code(check_position(D(-1000), D(0), D(2001), D(1000))) == DenialCode.POSITION_LIMIT


@pytest.mark.parametrize(("this", "expected"), [
    ("99.99", None), ("100", None), ("100.01", DenialCode.GROSS_DAILY_NOTIONAL),
])
def test_gross_daily_notional(this: str, expected: DenialCode | None) -> None:
    assert code(check_gross_notional(D(600), D(300), D(this), D(1000))) == expected


@pytest.mark.parametrize(("age", "expected"), [
    (0.0, DenialCode.DUPLICATE_ORDER), (0.0999, DenialCode.DUPLICATE_ORDER),
    (0.1, None), (0.1001, None),
])
def test_duplicate_window(age: float, expected: DenialCode | None) -> None:
    now = 1000.0
    assert code(check_duplicate(now - age, now, 0.1)) == expected
    assert check_duplicate(None, now, 0.1) is None


@pytest.mark.parametrize(("messages", "expected"), [
    (199, None), (200, None), (201, DenialCode.ORDER_EFFICIENCY_RATIO),
])
def test_efficiency_ratio(messages: int, expected: DenialCode | None) -> None:
    # 9 executions: ratio = messages / 10; block above 20
    assert code(check_efficiency_ratio(messages, 9, 20.0, 0)) == expected
    assert efficiency_ratio(200, 9) == 20.0


def test_efficiency_ratio_floor_and_off() -> None:
    assert check_efficiency_ratio(99, 0, 20.0, 100) is None  # under the floor
    assert code(check_efficiency_ratio(100, 0, 20.0, 100)) == DenialCode.ORDER_EFFICIENCY_RATIO
    assert check_efficiency_ratio(10**6, 0, None, 0) is None


def test_reference_modes() -> None:
    assert check_reference(D(1), MissingReference.DENY, "AAPL") is None
    assert code(check_reference(None, MissingReference.DENY, "AAPL")) == \
        DenialCode.NO_REFERENCE_PRICE
    assert check_reference(None, MissingReference.WARN, "AAPL") is None


def test_kill_switch_state_and_rate() -> None:
    assert check_kill_switch(None) is None
    denial = check_kill_switch(Engagement(KillScope.STRATEGY, "momo", "runaway", 1.0))
    assert denial is not None and denial.code is DenialCode.KILL_SWITCH
    assert denial.value == "strategy momo" and "runaway" in denial.message
    assert check_state(True) is None
    assert code(check_state(False)) == DenialCode.RISK_STATE_UNKNOWN
    assert check_rate("r", "1/s", "0").code is DenialCode.RATE_LIMIT


def test_denial_becomes_the_upstream_event() -> None:
    denial = check_order_qty(D(1001), D(1000))
    assert denial is not None
    event = denial.to_event("o7")
    assert (event.id, event.code, event.limit, event.value) == (
        "o7", "MAX_ORDER_QTY", "1000", "1001")
