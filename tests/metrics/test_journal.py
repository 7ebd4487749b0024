"""metrics/journal: appends timed, failures counted where they happen."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from fixrouter.metrics import JournalMeter, MeteredJournalStore
from fixrouter.store import Durability, StoreError


def test_appends_are_timed_and_failures_counted(tmp_path: Path) -> None:
    meter = JournalMeter()
    store = MeteredJournalStore(tmp_path / "j", now=0.0, durability=Durability.FSYNC,
                                meter=meter)
    store.save_outbound(1, b"8=FIX.4.2\x01")
    store.save_inbound(1, b"8=FIX.4.2\x01")
    assert store.sync() > 0
    assert meter.append.snapshot().count == 2 and meter.errors == 0
    with pytest.raises(StoreError):
        store.save_outbound(5, b"x")  # out of sequence
    assert meter.append_errors == 1 and meter.append.snapshot().count == 2
    # A sync that fails (fd gone under it): counted separately, it runs in another thread.
    os.close(store._fd)
    with pytest.raises(StoreError):
        store.sync()
    assert meter.sync_errors == 1 and meter.errors == 2
    store._fd = -1
    store.close()
    reopened = MeteredJournalStore(tmp_path / "j", now=0.0, meter=JournalMeter())
    assert reopened.next_sender_seq == 2  # the format is the plain journal's
    reopened.close()
