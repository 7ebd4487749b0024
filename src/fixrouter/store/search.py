"""Finding journaled messages by content, at C speed, without an index.

Theory of operation
-------------------
The journal keeps no per-message index in memory (16 bytes per message would be most of
the engine's memory growth per order), so a question like "every report about ClOrdID
X since its NewOrderSingle" is answered from the file. The file is mapped read-only up
to the end the caller gives, and each needle is found with ``mmap.find`` / ``rfind``
(memchr-class speed, about 1 GB/s here), never by decoding the records in between.

A hit is turned into its record by looking backwards for the record magic: the closest
candidate whose head parses (an OUTBOUND or INBOUND record, flags 0, the hit inside its
payload) and whose CRC checks is the record. A payload that happens to hold the magic
bytes fails one of those checks and the search goes on further back, so a hit can never
be attributed to the wrong record. Records are returned as `StoredMessage` with their
file offset as the position.

The cost of a search is the distance it covers: `find_last` reads back from ``end`` to
the hit, `scan` reads ``start`` to ``end`` once per needle. The order book bounds both
by an order's own span in the journal (``fixrouter.oms.recall``).
"""

from __future__ import annotations

import mmap
import zlib
from collections.abc import Iterator

from fixrouter.store.base import StoredMessage
from fixrouter.store.records import CRC, HEAD, HEAD_SIZE, MAGIC, MAGIC_BYTES, RecordType

_OUTBOUND = int(RecordType.OUTBOUND)
_INBOUND = int(RecordType.INBOUND)
_MESSAGES = frozenset({_OUTBOUND, _INBOUND})
_MAX_CANDIDATES = 64  # magic-looking byte pairs tried before a hit is given up as noise


def open_map(fd: int, end: int) -> mmap.mmap | None:
    """A read-only map of the first ``end`` bytes of the file (None for an empty range)."""
    if end <= 0:
        return None
    return mmap.mmap(fd, end, access=mmap.ACCESS_READ)


def record_at(mm: mmap.mmap, hit: int, width: int, low: int) -> StoredMessage | None:
    """The message record whose payload holds bytes ``hit .. hit+width`` (not before
    offset ``low``), or None if the hit is not inside a message's payload."""
    at = hit
    for _ in range(_MAX_CANDIDATES):
        start = mm.rfind(MAGIC_BYTES, low, at)
        if start < 0:
            return None
        at = start  # the next candidate is further back (rfind's end is exclusive)
        if start + HEAD_SIZE > hit:
            continue
        magic, rtype, flags, length, seq = HEAD.unpack_from(mm, start)
        end = start + HEAD_SIZE + length
        if (magic != MAGIC or rtype not in _MESSAGES or flags or end > len(mm)
                or hit + width > end):
            continue
        payload = mm[start + HEAD_SIZE:end]
        (crc,) = CRC.unpack_from(mm, start + HEAD.size)
        if zlib.crc32(payload, zlib.crc32(mm[start:start + HEAD.size])) != crc:
            continue
        return StoredMessage(start, rtype == _OUTBOUND, seq, payload)
    return None


def find_last(fd: int, needle: bytes, end: int) -> StoredMessage | None:
    """The last message record ending at or before ``end`` whose payload holds
    ``needle``."""
    mm = open_map(fd, end)
    if mm is None:
        return None
    try:
        at = end
        while True:
            hit = mm.rfind(needle, 0, at)
            if hit < 0:
                return None
            found = record_at(mm, hit, len(needle), 0)
            if found is not None:
                return found
            at = hit + len(needle) - 1  # not in a payload: keep looking further back
            if at <= 0:
                return None
    finally:
        mm.close()


def scan(fd: int, needles: list[bytes], start: int, end: int) -> Iterator[StoredMessage]:
    """Message records starting at or after ``start`` and ending by ``end`` whose payload
    holds any of ``needles``, in file order. Needles appended to the list while iterating
    are searched from the current position on."""
    mm = open_map(fd, end)
    if mm is None:
        return
    try:
        pos = start
        hits: list[int] = []  # next hit of each needle at or after pos (-1: none left)
        while True:
            while len(hits) < len(needles):
                hits.append(mm.find(needles[len(hits)], pos))
            best = -1
            which = -1
            for i, hit in enumerate(hits):
                if hit >= 0 and (best < 0 or hit < best):
                    best, which = hit, i
            if best < 0:
                return
            found = record_at(mm, best, len(needles[which]), start)
            if found is None or found.position < pos:
                hits[which] = mm.find(needles[which], best + 1)
                continue
            pos = found.position + HEAD_SIZE + len(found.data)
            for i, hit in enumerate(hits):
                if 0 <= hit < pos:
                    hits[i] = mm.find(needles[i], pos)
            yield found
    finally:
        mm.close()
