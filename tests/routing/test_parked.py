"""Cancels held for a session that is down: one per order, oldest first, per session."""

from __future__ import annotations

from fixrouter.requests import CancelOrder
from fixrouter.routing.parked import ParkedCancels


def test_cancels_are_held_per_session_once_and_taken_in_order() -> None:
    parked = ParkedCancels()
    assert parked.park("desk2", CancelOrder("alpha", "o1"))
    assert parked.park("desk2", CancelOrder("beta", "o1"))
    assert not parked.park("desk2", CancelOrder("alpha", "o1", received_ns=5))  # repeated
    assert parked.park("desk1", CancelOrder("alpha", "o2"))
    assert parked.count("desk2") == 2
    assert [(c.strategy, c.id) for c in parked.take("desk2")] == [("alpha", "o1"), ("beta", "o1")]
    assert parked.take("desk2") == [] and parked.count("desk2") == 0
    assert [c.id for c in parked.take("desk1")] == ["o2"]
