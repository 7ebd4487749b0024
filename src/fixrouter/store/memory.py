"""The in-memory MessageStore: same rules as the journal, nothing survives the process.

For tests and for sessions configured without a FileStorePath. It enforces exactly the
sequence rules of ``JournalStore`` (the same behavioural tests run against both), and its
durability tickets count saves, with every ticket "synced" at once. It is searchable like
the journal (``SearchableStore``): every saved message is also kept in save order, and a
position is an index into that list.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterator

from fixrouter.store.base import SequenceError, StoredMessage, StoreError
from fixrouter.store.index import Staleness


class MemoryStore:
    """MessageStore kept in dictionaries and lists."""

    def __init__(self, *, now: float) -> None:
        self._creation_time = now
        self._next_sender = 1
        self._next_target = 1
        # _out_seqs stays sorted: saves only append above the highest seq, and rewinding
        # the sender number drops everything at or above the new value first.
        self._out: dict[int, bytes] = {}
        self._out_seqs: list[int] = []
        self._inbound: list[tuple[int, bytes]] = []
        self._log: list[tuple[bool, int, bytes]] = []  # (outbound, seq, data), save order
        self._rewinds: list[tuple[int, int]] = []  # (position in _log, seq), see index.py
        self._ticket = 0
        self._generation = 0
        self._closed = False

    @property
    def next_sender_seq(self) -> int:
        return self._next_sender

    @property
    def next_target_seq(self) -> int:
        return self._next_target

    @property
    def creation_time(self) -> float:
        return self._creation_time

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError("memory store is closed")

    def save_outbound(self, seq: int, data: bytes) -> None:
        self._check_open()
        if seq != self._next_sender:
            raise SequenceError(f"outbound MsgSeqNum {seq} saved, expected {self._next_sender}")
        self._out[seq] = data = bytes(data)
        self._out_seqs.append(seq)
        self._log.append((True, seq, data))
        self._next_sender = seq + 1
        self._ticket += 1

    def save_inbound(self, seq: int, data: bytes) -> None:
        self._check_open()
        if seq != self._next_target:
            raise SequenceError(f"inbound MsgSeqNum {seq} saved, expected {self._next_target}")
        self._inbound.append((seq, data := bytes(data)))
        self._log.append((False, seq, data))
        self._next_target = seq + 1
        self._ticket += 1

    def incr_next_target_seq(self) -> None:
        self._check_open()
        self._next_target += 1
        self._ticket += 1

    def set_next_target_seq(self, seq: int) -> None:
        self._check_open()
        if seq < 1:
            raise StoreError(f"next target MsgSeqNum must be >= 1, got {seq}")
        self._next_target = seq
        self._ticket += 1

    def set_next_sender_seq(self, seq: int) -> None:
        self._check_open()
        if seq < 1:
            raise StoreError(f"next sender MsgSeqNum must be >= 1, got {seq}")
        cut = bisect_left(self._out_seqs, seq)
        if cut < len(self._out_seqs):
            self._rewinds.append((len(self._log), seq))
            for dropped in self._out_seqs[cut:]:
                del self._out[dropped]
            del self._out_seqs[cut:]
            self._generation += 1
        self._next_sender = seq
        self._ticket += 1

    def iter_outbound(self, begin: int, end: int = 0) -> Iterator[tuple[int, bytes]]:
        generation = self._generation
        seqs = self._out_seqs
        lo = bisect_left(seqs, begin)
        hi = len(seqs) if end <= 0 else bisect_right(seqs, end)
        for i in range(lo, hi):
            if self._generation != generation or self._closed:
                raise StoreError("memory store was reset or rewound during a resend")
            seq = seqs[i]
            yield seq, self._out[seq]

    def iter_inbound(self) -> Iterator[tuple[int, bytes]]:
        generation = self._generation
        inbound = self._inbound
        for i in range(len(inbound)):
            if self._generation != generation or self._closed:
                raise StoreError("memory store was reset during an inbound replay")
            yield inbound[i]

    def history_end(self) -> int:
        return len(self._log)

    def find_last(self, needle: bytes, end: int) -> StoredMessage | None:
        log = self._log
        for i in range(min(end, len(log)) - 1, -1, -1):
            outbound, seq, data = log[i]
            if needle in data:
                return StoredMessage(i, outbound, seq, data)
        return None

    def scan(self, needles: list[bytes], start: int, end: int) -> Iterator[StoredMessage]:
        log = self._log
        for i in range(max(start, 0), min(end, len(log))):
            outbound, seq, data = log[i]
            if any(needle in data for needle in needles):
                yield StoredMessage(i, outbound, seq, data)

    def iter_messages(self) -> Iterator[StoredMessage]:
        generation = self._generation
        log = self._log
        stale = Staleness(list(self._rewinds)).stale
        for i in range(len(log)):
            if self._generation != generation or self._closed:
                raise StoreError("memory store was reset or rewound during a replay")
            outbound, seq, data = log[i]
            if not (outbound and stale(i, seq)):
                yield StoredMessage(i, outbound, seq, data)

    def written_upto(self) -> int:
        return self._ticket

    def synced_upto(self) -> int:
        return self._ticket

    def sync(self) -> int:
        return self._ticket

    def commit(self) -> int:
        return self._ticket

    def reset(self, now: float) -> None:
        self._check_open()
        self._creation_time = now
        self._next_sender = 1
        self._next_target = 1
        self._out = {}
        self._out_seqs = []
        self._inbound = []
        self._log = []
        self._rewinds = []
        self._generation += 1
        self._ticket += 1

    def close(self) -> None:
        self._closed = True

    def __enter__(self) -> MemoryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
