"""JournalStore appends through a shared mapping: growth windows, the zero tail, trimming."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from fixrouter.store import JournalStore, StoreError, records

from .conftest import T0


def body(seq: int) -> bytes:
    # From a few bytes to more than two 4 KiB windows, so records straddle every boundary.
    size = (seq * 7919) % 9500 + 1
    return (b"%d|" % seq) + bytes((seq * 31 + i) % 251 for i in range(size))


def journal_file(stem: Path) -> Path:
    return Path(str(stem) + ".journal")


def test_round_trip_across_growth_boundaries(
    stem: Path, caplog: pytest.LogCaptureFixture
) -> None:
    s = JournalStore(stem, now=T0, grow_chunk=4096)
    try:
        for seq in range(1, 401):
            s.save_outbound(seq, body(seq))
            if seq % 2:
                s.save_inbound(s.next_target_seq, body(-seq))
            if seq % 5 == 0:
                s.incr_next_target_seq()
        end = s.history_end()
        raw = journal_file(stem).read_bytes()
        assert end > 100 * 4096
        assert len(raw) > end and raw[end:] == bytes(len(raw) - end)  # the window's tail
        outbound = [(q, body(q)) for q in range(1, 401)]
        assert list(s.iter_outbound(1)) == outbound
        assert list(s.iter_outbound(137, 139)) == outbound[136:139]
        inbound = list(s.iter_inbound())
        assert [d for _, d in inbound] == [body(-q) for q in range(1, 401, 2)]
        assert sum(1 for _ in s.iter_messages()) == 600
        last = s.find_last(body(399)[:64], end)
        assert last is not None and (last.outbound, last.seq) == (True, 399)
        scanned = [m.seq for m in s.scan([body(7)[:64]], 0, end)]
        assert scanned == [7]
        written = s.written_upto()
    finally:
        s.close()
    assert journal_file(stem).stat().st_size == end  # trimmed to the logical end

    with caplog.at_level(logging.INFO, logger="fixrouter.store"):
        r = JournalStore(stem, now=T0, grow_chunk=4096)
    try:
        assert "preallocated" not in caplog.text and "torn" not in caplog.text
        assert r.written_upto() == written
        assert list(r.iter_outbound(1)) == outbound
        assert list(r.iter_inbound()) == inbound
        r.save_outbound(401, body(401))  # the first append after opening maps a window
        assert list(r.iter_outbound(400)) == [(400, body(400)), (401, body(401))]
    finally:
        r.close()


def test_a_record_larger_than_the_chunk(stem: Path) -> None:
    with JournalStore(stem, now=T0, grow_chunk=4096) as s:
        s.save_outbound(1, b"small")
        s.save_outbound(2, b"L" * 50_000)
        s.save_outbound(3, b"small again")
        assert [len(d) for _, d in s.iter_outbound(1)] == [5, 50_000, 11]
    with JournalStore(stem, now=T0) as r:
        assert [len(d) for _, d in r.iter_outbound(1)] == [5, 50_000, 11]


def test_a_resend_in_progress_sees_records_past_a_growth(stem: Path) -> None:
    with JournalStore(stem, now=T0, grow_chunk=4096, read_chunk=1024) as s:
        for seq in range(1, 11):
            s.save_outbound(seq, body(seq))
        it = s.iter_outbound(1)
        assert next(it) == (1, body(1))
        for seq in range(11, 40):  # many windows later
            s.save_outbound(seq, body(seq))
        assert [q for q, _ in it] == list(range(2, 11))  # the range fixed at the start
        assert [q for q, _ in s.iter_outbound(30)] == list(range(30, 40))


def test_reset_archives_records_without_the_zero_tail(stem: Path) -> None:
    s = JournalStore(stem, now=T0, grow_chunk=4096)
    try:
        for seq in range(1, 21):
            s.save_outbound(seq, body(seq))
        end = s.history_end()
        assert journal_file(stem).stat().st_size > end
        s.reset(T0 + 86_400)
        archive = Path(str(stem) + ".20231114-221320.journal")
        assert archive.stat().st_size == end
        header = len(records.encode_header(T0))
        assert journal_file(stem).stat().st_size == header  # grown on its first append
        s.save_outbound(1, b"day two")
        assert list(s.iter_outbound(1)) == [(1, b"day two")]
    finally:
        s.close()
    with JournalStore(Path(str(archive)[: -len(".journal")]), now=0.0) as old:
        assert [q for q, _ in old.iter_outbound(1)] == list(range(1, 21))
    with JournalStore(stem, now=0.0) as r:
        assert list(r.iter_outbound(1)) == [(1, b"day two")]


@pytest.mark.parametrize("chunk", [0, 100, 4096 + 1])
def test_grow_chunk_must_be_whole_pages(stem: Path, chunk: int) -> None:
    with pytest.raises(StoreError, match="grow_chunk"):
        JournalStore(stem, now=T0, grow_chunk=chunk)
