"""The engine process's garbage-collector policy: collect when the loop is idle, never
walk the same survivor twice, and bound what a cycle can leak.

Theory of operation
-------------------
CPython frees almost everything by reference counting; the cyclic collector only exists
for reference cycles, and it pays for them by walking every tracked container of the
generations it collects. The order path makes no cycles (a full collection after 130,000
orders found 0 unreachable objects, tests/bench/README.md), so on the order path every
collection is pure cost. What survives an order is its records: the book's `Order`, the
risk gate's `Working` and the parsed `NewOrder`, of which only the `Order` is tracked
(compiled, the other two are `acyclic` classes, with no collector support:
`tests/risk/test_resting_objects.py`). They were three tracked objects, so under the
earlier policy here (freeze after start-up, young threshold 10,000, a middle collection
every 10 young ones, no automatic full collection) a young collection came every ~3,300
orders and walked ~10,000 such records (1.5-2 ms), and every tenth one, a middle
collection, walked the last ~90,000 again (20-45 ms): each survivor walked twice, in
the middle of a burst of orders, about 1.0 µs of CPU an order at saturation
(`tests/bench/bench_gc.py`; py-spy put it at 11.7% of the engine's samples).

`GcPolicy.install()` runs once, after start-up (recovery done, listeners bound), from
`fixrouter run` and `fixrouter bench`: `gc.collect()`, then `gc.freeze()`, so everything
start-up built moves to the permanent generation, which no collection walks. From then
on the engine's loop calls the policy, `turn(now_ns)` on every iteration of a
busy-polling loop (`fixrouter.busypoll`) or `tick(idle)` from a timer every `TICK_S`
on a sleeping one (`start_timer`), and the policy decides from the young generation's
count (`gc.get_count()[0]`: tracked containers allocated, net of those freed, since the
last collection or freeze):

1. **Idle: collect.** When the loop has been idle for `IDLE_AFTER_NS` (a busy-polling
   loop: no iteration in that span took longer than `WORK_NS`; a sleeping loop: it used
   less than `IDLE_CPU` of its core since the last tick) and the count has reached
   `IDLE_COLLECT_AT`, a young collection runs (`kind` "idle_young"). It frees the
   short-lived cycles other code makes (an exception kept with its traceback, asyncio's
   plumbing), and an order that arrives meanwhile waits at most for a walk of a few
   thousand objects. The survivors are then frozen: the collector never walks them
   again.
2. **Busy: freeze, do not walk.** On a busy iteration a count of `FREEZE_AT` freezes the
   young generation without collecting it (O(1), a list splice): at saturation the
   collector costs nothing per order. A cycle that was alive then, and dies later,
   is no longer seen by young collections: it waits for (3).
3. **Bounded: full collections.** The policy adds up what it froze since the last full
   collection (survivors of young collections, whole young generations frozen busy).
   When that passes `FULL_MIN` or `FULL_RATIO` times what the last full collection left
   alive, whichever is larger, a full collection (unfreeze, `gc.collect()`, freeze) is
   due, and runs once the loop has been idle for `FULL_IDLE_NS`, a quiet second
   ("idle_full": it walks every live object, about 0.3-0.7 s for 1-1.5 million, so the
   gap between two orders will not do); at twice that it runs at once, busy or not
   ("forced_full", logged as a warning). Frozen objects that die by reference count
   (every finished order on this path) are freed at once as before, freezing only
   hides them from the collector, but the sum above still counts them: after a day of
   finished orders it overstates what is frozen many times. So before forcing a
   collection on a busy loop the policy *recounts*: `gc.get_freeze_count()` walks the
   frozen list (tens of ns an object, against about 0.5 µs an object for the full
   collection's walk of the same objects). If less than the bound was added since the
   last full collection, the rest died by reference count: nothing is collected, the
   count replaces the sum, and the recount is counted (`GcStats.recounts`) and logged.
   Otherwise the live set really grew, and the collection runs at once (waiting would
   only make it longer). So the frozen list never grows more than about twice the
   bound past what the last full collection left, cycles included, however busy the
   engine is, and a full collection walks each live object at most once per that many
   frozen ones. The price of (2) is here: a cycle that was alive at a freeze and dies
   later is freed only by the next full collection, not by the next young one.
4. **Backstop.** CPython's own young threshold stays at `BACKSTOP`, above `FREEZE_AT`:
   it collects only when the loop does not call the policy for long (a long
   synchronous operation, no loop running). Such a collection is "forced_young" (an
   explicit `gc.collect()` elsewhere is counted too, "forced_full" when of the oldest
   generation), its survivors are frozen like any others, and it is logged (at most
   once a `LOG_EVERY_S`).

The loop pays a clock read and about 0.2 µs an iteration for asking. Kept out, after
measuring: a full collection after the same 200 µs of idleness as a young one (a bench
run had two, 0.38 and 0.67 s, inside its saturated one-way run: a load generator's
hiccup is not a lull); a floor of 1,000,000 objects (the bench's runs rest ~600,000
orders, ~2.7 million frozen objects by the policy's count, so the forced collection
would have come inside a saturated run).

Every collection is counted by kind with its pause (`GcStats`, exported as
`fixrouter_gc_collections_total{kind}` and `fixrouter_gc_pause_seconds{kind}`), along
with the freezes and the unreachable objects found; a forced one is also logged.
`collect_all()` is a full collection on demand, when a pause does not matter.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import Callable
from typing import Any, Final

from fixrouter.metrics.histogram import HistogramSample, LatencyHistogram

log = logging.getLogger("fixrouter.gc")

FREEZE_AT: Final = 10_000
"""Busy: young count at which the young generation is frozen without a walk."""
IDLE_COLLECT_AT: Final = 500
"""Idle: young count worth a collection (a walk of a few hundred objects, ~0.1 ms)."""
IDLE_AFTER_NS: Final = 200_000
"""A loop is idle (for a young collection) after this long without work."""
FULL_IDLE_NS: Final = 1_000_000_000
"""A due full collection waits for a lull this long: it walks every live object, up to a
second, so the next order should not be due soon (a quiet second says more about that
than a gap between two orders)."""
WORK_NS: Final = 10_000
"""A busy-polling iteration longer than this did work (an empty one takes ~1-2 µs)."""
TICK_S: Final = 0.01
"""How often a sleeping loop's timer asks the policy."""
IDLE_CPU: Final = 0.5
"""A sleeping loop that used less than this share of its core since the last tick is idle."""
BACKSTOP: Final = 50_000
"""CPython's automatic young threshold: only reached when the loop does not call us."""
MIDDLE: Final = 10
OLD: Final = 1_000_000_000
"""Automatic full collections need this many middle-generation ones: never."""
FULL_MIN: Final = 2_000_000
FULL_RATIO: Final = 1.0
"""A full collection is due when this many objects were frozen since the last one:
`max(FULL_MIN, FULL_RATIO * live)`; forced at twice that. The floor is above what a
busy day's resting orders freeze (one tracked object each, the book's `Order`: ~2,000,000
orders; ~650,000 when the request and the gate's record were tracked too), so a normal
day needs at most lull-time full collections."""
LOG_EVERY_S: Final = 60.0
"""At most one log line this often for forced young collections."""

KINDS: Final = ("idle_young", "idle_full", "forced_young", "forced_full")
"""Collection kinds (metric label values)."""

_count: Final = gc.get_count
_ns: Final = time.perf_counter_ns


class GcStats:
    """What the policy did: read by the metrics probe on the loop thread."""

    __slots__ = ("collections", "found", "freezes", "frozen_since_full", "live_after_full",
                 "pauses", "recounts")  # fmt: skip

    def __init__(self) -> None:
        self.collections = dict.fromkeys(KINDS, 0)
        """Collections by kind."""
        self.pauses = {kind: LatencyHistogram() for kind in KINDS}
        """Pause of each collection by kind."""
        self.freezes = 0
        """Young generations frozen without a collection (busy)."""
        self.found = 0
        """Unreachable objects the collections found (freed, or kept in `gc.garbage`)."""
        self.frozen_since_full = 0
        """Objects frozen since the last full collection (an upper estimate, made exact by
        each recount)."""
        self.recounts = 0
        """Recounts of the frozen objects that found a forced collection unneeded."""
        self.live_after_full = 0
        """Tracked objects alive after the last full collection (or `install`)."""

    def pause_samples(self) -> dict[str, HistogramSample]:
        return {kind: h.snapshot() for kind, h in self.pauses.items()}


class GcPolicy:
    """The collector policy of one engine process (see the module docstring).

    Thresholds are arguments so tests can use small ones. Use it on the loop's thread.
    """

    def __init__(
        self,
        *,
        freeze_at: int = FREEZE_AT,
        idle_collect_at: int = IDLE_COLLECT_AT,
        idle_after_ns: int = IDLE_AFTER_NS,
        full_idle_ns: int = FULL_IDLE_NS,
        backstop: int = BACKSTOP,
        full_min: int = FULL_MIN,
        full_ratio: float = FULL_RATIO,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.freeze_at = freeze_at
        self.idle_collect_at = idle_collect_at
        self.idle_after_ns = idle_after_ns
        self.full_idle_ns = full_idle_ns
        self.backstop = backstop
        self.full_min = full_min
        self.full_ratio = full_ratio
        self._clock = clock
        self.stats = GcStats()
        self.installed = False
        self._due = full_min
        self._ours = False
        self._full_pending = False
        self._auto_start_ns = 0
        self._auto_young = 0
        self._last_turn_ns = 0
        self._idle_since_ns = 0
        self._idle_ticks = 0
        self._unlogged = 0
        self._logged_at = -LOG_EVERY_S
        self._timer: asyncio.TimerHandle | None = None
        self._tick_cpu_ns = 0
        self._tick_wall_ns = 0

    # ---- life cycle ----------------------------------------------------------------------

    def install(self) -> None:
        """Freeze what start-up built, set the thresholds and start counting collections."""
        gc.collect()
        gc.freeze()
        self._after_full(gc.get_freeze_count())
        gc.set_threshold(self.backstop, MIDDLE, OLD)
        if not self.installed:
            gc.callbacks.append(self._on_gc)
            self.installed = True

    def uninstall(self) -> None:
        """Stop the timer and the callback; the thresholds and the frozen set stay."""
        self.stop_timer()
        if self.installed:
            gc.callbacks.remove(self._on_gc)
            self.installed = False

    # ---- what the loop calls -------------------------------------------------------------

    def turn(self, now_ns: int) -> None:
        """One iteration of a busy-polling loop, at `now_ns` (monotonic)."""
        if now_ns - self._last_turn_ns > WORK_NS:
            self._idle_since_ns = now_ns  # the iteration before this one did work
        self._last_turn_ns = now_ns
        idle_ns = now_ns - self._idle_since_ns
        # `poll` without the call when it would do nothing (about 0.1 µs a turn saved).
        if idle_ns >= self.idle_after_ns or _count()[0] >= self.freeze_at:
            self.poll(idle_ns)

    def tick(self, idle: bool) -> None:
        """A sleeping loop's periodic check (`start_timer`): `idle` if the loop was idle
        since the previous tick."""
        self._idle_ticks = self._idle_ticks + 1 if idle else 0
        self.poll(self._idle_ticks * int(TICK_S * 1e9))

    def poll(self, idle_ns: int) -> None:
        """Collect, freeze or do nothing, the loop having been idle for `idle_ns` (0:
        busy), by the rules of the module docstring."""
        young = _count()[0]
        if self._full_pending and (idle_ns >= self.full_idle_ns or self._hard_bound()):
            self._full(forced=idle_ns < self.full_idle_ns)
        elif idle_ns >= self.idle_after_ns:
            if young >= self.idle_collect_at:
                self._young()
        elif young >= self.freeze_at:
            gc.freeze()
            self.stats.freezes += 1
            self._frozen(young)
            if self._full_pending and self._hard_bound():
                self._full(forced=True)

    def start_timer(self, loop: asyncio.AbstractEventLoop) -> None:
        """Call `tick` every `TICK_S` on `loop` (a sleeping loop's idle signal)."""
        self._tick_cpu_ns = time.thread_time_ns()
        self._tick_wall_ns = time.monotonic_ns()
        self._timer = loop.call_later(TICK_S, self._on_timer, loop)

    def stop_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _on_timer(self, loop: asyncio.AbstractEventLoop) -> None:
        cpu, wall = time.thread_time_ns(), time.monotonic_ns()
        busy = (cpu - self._tick_cpu_ns) >= IDLE_CPU * (wall - self._tick_wall_ns)
        self.tick(not busy)
        self.start_timer(loop)

    # ---- collections ---------------------------------------------------------------------

    def collect_all(self) -> int:
        """A full collection of everything, frozen objects included, when a pause is fine.

        Returns the number of unreachable objects found. Counted as "idle_full".
        """
        return self._full(forced=False)

    def _young(self) -> None:
        young = _count()[0]
        self._ours = True
        t0 = _ns()
        try:
            found = gc.collect(0)
            gc.freeze()
        finally:
            self._ours = False
        self._counted("idle_young", _ns() - t0, found)
        self._frozen(max(0, young - found))

    def _full(self, *, forced: bool) -> int:
        kind = "forced_full" if forced else "idle_full"
        frozen = self.stats.frozen_since_full
        self._ours = True
        t0 = _ns()
        try:
            gc.unfreeze()
            found = gc.collect()
            gc.freeze()
        finally:
            self._ours = False
        pause = _ns() - t0
        self._counted(kind, pause, found)
        live = gc.get_freeze_count()
        self._after_full(live)
        (log.warning if forced else log.info)(
            "gc: %s collection after %d objects frozen: %d unreachable found, %d live, "
            "%.1f ms", kind, frozen, found, live, pause / 1e6)  # fmt: skip
        return found

    def _after_full(self, live: int) -> None:
        self.stats.live_after_full = live
        self.stats.frozen_since_full = 0
        self._due = max(self.full_min, int(self.full_ratio * live))
        self._full_pending = False

    def _frozen(self, objects: int) -> None:
        frozen = self.stats.frozen_since_full = self.stats.frozen_since_full + objects
        if frozen >= self._due:
            self._full_pending = True

    def _hard_bound(self) -> bool:
        """Whether a full collection must run now, busy or not (rule 3): the estimate is
        at twice the bound, and a count of what is really frozen confirms that at least
        the bound's worth of it was added since the last full collection."""
        stats = self.stats
        estimate = stats.frozen_since_full
        if estimate < 2 * self._due:
            return False
        t0 = _ns()
        grown = max(0, gc.get_freeze_count() - stats.live_after_full)
        if grown >= self._due:
            # The live set really grew: waiting would only make the collection longer.
            return True
        stats.frozen_since_full = grown
        stats.recounts += 1
        log.info(
            "gc: %d objects frozen since the last full collection by the estimate, %d by a "
            "count (%.1f ms): no forced collection", estimate, grown,
            (_ns() - t0) / 1e6)  # fmt: skip
        return False

    def _counted(self, kind: str, pause_ns: int, found: int) -> None:
        self.stats.collections[kind] += 1
        self.stats.pauses[kind].observe_ns(pause_ns)
        self.stats.found += found

    def _on_gc(self, phase: str, info: dict[str, Any]) -> None:
        """gc.callbacks: count, freeze after and log CPython's own (backstop) collections."""
        if self._ours:
            return
        if phase == "start":
            self._auto_young = _count()[0]
            self._auto_start_ns = _ns()
            return
        found = info["collected"] + info["uncollectable"]
        # CPython's threshold (young), or someone's explicit gc.collect() (any generation;
        # a full one walks only what is not frozen, so the bound's count stays).
        kind = "forced_full" if info["generation"] == 2 else "forced_young"
        self._counted(kind, _ns() - self._auto_start_ns, found)
        gc.freeze()  # safe here: the collection is over, only the lists are spliced
        self._frozen(max(0, self._auto_young - found))
        self._unlogged += 1
        now = self._clock()
        if now - self._logged_at >= LOG_EVERY_S:
            log.warning(
                "gc: %d collections the policy did not start since the last line (the "
                "last: generation %d, young count %d): the event loop did not call it in "
                "time, or something called gc.collect()",
                self._unlogged, info["generation"], self._auto_young)  # fmt: skip
            self._logged_at = now
            self._unlogged = 0

