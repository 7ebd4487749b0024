"""How many group commits are in flight in this process, for a loop that busy-polls.

Each `fsync`-durability session syncs its journal in its own thread (the transport's
group commit). A busy-polling loop (`fixrouter.busypoll`) must get out of those threads'
way while they run, so it needs to know when any is in flight across every session:
`SessionTransport` calls `started()` when it hands a sync to its thread and `ended()`
when the result is back on the loop, and the poller reads `in_flight` and is told by
`on_idle` when the last one ends. Everything here runs on the loop's thread; it costs an
integer update per sync and nothing in `os` durability, where no sync ever starts.
"""

from __future__ import annotations

from collections.abc import Callable


class CommitWatch:
    """Counts the group commits in flight on one event loop (see the module docstring)."""

    __slots__ = ("in_flight", "on_idle")

    def __init__(self) -> None:
        self.in_flight = 0
        """Syncs handed to a thread whose result the loop has not yet taken."""
        self.on_idle: Callable[[], None] | None = None
        """Called (on the loop) when `in_flight` drops to 0."""

    def started(self) -> None:
        self.in_flight += 1

    def ended(self) -> None:
        self.in_flight -= 1
        if self.in_flight == 0 and self.on_idle is not None:
            self.on_idle()
