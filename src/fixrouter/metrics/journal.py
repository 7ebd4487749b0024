"""A `JournalStore` that times its appends and counts its failures, for the exporter.

The session calls `save_outbound` once per message it sends and `save_inbound` once per
application message it receives; each is one `pwrite` (about 1 µs in `os` durability,
see tests/bench/README.md). Timing it costs two `monotonic_ns()` calls and one histogram
observation (about 0.2 µs together, see bench_metrics.py), so the engine uses this class
only when metrics are on.

Failures are counted where they happen rather than guessed from their consequences: an
append that raises StoreError (disk full, I/O error) and a `sync` that raises (fdatasync
failed, in the group-commit thread). The two are separate fields because they are
written by different threads; the exporter adds them.
"""

from __future__ import annotations

import os
import time
from typing import Final

from fixrouter.store import Durability, JournalStore, StoreError

from .histogram import LatencyHistogram

_ns: Final = time.monotonic_ns
_save_outbound: Final = JournalStore.save_outbound
_save_inbound: Final = JournalStore.save_inbound
_sync: Final = JournalStore.sync


class JournalMeter:
    """What one session's journal reports. Read on the loop thread at scrape time."""

    __slots__ = ("append", "append_errors", "sync_errors")

    def __init__(self) -> None:
        self.append = LatencyHistogram()
        self.append_errors = 0
        """Appends that raised StoreError (written by the event-loop thread)."""
        self.sync_errors = 0
        """Syncs that raised StoreError (written by the group-commit thread)."""

    @property
    def errors(self) -> int:
        return self.append_errors + self.sync_errors


class MeteredJournalStore(JournalStore):
    """`JournalStore` with `meter` fed by its appends and syncs. Same constructor errors."""

    def __init__(
        self,
        stem: str | os.PathLike[str],
        *,
        now: float,
        durability: Durability = Durability.OS,
        meter: JournalMeter,
    ) -> None:
        self.meter = meter
        super().__init__(stem, now=now, durability=durability)

    # The base methods are called through module-level names rather than super(): one
    # attribute look-up less on a path taken once per message.

    def save_outbound(self, seq: int, data: bytes) -> None:
        meter = self.meter
        start = _ns()
        try:
            _save_outbound(self, seq, data)
        except StoreError:
            meter.append_errors += 1
            raise
        meter.append.observe_ns(_ns() - start)

    def save_inbound(self, seq: int, data: bytes) -> None:
        meter = self.meter
        start = _ns()
        try:
            _save_inbound(self, seq, data)
        except StoreError:
            meter.append_errors += 1
            raise
        meter.append.observe_ns(_ns() - start)

    def sync(self) -> int:
        try:
            return _sync(self)
        except StoreError:
            self.meter.sync_errors += 1
            raise
