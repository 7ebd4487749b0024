"""The engine killed with `kill -9` while orders work, and IB forgetting orders it had.

After the restart the book is rebuilt from the journal and the intent log before the
engine takes an order: each strategy's `orders` lists its working orders with the truth
(including a fill that happened while the engine was dead), and fills that come later go
to the strategy that owns the order, and to nobody else.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from decimal import Decimal

import pytest

from fixrouter.client import CancelRejected, ExecKind, OrderStatus
from integration.harness import wait_until

from .conftest import Stack

pytestmark = pytest.mark.integration


def test_kill_9_with_working_orders_then_restart_recovers_the_book_and_routes_fills(
    make_stack: Callable[[], Stack],
) -> None:
    stack = make_stack()
    alpha = stack.strategy("crash-alpha")
    beta = stack.strategy("crash-beta")
    alpha.client.new("a-rest", "IBM", "buy", 10, "limit", price="150")
    alpha.client.new("a-part", "IBM", "buy", 100, "limit", price="150")
    alpha.client.new("a-done", "AAPL", "buy", 10, "limit", price="190")
    alpha.client.new("a-gone", "IBM", "buy", 7, "limit", price="150")
    beta.client.new("b-rest", "IBM", "sell", 20, "limit", price="151")
    cl = {i: alpha.accepted(i).cl_ord_id for i in ("a-rest", "a-part", "a-gone")}
    cl["b-rest"] = beta.accepted("b-rest").cl_ord_id
    for order_id in ("a-rest", "a-part", "a-gone"):
        alpha.exec(order_id, "new")
    beta.exec("b-rest", "new")
    alpha.done("a-done")
    stack.admin("fill", cl_ord_id=cl["a-part"], qty="40", price="150")
    alpha.exec("a-part", "partial")
    alpha.client.replace("a-rest", "a-rest-2", price="149.5")  # the replace chain survives
    alpha.exec("a-rest-2", "replaced")

    os.kill(stack.engine.proc.pid, signal.SIGKILL)
    stack.engine.proc.wait()
    # While the engine is dead, IB fills one order and cancels another; QuickFIX keeps
    # the reports and resends them when the engine logs on again.
    stack.admin("fill", cl_ord_id=cl["a-gone"], price="150")
    stack.start_engine()
    assert "order book recovered: 4 working orders" in stack.engine.log()

    alpha = stack.strategy("crash-alpha")  # reconnect: the old connections died with it
    beta = stack.strategy("crash-beta")

    def alpha_truth() -> bool:
        return {o.id for o in alpha.client.orders()} == {"a-rest-2", "a-part"}

    wait_until(alpha_truth, 10, "alpha's working orders after the restart")
    working = {o.id: o for o in alpha.client.orders()}
    assert (working["a-part"].status, working["a-part"].cum_qty, working["a-part"].leaves_qty,
            working["a-part"].avg_px) == (OrderStatus.PARTIALLY_FILLED, 40, 60, 150)
    assert (working["a-rest-2"].price, working["a-rest-2"].status) == (Decimal("149.5"),
                                                                       OrderStatus.NEW)
    gone = alpha.client.status("a-gone")  # filled while the engine was dead
    assert (gone.status, gone.cum_qty) == (OrderStatus.FILLED, 7)
    assert alpha.client.status("a-done").status is OrderStatus.FILLED
    assert alpha.client.status("a-rest").status is OrderStatus.REPLACED
    assert [o.id for o in beta.client.orders()] == ["b-rest"]

    # Later fills go to their owner only.
    stack.admin("fill", cl_ord_id=cl["a-part"], price="150")
    fill = alpha.exec("a-part", "fill")
    assert (fill.cum_qty, fill.leaves_qty, fill.status) == (100, 0, OrderStatus.FILLED)
    stack.admin("fill", cl_ord_id=cl["b-rest"], qty="5", price="151")
    partial = beta.exec("b-rest", "partial")
    assert (partial.last_qty, partial.cum_qty) == (5, 5)
    alpha.read(0.3)
    assert all(getattr(e, "id", None) != "b-rest" for e in alpha.events)
    assert all(getattr(e, "id", None) in (None, "b-rest") for e in beta.events)

    # The recovered orders can still be changed: the engine knows their ClOrdID chains.
    alpha.client.cancel("a-rest-2")
    assert alpha.done("a-rest-2").status is OrderStatus.CANCELED
    # New orders after the restart get fresh ClOrdIDs, never one used before the crash.
    alpha.client.new("a-new", "AAPL", "buy", 1, "limit", price="190")
    assert alpha.accepted("a-new").cl_ord_id not in cl.values()
    assert alpha.done("a-new").status is OrderStatus.FILLED

    # IB loses its book (a restart of its gateway): a cancel of an order it no longer
    # knows is refused by IB, and the strategy hears why.
    stack.sim.kill()
    stack.sim.proc = None
    stack.sim.start()
    stack.engine.wait_log("asked IB for every open order", count=2)
    beta.client.cancel("b-rest")
    refused = beta.wait(lambda e: isinstance(e, CancelRejected) and e.id == "b-rest",
                        "cancel_rejected of b-rest")
    assert "unknown" in refused.reason.lower()
    assert [e["action"] for e in stack.sim.events() if e.get("dir") == "in"
            and e.get("msg_type") == "F" and e.get("orig_cl_ord_id") == cl["b-rest"]] == [
        "cancel_rejected"]
    state = beta.client.status("b-rest")
    assert (state.status, state.cum_qty) == (OrderStatus.PARTIALLY_FILLED, 5)
    assert not any(getattr(e, "exec_type", None) == ExecKind.CANCELED for e in beta.events)


def test_after_kill_9_a_finished_orders_id_is_taken_and_its_late_bust_arrives(
    make_stack: Callable[[], Stack],
) -> None:
    """Finished orders are retired to a compact form (issue 7): after a restart their ids
    are still refused, their `status` is read back from the journal, and a bust of one
    reaches its strategy with the fill taken out once."""
    stack = make_stack()
    alpha = stack.strategy("retired-alpha")
    alpha.client.new("r-done", "AAPL", "buy", 10, "limit", price="190")
    cl = alpha.accepted("r-done").cl_ord_id
    assert alpha.done("r-done").status is OrderStatus.FILLED
    alpha.client.new("r-rest", "IBM", "buy", 5, "limit", price="150")
    alpha.exec("r-rest", "new")

    os.kill(stack.engine.proc.pid, signal.SIGKILL)
    stack.engine.proc.wait()
    stack.start_engine()
    alpha = stack.strategy("retired-alpha")

    alpha.client.new("r-done", "AAPL", "buy", 10, "limit", price="190")
    refused = alpha.refused("r-done")
    assert getattr(refused, "code", None) == "DUPLICATE_ID"
    state = alpha.client.status("r-done")
    assert (state.status, state.cum_qty, state.avg_px) == (OrderStatus.FILLED, 10, 190)
    assert [o.id for o in alpha.client.orders()] == ["r-rest"]

    stack.admin("bust", cl_ord_id=cl)
    bust = alpha.exec("r-done", "bust")
    assert (bust.last_qty, bust.cum_qty, bust.leaves_qty) == (10, 0, 10)
    assert alpha.client.status("r-done").status is OrderStatus.NEW  # working again
    assert sorted(o.id for o in alpha.client.orders()) == ["r-done", "r-rest"]
    alpha.client.cancel("r-done")
    assert alpha.done("r-done").status is OrderStatus.CANCELED
    assert "read back from the journal" in stack.engine.log()
