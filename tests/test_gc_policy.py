"""Tests for fixrouter.gc_policy: idle turns collect, busy turns freeze, full collections
free the cycles freezing hid, and the bounds hold when the loop is never idle.

Each test runs against the real collector with small thresholds, and checks what
happened (counters, the young count, whether a cycle was freed), never how long it took.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import weakref
from collections.abc import Iterator

import pytest
import uvloop

from fixrouter import gc_policy
from fixrouter.busypoll import BusyPoller
from fixrouter.gc_policy import GcPolicy
from fixrouter.transport import CommitWatch

IDLE = 10**12
"""`poll`'s idle time: long enough for anything."""
BUSY = 0


@pytest.fixture(autouse=True)
def restore_gc() -> Iterator[None]:
    thresholds = gc.get_threshold()
    callbacks = list(gc.callbacks)
    yield
    gc.callbacks[:] = callbacks
    gc.unfreeze()
    gc.set_threshold(*thresholds)
    gc.collect()


class _Node:
    def __init__(self) -> None:
        self.other: _Node | None = None


def _cycle() -> weakref.ref[_Node]:
    """A two-object cycle, alive only through the returned weak reference's target's
    partner: drop the strong reference (none is returned) and only the collector frees it.
    """
    a, b = _Node(), _Node()
    a.other, b.other = b, a
    return weakref.ref(a)


def _allocate(n: int) -> list[list[int]]:
    """`n` tracked containers that stay alive (the young count grows by about n)."""
    return [[i] for i in range(n)]


def _policy(**kw: float) -> GcPolicy:
    """Small thresholds; the full-collection bound is `full_min` alone (the test process's
    own live objects would otherwise set it)."""
    args = {"freeze_at": 2_000, "idle_collect_at": 200, "idle_after_ns": 5_000,
            "backstop": 1_000_000, "full_min": 20_000, "full_ratio": 0.0, **kw}
    policy = GcPolicy(**args)  # type: ignore[arg-type]
    policy.install()
    return policy


def test_install_freezes_start_up_sets_the_thresholds_and_uninstall_unhooks() -> None:
    kept = _allocate(100)  # something start-up built
    policy = GcPolicy()
    policy.install()
    assert gc.get_threshold() == (gc_policy.BACKSTOP, gc_policy.MIDDLE, gc_policy.OLD)
    assert gc.get_freeze_count() >= len(kept)
    assert policy.stats.live_after_full == gc.get_freeze_count()
    assert policy._on_gc in gc.callbacks
    policy.uninstall()
    policy.uninstall()
    assert policy._on_gc not in gc.callbacks


def test_an_idle_poll_collects_the_young_generation_and_freezes_its_survivors() -> None:
    policy = _policy()
    kept = _allocate(500)
    garbage = _cycle()
    assert gc.get_count()[0] >= 500
    policy.poll(IDLE)
    assert policy.stats.collections["idle_young"] == 1
    assert garbage() is None  # the young collection freed the short-lived cycle
    assert policy.stats.found >= 2
    assert gc.get_count()[0] < 50
    assert policy.stats.frozen_since_full >= len(kept)  # survivors are frozen
    assert gc.get_freeze_count() >= policy.stats.live_after_full + len(kept)


def test_an_idle_poll_with_little_to_walk_does_nothing() -> None:
    policy = _policy(idle_collect_at=100_000)
    _allocate(300)
    policy.poll(IDLE)
    assert sum(policy.stats.collections.values()) == 0 and policy.stats.freezes == 0


def test_a_busy_poll_never_collects_and_freezes_the_young_generation_at_its_bound() -> None:
    policy = _policy(freeze_at=2_000)
    kept = _allocate(500)
    policy.poll(BUSY)  # below freeze_at: nothing
    assert policy.stats.freezes == 0 and gc.get_count()[0] >= 500
    kept += _allocate(2_000)
    policy.poll(BUSY)
    assert policy.stats.freezes == 1
    assert sum(policy.stats.collections.values()) == 0  # frozen, not walked
    assert gc.get_count()[0] < 50
    assert policy.stats.frozen_since_full >= len(kept)


def test_turns_are_idle_only_after_idle_after_ns_without_a_long_iteration() -> None:
    policy = _policy(idle_after_ns=5_000)
    kept = _allocate(500)
    now = 1_000_000
    policy.turn(now)  # the first turn: idle from now
    for _ in range(4):  # 1 µs iterations, 4 µs idle so far
        now += 1_000
        policy.turn(now)
    assert policy.stats.collections["idle_young"] == 0
    now += 50_000  # an iteration that did work: idle starts again
    policy.turn(now)
    now += 1_000
    policy.turn(now)
    assert policy.stats.collections["idle_young"] == 0
    for _ in range(5):
        now += 1_000
        policy.turn(now)
    assert policy.stats.collections["idle_young"] == 1
    assert kept


def test_a_cycle_frozen_while_busy_is_freed_by_the_next_idle_full_collection() -> None:
    policy = _policy(freeze_at=2_000, full_min=10_000)
    ref = _cycle()
    holder = [ref()]  # the cycle is alive while the loop is busy...
    kept = _allocate(2_500)
    policy.poll(BUSY)  # ...and frozen with the young generation
    assert policy.stats.freezes == 1
    holder.clear()  # now it is garbage, but frozen: no young collection sees it
    kept += _allocate(600)
    policy.poll(IDLE)
    assert policy.stats.collections["idle_young"] == 1 and ref() is not None
    while policy.stats.frozen_since_full < 10_000:  # the order path keeps growing
        kept += _allocate(2_500)
        policy.poll(BUSY)
    assert policy.stats.collections["idle_full"] == 0  # due, but the loop is busy
    policy.poll(gc_policy.FULL_IDLE_NS - 1)  # a gap between orders: not a lull
    assert policy.stats.collections["idle_full"] == 0 and ref() is not None
    policy.poll(gc_policy.FULL_IDLE_NS)
    assert policy.stats.collections["idle_full"] == 1
    assert ref() is None
    assert policy.stats.frozen_since_full == 0
    assert policy.stats.live_after_full >= len(kept)


def test_a_never_idle_loop_forces_a_full_collection_at_twice_the_bound(
        caplog: pytest.LogCaptureFixture) -> None:
    policy = _policy(freeze_at=2_000, full_min=10_000)
    ref = _cycle()
    holder = [ref()]
    kept = _allocate(2_500)
    policy.poll(BUSY)
    holder.clear()
    high_water = 0
    with caplog.at_level(logging.INFO, logger="fixrouter.gc"):
        for _ in range(20):  # never an idle turn
            kept += _allocate(2_500)
            policy.poll(BUSY)
            high_water = max(high_water, policy.stats.frozen_since_full)
            if policy.stats.collections["forced_full"]:
                break
    assert policy.stats.collections["forced_full"] == 1
    assert policy.stats.collections["idle_full"] == 0
    assert ref() is None
    assert high_water < 2 * 10_000 + 2_000 + 2_500  # bounded: twice the due point, plus a step
    assert any("forced_full" in r.getMessage() and r.levelno == logging.WARNING
               for r in caplog.records)
    assert kept


def test_a_never_idle_loop_recounts_instead_of_collecting_when_what_it_froze_has_died(
        caplog: pytest.LogCaptureFixture) -> None:
    policy = _policy(freeze_at=2_000, full_min=10_000)
    with caplog.at_level(logging.INFO, logger="fixrouter.gc"):
        for _ in range(20):  # never an idle turn; each batch is frozen, then finishes
            batch = _allocate(2_500)
            policy.poll(BUSY)
            del batch
    # The estimate passed twice the bound (20,000) more than once; each time the count
    # found the frozen objects gone, so nothing was collected.
    assert policy.stats.freezes >= 16
    assert policy.stats.collections["forced_full"] == 0
    assert policy.stats.recounts >= 2
    assert policy.stats.frozen_since_full < 2 * 10_000
    assert gc.get_freeze_count() - policy.stats.live_after_full < 10_000
    lines = [r for r in caplog.records if "no forced collection" in r.getMessage()]
    assert len(lines) == policy.stats.recounts
    for line in lines:
        estimate, counted = line.args[:2]  # type: ignore[index]
        assert estimate >= 2 * 10_000 > 10_000 > counted


def test_a_recount_that_finds_the_frozen_alive_lets_the_forced_collection_run() -> None:
    policy = _policy(freeze_at=2_000, full_min=10_000)
    ref = _cycle()
    holder = [ref()]
    kept = _allocate(2_500)
    policy.poll(BUSY)
    holder.clear()  # garbage now, hidden by the freeze
    for _ in range(20):
        kept += _allocate(2_500)  # the frozen set really grows
        policy.poll(BUSY)
        if policy.stats.collections["forced_full"]:
            break
    assert policy.stats.collections["forced_full"] == 1
    assert policy.stats.recounts == 0  # the count confirmed the growth: no skip
    assert ref() is None
    assert kept


def test_the_backstop_collection_is_counted_frozen_and_logged_once(
        caplog: pytest.LogCaptureFixture) -> None:
    policy = _policy(backstop=1_000)
    with caplog.at_level(logging.WARNING, logger="fixrouter.gc"):
        kept = _allocate(5_000)  # no poll at all: CPython collects by itself
    forced = policy.stats.collections["forced_young"]
    assert forced >= 3
    assert policy.stats.pauses["forced_young"].snapshot().count == forced
    assert gc.get_freeze_count() >= len(kept)  # every survivor frozen after its collection
    assert gc.get_count()[0] < 1_000
    lines = [r for r in caplog.records if "did not start" in r.getMessage()]
    assert len(lines) == 1  # rate-limited


def test_collect_all_reaches_frozen_cycles() -> None:
    a, b = _Node(), _Node()
    a.other, b.other = b, a
    ref = weakref.ref(a)
    policy = _policy()  # the cycle is alive now, and frozen with the rest
    del a, b
    assert gc.collect() == 0 and ref() is not None  # frozen: no collection sees it
    assert policy.collect_all() >= 2
    assert ref() is None
    assert gc.get_freeze_count() > 0  # frozen again afterwards
    assert policy.stats.collections["idle_full"] == 1


def test_a_polling_loop_calls_the_policy_every_turn_and_collects_when_idle() -> None:
    async def test() -> None:
        policy = _policy(idle_collect_at=200, idle_after_ns=0)
        poller = BusyPoller(asyncio.get_running_loop(), CommitWatch())
        stamps: list[int] = []
        poller.on_turn = lambda now: (stamps.append(now), policy.turn(now))[1]
        kept = _allocate(500)
        poller.start()
        for _ in range(20):
            await asyncio.sleep(0)
        poller.stop()
        assert len(stamps) >= 10 and stamps == sorted(stamps)
        assert policy.stats.collections["idle_young"] >= 1
        assert kept

    uvloop.run(test())


def test_idle_ticks_add_up_to_a_lull_and_a_busy_tick_starts_over() -> None:
    policy = _policy(freeze_at=2_000, full_min=5_000,
                     full_idle_ns=3 * int(gc_policy.TICK_S * 1e9))
    kept = _allocate(6_000)
    policy.poll(BUSY)  # frozen; a full collection is now due
    policy.tick(True)
    policy.tick(True)
    policy.tick(False)
    policy.tick(True)
    policy.tick(True)
    assert policy.stats.collections["idle_full"] == 0
    policy.tick(True)  # three idle ticks in a row
    assert policy.stats.collections["idle_full"] == 1
    assert kept


def test_a_sleeping_loop_ticks_the_policy_from_a_timer() -> None:
    async def test() -> None:
        policy = _policy(idle_collect_at=200)
        kept = _allocate(500)
        policy.start_timer(asyncio.get_running_loop())
        for _ in range(100):  # the loop sleeps between ticks: idle
            if policy.stats.collections["idle_young"]:
                break
            await asyncio.sleep(gc_policy.TICK_S)
        policy.stop_timer()
        assert policy.stats.collections["idle_young"] >= 1
        assert kept

    uvloop.run(test())
