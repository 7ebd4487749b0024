"""The gate end to end (without the router): each control through `check_new` at, just
under and just over its limit, exposure bookkeeping, replaces, cancels, restart, reload."""

from __future__ import annotations

import logging
import sys
from decimal import Decimal as D
from typing import Any

import pytest

from fixrouter.errors import ConfigError
from fixrouter.events import ExecKind
from fixrouter.requests import (
    CancelOrder,
    Derivative,
    OrderType,
    ReplaceOrder,
    SecurityType,
    Side,
    TimeInForce,
)
from fixrouter.risk import (
    DenialCode,
    KillScope,
    Queue,
    RiskConfig,
    RiskError,
    RiskGate,
    Withdrawn,
)

from .conftest import SESSION, FakeBook, FakeOrder, Pos, loose, open_gate, order, records

T = 1000.0
C = DenialCode


def code(verdict: object) -> DenialCode | None:
    return getattr(verdict, "code", None)


def accept(gate: RiskGate, **kw: Any) -> FakeOrder:
    """Send an order through the gate (it must pass) and hand back the book's order."""
    req = order(**kw)
    assert gate.check_new(req, SESSION, T) is None
    return FakeOrder(req)


def accept_replaced(gate: RiskGate) -> FakeOrder:
    """An order of 100 accepted, then replaced to 150 under the new id "a2" (the gate
    passed the replace and saw its Replaced report)."""
    a = accept(gate, qty=100)
    assert gate.check_replace(ReplaceOrder("s1", a.id, "a2", qty=D(150)), SESSION, T) is None
    a.start_replace("a2", qty=150)
    gate.on_report(a, T)
    a.confirm_replace()
    gate.on_report(a, T, ExecKind.REPLACED)
    return a


# ---- each control through the gate, at / under / over ----------------------------------


@pytest.mark.parametrize(("qty", "expected"), [(999, None), (1000, None),
                                               (1001, C.MAX_ORDER_QTY)])
def test_max_order_qty(qty: int, expected: DenialCode | None) -> None:
    gate = open_gate(loose(max_order_qty=1000))
    assert code(gate.check_new(order(qty=qty), SESSION, T)) == expected


@pytest.mark.parametrize(("qty", "expected"), [(99, None), (100, None),
                                               (101, C.MAX_ORDER_NOTIONAL)])
def test_max_order_notional(qty: int, expected: DenialCode | None) -> None:
    gate = open_gate(loose(max_order_notional=10_000))  # qty x 100
    assert code(gate.check_new(order(qty=qty), SESSION, T)) == expected


def test_notional_uses_the_multiplier_and_the_reference_for_market_orders() -> None:
    gate = open_gate(loose(max_order_notional=10_000), refs={"AAPL": "100", "ES": "50"})
    assert gate.check_new(order(qty=100, type=OrderType.MARKET, price=None), SESSION, T) is None
    assert code(gate.check_new(order(qty=101, type=OrderType.MARKET, price=None),
                               SESSION, T)) == C.MAX_ORDER_NOTIONAL
    # A symbol-scope multiplier (futures that carry none on the order): 4 x 50 x 50
    gate = open_gate({**loose(max_order_notional=10_000), "symbols": {"ES": {"multiplier": 50}}},
                     refs={"ES": "50"})
    assert gate.check_new(order(symbol="ES", qty=4, price="50"), SESSION, T) is None
    assert code(gate.check_new(order(symbol="ES", qty=5, price="50"), SESSION, T)) == \
        C.MAX_ORDER_NOTIONAL


def test_option_notional_takes_the_contract_multiplier_and_its_own_reference() -> None:
    gate = open_gate(loose(max_order_notional=10_000, allowed_security_types=["STK", "OPT"]),
                     refs={"AAPL": "190"})
    option = Derivative(maturity_month_year="202612", strike=D(200), multiplier=D(100),
                        local_symbol="AAPL  261218C00200000")
    gate.set_reference("AAPL  261218C00200000", D("3"))
    ok = order(qty=33, price="3", sec_type=SecurityType.OPT, derivative=option)
    assert gate.check_new(ok, SESSION, T) is None  # 33 x 3 x 100 = 9,900
    over = order(qty=34, price="3", sec_type=SecurityType.OPT, derivative=option)
    assert code(gate.check_new(over, SESSION, T)) == C.MAX_ORDER_NOTIONAL
    # the collar used the option's reference (3), not the stock's (190)
    rec = gate.record("s1", ok.id)
    assert rec is not None and rec.instrument == "AAPL  261218C00200000"


@pytest.mark.parametrize(("price", "expected"), [("104.99", None), ("105", None),
                                                 ("105.01", C.PRICE_COLLAR),
                                                 ("94.99", C.PRICE_COLLAR)])
def test_price_collar(price: str, expected: DenialCode | None) -> None:
    gate = open_gate(loose(price_collar_pct=5))
    assert code(gate.check_new(order(price=price), SESSION, T)) == expected


def test_price_collar_checks_stop_prices_too() -> None:
    gate = open_gate(loose(price_collar_pct=5))
    stop_limit = order(type=OrderType.STOP_LIMIT, price="101", stop="106")
    assert code(gate.check_new(stop_limit, SESSION, T)) == C.PRICE_COLLAR
    stop = order(type=OrderType.STOP, price=None, stop="104")
    assert gate.check_new(stop, SESSION, T) is None


def test_price_collar_in_ticks() -> None:
    gate = open_gate(loose(price_collar_ticks=10, tick_size="0.05"))
    assert gate.check_new(order(price="100.50"), SESSION, T) is None
    assert code(gate.check_new(order(price="100.51"), SESSION, T)) == C.PRICE_COLLAR


def test_lists_through_the_gate() -> None:
    gate = open_gate(loose(
        allowed_accounts=["U1"], allowed_destinations=["SMART"],
        allowed_security_types=["STK"], allowed_symbols=["AAPL", "GME"],
        restricted_symbols=["GME"], allowed_order_types=["limit", "market"],
        allow_market_orders=False, allowed_tifs=["day", "ioc"],
    ), refs={"AAPL": "100", "GME": "20", "MSFT": "300"})
    cases = [
        (order(), None),
        (order(account="U2"), C.ACCOUNT_NOT_ALLOWED),
        (order(account=None), C.ACCOUNT_NOT_ALLOWED),
        (order(exchange="ISLAND"), C.DESTINATION_NOT_ALLOWED),
        (order(sec_type=SecurityType.FUT), C.SECURITY_TYPE_NOT_ALLOWED),
        (order(symbol="MSFT", price="300"), C.SYMBOL_NOT_ALLOWED),
        (order(symbol="GME", price="20"), C.RESTRICTED_SYMBOL),
        (order(type=OrderType.STOP_LIMIT, stop="100"), C.ORDER_TYPE_NOT_ALLOWED),
        (order(type=OrderType.MARKET, price=None), C.MARKET_ORDERS_NOT_ALLOWED),
        (order(tif=TimeInForce.GTC), C.TIF_NOT_ALLOWED),
        (order(tif=TimeInForce.IOC), None),
    ]
    for req, expected in cases:
        assert code(gate.check_new(req, SESSION, T)) == expected, req
    # A combination that passed is remembered; one that failed is asked again (and fails).
    assert code(gate.check_new(order(account="U2"), SESSION, T)) == C.ACCOUNT_NOT_ALLOWED


@pytest.mark.parametrize(("working", "expected"), [(1, None), (2, C.MAX_OPEN_ORDERS)])
def test_max_open_orders_per_account(working: int, expected: DenialCode | None) -> None:
    gate = open_gate(loose(max_open_orders=3), refs={"AAPL": "100", "MSFT": "100"})
    for i in range(working):
        accept(gate, symbol="AAPL" if i % 2 else "MSFT", price="100")  # two symbols
    assert gate.check_new(order(), SESSION, T) is None  # the (working+1)-th
    assert code(gate.check_new(order(), SESSION, T)) == expected
    # another account has its own count
    assert gate.check_new(order(account="U2"), SESSION, T) is None


def test_max_open_orders_symbol_side() -> None:
    gate = open_gate(loose(max_open_orders_symbol_side=2))
    accept(gate)
    accept(gate)
    assert code(gate.check_new(order(), SESSION, T)) == C.MAX_OPEN_ORDERS_SYMBOL_SIDE
    # sell and short sell are the other side, with their own count
    assert gate.check_new(order(side=Side.SELL), SESSION, T) is None
    assert gate.check_new(order(side=Side.SHORT), SESSION, T) is None
    assert code(gate.check_new(order(side=Side.SELL), SESSION, T)) == \
        C.MAX_OPEN_ORDERS_SYMBOL_SIDE


@pytest.mark.parametrize(("qty", "expected"), [(199, None), (200, None),
                                               (201, C.POSITION_LIMIT)])
def test_position_limit_counts_position_and_open_same_side(qty: int,
                                                           expected: DenialCode | None) -> None:
    book_order = FakeOrder(order(qty=300))
    gate = open_gate(loose(max_position=1000), book=FakeBook(
        [book_order], [Pos("U1", "AAPL", D(500))]))
    # 500 held + 300 open + qty <= 1000
    assert code(gate.check_new(order(qty=qty), SESSION, T)) == expected


def test_position_limit_on_the_sell_side_sees_minus_the_position() -> None:
    gate = open_gate(loose(max_position=1000), book=FakeBook(
        positions=[Pos("U1", "AAPL", D(800))]))
    assert gate.check_new(order(side=Side.SELL, qty=1800), SESSION, T) is None  # to -1000
    assert code(gate.check_new(order(side=Side.SELL, qty=1), SESSION, T)) == \
        C.POSITION_LIMIT


@pytest.mark.parametrize(("qty", "expected"), [(29, None), (30, None),
                                               (31, C.GROSS_DAILY_NOTIONAL)])
def test_gross_daily_notional(qty: int, expected: DenialCode | None) -> None:
    filled = FakeOrder(order(qty=50))
    filled.fill(50, 100)  # 5,000 filled today
    gate = open_gate(loose(max_gross_daily_notional=10_000), book=FakeBook([filled]))
    accept(gate, qty=20)  # 2,000 open
    assert code(gate.check_new(order(qty=qty), SESSION, T)) == expected


def test_gross_daily_notional_is_per_currency() -> None:
    gate = open_gate(loose(max_gross_daily_notional=10_000))
    accept(gate, qty=100)
    assert code(gate.check_new(order(qty=1), SESSION, T)) == C.GROSS_DAILY_NOTIONAL
    assert gate.check_new(order(qty=1, currency="EUR"), SESSION, T) is None


def test_duplicate_content_within_the_window() -> None:
    gate = open_gate(loose(duplicate_window_ms=100))
    assert gate.check_new(order(), SESSION, T) is None
    assert code(gate.check_new(order(), SESSION, T + 0.0999)) == C.DUPLICATE_ORDER
    assert gate.check_new(order(), SESSION, T + 0.1) is None  # exactly N ms later
    assert gate.check_new(order(qty=101), SESSION, T + 0.1) is None  # different content
    assert gate.check_new(order(strategy="s2"), SESSION, T + 0.1) is None  # another strategy


def test_each_field_of_the_content_tells_orders_apart() -> None:
    """Orders that differ in one field of the duplicate check's content are not
    duplicates of each other, however the content is keyed."""
    gate = open_gate(loose(duplicate_window_ms=100))
    gate.set_reference("MSFT", D("100"))
    variants: list[dict[str, Any]] = [
        {}, {"qty": 101}, {"qty": "100.5"}, {"price": "100.01"}, {"price": "1E+2"},
        {"stop": "99"}, {"side": Side.SELL}, {"tif": TimeInForce.IOC}, {"account": "U2"},
        {"symbol": "MSFT"}, {"strategy": "s2"}, {"exchange": "ISLAND"},
        {"type": OrderType.MARKET, "price": None},
    ]
    for fields in variants:
        assert gate.check_new(order(**fields), SESSION, T) is None, fields
    assert code(gate.check_new(order(), SESSION, T + 0.01)) == C.DUPLICATE_ORDER


def test_a_denied_order_is_not_remembered_as_seen() -> None:
    gate = open_gate(loose(duplicate_window_ms=100, max_position=150))
    accept(gate, qty=100)
    assert code(gate.check_new(order(qty=60), SESSION, T)) == C.POSITION_LIMIT
    # Still refused for the position, not reported as a duplicate of the refused one.
    assert code(gate.check_new(order(qty=60), SESSION, T)) == C.POSITION_LIMIT


def test_reused_id_is_a_duplicate_order() -> None:
    gate = open_gate()
    req = order("same")
    assert gate.check_new(req, SESSION, T) is None
    denial = gate.check_new(order("same", qty=5), SESSION, T)
    assert code(denial) == C.DUPLICATE_ORDER and "already in use" in denial.message  # type: ignore[union-attr]


def test_ids_are_per_strategy_and_a_pending_replaces_new_id_is_in_use() -> None:
    gate = open_gate()
    a = accept(gate, id="x")
    b = accept(gate, id="x", strategy="s2")  # the same id under another strategy
    rec_a, rec_b = gate.record("s1", "x"), gate.record("s2", "x")
    assert rec_a is not None and rec_b is not None and rec_a is not rec_b
    assert rec_a.req is a.req and rec_b.req is b.req
    assert gate.check_replace(ReplaceOrder("s1", "x", "r1", qty=D(150)), SESSION, T) is None
    assert gate.record("s1", "r1") is rec_a and gate.record("s2", "r1") is None
    # The pending replace's new id is in use for its strategy only.
    assert code(gate.check_new(order("r1", qty=5), SESSION, T)) == C.DUPLICATE_ORDER
    accept(gate, id="r1", strategy="s2", qty=5)
    assert code(gate.check_replace(ReplaceOrder("s2", "x", "r1", qty=D(5)), SESSION, T)) == \
        C.DUPLICATE_ORDER
    assert gate.check_replace(ReplaceOrder("s2", "x", "r2", qty=D(50)), SESSION, T) is None
    accept(gate, id="r2", qty=5)  # s1's r2: s2's pending replace does not hold it
    # A failed send releases the replace of its own strategy only.
    gate.on_send_failed("s2", "r2")
    assert rec_b.pending is None and gate.record("s2", "r2") is None
    assert rec_a.pending is not None and gate.record("s1", "r2") is not None
    assert sorted((r.strategy, r.id) for r in gate.working()) == [
        ("s1", "r2"), ("s1", "x"), ("s2", "r1"), ("s2", "x")]


def test_a_strategys_record_maps_keep_each_entrys_hash() -> None:
    # The per-strategy record maps hold every working order: built in the dict layout
    # that stores each key's hash (as the order book's id maps), which is larger than the
    # str-only layout for the same keys; `new_day` builds them the same way.
    gate = open_gate()
    ids = [accept(gate, id=f"o{i}").id for i in range(200)]
    for i in range(100):
        assert gate.check_replace(ReplaceOrder("s1", f"o{i}", f"n{i}", qty=D(5)), SESSION,
                                  T) is None
    plain = dict.fromkeys(ids)
    assert list(gate._records["s1"]) == list(plain)
    assert sys.getsizeof(gate._records["s1"]) > sys.getsizeof(plain)
    assert sys.getsizeof(gate._aliases["s1"]) > sys.getsizeof(dict.fromkeys(ids[:100]))
    gate.new_day()
    assert list(gate._records["s1"]) == list(plain)
    assert sys.getsizeof(gate._records["s1"]) > sys.getsizeof(plain)


def test_order_efficiency_ratio_warn_then_block(caplog: pytest.LogCaptureFixture) -> None:
    gate = open_gate(loose(order_efficiency_warn=3, order_efficiency_block=4,
                           order_efficiency_min_messages=1))
    caplog.set_level(logging.WARNING, "fixrouter.risk")
    for i in range(4):  # messages 1..4, no executions: ratio 4 is allowed
        assert gate.check_new(order(price=str(100 + i)), SESSION, T) is None
    assert "order efficiency ratio" in caplog.text
    assert gate.warnings[C.ORDER_EFFICIENCY_RATIO] == 1  # warned once, not per order
    assert code(gate.check_new(order(), SESSION, T)) == C.ORDER_EFFICIENCY_RATIO
    # Cancels count as messages but are never blocked.
    assert gate.check_cancel(CancelOrder("s1", "whatever"), SESSION, T) is None


def test_efficiency_ratio_counts_executions() -> None:
    gate = open_gate(loose(order_efficiency_block=2, order_efficiency_min_messages=1))
    first = accept(gate)
    first.fill(100, 100)
    gate.on_report(first, T)  # one execution: room for 4 messages
    accept(gate)
    accept(gate)
    accept(gate)
    assert code(gate.check_new(order(), SESSION, T)) == C.ORDER_EFFICIENCY_RATIO


# ---- a denial after the record is filed leaves no trace ------------------------------------
# `check_new` files an order's record (and its duplicate-check content) in the look-up
# that finds its id free, before the checks that follow; every later denial must take
# them out again, leaving the gate exactly as it was.


def gate_state(gate: RiskGate) -> tuple[object, ...]:
    """Everything an order's check can leave behind, by value."""
    exp = gate.exposure
    return (
        records(gate._records), records(gate._aliases), dict(gate._queued), dict(gate._recent),
        gate._filing,
        [(rec.id, rec.working, rec.c_leaves, rec.c_notional, rec.unit)
         for rec in records(gate._records).values()],
        {name: (a.open_count, dict(a.open_notional), dict(a.filled_notional), a.messages,
                a.executions) for name, a in exp.accounts.items()},
        {key: (i.position, list(i.count), list(i.open_qty))
         for key, i in exp.instruments.items()},
        gate.queue_depth(SESSION),
    )


AFTER_FILING: list[tuple[dict[str, Any], dict[str, Any], DenialCode]] = [
    # (settings, the denied order's terms, its code), each control after the id check
    ({"missing_reference": "deny"}, {"symbol": "MSFT"}, C.NO_REFERENCE_PRICE),
    ({"price_collar_pct": 5}, {"price": "106"}, C.PRICE_COLLAR),
    ({"max_order_notional": 15_000}, {"qty": 151}, C.MAX_ORDER_NOTIONAL),
    ({}, {}, C.DUPLICATE_ORDER),  # the same content as the order accepted first
    ({"max_open_orders": 1}, {"qty": 5}, C.MAX_OPEN_ORDERS),
    ({"max_position": 150}, {"qty": 51}, C.POSITION_LIMIT),
    ({"max_gross_daily_notional": 15_000}, {"qty": 51}, C.GROSS_DAILY_NOTIONAL),
    ({"order_efficiency_block": 1, "order_efficiency_min_messages": 1}, {"qty": 5},
     C.ORDER_EFFICIENCY_RATIO),
]


@pytest.mark.parametrize(("settings", "terms", "expected"), AFTER_FILING,
                         ids=[c.value for _, _, c in AFTER_FILING])
def test_a_denial_after_the_id_check_leaves_the_gate_as_it_was(
        settings: dict[str, Any], terms: dict[str, Any], expected: DenialCode) -> None:
    gate = open_gate(loose(duplicate_window_ms=100, **settings))
    accept(gate, id="first")
    # A first refusal of the same terms: what the checks before the id check leave (the
    # list checks' memory and the exposure objects of a new symbol) is left by it.
    assert code(gate.check_new(order("warm-up", **terms), SESSION, T + 0.01)) == expected
    before = gate_state(gate)
    assert code(gate.check_new(order("x", **terms), SESSION, T + 0.01)) == expected
    assert gate_state(gate) == before
    assert gate.record("s1", "x") is None
    assert list(gate.working()) == [gate.record("s1", "first")]


def test_a_throttle_denial_leaves_the_gate_as_it_was() -> None:
    table = loose(duplicate_window_ms=100)
    table["throttle"] = {"rate": 1, "burst": 1, "cancel_rate": 10, "cancel_burst": 5}
    gate = open_gate(table)
    accept(gate, id="first")
    before = gate_state(gate)
    assert code(gate.check_new(order("x", qty=5), SESSION, T)) == C.RATE_LIMIT
    assert gate_state(gate) == before
    # Once a token is back the same id and content pass: nothing of the refusal remains.
    assert gate.check_new(order("x", qty=5), SESSION, T + 1) is None
    assert gate.record("s1", "x") is not None


def test_a_refused_orders_id_and_content_are_free_again() -> None:
    gate = open_gate(loose(duplicate_window_ms=100, max_position=150))
    accept(gate, id="first", qty=100)
    assert code(gate.check_new(order("x", qty=60), SESSION, T)) == C.POSITION_LIMIT
    # The id is not in use: a smaller order passes under it.
    assert gate.check_new(order("x", qty=50), SESSION, T) is None
    rec = gate.record("s1", "x")
    assert rec is not None and rec.working and rec.c_leaves == 50
    assert gate.exposure.instrument("U1", "AAPL").open_qty[1] == 150
    # And the refused content was never remembered: with room again, the same content
    # within the window is not a duplicate.
    gate.reload(loose(duplicate_window_ms=100, max_position=1000))
    assert gate.check_new(order("y", qty=60), SESSION, T) is None


def test_a_duplicate_outside_the_window_is_remembered_at_its_new_time() -> None:
    gate = open_gate(loose(duplicate_window_ms=100))
    assert gate.check_new(order(), SESSION, T) is None
    assert gate.check_new(order(), SESSION, T + 0.5) is None  # the window has passed
    # The second acceptance restarted the window: 0.5 s after the first, 0.05 s after it.
    assert code(gate.check_new(order(), SESSION, T + 0.55)) == C.DUPLICATE_ORDER
    assert gate.check_new(order(), SESSION, T + 0.6) is None


def test_an_exception_in_the_checks_leaves_the_gate_as_it_was() -> None:
    # A NaN quantity (the gateway never lets one through) makes the position check's
    # comparison raise after the record and the content are filed.
    gate = open_gate(loose(duplicate_window_ms=100, max_position=1000))
    accept(gate, id="first")
    before = gate_state(gate)
    with pytest.raises(ArithmeticError):
        gate.check_new(order("x", qty="NaN"), SESSION, T)
    assert gate_state(gate) == before
    assert gate.check_new(order("x"), SESSION, T + 1) is None  # the id is free


def test_a_derivative_record_takes_the_contracts_instrument_and_multiplier() -> None:
    gate = open_gate(loose(allowed_security_types=["STK", "OPT"]), refs={"AAPL": "190"})
    option = Derivative(maturity_month_year="202612", strike=D(200), multiplier=D(100),
                        local_symbol="AAPL  261218C00200000")
    gate.set_reference("AAPL  261218C00200000", D("3"))
    assert gate.check_new(order("opt", qty=2, price="3", sec_type=SecurityType.OPT,
                                derivative=option), SESSION, T) is None
    rec = gate.record("s1", "opt")
    assert rec is not None
    assert (rec.instrument, rec.multiplier, rec.unit, rec.c_notional) == \
        ("AAPL  261218C00200000", D(100), D(300), D(600))
    contract = gate.exposure.instrument("U1", "AAPL  261218C00200000")
    assert contract.open_qty[1] == 2 and contract.count[1] == 1
    assert gate.exposure.instrument("U1", "AAPL").count == [0, 0]  # not the underlying's
    assert gate.exposure.account("U1").open_notional == {"USD": D(600)}


# ---- reference prices ---------------------------------------------------------------------


def test_missing_reference_deny() -> None:
    gate = open_gate(loose(missing_reference="deny"), refs={})
    denial = gate.check_new(order(), SESSION, T)
    assert code(denial) == C.NO_REFERENCE_PRICE
    gate.set_reference("AAPL", D(100))
    assert gate.check_new(order(), SESSION, T) is None


def test_missing_reference_warn(caplog: pytest.LogCaptureFixture) -> None:
    gate = open_gate(loose(missing_reference="warn", price_collar_pct=5,
                           max_order_notional=1000), refs={})
    caplog.set_level(logging.WARNING, "fixrouter.risk")
    # No collar without a reference, but a limit order's notional is still checked...
    assert gate.check_new(order(qty=10, price="100"), SESSION, T) is None
    assert code(gate.check_new(order(qty=11, price="100"), SESSION, T)) == \
        C.MAX_ORDER_NOTIONAL
    # ...while a market order passes with no notional, said out loud.
    assert gate.check_new(order(qty=50, type=OrderType.MARKET, price=None), SESSION, T) is None
    assert "no reference price for AAPL" in caplog.text
    assert gate.warnings[C.NO_REFERENCE_PRICE] == 3


def test_fills_set_the_reference_and_the_latest_source_wins() -> None:
    gate = open_gate(loose(price_collar_pct=5), refs={})
    gate.set_reference("AAPL", D(100))
    o = accept(gate, price="104")
    o.fill(40, "104")
    gate.on_report(o, T)
    assert gate.references.get("AAPL") == D(104)
    assert gate.check_new(order(price="109"), SESSION, T) is None  # within 5% of 104
    gate.set_reference("AAPL", D(50))  # admin, later: wins until the next fill
    assert code(gate.check_new(order(price="104"), SESSION, T)) == C.PRICE_COLLAR
    with pytest.raises(ValueError):
        gate.set_reference("AAPL", D(0))


# ---- exposure bookkeeping -----------------------------------------------------------------


def sums(gate: RiskGate) -> tuple[int, D, D]:
    acct = gate.exposure.accounts["U1"]
    inst = gate.exposure.instruments[("U1", "AAPL")]
    return acct.open_count, inst.open_qty[1], acct.open_notional.get("USD", D(0))


def test_fill_cancel_and_reject_release_exposure() -> None:
    gate = open_gate()
    a = accept(gate, qty=100)
    b = accept(gate, qty=50)
    assert sums(gate) == (2, D(150), D(15_000))
    a.fill(30, "100")
    gate.on_report(a, T)
    assert sums(gate) == (2, D(120), D(12_000))
    assert gate.exposure.instruments[("U1", "AAPL")].position == D(30)
    assert gate.exposure.accounts["U1"].filled_notional["USD"] == D(3000)
    a.done()  # cancelled with 70 open
    gate.on_report(a, T, ExecKind.CANCELED)
    b.done()  # rejected
    gate.on_report(b, T, ExecKind.REJECTED)
    assert sums(gate) == (0, D(0), D(0))
    assert gate.exposure.instruments[("U1", "AAPL")].position == D(30)


def test_bust_moves_position_back_and_reopens_a_filled_order() -> None:
    gate = open_gate()
    o = accept(gate, qty=100)
    o.fill(100, "100")
    gate.on_report(o, T)
    assert sums(gate) == (0, D(0), D(0))
    assert gate.record("s1", o.id) is None  # finished: the record went with the order
    # The book retired the order, read it back for the bust (telling what had been
    # counted for it) and applied the bust.
    o.recalled = (D(100), D(10_000))
    o.cum_qty, o.notional, o.is_working = D(0), D(0), True
    gate.on_report(o, T, ExecKind.BUST)
    assert gate.exposure.instruments[("U1", "AAPL")].position == D(0)
    assert gate.exposure.accounts["U1"].filled_notional["USD"] == D(0)
    assert sums(gate) == (1, D(100), D(10_000))


def test_a_late_report_on_a_retired_order_moves_the_sums_by_its_difference_only() -> None:
    gate = open_gate()
    o = accept(gate, qty=100)
    o.fill(100, "100")
    gate.on_report(o, T, ExecKind.FILL)
    executions = gate.exposure.accounts["U1"].executions
    # an unsolicited cancel after the fill, and a duplicate of the fill: no change
    o.recalled = (D(100), D(10_000))
    gate.on_report(o, T, ExecKind.CANCELED)
    gate.on_report(o, T, ExecKind.FILL)
    inst = gate.exposure.instruments[("U1", "AAPL")]
    assert inst.position == D(100) and gate.exposure.accounts["U1"].executions == executions
    assert gate.exposure.accounts["U1"].filled_notional["USD"] == D(10_000)
    assert gate.record("s1", o.id) is None and sums(gate) == (0, D(0), D(0))


def test_records_go_when_orders_finish_under_every_id() -> None:
    gate = open_gate()
    a = accept_replaced(gate)
    assert gate.record("s1", "a2") is gate.record("s1", a.req.id) is not None
    a.done()
    gate.on_report(a, T, ExecKind.CANCELED)
    assert gate.record("s1", "a2") is None and gate.record("s1", a.req.id) is None
    assert records(gate._records) == {} and records(gate._aliases) == {}
    assert gate.exposure.accounts["U1"].messages == 2  # the day's counts stay


def test_a_finished_orders_id_is_the_books_to_refuse() -> None:
    # The gate refuses an id while it knows the order; once the order is finished the
    # order book refuses it (DUPLICATE_ID) and the router hands back what was counted.
    gate = open_gate()
    a = accept(gate, qty=100)
    a.fill(100, "100")
    gate.on_report(a, T, ExecKind.FILL)
    messages = gate.exposure.accounts["U1"].messages
    assert gate.check_new(order(a.id), SESSION, T) is None
    gate.on_send_failed("s1", a.id)
    assert gate.exposure.accounts["U1"].messages == messages
    assert sums(gate) == (0, D(0), D(0))


def test_send_failed_releases_a_new_order() -> None:
    gate = open_gate(loose(max_open_orders=1))
    req = order()
    assert gate.check_new(req, SESSION, T) is None
    assert code(gate.check_new(order(), SESSION, T)) == C.MAX_OPEN_ORDERS
    gate.on_send_failed("s1", req.id)
    assert gate.check_new(order(), SESSION, T) is None
    assert gate.exposure.accounts["U1"].messages == 1


def test_orders_the_gate_did_not_pass_are_adopted() -> None:
    gate = open_gate()
    orphan = FakeOrder(order(strategy=""))
    orphan.fill(10, "100")
    gate.on_report(orphan, T)
    assert sums(gate) == (1, D(90), D(9000))
    assert gate.exposure.instruments[("U1", "AAPL")].position == D(10)


# ---- replaces ----------------------------------------------------------------------------


def test_replace_is_checked_on_its_new_values() -> None:
    gate = open_gate(loose(max_order_qty=200, price_collar_pct=5, allowed_tifs=["day"]))
    o = accept(gate, qty=100)
    assert code(gate.check_replace(ReplaceOrder("s1", o.id, "r1", qty=D(201)), SESSION, T)) \
        == C.MAX_ORDER_QTY
    assert code(gate.check_replace(ReplaceOrder("s1", o.id, "r2", price=D(106)),
                                   SESSION, T)) == C.PRICE_COLLAR
    assert code(gate.check_replace(ReplaceOrder("s1", o.id, "r3", tif=TimeInForce.GTC),
                                   SESSION, T)) == C.TIF_NOT_ALLOWED
    assert gate.check_replace(ReplaceOrder("s1", o.id, "r4", qty=D(200)), SESSION, T) is None


def test_replace_checks_only_the_terms_it_changes() -> None:
    gate = open_gate(loose(price_collar_pct=5, max_order_qty=1000))
    o = accept(gate, qty=500, price="104")
    gate.set_reference("AAPL", D(90))  # the market moved: 104 is now outside the collar
    gate.reload(loose(price_collar_pct=5, max_order_qty=100))  # and the limit tightened
    # A smaller quantity at the old price is harmless, and passes...
    assert gate.check_replace(ReplaceOrder("s1", o.id, "r1", qty=D(50)), SESSION, T) is None
    # ...but a new price is held to the collar, and a new quantity to the new maximum.
    o2 = accept(gate, qty=10, price="90")
    assert code(gate.check_replace(ReplaceOrder("s1", o2.id, "r2", price=D(95)),
                                   SESSION, T)) == C.PRICE_COLLAR
    assert code(gate.check_replace(ReplaceOrder("s1", o2.id, "r3", qty=D(101)),
                                   SESSION, T)) == C.MAX_ORDER_QTY


def test_replace_is_checked_on_the_delta() -> None:
    gate = open_gate(loose(max_position=300, max_gross_daily_notional=30_000))
    a = accept(gate, qty=100)
    accept(gate, qty=100)
    # +100 fits the position (300) exactly; +101 does not
    assert code(gate.check_replace(ReplaceOrder("s1", a.id, "r1", qty=D(201)), SESSION, T)) \
        == C.POSITION_LIMIT
    assert gate.check_replace(ReplaceOrder("s1", a.id, "r2", qty=D(200)), SESSION, T) is None
    # While pending it counts the larger terms
    assert sums(gate) == (2, D(300), D(30_000))


def test_a_replace_that_shrinks_always_has_room() -> None:
    gate = open_gate(loose(max_position=1000))
    a = accept(gate, qty=900)
    gate.reload(loose(max_position=100))  # tightened below what is open
    assert code(gate.check_new(order(qty=1), SESSION, T)) == C.POSITION_LIMIT
    assert gate.check_replace(ReplaceOrder("s1", a.id, "r1", qty=D(50)), SESSION, T) is None


def test_replace_gross_notional_delta_includes_a_price_rise() -> None:
    gate = open_gate(loose(max_gross_daily_notional=10_300, price_collar_pct=10))
    a = accept(gate, qty=100, price="100")
    assert code(gate.check_replace(ReplaceOrder("s1", a.id, "r1", price=D("103.01")),
                                   SESSION, T)) == C.GROSS_DAILY_NOTIONAL
    assert gate.check_replace(ReplaceOrder("s1", a.id, "r2", price=D(103)), SESSION, T) is None


def test_replace_confirmed_refused_and_failed() -> None:
    gate = open_gate()
    a = accept(gate, qty=100)
    assert gate.check_replace(ReplaceOrder("s1", a.id, "r1", qty=D(150)), SESSION, T) is None
    a.start_replace("r1", qty=150)
    gate.on_report(a, T, ExecKind.PENDING_REPLACE)
    assert sums(gate) == (1, D(150), D(15_000))
    a.fill(20, "100")  # fills on the old terms while pending
    gate.on_report(a, T)
    assert sums(gate) == (1, D(130), D(13_000))
    a.confirm_replace()
    gate.on_report(a, T, ExecKind.REPLACED)
    assert sums(gate) == (1, D(130), D(13_000))
    assert gate.record("s1", "r1") is gate.record("s1", a.req.id)
    # now a shrink that the broker refuses: back to the confirmed terms
    assert gate.check_replace(ReplaceOrder("s1", "r1", "r2", qty=D(50)), SESSION, T) is None
    a.start_replace("r2", qty=50)
    gate.on_report(a, T)
    assert sums(gate) == (1, D(130), D(13_000))  # the larger terms stay counted
    a.refuse_replace()
    gate.on_report(a, T)
    assert sums(gate) == (1, D(130), D(13_000))
    # a replace the book would not take is rolled back
    assert gate.check_replace(ReplaceOrder("s1", "r1", "r3", qty=D(300)), SESSION, T) is None
    assert sums(gate) == (1, D(280), D(28_000))
    gate.on_send_failed("s1", "r3")
    assert sums(gate) == (1, D(130), D(13_000))


def test_replace_of_an_unknown_or_busy_order_is_left_to_the_book() -> None:
    gate = open_gate()
    assert gate.check_replace(ReplaceOrder("s1", "nope", "r1", qty=D(5)), SESSION, T) is None
    a = accept(gate)
    assert gate.check_replace(ReplaceOrder("s1", a.id, "r1", qty=D(150)), SESSION, T) is None
    # a second replace while one is pending: the book answers ORDER_NOT_WORKING
    assert gate.check_replace(ReplaceOrder("s1", a.id, "r2", qty=D(999)), SESSION, T) is None
    assert sums(gate) == (1, D(150), D(15_000))
    # a new_id already used is a duplicate
    b = accept(gate)
    assert code(gate.check_replace(ReplaceOrder("s1", b.id, a.id, qty=D(5)), SESSION, T)) == \
        C.DUPLICATE_ORDER


# ---- cancels -------------------------------------------------------------------------------


def test_cancels_pass_the_kill_switch_and_every_exposure_check() -> None:
    gate = open_gate(loose(max_open_orders=1, max_position=100, max_gross_daily_notional=1,
                           order_efficiency_block=1, order_efficiency_min_messages=1))
    gate.reload(loose())
    a = accept(gate)
    gate.reload(loose(max_open_orders=1, max_position=1, max_gross_daily_notional=1,
                      max_order_qty=1, order_efficiency_block=1,
                      order_efficiency_min_messages=1))
    for scope, name in ((KillScope.ENGINE, ""), (KillScope.ACCOUNT, "U1"),
                        (KillScope.STRATEGY, "s1")):
        gate.engage(scope, name)
    assert code(gate.check_new(order(), SESSION, T)) == C.KILL_SWITCH
    assert code(gate.check_replace(ReplaceOrder("s1", a.id, "r"), SESSION, T)) == C.KILL_SWITCH
    for _ in range(5):
        assert gate.check_cancel(CancelOrder("s1", a.id), SESSION, T) is None


def test_cancel_of_a_queued_order_withdraws_it() -> None:
    table = loose()
    table["throttle"] = {"rate": 1, "burst": 1, "mode": "queue"}
    gate = open_gate(table)
    accept(gate)
    queued = order()
    verdict = gate.check_new(queued, SESSION, T)
    assert isinstance(verdict, Queue)
    assert sums(gate)[0] == 2  # counted while queued
    withdrawn = gate.check_cancel(CancelOrder("s1", queued.id), SESSION, T)
    assert withdrawn == Withdrawn(queued)
    assert sums(gate)[0] == 1
    assert gate.drain(SESSION, T + 5) == []


def test_throttle_through_the_gate() -> None:
    table = loose()
    table["throttle"] = {"rate": 2, "burst": 2, "cancel_rate": 10, "cancel_burst": 5,
                         "mode": "queue", "queue_depth": 1}
    gate = open_gate(table)
    a = accept(gate)
    accept(gate)
    held = order()
    assert isinstance(gate.check_new(held, SESSION, T), Queue)
    assert code(gate.check_new(order(), SESSION, T)) == C.RATE_LIMIT  # queue full
    assert gate.check_cancel(CancelOrder("s1", a.id), SESSION, T) is None  # overtakes
    assert gate.next_release(SESSION, T) == pytest.approx(T + 0.5)
    assert gate.drain(SESSION, T + 0.5) == [held]
    # another session has its own buckets
    assert gate.check_new(order(), "s2", T) is None


# ---- restart: fail closed, then rebuild ----------------------------------------------------


def test_fails_closed_until_the_rebuild_completes() -> None:
    gate = RiskGate(RiskConfig.from_toml_table(loose()))
    assert code(gate.check_new(order(), SESSION, T)) == C.RISK_STATE_UNKNOWN
    assert code(gate.check_replace(ReplaceOrder("s1", "a", "b"), SESSION, T)) == \
        C.RISK_STATE_UNKNOWN
    assert gate.check_cancel(CancelOrder("s1", "a"), SESSION, T) is None  # never blocked
    with pytest.raises(RiskError):
        gate.rebuild_complete()
    not_ready = FakeBook()
    not_ready.ready = False
    with pytest.raises(RiskError):
        gate.rebuild(not_ready)
    gate.rebuild(FakeBook())
    assert code(gate.check_new(order(), SESSION, T)) == C.RISK_STATE_UNKNOWN
    gate.rebuild_complete()
    gate.set_reference("AAPL", D(100))
    assert gate.check_new(order(), SESSION, T) is None
    # state-unknown denials do not count toward a strategy's automatic kill switch
    assert gate.denials[C.RISK_STATE_UNKNOWN] == 3


def test_rebuild_from_the_book() -> None:
    working = FakeOrder(order("w1", qty=100))
    working.fill(40, "100")
    pending = FakeOrder(order("w2", qty=10, side=Side.SELL))
    pending.start_replace("w2b", qty=30)
    done = FakeOrder(order("d1", qty=20))
    done.fill(20, "99")
    book = FakeBook([working, pending, done], [Pos("U1", "AAPL", D(60))])
    gate = open_gate(loose(max_position=200), refs={}, book=book)
    inst = gate.exposure.instruments[("U1", "AAPL")]
    assert inst.position == D(60)
    assert inst.open_qty == [D(30), D(60)] and inst.count == [1, 1]
    acct = gate.exposure.accounts["U1"]
    assert acct.filled_notional["USD"] == D(4000) + D(1980)
    assert acct.executions == 2 and acct.messages == 3
    assert gate.references.get("AAPL") == D(99)  # the latest order with fills
    # fills already counted are not counted again
    working.fill(10, "100")
    gate.on_report(working, T)
    assert inst.position == D(70)
    # ids of the book are in use
    assert code(gate.check_new(order("d1"), SESSION, T)) == C.DUPLICATE_ORDER
    assert code(gate.check_new(order("w2b"), SESSION, T)) == C.DUPLICATE_ORDER
    # and the pending replace resolves normally
    pending.confirm_replace()
    gate.on_report(pending, T)
    assert inst.open_qty[0] == D(30)


def test_rebuild_counts_the_retired_orders_totals() -> None:
    from fixrouter.oms.retired import RetiredTotal

    retired = [RetiredTotal("s1", "U1", "AAPL", "AAPL", "USD", None, orders=5, filled=3,
                            notional=D(1000)),
               RetiredTotal("s1", "U1", "ES", "ES:FUT:202403:", "USD", D(50), orders=2,
                            filled=1, notional=D(4000))]
    book = FakeBook([], [Pos("U1", "AAPL", D(10))], retired=retired,
                    last_prices={"AAPL": D("101.5")})
    gate = open_gate(refs={}, book=book)
    acct = gate.exposure.accounts["U1"]
    assert acct.messages == 7 and acct.executions == 4
    assert acct.filled_notional["USD"] == D(1000) + D(4000) * 50  # the order's multiplier
    assert gate.references.get("AAPL") == D("101.5")
    assert gate.exposure.instruments[("U1", "AAPL")].position == D(10)


# ---- reload ----------------------------------------------------------------------------------


def test_reload_tightens_at_once_and_keeps_state() -> None:
    gate = open_gate(loose(max_order_qty=1000))
    a = accept(gate, qty=500)
    gate.engage(KillScope.STRATEGY, "other")
    gate.reload(loose(max_order_qty=100))
    assert code(gate.check_new(order(qty=101), SESSION, T)) == C.MAX_ORDER_QTY
    assert sums(gate) == (1, D(500), D(50_000))
    assert gate.record("s1", a.id) is not None
    assert "other" in gate.kill_switch.strategies


def test_reload_refuses_an_invalid_config_whole() -> None:
    gate = open_gate(loose(max_order_qty=1000))
    bad = loose(max_order_qty=10)
    bad["global"]["max_postion"] = 5
    with pytest.raises(ConfigError, match="max_postion"):
        gate.reload(bad)
    assert gate.config.global_limits.max_order_qty == 1000
    assert gate.check_new(order(qty=500), SESSION, T) is None


def test_reload_clears_remembered_list_checks() -> None:
    gate = open_gate(loose())
    assert gate.check_new(order(), SESSION, T) is None
    gate.reload(loose(restricted_symbols=["AAPL"]))
    assert code(gate.check_new(order(), SESSION, T)) == C.RESTRICTED_SYMBOL


# ---- reporting -------------------------------------------------------------------------------


def test_every_denial_is_logged_and_counted(caplog: pytest.LogCaptureFixture) -> None:
    gate = open_gate(loose(max_order_qty=10))
    caplog.set_level(logging.WARNING, "fixrouter.risk")
    gate.check_new(order("big", qty=11), SESSION, T)
    record = caplog.records[-1]
    assert record.name == "fixrouter.risk"
    assert record.args is not None  # lazy %-formatting
    assert "denied s1/big on session s1: MAX_ORDER_QTY" in record.getMessage()
    assert gate.denials[C.MAX_ORDER_QTY] == 1
    assert gate.denials.snapshot()[C.MAX_ORDER_QTY] == 1
    assert set(gate.denials.snapshot()) == set(DenialCode)


def test_new_day_resets_daily_figures_only() -> None:
    gate = open_gate(loose(max_gross_daily_notional=10_000))
    a = accept(gate, qty=100)
    a.fill(50, "100")
    gate.on_report(a, T)
    gate.new_day()
    acct = gate.exposure.accounts["U1"]
    assert acct.filled_notional == {} and acct.messages == 0 and acct.executions == 0
    assert sums(gate) == (1, D(50), D(5000))
    assert gate.exposure.instruments[("U1", "AAPL")].position == D(50)


def test_new_day_keeps_working_orders_under_every_id_and_forgets_the_rest() -> None:
    gate = open_gate()
    a = accept_replaced(gate)
    b = accept(gate, strategy="s2")
    c = accept(gate, strategy="s3")
    # Done but still filed: its cancel is pending a replace the book has not answered.
    assert gate.check_replace(ReplaceOrder("s3", c.id, "c2", qty=D(5)), SESSION, T) is None
    c.start_replace("c2", qty=5)
    c.is_working = False
    gate.on_report(c, T, ExecKind.CANCELED)
    done = gate.record("s3", c.id)
    assert done is not None and not done.working
    gate.new_day()
    rec = gate.record("s1", "a2")
    assert rec is not None and rec is gate.record("s1", a.req.id) and rec.working
    assert gate.record("s2", b.id) is not None
    assert records(gate._records) == {("s1", a.req.id): rec, ("s1", "a2"): rec,
                                      ("s2", b.id): gate.record("s2", b.id)}
    assert gate.filed() == 3  # what the bench's memory report counts
    assert sorted((r.strategy, r.id) for r in gate.working()) == [("s1", "a2"), ("s2", b.id)]
    assert sums(gate) == (2, D(250), D(25_000))
