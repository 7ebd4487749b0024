"""Keeping an event loop polling instead of sleeping, for the length of a run.

`Spinner(tick)` schedules itself with `loop.call_soon` on every loop iteration while it
is on, calling `tick` each time. uvloop then never blocks: with a callback ready it
calls `epoll_wait` with a zero timeout, so the process stays on its CPU and is never
woken by an interrupt. `fixrouter.bench.helper` explains why the helper process spins
during runs. (The engine's loop polls through the production `fixrouter.busypoll`, as
`[engine] busy_poll` sets it, not through this.) With `spin=False` the spinner ticks
from a timer instead (uvloop rounds timers to a millisecond).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

IDLE_TICK = 0.0005
"""Seconds between ticks when the loop may sleep."""


def _nothing() -> None:
    pass


class Spinner:
    """Calls `tick` on every loop iteration while on (see the module docstring)."""

    def __init__(self, tick: Callable[[], None] = _nothing, spin: bool = True) -> None:
        self._tick = tick
        self._spin = spin
        self._on = False
        self._loop = asyncio.get_running_loop()

    @property
    def on(self) -> bool:
        return self._on

    def start(self) -> None:
        if not self._on:
            self._on = True
            self._loop.call_soon(self._step)

    def stop(self) -> None:
        self._on = False

    def _step(self) -> None:
        if not self._on:
            return
        self._tick()
        if self._spin:
            self._loop.call_soon(self._step)
        else:
            self._loop.call_later(IDLE_TICK, self._step)
