"""Tests for fixrouter.busypoll: the polling loop still serves everything, and steps aside
for the group commit.

The hand-off rules are checked turn by turn with a fake clock and a recorded loop; the
rest on a real uvloop loop, by what happened, never by how long it took.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import threading
from collections.abc import Callable

import pytest
import uvloop

from fixrouter import busypoll
from fixrouter.busypoll import IDLE_NS, STOLEN_NS, BusyPoller
from fixrouter.transport import CommitWatch

# ---- on a real loop ------------------------------------------------------------------------


def test_a_polling_loop_serves_sockets_timers_threads_and_signals() -> None:
    async def test() -> None:
        loop = asyncio.get_running_loop()
        poller = BusyPoller(loop, CommitWatch())
        poller.start()
        seen: list[str] = []
        done = asyncio.Event()

        def note(what: str) -> None:
            seen.append(what)
            if len(seen) == 4:
                done.set()

        loop.call_later(0.02, note, "timer")
        threading.Thread(target=loop.call_soon_threadsafe, args=(note, "thread")).start()
        loop.add_signal_handler(signal.SIGUSR1, note, "signal")
        os.kill(os.getpid(), signal.SIGUSR1)
        left, right = socket.socketpair()
        left.setblocking(False)
        loop.add_reader(left, lambda: note(left.recv(16).decode()))
        right.send(b"socket")
        try:
            await asyncio.wait_for(done.wait(), 5)
        finally:
            loop.remove_reader(left)
            loop.remove_signal_handler(signal.SIGUSR1)
            left.close()
            right.close()
            poller.stop()
        assert sorted(seen) == ["signal", "socket", "thread", "timer"]
        assert poller.turns > 0 and poller.on is False

    uvloop.run(test())


def test_the_loop_turns_while_polling_and_stops_turning_after_stop() -> None:
    async def test() -> None:
        poller = BusyPoller(asyncio.get_running_loop(), CommitWatch())
        poller.start()
        poller.start()  # a second start is harmless: still one chain of turns
        await asyncio.sleep(0.01)
        assert poller.turns > 2
        poller.stop()
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        stopped_at = poller.turns
        await asyncio.sleep(0.01)
        assert poller.turns == stopped_at

    uvloop.run(test())


# ---- the hand-off, turn by turn ------------------------------------------------------------


class _Loop:
    """Records `call_soon` instead of running it."""

    def __init__(self) -> None:
        self.queued: list[Callable[[], None]] = []

    def call_soon(self, callback: Callable[[], None]) -> None:
        self.queued.append(callback)

    def run_one(self) -> None:
        self.queued.pop(0)()


class _Clock:
    def __init__(self) -> None:
        self.now = 1_000_000_000
        self.yields = 0
        self.yield_takes = 0

    def read(self) -> int:
        return self.now

    def sched_yield(self) -> None:
        self.yields += 1
        self.now += self.yield_takes


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> _Clock:
    fake = _Clock()
    monkeypatch.setattr(busypoll, "_now", fake.read)
    monkeypatch.setattr(busypoll, "_yield", fake.sched_yield)
    return fake


def _poller() -> tuple[BusyPoller, _Loop, CommitWatch]:
    loop = _Loop()
    commits = CommitWatch()
    poller = BusyPoller(loop, commits)  # type: ignore[arg-type]
    poller.start()
    return poller, loop, commits


def test_without_a_commit_in_flight_each_turn_queues_the_next_and_never_yields(
    clock: _Clock,
) -> None:
    poller, loop, _commits = _poller()
    for _ in range(3):
        clock.now += 100
        loop.run_one()
    assert len(loop.queued) == 1 and clock.yields == 0 and poller.turns == 3


def test_an_idle_turn_yields_the_core_to_the_sync_thread_while_a_commit_runs(
    clock: _Clock,
) -> None:
    poller, loop, commits = _poller()
    commits.started()
    clock.now += 100  # idle: the previous turn ended just before
    loop.run_one()
    assert clock.yields == 1 and len(loop.queued) == 1
    clock.now += IDLE_NS  # busy: the loop had work between the turns
    loop.run_one()
    assert clock.yields == 1 and len(loop.queued) == 1
    commits.ended()
    clock.now += 100
    loop.run_one()
    assert clock.yields == 1 and poller.stolen == 0


def test_a_stolen_yield_makes_the_loop_sleep_through_commits_for_a_while(
    clock: _Clock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="fixrouter.busypoll")
    poller, loop, commits = _poller()
    commits.started()
    clock.yield_takes = STOLEN_NS + 1  # another task had the core meanwhile
    clock.now += 100
    loop.run_one()
    assert poller.stolen == 1 and len(loop.queued) == 1
    clock.yield_takes = 0
    clock.now += 100
    loop.run_one()  # idle, a commit in flight, backing off: sleep (no next turn queued)
    assert loop.queued == [] and poller.sleeping and clock.yields == 1
    commits.ended()  # the commit's result is back on the loop: poll again
    assert len(loop.queued) == 1 and not poller.sleeping
    clock.now += busypoll.BACKOFF_NS
    commits.started()
    loop.run_one()
    clock.now += 100
    loop.run_one()
    assert clock.yields == 2  # backed off long enough: yielding again
    clock.now += busypoll.BACKOFF_NS
    clock.yield_takes = STOLEN_NS + 1
    loop.run_one()
    loop.run_one()
    assert poller.stolen == 2
    (warning,) = caplog.records  # one warning a minute, not one per stolen yield
    assert "another task held the engine's core" in warning.getMessage()


def test_stop_ends_the_turns_and_start_resumes_them_once(clock: _Clock) -> None:
    poller, loop, _commits = _poller()
    poller.stop()
    loop.run_one()
    assert loop.queued == []
    poller.start()
    poller.start()
    assert len(loop.queued) == 1


def test_a_poller_asleep_in_a_commit_stays_asleep_if_stopped_meanwhile(clock: _Clock) -> None:
    poller, loop, commits = _poller()
    commits.started()
    clock.yield_takes = STOLEN_NS + 1
    loop.run_one()
    clock.yield_takes = 0
    clock.now += 100
    loop.run_one()
    assert poller.sleeping and loop.queued == []
    poller.stop()
    commits.ended()
    assert loop.queued == []
