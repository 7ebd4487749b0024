"""The engine's garbage-collector policy: start-up frozen, thresholds set, cycles still
collectable on demand."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from fixrouter import gc_policy


@pytest.fixture
def restore_gc() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


class _Node:
    def __init__(self) -> None:
        self.other: _Node | None = None


def test_apply_freezes_start_up_and_sets_thresholds(restore_gc: None) -> None:
    kept = [object() for _ in range(10)]  # something start-up built
    gc_policy.apply()
    assert gc.get_threshold() == (gc_policy.YOUNG, gc_policy.MIDDLE, gc_policy.OLD)
    assert gc.get_freeze_count() > 0
    assert kept


def test_young_collections_still_free_short_lived_cycles(restore_gc: None) -> None:
    gc_policy.apply()
    a, b = _Node(), _Node()
    a.other, b.other = b, a
    del a, b
    assert gc.collect(0) >= 2


def test_collect_all_reaches_frozen_cycles(restore_gc: None) -> None:
    a, b = _Node(), _Node()
    a.other, b.other = b, a
    gc_policy.apply()  # the cycle is alive now, and frozen with the rest
    del a, b
    assert gc.collect() == 0  # frozen: no collection sees it
    assert gc_policy.collect_all() >= 2
    assert gc.get_freeze_count() > 0  # frozen again afterwards
