"""Tests for fixrouter.busypoll: the polling loop still serves everything, and sleeps
through group commits.

The commit rule is checked turn by turn on a recorded loop; the rest on a real uvloop
loop, by what happened, never by how long it took.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import threading
from collections.abc import Callable

import uvloop

from fixrouter.busypoll import BusyPoller
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


# ---- group commits, turn by turn ------------------------------------------------------------


class _Loop:
    """Records `call_soon` instead of running it."""

    def __init__(self) -> None:
        self.queued: list[Callable[[], None]] = []

    def call_soon(self, callback: Callable[[], None]) -> None:
        self.queued.append(callback)

    def run_one(self) -> None:
        self.queued.pop(0)()


def _poller() -> tuple[BusyPoller, _Loop, CommitWatch]:
    loop = _Loop()
    commits = CommitWatch()
    poller = BusyPoller(loop, commits)  # type: ignore[arg-type]
    poller.start()
    return poller, loop, commits


def test_without_a_commit_in_flight_each_turn_queues_the_next() -> None:
    poller, loop, _commits = _poller()
    for _ in range(3):
        loop.run_one()
    assert len(loop.queued) == 1 and poller.turns == 3 and not poller.sleeping


def test_the_loop_sleeps_through_a_commit_and_polls_again_once_every_commit_ended() -> None:
    poller, loop, commits = _poller()
    commits.started()
    loop.run_one()  # a commit in flight: no next turn, so the loop may sleep in epoll
    assert loop.queued == [] and poller.sleeping and poller.commit_sleeps == 1
    commits.started()  # another session's commit
    commits.ended()
    assert loop.queued == [] and poller.sleeping  # one still in flight
    commits.ended()  # the last result is back on the loop: poll again
    assert len(loop.queued) == 1 and not poller.sleeping
    loop.run_one()
    assert len(loop.queued) == 1


def test_stop_ends_the_turns_and_start_resumes_them_once() -> None:
    poller, loop, _commits = _poller()
    poller.stop()
    loop.run_one()
    assert loop.queued == []
    poller.start()
    poller.start()
    assert len(loop.queued) == 1


def test_a_poller_stopped_while_asleep_in_a_commit_stays_stopped() -> None:
    poller, loop, commits = _poller()
    commits.started()
    loop.run_one()
    assert poller.sleeping
    poller.stop()
    commits.ended()
    assert loop.queued == [] and not poller.on
    poller.start()  # and a start while a commit runs waits for its end
    commits.started()
    loop.run_one()
    assert loop.queued == [] and poller.sleeping
    commits.ended()
    assert len(loop.queued) == 1
