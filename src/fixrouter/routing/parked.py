"""Cancels waiting for their order's FIX session to log on again.

Theory of operation
-------------------
With `[routing] cancel_while_down = "queue"`, a cancel of a working order whose session
is down is *parked* here under that session, never sent elsewhere: only the session that
carries an order can cancel it at IB. When the session logs on, the router takes the
session's cancels (in the order they were parked) and runs each through the normal cancel
path again, which re-checks everything: an order that filled meanwhile gets the book's
`ORDER_NOT_WORKING`, a session that dropped again parks the cancel again.

One cancel per (strategy, order id) is kept: a strategy repeating its cancel while it
waits must not make two cancels go out. Parked cancels live in memory only; after an
engine restart a strategy asks `orders` and cancels again.
"""

from __future__ import annotations

from fixrouter.requests import CancelOrder


class ParkedCancels:
    """Cancels by session name, oldest first."""

    __slots__ = ("_by_session",)

    def __init__(self) -> None:
        self._by_session: dict[str, dict[tuple[str, str], CancelOrder]] = {}

    def park(self, session: str, cancel: CancelOrder) -> bool:
        """Hold `cancel` for `session`; False if the same cancel is already held."""
        held = self._by_session.setdefault(session, {})
        key = (cancel.strategy, cancel.id)
        if key in held:
            return False
        held[key] = cancel
        return True

    def take(self, session: str) -> list[CancelOrder]:
        """Every cancel held for `session`, oldest first; none are held afterwards."""
        held = self._by_session.pop(session, None)
        return list(held.values()) if held else []

    def count(self, session: str) -> int:
        held = self._by_session.get(session)
        return len(held) if held else 0
