"""Sparse in-memory index of saved outbound messages: MsgSeqNum -> journal file offset.

Theory of operation
-------------------
A resend or a reject lookup needs the journal offset where a MsgSeqNum range starts, and
then streams records from there. A dense index (one entry per saved message) costs 16
bytes per message for the whole session period: 16 MB per million orders, for a lookup
that happens a few times a day. So the index keeps only *every `every`-th* saved message
(and the first one saved after a rewind) in two parallel ``array('q')`` columns,
``seqs`` (strictly increasing) and ``offsets``: 16 bytes per `every` messages, about a
quarter of a byte per message at the default of 64. `start(begin)` is a binary search
for the last entry at or below `begin`; the journal then reads forward from that offset,
at most about `every` records before the first one wanted.

*Rewinds.* Moving the sender number back (SequenceReset, operator ``fixrouter seq``, or a
journal holding a seq twice) supersedes every saved message at or above the new number.
`drop_from(seq, offset)` forgets the entries at or above `seq` and records the rewind as
``(offset, seq)`` in `rewinds`: a record at file offset ``o`` with MsgSeqNum ``s`` is
*stale* when a rewind after it (``offset > o``) went to ``seq <= s``. Live records
therefore have strictly increasing seqs in file order, which is what lets a forward read
stop at the first live record past the end of the range. Rewinds are rare (a handful per
session period), so `Staleness` checks each record with one comparison.

The index is rebuilt by the journal's recovery scan and emptied by a reset.
"""

from __future__ import annotations

from array import array
from bisect import bisect_right
from typing import Final

DEFAULT_EVERY: Final = 64
"""Saved messages per index entry: a lookup reads at most about this many records."""


class SeqIndex:
    """Sparse sorted MsgSeqNum -> offset map backed by two ``array('q')``."""

    __slots__ = ("_due", "every", "last_seq", "offsets", "rewinds", "saved", "seqs")

    def __init__(self, every: int = DEFAULT_EVERY) -> None:
        if every < 1:
            raise ValueError(f"every must be at least 1, got {every}")
        self.every = every
        self.seqs = array("q")
        self.offsets = array("q")
        self.rewinds: list[tuple[int, int]] = []
        """``(file offset, seq)`` of every rewind since the journal period began."""
        self.last_seq = 0
        """An upper bound of the highest live MsgSeqNum (exact unless a rewind dropped
        messages below a gap); 0 when nothing is saved."""
        self.saved = 0
        """Outbound messages saved in this period, superseded ones included."""
        self._due = 0  # the value of `saved` at which the next save gets an entry

    def __len__(self) -> int:
        """Entries held (not messages saved)."""
        return len(self.seqs)

    def add(self, seq: int, offset: int) -> None:
        """Note a saved message; the caller guarantees ``seq`` is above `last_seq`."""
        saved = self.saved
        if saved >= self._due:
            self.seqs.append(seq)
            self.offsets.append(offset)
            self._due = saved + self.every
        self.saved = saved + 1
        self.last_seq = seq

    def drop_from(self, seq: int, offset: int) -> None:
        """A rewind at file offset ``offset``: every message with MsgSeqNum >= ``seq``
        saved before that offset is superseded."""
        cut = bisect_right(self.seqs, seq - 1)
        del self.seqs[cut:]
        del self.offsets[cut:]
        self.rewinds.append((offset, seq))
        if self.last_seq >= seq:
            self.last_seq = seq - 1
        self._due = self.saved

    def start(self, begin: int) -> int | None:
        """The offset to read forward from for messages with MsgSeqNum >= ``begin``: the
        entry at or below it, else the first entry. None when nothing is saved."""
        if not self.seqs:
            return None
        at = bisect_right(self.seqs, begin) - 1
        return self.offsets[max(at, 0)]

    def staleness(self, start: int) -> Staleness:
        """A checker for records read forward from offset ``start``."""
        return Staleness([r for r in self.rewinds if r[0] > start])

    def clear(self) -> None:
        del self.seqs[:]
        del self.offsets[:]
        self.rewinds.clear()
        self.last_seq = 0
        self.saved = 0
        self._due = 0


class Staleness:
    """Whether records met in file order were superseded by a later rewind (see the
    module docstring). Feed it offsets in increasing order."""

    __slots__ = ("_at", "_min", "_offsets")

    def __init__(self, rewinds: list[tuple[int, int]]) -> None:
        self._offsets = [offset for offset, _ in rewinds]
        # _min[i]: the lowest rewind seq among rewinds[i:].
        self._min = [0] * len(rewinds)
        low = None
        for i in range(len(rewinds) - 1, -1, -1):
            seq = rewinds[i][1]
            low = seq if low is None or seq < low else low
            self._min[i] = low
        self._at = 0

    def stale(self, offset: int, seq: int) -> bool:
        """True if the record at ``offset`` with MsgSeqNum ``seq`` was superseded."""
        offsets = self._offsets
        at = self._at
        while at < len(offsets) and offsets[at] <= offset:
            at += 1
        self._at = at
        return at < len(offsets) and self._min[at] <= seq
