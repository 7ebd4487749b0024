"""Counts of the things the order book survived rather than did.

Each is also logged on `fixrouter.oms` when it happens; the counter is what the metrics
exporter reads (at scrape time, through a custom collector), so the hot path only does a
list increment. Keys are a bounded enum, so they can be Prometheus label values.
"""

from __future__ import annotations

import enum


class Anomaly(enum.IntEnum):
    """What was counted. Values index `AnomalyCounter.counts`; names are label values."""

    ILLEGAL_TRANSITION = 0
    """A report or request the transition table does not allow; the status was kept."""
    DUPLICATE_REPORT = 1
    """An ExecutionReport already applied (normal after a resend with PossDup)."""
    OVERFILL = 2
    """A fill would take CumQty past OrderQty; only the part up to OrderQty was applied."""
    UNKNOWN_ORDER_REPORT = 3
    """A report for an order the book did not know (adopted as an orphan when it could)."""
    UNKNOWN_EXEC_REF = 4
    """A bust or correction naming an ExecID the book never applied."""
    STALE_CANCEL_REJECT = 5
    """An OrderCancelReject for no outstanding request of ours (or a duplicate)."""
    BAD_REPORT = 6
    """A report missing a required field or carrying an unreadable number."""
    CUM_QTY_MISMATCH = 7
    """The broker's CumQty(14) differs from the sum of the fills the book applied."""
    ORPHAN_ORDER = 8
    """An order in the FIX journal with no intent record: its strategy is unknown."""
    NOT_SENT = 9
    """An intent record whose FIX message never reached the journal."""
    INTENT_CORRUPT = 10
    """An intent log line in the middle of the file that could not be read."""
    INTENT_TORN = 11
    """An intent log that ended in a partial line (cut short by a crash)."""
    GARBLED_JOURNAL_MESSAGE = 12
    """A journaled FIX message that no longer decodes (skipped at recovery)."""
    RECALLED = 13
    """A finished order read back from the journal (a late report or a `status` query):
    the slow path of retirement, a search of the session's files."""
    HISTORY_EXCEEDED = 14
    """A bust or correction of a fill older than the positions' kept history: quantity
    exact, average price and realized P&L adjusted at the fill's price."""


class AnomalyCounter:
    """One integer per `Anomaly`. Plain list increments: cheap enough for the hot path."""

    __slots__ = ("counts",)

    def __init__(self) -> None:
        self.counts = [0] * len(Anomaly)

    def inc(self, kind: Anomaly, n: int = 1) -> None:
        self.counts[kind] += n

    def __getitem__(self, kind: Anomaly) -> int:
        return self.counts[kind]

    def snapshot(self) -> dict[Anomaly, int]:
        return {kind: self.counts[kind] for kind in Anomaly}

    def total(self) -> int:
        return sum(self.counts)
