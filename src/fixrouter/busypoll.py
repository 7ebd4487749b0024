"""Busy polling: the engine's event loop stays on its core instead of sleeping in epoll.

Theory of operation
-------------------
**Why.** Between orders a sleeping loop blocks in `epoll_wait`; the next order then
finds a cold CPU (caches, TLB, branch predictors, and on a virtual machine a halted vCPU
that the hypervisor must wake), and the same order path runs about 2.5 times slower than
back to back (tests/bench/README.md, issue 7). A loop that never sleeps keeps all of that
warm, at the price of one core at 100% all day: `[engine] busy_poll = true`, for a core
given to the engine alone (deploy/runbook.md, "CPU isolation and affinity").

**How.** `BusyPoller.start()` queues one callback with `loop.call_soon`, and that
callback queues itself again on every loop iteration. uvloop never blocks while a
callback is ready: libuv calls `epoll_wait` with a zero timeout, so every socket, timer,
signal (uvloop's wakeup fd) and `call_soon_threadsafe` from another thread is served on
each iteration exactly as when the loop sleeps, only without the wake-up. An idle turn
costs well under a microsecond and allocates one handle that is freed at once (no work
for the garbage collector).

**The group commit (`fsync` durability).** Each session's journal is made durable by
`fdatasync` in its own thread (`fixrouter.transport`), and that thread needs the GIL
back after each `fdatasync` (twice per commit: the order book's intent log, then the
journal) before the loop can release the held orders. A polling loop drops and retakes
the GIL around each of its callbacks, about once a microsecond while idle; every drop
wakes the waiting thread and restarts its wait, so CPython's forced switch (after
`sys.getswitchinterval()` without a switch) never comes, and the thread gets the GIL
only when it wins a race against a loop that is already running on the same core.
Measured: paced tick-to-wire in `fsync` mode with a p99 of 22-35 ms (medians up to
22 ms) instead of 3-6 ms in half the runs, acknowledged throughput down to a fifth.
So while any commit is in flight (`CommitWatch.in_flight`) the poller queues no turn:
the loop sleeps in `epoll_wait`, the sync thread takes the GIL uncontended each time its
`fdatasync` returns, and the commit's result (`call_soon_threadsafe`, an eventfd write)
wakes the loop, which polls again from the moment the last commit in flight has ended
(`CommitWatch.on_idle`).
Orders that arrive meanwhile are read and journaled as by a sleeping loop; they wait
for the next commit anyway. With `fsync` durability busy polling therefore gains only
between commits, and costs nothing against a sleeping loop.

Kept out, after measuring (tests/bench/README.md): `os.sched_yield()` on each turn while
a commit is in flight (the best medians, 0.4 ms, but in about half the runs the same
stall set in: the yield returned to the loop before the woken sync thread could run,
and the loop retook the GIL first); the same on idle turns only, falling back to
sleeping when a yield showed another task on the core (stalled in 8 runs of 10: the
stall's own context switches make turns look busy); a short `sys.setswitchinterval`
while a commit runs (the waiter's timer never expires: it is woken at every drop);
`time.sleep(0)` (50 µs of timer slack here).

**The garbage collector.** `on_turn` is called with the time on every polled iteration;
the engine gives it `GcPolicy.turn`, which tells busy iterations from idle ones by the
time between calls and runs young collections only once the loop has been idle a while
(`fixrouter.gc_policy`).

**Other threads.** The `/metrics` HTTP server and the FIX-log and event-log writers
sleep most of the time; when one wakes on the engine's core the scheduler preempts the
polling loop for it (a waking task goes first) and it competes for the GIL as it would
against a busy sleeping loop, so a scrape or a log write may wait a few milliseconds
more. None of them is on the order path.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Final

from fixrouter.transport import CommitWatch

_ns: Final = time.monotonic_ns


class BusyPoller:
    """Keeps one event loop polling while it is on (see the module docstring).

    Create and use it on the loop's thread. `commits` is the engine's `CommitWatch`;
    the poller takes its `on_idle` hook.
    """

    __slots__ = ("_call_soon", "_commits", "_loop", "_on", "_queued", "_sleeping", "_turn_handler",
                 "commit_sleeps", "on_turn", "turns")  # fmt: skip

    def __init__(self, loop: asyncio.AbstractEventLoop, commits: CommitWatch) -> None:
        self._loop = loop
        self._commits = commits
        # Bound once: each iteration queues the next without a method look-up on the loop
        # or a new bound method of `_turn` (about 25 of an idle turn's 550 ns, compiled).
        self._call_soon: Callable[[Callable[[], None]], object] = loop.call_soon
        self._turn_handler: Callable[[], None] = self._turn
        self._on = False
        self._queued = False
        self._sleeping = False
        self.turns = 0
        """Loop iterations polled so far."""
        self.commit_sleeps = 0
        """Times the loop slept until the group commits in flight had ended."""
        self.on_turn: Callable[[int], None] | None = None
        """Called with `time.monotonic_ns()` on every polled iteration: the garbage
        collector's idle signal (`fixrouter.gc_policy.GcPolicy.turn`)."""
        commits.on_idle = self._commits_done

    @property
    def on(self) -> bool:
        return self._on

    @property
    def sleeping(self) -> bool:
        """True while the loop sleeps through a group commit."""
        return self._sleeping

    def start(self) -> None:
        self._on = True
        if not self._queued and not self._sleeping:
            self._queue()

    def stop(self) -> None:
        """The loop may sleep again from its next iteration."""
        self._on = False

    def _queue(self) -> None:
        self._queued = True
        self._call_soon(self._turn_handler)

    def _turn(self) -> None:
        if not self._on:
            self._queued = False
            return
        self.turns += 1
        if self._commits.in_flight:
            self._queued = False
            self._sleeping = True  # until `_commits_done`
            self.commit_sleeps += 1
            return
        self._call_soon(self._turn_handler)
        on_turn = self.on_turn
        if on_turn is not None:
            on_turn(_ns())

    def _commits_done(self) -> None:
        if self._sleeping:
            self._sleeping = False
            if self._on:
                self._queue()
