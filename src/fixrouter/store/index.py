"""In-memory index of saved outbound messages: MsgSeqNum -> journal file offset.

Theory of operation
-------------------
Two parallel ``array('q')`` columns, ``seqs`` (strictly increasing) and ``offsets``: 16 bytes
per saved message, no per-entry Python objects, O(1) amortised append on the hot path and a
binary search to find where a resend range starts. Parallel sorted arrays, rather than one
array indexed by ``seq - base``, keep memory proportional to the messages saved even when
the sender number jumps (SequenceReset, operator ``fixrouter seq``) or admin messages are not
saved.

Strict increase holds because the store only appends ``seq == next_sender_seq`` and moving
that number backwards first drops every entry at or above the new value (``drop_from``).
"""

from __future__ import annotations

from array import array
from bisect import bisect_left, bisect_right


class SeqIndex:
    """Sorted MsgSeqNum -> offset map backed by two ``array('q')``."""

    __slots__ = ("offsets", "seqs")

    def __init__(self) -> None:
        self.seqs = array("q")
        self.offsets = array("q")

    def __len__(self) -> int:
        return len(self.seqs)

    def add(self, seq: int, offset: int) -> None:
        """Append an entry; the caller guarantees ``seq`` is above every stored seq."""
        self.seqs.append(seq)
        self.offsets.append(offset)

    def drop_from(self, seq: int) -> None:
        """Forget every entry with a MsgSeqNum >= ``seq``."""
        cut = bisect_left(self.seqs, seq)
        del self.seqs[cut:]
        del self.offsets[cut:]

    def span(self, begin: int, end: int) -> tuple[int, int]:
        """Positions [lo, hi) of the entries with begin <= seq <= end (end 0 = no bound)."""
        lo = bisect_left(self.seqs, begin)
        hi = len(self.seqs) if end <= 0 else bisect_right(self.seqs, end)
        return lo, max(lo, hi)

    def clear(self) -> None:
        del self.seqs[:]
        del self.offsets[:]
