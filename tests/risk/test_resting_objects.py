"""What a resting order leaves for the cyclic collector: the risk gate's record and the
order book's order, driven the way the router drives both (gate, then book).

The engine's collector policy (`fixrouter.gc_policy`) forces a full collection once the
frozen set has grown by its bound, and every working order's tracked containers count
toward it: at three per order (the book's `Order`, the gate's `Working`, the `NewOrder`
both hold) `fixrouter bench`'s ~1.1 million resting orders crossed it. Compiled, the
request and the gate's record are `acyclic` classes, which the collector does not track,
so one container per resting order is left: the book's `Order` (which stays tracked: the
book's open-order links and pending intents make cycles among orders by design).
"""

from __future__ import annotations

import gc
import tracemalloc
from collections.abc import Iterator
from decimal import Decimal as D

import pytest

from fixrouter import COMPILED_MODULES
from fixrouter.oms import Order, OrderBook
from fixrouter.oms.intents import Intent
from fixrouter.risk import RiskConfig, RiskGate
from fixrouter.store import MemoryStore

from .conftest import loose, order

T0 = 1_700_000_000.0
ORDERS = 2000
COMPILED = {"fixrouter.requests", "fixrouter.risk.exposure"} <= COMPILED_MODULES
TRACKED_PER_ORDER = 1 if COMPILED else 3
"""The book's `Order`; interpreted (`FIXROUTER_PURE=1`), every class is tracked."""


class DroppedIntents:
    """An intent log that keeps nothing (`MemoryIntentLog` keeps every line, which would
    be most of what the tests below measure)."""

    torn = 0
    corrupt = 0

    def write(self, line: bytes) -> None:
        pass

    def records(self) -> list[Intent]:
        return []

    def find(self, needle: bytes) -> Iterator[Intent]:
        return iter(())


def ready() -> tuple[OrderBook, RiskGate]:
    book = OrderBook()
    book.add_session("s1", "A", DroppedIntents())
    book.rebuild("s1", MemoryStore(now=T0))
    gate = RiskGate(RiskConfig.from_toml_table(loose()))
    gate.rebuild(book)
    gate.rebuild_complete()
    gate.set_reference("AAPL", D(100))
    return book, gate


def rest(book: OrderBook, gate: RiskGate, first: int, count: int) -> Iterator[Order]:
    """Orders `first` ... through the gate and into the book, left working (unanswered)."""
    for i in range(first, first + count):
        req = order(f"r{i}", qty=100 + i % 50, price=f"{100 + i % 400 / 100:.2f}")
        assert gate.check_new(req, "s1", T0) is None
        placed = book.prepare_new(req, T0, "s1")
        assert isinstance(placed, Order)
        book.sent(placed)
        yield placed


@pytest.fixture
def frozen_collector() -> Iterator[None]:
    """Everything alive before the test frozen and the collector off, as under the
    engine's policy on a busy loop (it freezes the young generation without walking it,
    so nothing is untracked by a collection meanwhile)."""
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.unfreeze()


@pytest.mark.usefixtures("frozen_collector")
def test_a_resting_order_leaves_one_tracked_container() -> None:
    book, gate = ready()
    kept = list(rest(book, gate, 0, 100))  # maps and caches reach their steady shape
    gc.freeze()
    before = gc.get_freeze_count()
    kept += rest(book, gate, 100, ORDERS)
    gc.freeze()
    added = gc.get_freeze_count() - before
    assert len(book.open_orders()) == len(kept) == ORDERS + 100
    # The gate's and the book's maps grow by a few containers in all (a ClOrdID chunk, a
    # duplicate-check entry): not one per order.
    assert added <= TRACKED_PER_ORDER * ORDERS + ORDERS // 20, added / ORDERS


@pytest.mark.skipif(not COMPILED, reason="interpreted classes are always tracked")
@pytest.mark.usefixtures("frozen_collector")
def test_the_request_and_the_gates_record_are_untracked_the_order_is() -> None:
    book, gate = ready()
    (placed,) = rest(book, gate, 0, 1)
    rec = gate.record("s1", placed.id)
    assert rec is not None and rec.req is placed.req
    assert not gc.is_tracked(placed.req)
    assert not gc.is_tracked(rec)
    # The book's order stays tracked: open-order links and pending intents refer back
    # to it, and only the collector could free such a cycle left behind.
    assert gc.is_tracked(placed)


@pytest.mark.usefixtures("frozen_collector")
def test_what_the_collector_does_not_see_is_freed_when_the_order_goes() -> None:
    """Reference counting frees the untracked request and record with their order: after
    orders that were never sent (the router's path when the session refuses one) the
    heap is back near where it was, with nothing left for a collection to find."""
    book, gate = ready()

    def fail(first: int, count: int) -> None:
        for placed in rest(book, gate, first, count):
            book.send_failed(placed, "not sent", T0)
            gate.on_send_failed(placed.strategy, placed.id)
        book.retire_finished()

    fail(0, 200)  # maps and caches reach their steady shape
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        fail(200, ORDERS)
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert len(book.open_orders()) == 0 and gate.record("s1", "r300") is None
    # A resting order holds about 1,100 bytes; a gone one only its share of the maps'
    # and the retired-id table's growth.
    assert grown < 100 * ORDERS, grown / ORDERS
    assert gc.collect() == 0
