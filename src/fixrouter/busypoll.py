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
`fdatasync` in its own thread (`fixrouter.transport`), and the thread needs the GIL back
after each `fdatasync` (twice per commit: the order book's intent log, then the journal)
before the loop can release the held orders. A loop that never sleeps drops and retakes
the GIL around each of its callbacks, dozens of times per millisecond; every drop
signals the waiting thread and restarts its wait, so CPython's forced switch (after
`sys.getswitchinterval()` without a switch) never comes, and the thread gets the GIL
only when it wins a race against a loop that is already running. On the one core the
engine is pinned to, the scheduler must also preempt the loop first, and it lets a
running task finish its slice (EEVDF, milliseconds). Measured: paced tick-to-wire in
`fsync` mode now and then 20 ms instead of 0.6 ms, and acknowledged throughput down to a
fifth. So while any commit is in flight (`CommitWatch`):

* on an idle turn (the previous turn ended less than `IDLE_NS` ago) the poller calls
  `os.sched_yield()`, which releases the GIL and offers the core: the sync thread, woken
  by the disk, runs at once, and the CPU stays awake for the loop, which sees the
  result on its next turn;
* on a busy turn (the loop has orders to work through) it yields nothing: the loop is
  then what a sleeping loop is under load, whose hand-off was measured as good;
* if a yield kept the loop off its core for more than `STOLEN_NS`, another task is
  runnable on the engine's core (it is not isolated): repeated yields would hand it the
  core every turn, so for `BACKOFF_NS` the poller instead lets the loop sleep in epoll
  while a commit is in flight, woken by the commit's result, and counts `stolen`.

tests/bench/README.md records what was measured for each alternative, and what did not
help (a short `sys.setswitchinterval` while a sync runs; `time.sleep(0)`, which sleeps
50 µs of timer slack here).

**Other threads.** The `/metrics` HTTP server, the FIX-log and event-log writers sleep
most of the time; when one wakes on the engine's core the scheduler preempts the
polling loop for it (a task waking from sleep goes first) and it competes for the GIL as
it would against a busy sleeping loop, so a scrape or a log write may wait for a few
milliseconds more. None of them is on the order path.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time

from fixrouter.transport import CommitWatch

log = logging.getLogger("fixrouter.busypoll")

IDLE_NS = 5_000
"""A turn that began less than this after the previous one had nothing else to run."""
STOLEN_NS = 300_000
"""A yield that kept the loop off its core this long gave the core to another task."""
BACKOFF_NS = 100_000_000
"""How long the poller sleeps through commits, after a stolen yield, before yielding again."""
WARN_EVERY_NS = 60_000_000_000
"""At most one warning about stolen yields per this long."""

_now = time.monotonic_ns
_yield = os.sched_yield


class BusyPoller:
    """Keeps one event loop polling while it is on (see the module docstring).

    Create and use it on the loop's thread. `commits` is the engine's `CommitWatch`;
    the poller takes its `on_idle` hook.
    """

    __slots__ = ("_commits", "_last", "_loop", "_on", "_queued", "_sleeping", "_warn_after",
                 "_yield_after", "stolen", "turns")

    def __init__(self, loop: asyncio.AbstractEventLoop, commits: CommitWatch) -> None:
        self._loop = loop
        self._commits = commits
        self._on = False
        self._queued = False
        self._sleeping = False
        self._last = 0
        self._yield_after = 0
        self._warn_after = 0
        self.turns = 0
        """Loop iterations polled so far."""
        self.stolen = 0
        """Yields during which another task had the engine's core (see `STOLEN_NS`)."""
        commits.on_idle = self._commits_done

    @property
    def on(self) -> bool:
        return self._on

    @property
    def sleeping(self) -> bool:
        """True while the loop sleeps through a commit (after a stolen yield)."""
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
        self._last = _now()
        self._loop.call_soon(self._turn)

    def _turn(self) -> None:
        if not self._on:
            self._queued = False
            return
        self.turns += 1
        now = _now()
        if self._commits.in_flight and now - self._last < IDLE_NS:
            if now < self._yield_after:
                self._queued = False
                self._sleeping = True  # until `_commits_done`
                return
            _yield()
            after = _now()
            if after - now > STOLEN_NS:
                self._stolen(after - now, after)
            now = after
        self._last = now
        self._loop.call_soon(self._turn)

    def _stolen(self, held_ns: int, now: int) -> None:
        self.stolen += 1
        self._yield_after = now + BACKOFF_NS
        if now >= self._warn_after:
            self._warn_after = now + WARN_EVERY_NS
            log.warning(
                "busy_poll: another task held the engine's core for %d µs while a group "
                "commit ran (%d times so far): the core is not the engine's alone; the loop "
                "sleeps through commits for %g s after each such time",
                held_ns // 1000, self.stolen, BACKOFF_NS / 1e9,
            )  # fmt: skip

    def _commits_done(self) -> None:
        if self._sleeping:
            self._sleeping = False
            if self._on:
                self._queue()
