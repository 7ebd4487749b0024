"""Record framing for the journal: a fixed 20-byte head, a payload, and a CRC32.

Theory of operation
-------------------
A journal file is a plain sequence of records, appended and never rewritten. Each record::

    offset size field
    0      2    magic    0xC5F1, little-endian (bytes F1 C5): lets recovery re-synchronise
    2      1    type     RecordType
    3      1    flags    0 (reserved; a non-zero value is a corrupt record)
    4      4    length   payload length in bytes, u32 LE, at most MAX_PAYLOAD
    8      8    seq      i64 LE: MsgSeqNum, new next-seq value, or format version
    16     4    crc      zlib.crc32 of bytes 0..15 followed by the payload, u32 LE
    20     n    payload

All integers are little-endian. The CRC covers the length and the type, so a damaged length
cannot make a wrong slice look valid. A record is *valid* when magic, type, flags, length
(within MAX_PAYLOAD and within the file), per-type length rules and CRC all check.

Decoding reads the file through ``ChunkReader``: positioned reads (pread) of a bounded
window, so neither recovery nor a resend ever holds more than one chunk (or one record, if a
record is larger) in memory, and a worker thread's fdatasync never races a shared file
position.
"""

from __future__ import annotations

import enum
import os
import struct
import zlib
from dataclasses import dataclass
from typing import Final

from fixrouter.store.base import StoreError

MAGIC: Final = 0xC5F1
MAGIC_BYTES: Final = struct.pack("<H", MAGIC)
FORMAT_VERSION: Final = 1
MAX_PAYLOAD: Final = 16 * 1024 * 1024
"""A FIX message is a few hundred bytes; anything near this is damage, not data."""

HEAD: Final = struct.Struct("<HBBIq")
CRC: Final = struct.Struct("<I")
HEAD_SIZE: Final = HEAD.size + CRC.size
assert HEAD_SIZE == 20

HEADER_IDENT: Final = b"FIXRJRNL"
HEADER_PAYLOAD: Final = struct.Struct("<8sd")
"""Payload of the file header record: the identification string and the creation time."""


class RecordType(enum.IntEnum):
    """What a record means; its ``seq`` field is interpreted per type."""

    HEADER = 1
    """First record of every file: seq = format version, payload = ident + creation time."""
    OUTBOUND = 2
    """A message we sent: seq = its MsgSeqNum; next_sender_seq becomes seq + 1."""
    INBOUND = 3
    """A message we received: seq = its MsgSeqNum; next_target_seq becomes seq + 1."""
    SET_SENDER = 4
    """next_sender_seq set to seq without a saved message. Empty payload."""
    SET_TARGET = 5
    """next_target_seq set to seq without a saved message (admin traffic). Empty payload."""


_TYPES: Final = frozenset(int(t) for t in RecordType)
_FIXED_LENGTH: Final = {
    int(RecordType.HEADER): HEADER_PAYLOAD.size,
    int(RecordType.SET_SENDER): 0,
    int(RecordType.SET_TARGET): 0,
}


class BadRecordError(StoreError):
    """The bytes at an offset are not a valid record. ``reason`` says which check failed."""

    def __init__(self, offset: int, reason: str) -> None:
        super().__init__(f"bad record at offset {offset}: {reason}")
        self.offset = offset
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Record:
    """A decoded record: its type, seq field, payload, and total size on disk."""

    type: int
    seq: int
    payload: bytes
    size: int


def encode(rtype: int, seq: int, payload: bytes = b"") -> bytes:
    """Frame one record. The journal's hot path inlines the same three steps."""
    head = HEAD.pack(MAGIC, rtype, 0, len(payload), seq)
    return head + CRC.pack(zlib.crc32(payload, zlib.crc32(head))) + payload


def encode_header(creation_time: float) -> bytes:
    return encode(
        RecordType.HEADER, FORMAT_VERSION, HEADER_PAYLOAD.pack(HEADER_IDENT, creation_time)
    )


def decode_header(record: Record) -> float:
    """Return the creation time from a header record.

    Raises BadRecordError (at offset 0) if it is not a header this code can read.
    """
    if record.type != RecordType.HEADER:
        raise BadRecordError(0, f"first record has type {record.type}, not a file header")
    ident, creation_time = HEADER_PAYLOAD.unpack(record.payload)
    if ident != HEADER_IDENT:
        raise BadRecordError(0, f"not a fixrouter journal (ident {ident!r})")
    if record.seq != FORMAT_VERSION:
        raise BadRecordError(0, f"unsupported journal format version {record.seq}")
    return float(creation_time)


class ChunkReader:
    """Positioned, windowed reads from a file descriptor.

    Keeps one window of at most ``max(chunk, requested length)`` bytes; a request outside
    the window replaces it. Uses pread, so it neither uses nor moves the file position.
    """

    __slots__ = ("_buf", "_chunk", "_fd", "_start")

    def __init__(self, fd: int, chunk: int) -> None:
        self._fd = fd
        self._chunk = chunk
        self._buf = b""
        self._start = 0

    def get(self, offset: int, length: int) -> memoryview:
        """Up to ``length`` bytes at ``offset``; fewer only where the file ends."""
        rel = offset - self._start
        if rel < 0 or rel + length > len(self._buf):
            self._buf = os.pread(self._fd, max(self._chunk, length), offset)
            self._start = offset
            rel = 0
        return memoryview(self._buf)[rel : rel + length]


def decode(reader: ChunkReader, offset: int, end: int) -> Record:
    """Decode and verify the record at ``offset``; the file's valid data ends at ``end``.

    Raises BadRecordError naming the check that failed.
    """
    if end - offset < HEAD_SIZE:
        raise BadRecordError(offset, f"only {end - offset} bytes left, a record head is 20")
    head = reader.get(offset, HEAD_SIZE)
    if len(head) < HEAD_SIZE:
        raise BadRecordError(offset, "file shorter than expected")
    magic, rtype, flags, length, seq = HEAD.unpack_from(head)
    if magic != MAGIC:
        raise BadRecordError(offset, f"bad magic 0x{magic:04x}")
    if rtype not in _TYPES:
        raise BadRecordError(offset, f"unknown record type {rtype}")
    if flags != 0:
        raise BadRecordError(offset, f"reserved flags 0x{flags:02x} set")
    if length > MAX_PAYLOAD:
        raise BadRecordError(offset, f"implausible length {length}")
    fixed = _FIXED_LENGTH.get(rtype)
    if fixed is not None and length != fixed:
        raise BadRecordError(offset, f"type {rtype} must have length {fixed}, has {length}")
    size = HEAD_SIZE + length
    if end - offset < size:
        raise BadRecordError(offset, f"record of {size} bytes runs past the end of the file")
    (crc,) = CRC.unpack_from(head, HEAD.size)
    whole = reader.get(offset, size)
    if len(whole) < size:
        raise BadRecordError(offset, "file shorter than expected")
    payload = bytes(whole[HEAD_SIZE:])
    if zlib.crc32(payload, zlib.crc32(whole[: HEAD.size])) != crc:
        raise BadRecordError(offset, "CRC mismatch")
    return Record(rtype, seq, payload, size)


def find_valid(reader: ChunkReader, start: int, end: int, chunk: int) -> int | None:
    """Offset of the first valid record starting at or after ``start``, or None.

    Used only after a bad record, to tell a torn tail (nothing valid follows) from damage
    in the middle (valid records follow). Candidates are found by their magic bytes.
    """
    pos = start
    while pos < end:
        window = bytes(reader.get(pos, min(chunk, end - pos)))
        hit = window.find(MAGIC_BYTES)
        if hit < 0:
            # Keep the last byte: the magic may straddle the window boundary.
            pos += max(1, len(window) - 1)
            continue
        candidate = pos + hit
        try:
            decode(reader, candidate, end)
        except BadRecordError:
            pos = candidate + 1
            continue
        return candidate
    return None
