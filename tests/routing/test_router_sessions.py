"""The router over two fake sessions: where new orders go, where cancels go, what a
session that is down, or throttled, does to the other one (nothing)."""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

import pytest

from fixrouter.events import Accepted, CancelRejected, Denied, SessionChanged
from fixrouter.requests import CancelOrder, ReplaceOrder
from fixrouter.routing.gate import PassThroughGate
from fixrouter.session import EventKind, SessionEvent
from router.conftest import Stack, risk_stack

TWO = ("desk1", "desk2")


def two(routing: dict[str, Any] | None = None) -> Stack:
    return Stack(PassThroughGate(), sessions=TWO, routing=routing)


def sent(stack: Stack, session: str, msg_type: bytes = b"D") -> list[str]:
    """ClOrdIDs of the messages of `msg_type` that went out on `session`."""
    return [m.get_str(11) or "" for m in stack.ports[session].of_type(msg_type)]


def session_of(cl_ord_id: str) -> str:
    # The routing table's default prefixes: A for desk1, B for desk2.
    return {"A": "desk1", "B": "desk2"}[cl_ord_id.split("-")[0][-1]]


def test_new_orders_go_by_account_then_strategy_then_default() -> None:
    stack = two({"accounts": {"U1": "desk1", "U2": "desk2"}, "strategies": {"momo": "desk2"}})
    stack.new("by-default")
    stack.new("by-account", account="U2")
    stack.new("by-strategy", strategy="momo")
    stack.new("unlisted-account", strategy="momo", account="U7")
    stack.new("account-wins", strategy="momo", account="U1")
    routed = {e.id: session_of(e.cl_ord_id) for name in ("alpha", "momo")
              for e in stack.outlet.of(name) if isinstance(e, Accepted)}
    assert routed == {"by-default": "desk1", "by-account": "desk2", "by-strategy": "desk2",
                      "unlisted-account": "desk2", "account-wins": "desk1"}
    assert len(sent(stack, "desk1")) == 2 and len(sent(stack, "desk2")) == 3


def test_an_order_without_route_is_denied_no_route_before_risk_counts_it() -> None:
    stack = risk_stack(sessions=TWO, routing={"default_session": [],
                                              "accounts": {"U1": "desk1"}})
    stack.new("lost", account="U9")
    stack.new("found", account="U1")
    denied, accepted = stack.outlet.of("alpha")
    assert isinstance(denied, Denied) and denied.code == "NO_ROUTE" and denied.id == "lost"
    assert "'U9'" in denied.reason and "'alpha'" in denied.reason
    assert isinstance(accepted, Accepted)
    assert stack.router.stats.denied == {"NO_ROUTE": 1}
    assert stack.gate.risk.exposure.account("U9").open_count == 0  # type: ignore[attr-defined]


def test_cancel_and_replace_follow_the_orders_session_not_the_strategys_route() -> None:
    stack = two({"accounts": {"U2": "desk2"}})  # alpha's own route is desk1
    stack.new("o1", account="U2")
    (cl,) = sent(stack, "desk2")
    stack.router.handle(ReplaceOrder("alpha", "o1", "o1-r", price=Decimal("189")))
    stack.router.handle(CancelOrder("alpha", "o1"))
    assert [m.get_str(41) for m in stack.ports["desk2"].sent[1:]] == [cl, cl]
    assert [m.msg_type for m in stack.ports["desk2"].sent] == [b"D", b"G", b"F"]
    assert stack.ports["desk1"].sent == []


def test_without_failover_an_order_for_a_down_session_is_denied_naming_it() -> None:
    stack = two({"default_session": ["desk1", "desk2"]})
    stack.ports["desk1"].logged_on = False
    stack.new("o1")
    (denied,) = stack.outlet.of("alpha")
    assert isinstance(denied, Denied) and denied.code == "ENGINE_UNAVAILABLE"
    assert denied.reason == "FIX session desk1 is not logged on; nothing was sent"
    assert stack.ports["desk2"].sent == [] and stack.router.routing_stats.failovers == {}


def test_with_failover_a_new_order_takes_the_next_session_and_is_logged_and_counted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    stack = two({"default_session": ["desk1", "desk2"], "failover": True})
    stack.new("before")
    stack.ports["desk1"].logged_on = False
    with caplog.at_level(logging.WARNING, "fixrouter.router"):
        stack.new("after")
    (cl,) = sent(stack, "desk2")
    assert stack.outlet.of("alpha")[-1] == Accepted("after", cl)
    assert stack.router.routing_stats.failovers == {("desk1", "desk2"): 1}
    assert "alpha/after: FIX session desk1 is down; failing over to desk2 (default_session)" \
        in caplog.text
    # The working order stays on desk1: its cancel is refused, never sent on desk2.
    stack.router.handle(CancelOrder("alpha", "before"))
    rejected = stack.outlet.of("alpha")[-1]
    assert isinstance(rejected, CancelRejected) and "desk1 is not logged on" in rejected.reason
    assert sent(stack, "desk2", b"F") == []


def test_with_failover_and_every_session_down_the_order_is_denied_naming_them() -> None:
    stack = two({"default_session": ["desk2", "desk1"], "failover": True})
    for port in stack.ports.values():
        port.logged_on = False
    stack.new("o1")
    (denied,) = stack.outlet.of("alpha")
    assert isinstance(denied, Denied) and denied.code == "ENGINE_UNAVAILABLE"
    assert denied.reason == "FIX sessions desk2, desk1 are not logged on; nothing was sent"
    assert stack.router.routing_stats.failovers == {}


def test_a_queued_cancel_waits_for_its_session_and_goes_out_after_logon() -> None:
    stack = two({"cancel_while_down": "queue"})
    stack.new("o1")
    (cl,) = sent(stack, "desk1")
    stack.ports["desk1"].logged_on = False
    stack.router.on_event("desk1", SessionEvent(EventKind.LOGGED_OUT, "peer closed"))
    stack.outlet.take("alpha")
    stack.router.handle(CancelOrder("alpha", "o1"))
    stack.router.handle(CancelOrder("alpha", "o1"))  # repeated while waiting: one cancel
    stack.router.handle(ReplaceOrder("alpha", "o1", "o1-r", qty=Decimal(5)))
    (rejected,) = stack.outlet.take("alpha")  # a replace is never queued
    assert isinstance(rejected, CancelRejected) and rejected.id == "o1"
    assert stack.router.routing_stats.cancels_queued == 1
    assert stack.outlet.broadcasts == [SessionChanged("desk1", "logged_out", "peer closed")]
    stack.ports["desk1"].logged_on = True
    stack.router.on_event("desk1", SessionEvent(EventKind.LOGGED_ON, "logged on"))
    stack.timers.run_soon()
    assert [m.msg_type for m in stack.ports["desk1"].sent] == [b"D", b"H", b"F"]
    assert stack.ports["desk1"].sent[-1].get_str(41) == cl
    assert stack.ports["desk2"].sent == []
    stack.router.on_event("desk1", SessionEvent(EventKind.LOGGED_ON, "logged on"))
    stack.timers.run_soon()
    assert [m.msg_type for m in stack.ports["desk1"].sent][-1] == b"H"  # sent only once


def test_a_session_that_is_down_does_not_touch_orders_on_the_other() -> None:
    stack = two({"accounts": {"U2": "desk2"}})
    stack.ports["desk2"].logged_on = False
    for i in range(3):
        stack.new(f"d2-{i}", account="U2")
        stack.new(f"d1-{i}")
    events = stack.outlet.of("alpha")
    assert [type(e).__name__ for e in events] == ["Denied", "Accepted"] * 3
    assert len(sent(stack, "desk1")) == 3 and stack.ports["desk2"].sent == []


def test_a_throttled_session_holds_only_its_own_orders() -> None:
    stack = risk_stack(
        {"throttle": {"mode": "queue", "rate": 1000, "burst": 100,
                      "sessions": {"desk2": {"rate": 1, "burst": 1}}}},
        sessions=TWO, routing={"accounts": {"U2": "desk2"}},
    )
    for i in range(3):
        stack.new(f"d2-{i}", account="U2", price=Decimal(190 - i))
        stack.new(f"d1-{i}", price=Decimal(180 - i))
    assert len(sent(stack, "desk1")) == 3  # at once, behind desk2's queue of two
    assert len(sent(stack, "desk2")) == 1
    ((delay, drain),) = stack.timers.later  # one timer: desk2's
    assert delay == pytest.approx(1.0)
    stack.clock.advance(delay)
    drain()
    assert len(sent(stack, "desk2")) == 2 and len(sent(stack, "desk1")) == 3
