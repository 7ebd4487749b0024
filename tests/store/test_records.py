"""Record framing: encode/decode round trips and every validity check."""

from __future__ import annotations

import os
import struct
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from fixrouter.store import records
from fixrouter.store.records import BadRecordError, ChunkReader, RecordType

FdOf = Callable[[bytes], int]


@pytest.fixture
def fd_of(tmp_path: Path) -> Iterator[FdOf]:
    fds: list[int] = []

    def _open(data: bytes) -> int:
        path = tmp_path / f"r{len(fds)}"
        path.write_bytes(data)
        fd = os.open(path, os.O_RDONLY)
        fds.append(fd)
        return fd

    yield _open
    for fd in fds:
        os.close(fd)


def test_layout() -> None:
    rec = records.encode(RecordType.OUTBOUND, 7, b"abc")
    magic, rtype, flags, length, seq = records.HEAD.unpack_from(rec)
    assert (magic, rtype, flags, length, seq) == (0xC5F1, 2, 0, 3, 7)
    (crc,) = struct.unpack_from("<I", rec, 16)
    assert crc == zlib.crc32(rec[:16] + b"abc")
    assert rec[20:] == b"abc"


def test_round_trip(fd_of: FdOf) -> None:
    blob = b"".join(
        [
            records.encode_header(1.5),
            records.encode(RecordType.OUTBOUND, 1, b"x" * 300),
            records.encode(RecordType.SET_TARGET, 9),
            records.encode(RecordType.INBOUND, 2**40, b""),
        ]
    )
    reader = ChunkReader(fd_of(blob), 32)
    pos, got = 0, []
    while pos < len(blob):
        rec = records.decode(reader, pos, len(blob))
        got.append((rec.type, rec.seq, rec.payload))
        pos += rec.size
    assert records.decode_header(records.decode(reader, 0, len(blob))) == 1.5
    assert got[1:] == [(2, 1, b"x" * 300), (5, 9, b""), (3, 2**40, b"")]


def _bad(blob: bytes, fd_of: FdOf, reason: str) -> None:
    with pytest.raises(BadRecordError, match=reason) as info:
        records.decode(ChunkReader(fd_of(blob), 64), 0, len(blob))
    assert info.value.offset == 0


def test_checks(fd_of: FdOf) -> None:
    good = records.encode(RecordType.OUTBOUND, 1, b"payload")
    _bad(good[:19], fd_of, "only 19 bytes left")
    _bad(good[:-1], fd_of, "runs past the end")
    _bad(b"\0\0" + good[2:], fd_of, "bad magic")
    _bad(good[:2] + b"\x09" + good[3:], fd_of, "unknown record type 9")
    _bad(good[:3] + b"\x01" + good[4:], fd_of, "reserved flags")
    _bad(good[:-1] + b"?", fd_of, "CRC mismatch")
    huge = records.HEAD.pack(records.MAGIC, 2, 0, records.MAX_PAYLOAD + 1, 1) + b"\0" * 4
    _bad(huge, fd_of, "implausible length")
    wrong_len = records.encode(RecordType.SET_SENDER, 3, b"zz")
    _bad(wrong_len, fd_of, "must have length 0")


def test_decode_header_checks(fd_of: FdOf) -> None:
    out = records.encode(RecordType.OUTBOUND, 1, b"x")
    rec = records.decode(ChunkReader(fd_of(out), 64), 0, len(out))
    with pytest.raises(BadRecordError, match="not a file header"):
        records.decode_header(rec)
    future = records.encode(
        RecordType.HEADER, 99, records.HEADER_PAYLOAD.pack(records.HEADER_IDENT, 0.0)
    )
    rec = records.decode(ChunkReader(fd_of(future), 64), 0, len(future))
    with pytest.raises(BadRecordError, match="unsupported journal format version 99"):
        records.decode_header(rec)


def test_find_valid(fd_of: FdOf) -> None:
    good = records.encode(RecordType.OUTBOUND, 1, b"m" * 50)
    junk = b"\xf1\xc5" * 40 + b"\x00" * 100  # false magic hits must be rejected
    blob = junk + good
    assert records.find_valid(ChunkReader(fd_of(blob), 32), 0, len(blob), 32) == len(junk)
    assert records.find_valid(ChunkReader(fd_of(junk), 32), 0, len(junk), 32) is None


def test_chunk_reader_window(fd_of: FdOf) -> None:
    data = bytes(range(256)) * 4
    reader = ChunkReader(fd_of(data), 100)
    assert bytes(reader.get(10, 5)) == data[10:15]
    assert bytes(reader.get(90, 20)) == data[90:110]
    assert bytes(reader.get(1000, 100)) == data[1000:]  # short at end of file
    assert bytes(reader.get(0, 500)) == data[:500]  # larger than the chunk
