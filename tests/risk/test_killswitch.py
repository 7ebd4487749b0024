"""Kill switches: manual scopes and cancel_all, queued requests dropped, automatic
triggers, and release only by hand."""

from __future__ import annotations

import logging
from decimal import Decimal as D
from typing import Any

import pytest

from fixrouter.events import ExecKind
from fixrouter.requests import CancelOrder, ReplaceOrder, Side
from fixrouter.risk import Denial, DenialCode, KillScope, Queue, RiskError

from .conftest import SESSION, FakeOrder, loose, open_gate, order

T = 1000.0


def code(verdict: object) -> DenialCode | None:
    return getattr(verdict, "code", None)


def test_engine_switch_blocks_everyone_and_lists_every_working_order() -> None:
    gate = open_gate()
    a = order(strategy="s1", account="U1")
    b = order(strategy="s2", account="U2")
    assert gate.check_new(a, SESSION, T) is None and gate.check_new(b, SESSION, T) is None
    event = gate.engage(KillScope.ENGINE, reason="market halt", cancel_all=True, now=T)
    assert event.cancel_all
    assert set(event.working) == {("s1", a.id), ("s2", b.id)}
    assert event.engagement.reason == "market halt"
    for req in (order(strategy="s1"), order(strategy="s3", account="U3")):
        denial = gate.check_new(req, SESSION, T)
        assert isinstance(denial, Denial) and denial.code is DenialCode.KILL_SWITCH
        assert denial.value == "engine"


@pytest.mark.parametrize(("scope", "name", "blocked", "free"), [
    (KillScope.ACCOUNT, "U1", {"strategy": "s2", "account": "U1"},
     {"strategy": "s1", "account": "U2"}),
    (KillScope.STRATEGY, "s1", {"strategy": "s1", "account": "U2"},
     {"strategy": "s2", "account": "U1"}),
])
def test_account_and_strategy_switches_cover_only_their_scope(
        scope: KillScope, name: str, blocked: dict[str, Any], free: dict[str, Any]) -> None:
    gate = open_gate()
    in_scope = order(**blocked)
    out_of_scope = order(**free)
    gate.check_new(in_scope, SESSION, T)
    gate.check_new(out_of_scope, SESSION, T)
    event = gate.engage(scope, name, cancel_all=True)
    assert event.working == ((in_scope.strategy, in_scope.id),)
    assert code(gate.check_new(order(**blocked), SESSION, T)) == DenialCode.KILL_SWITCH
    assert gate.check_new(order(**free), SESSION, T) is None


def test_without_cancel_all_working_orders_are_still_reported_but_not_to_cancel() -> None:
    gate = open_gate()
    gate.check_new(order(), SESSION, T)
    event = gate.engage(KillScope.STRATEGY, "s1")
    assert not event.cancel_all and len(event.working) == 1


def test_release_is_manual_and_reopens() -> None:
    gate = open_gate()
    gate.engage(KillScope.STRATEGY, "s1", now=T)
    gate.reload(loose())  # a reload does not release
    gate.new_day()  # nor does a new day
    assert code(gate.check_new(order(), SESSION, T)) == DenialCode.KILL_SWITCH
    released = gate.release(KillScope.STRATEGY, "s1")
    assert released is not None and released.since == T
    assert gate.check_new(order(), SESSION, T) is None
    assert gate.release(KillScope.STRATEGY, "s1") is None
    assert not gate.kill_switch.active


def test_engaging_twice_keeps_the_first_engagement() -> None:
    gate = open_gate()
    first = gate.engage(KillScope.ACCOUNT, "U1", reason="first", now=1.0)
    second = gate.engage(KillScope.ACCOUNT, "U1", reason="second", now=2.0)
    assert second.engagement == first.engagement
    assert [e.reason for e in gate.kill_switch.engaged()] == ["first"]


def test_names_are_checked() -> None:
    gate = open_gate()
    with pytest.raises(RiskError):
        gate.engage(KillScope.ENGINE, "x")
    with pytest.raises(RiskError):
        gate.engage(KillScope.STRATEGY)


def test_cancels_pass_and_replaces_do_not() -> None:
    gate = open_gate()
    req = order()
    gate.check_new(req, SESSION, T)
    gate.engage(KillScope.ENGINE)
    assert gate.check_cancel(CancelOrder("s1", req.id), SESSION, T) is None
    assert code(gate.check_replace(ReplaceOrder("s1", req.id, "r1", qty=D(1)), SESSION, T)) \
        == DenialCode.KILL_SWITCH


def test_queued_requests_in_scope_are_dropped_and_released() -> None:
    table = loose()
    table["throttle"] = {"rate": 1, "burst": 1, "mode": "queue"}
    gate = open_gate(table)
    sent = order(strategy="s1")
    gate.check_new(sent, SESSION, T)
    held = order(strategy="s1")
    other = order(strategy="s2")
    assert isinstance(gate.check_new(held, SESSION, T), Queue)
    assert isinstance(gate.check_new(other, SESSION, T), Queue)
    replace = ReplaceOrder("s1", sent.id, "r1", qty=D(500))
    assert isinstance(gate.check_replace(replace, SESSION, T), Queue)
    before = gate.exposure.accounts["U1"].open_count
    event = gate.engage(KillScope.STRATEGY, "s1", cancel_all=True)
    assert set(event.dropped) == {held, replace}
    assert event.working == (("s1", sent.id),)
    assert gate.exposure.accounts["U1"].open_count == before - 1
    rec = gate.record("s1", sent.id)
    assert rec is not None and rec.pending is None and rec.c_leaves == D(100)
    assert gate.drain(SESSION, T + 10) == [other]


# ---- automatic triggers ------------------------------------------------------------------


def triggers(max_position: int | str = "off", **kw: Any) -> dict[str, Any]:
    table = loose(max_order_qty=200, max_position=max_position)
    table["kill_switch"] = {"max_denials": 0, "max_rejects": 0, "on_position_breach": False,
                            "window_seconds": 10, **kw}
    return table


def test_more_than_n_denials_in_the_window_engage_the_strategy(
        caplog: pytest.LogCaptureFixture) -> None:
    gate = open_gate(triggers(max_denials=3))
    caplog.set_level(logging.ERROR, "fixrouter.risk")
    for i in range(3):  # 3 denials within 10 s: not more than 3
        gate.check_new(order(qty=201), SESSION, T + i)
    assert not gate.kill_switch.active and gate.engagements == []
    # The oldest falls out of the window: still 3.
    gate.check_new(order(qty=201), SESSION, T + 10)
    assert not gate.kill_switch.active
    gate.check_new(order(qty=201), SESSION, T + 10.5)  # 4 within (0.5, 10.5]
    assert "s1" in gate.kill_switch.strategies
    [event] = gate.engagements
    assert event.engagement.automatic and event.cancel_all
    assert "4 risk denials within 10 s" in event.engagement.reason
    assert "kill switch engaged automatically for strategy s1" in caplog.text
    # Other strategies carry on.
    assert gate.check_new(order(strategy="s2", qty=5), SESSION, T + 11) is None
    assert code(gate.check_new(order(qty=5), SESSION, T + 11)) == DenialCode.KILL_SWITCH


def test_kill_switch_denials_do_not_re_trigger() -> None:
    gate = open_gate(triggers(max_denials=1))
    gate.check_new(order(qty=201), SESSION, T)
    gate.check_new(order(qty=201), SESSION, T)
    for _ in range(5):
        assert code(gate.check_new(order(qty=5), SESSION, T)) == DenialCode.KILL_SWITCH
    assert len(gate.engagements) == 1


def test_more_than_n_broker_rejects_engage_the_strategy() -> None:
    gate = open_gate(triggers(max_rejects=2, cancel_all=False))
    for i in range(3):
        req = order(qty=5)
        assert gate.check_new(req, SESSION, T) is None
        book_order = FakeOrder(req)
        book_order.done()
        gate.on_report(book_order, T + i, ExecKind.REJECTED)
    [event] = gate.engagements
    assert not event.cancel_all
    assert "3 broker rejects" in event.engagement.reason


def test_a_fill_past_the_position_limit_engages_the_strategy() -> None:
    gate = open_gate(triggers(on_position_breach=True, max_position=100))
    req = order(qty=100)
    assert gate.check_new(req, SESSION, T) is None
    book_order = FakeOrder(req)
    book_order.fill(100, "100")
    gate.on_report(book_order, T)
    assert not gate.kill_switch.active  # at the limit, not past it
    gate.reload(triggers(on_position_breach=True, max_position=50))  # tightened
    req2 = order(qty=1, side=Side.SELL)
    assert gate.check_new(req2, SESSION, T) is None
    sell = FakeOrder(req2)
    sell.fill(1, "100")  # a reducing fill still leaves 99 > 50
    gate.on_report(sell, T)
    [event] = gate.engagements
    assert "past max_position 50" in event.engagement.reason


def test_triggers_can_be_off() -> None:
    gate = open_gate(triggers())
    for _ in range(100):
        gate.check_new(order(qty=201), SESSION, T)
    assert not gate.kill_switch.active
