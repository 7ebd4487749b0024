"""Two strategies trading at once through one engine never see or touch each other's orders."""

from __future__ import annotations

import pytest

from fixrouter.client import (
    Accepted,
    Execution,
    OrderState,
    OrderStatus,
    RequestError,
    RequestRefused,
    SessionChanged,
)

from .conftest import Stack

pytestmark = pytest.mark.integration


def test_two_strategies_never_see_each_others_events(stack: Stack) -> None:
    alpha = stack.strategy("iso-alpha")
    beta = stack.strategy("iso-beta")
    # Interleaved, and with the same ids on purpose: ids are per strategy.
    for i in range(5):
        alpha.client.new(f"same-{i}", "AAPL", "buy", 10 + i, "limit", price="190")
        beta.client.new(f"same-{i}", "MSFT", "sell", 30, "limit", price="410")
        alpha.client.new(f"a-rest-{i}", "IBM", "buy", 1 + i, "limit", price="150")
        beta.client.new(f"b-rest-{i}", "IBM", "sell", 1 + i, "limit", price="151")
    for i in range(5):
        assert alpha.done(f"same-{i}").cum_qty == 10 + i
        assert beta.done(f"same-{i}").cum_qty == 30
        alpha.exec(f"a-rest-{i}", "new")
        beta.exec(f"b-rest-{i}", "new")
    alpha.read(0.3)
    beta.read(0.3)

    def ids(events: list[object]) -> set[str]:
        return {e.id for e in events if not isinstance(e, SessionChanged)}  # type: ignore[attr-defined]

    assert ids(alpha.events) == {f"same-{i}" for i in range(5)} | {f"a-rest-{i}" for i in range(5)}
    assert ids(beta.events) == {f"same-{i}" for i in range(5)} | {f"b-rest-{i}" for i in range(5)}
    alpha_fills = [e for e in alpha.events if isinstance(e, Execution) and e.last_qty]
    assert {e.exec_id for e in alpha_fills}.isdisjoint(
        {e.exec_id for e in beta.events if isinstance(e, Execution)})
    assert all(e.symbol == "AAPL" or e.symbol == "IBM" for e in alpha.client.orders())
    alpha_cls = {e.cl_ord_id for e in alpha.events if isinstance(e, Accepted)}
    beta_cls = {e.cl_ord_id for e in beta.events if isinstance(e, Accepted)}
    assert len(alpha_cls) == len(beta_cls) == 10 and alpha_cls.isdisjoint(beta_cls)

    # Beta cannot see, cancel or replace alpha's orders: they are simply unknown to it.
    seen = len(alpha.events)
    beta.client.cancel("a-rest-0")
    beta.client.replace("a-rest-1", "mine", qty=99)
    refusals = [beta.refused("a-rest-0"), beta.refused("a-rest-1")]
    assert [(type(r), r.code) for r in refusals] == [(RequestError, "UNKNOWN_ORDER")] * 2
    with pytest.raises(RequestRefused) as unknown:
        beta.client.status("a-rest-2")
    assert unknown.value.code == "UNKNOWN_ORDER"
    assert {o.id for o in beta.client.orders()} == {f"b-rest-{i}" for i in range(5)}
    alpha.read(0.3)
    assert len(alpha.events) == seen  # alpha heard nothing of it
    assert all(o.status is OrderStatus.NEW for o in alpha.client.orders())
    assert {o.id for o in alpha.client.orders()} == {f"a-rest-{i}" for i in range(5)}

    # Each cleans up its own; each hears only its own cancels.
    for i in range(5):
        alpha.client.cancel(f"a-rest-{i}")
        beta.client.cancel(f"b-rest-{i}")
    for i in range(5):
        assert alpha.done(f"a-rest-{i}").status is OrderStatus.CANCELED
        assert beta.done(f"b-rest-{i}").status is OrderStatus.CANCELED
    assert alpha.client.orders() == beta.client.orders() == []
    states: list[OrderState] = [alpha.client.status("same-0"), beta.client.status("same-0")]
    assert [s.symbol for s in states] == ["AAPL", "MSFT"]
