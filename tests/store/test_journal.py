"""JournalStore: the file format on disk, recovery, rotation, durability tickets."""

from __future__ import annotations

import errno
import logging
import os
import shutil
import threading
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest

from fixrouter.store import CorruptJournalError, Durability, JournalStore, StoreError, records
from fixrouter.store import window as window_mod

from .conftest import T0, fix_message

Opener = Callable[..., JournalStore]


def fill(s: JournalStore, n: int, start: int = 1) -> None:
    for seq in range(start, start + n):
        s.save_outbound(seq, fix_message(seq))


# -- round trips and recovery ----------------------------------------------------------


def test_reopen_recovers_everything(open_journal: Opener) -> None:
    s = open_journal()
    fill(s, 5)
    s.save_inbound(1, b"exec1")
    s.incr_next_target_seq()
    s.save_inbound(3, b"exec3")
    s.set_next_sender_seq(9)
    s.save_outbound(9, b"nine")
    s.close()

    r = open_journal(now=T0 + 999)
    assert r.creation_time == T0  # from the file, not the new `now`
    assert (r.next_sender_seq, r.next_target_seq) == (10, 4)
    assert list(r.iter_outbound(1)) == [(s_, fix_message(s_)) for s_ in range(1, 6)] + [
        (9, b"nine")
    ]
    assert list(r.iter_inbound()) == [(1, b"exec1"), (3, b"exec3")]
    r.save_outbound(10, b"ten")  # carries on where it left off
    with pytest.raises(StoreError):
        r.save_outbound(10, b"again")


def test_set_sender_backwards_survives_reopen(open_journal: Opener) -> None:
    s = open_journal()
    fill(s, 5)
    s.set_next_sender_seq(3)
    s.save_outbound(3, b"new3")
    s.close()
    r = open_journal()
    assert r.next_sender_seq == 4
    assert [m for _, m in r.iter_outbound(1)] == [fix_message(1), fix_message(2), b"new3"]


def test_creation_file_layout(open_journal: Opener, stem: Path) -> None:
    s = open_journal()
    s.save_outbound(1, b"hello")
    s.close()
    raw = (stem.parent / (stem.name + ".journal")).read_bytes()
    header = records.encode_header(T0)
    assert raw.startswith(header)
    assert raw[len(header) :] == records.encode(records.RecordType.OUTBOUND, 1, b"hello")
    assert raw[:2] == b"\xf1\xc5"


def test_second_open_is_refused(open_journal: Opener) -> None:
    open_journal()
    with pytest.raises(StoreError, match="in use by another process"):
        open_journal()


def test_leftover_new_file_is_discarded(open_journal: Opener, stem: Path) -> None:
    s = open_journal()
    fill(s, 3)
    s.close()
    leftover = Path(str(stem) + ".journal.new")
    leftover.write_bytes(b"half-written reset")
    r = open_journal()
    assert r.next_sender_seq == 4
    assert not leftover.exists()


def test_read_chunk_must_hold_a_head(stem: Path) -> None:
    with pytest.raises(StoreError, match="read_chunk"):
        JournalStore(stem, now=T0, read_chunk=8)


# -- torn tails and corruption ---------------------------------------------------------


def _journal_file(stem: Path) -> Path:
    return Path(str(stem) + ".journal")


@pytest.mark.parametrize("last", ["outbound", "inbound", "set_target", "set_sender"])
def test_torn_tail_at_every_offset(
    open_journal: Opener, stem: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture, last: str
) -> None:
    s = open_journal()
    fill(s, 3)
    s.save_inbound(1, b"exec1")
    before = s.written_upto()
    if last == "outbound":
        s.save_outbound(4, fix_message(4, "35=D\x0155=IBM"))
    elif last == "inbound":
        s.save_inbound(2, b"exec2")
    elif last == "set_target":
        s.incr_next_target_seq()
    else:
        s.set_next_sender_seq(50)
    after = s.written_upto()
    s.close()
    path = _journal_file(stem)
    full = path.read_bytes()
    assert len(full) == after
    pristine = tmp_path / "pristine"
    pristine.write_bytes(full)

    for cut in range(before, after):
        shutil.copyfile(pristine, path)
        os.truncate(path, cut)
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="fixrouter.store"):
            r = JournalStore(stem, now=T0)
        try:
            assert (r.next_sender_seq, r.next_target_seq) == (4, 2), cut
            assert [q for q, _ in r.iter_outbound(1)] == [1, 2, 3]
            assert list(r.iter_inbound()) == [(1, b"exec1")]
            r.save_outbound(4, b"after recovery")  # appends cleanly after the cut
        finally:
            r.close()
        if cut == before:
            assert not caplog.records  # nothing torn: the record simply was not there
        else:
            (rec,) = caplog.records
            assert rec.levelno == logging.WARNING
            msg = rec.getMessage()
            assert f"torn tail at offset {before}" in msg
            assert f"discarding {cut - before} bytes" in msg
        assert path.stat().st_size == before + records.HEAD_SIZE + len(b"after recovery")


@pytest.mark.parametrize("junk", [b"\xf1\xc5" + b"\x07" * 100, b"\xff" * 3,
                                  b"\0" * 100 + b"\x01" + b"\0" * 5000])
def test_garbage_tail_is_truncated(
    open_journal: Opener, stem: Path, caplog: pytest.LogCaptureFixture, junk: bytes
) -> None:
    """Unsynced blocks after a power loss may read back as junk (zeros are below)."""
    s = open_journal()
    fill(s, 3)
    end = s.written_upto()
    s.close()
    with _journal_file(stem).open("ab") as f:
        f.write(junk)
    with caplog.at_level(logging.WARNING, logger="fixrouter.store"):
        r = open_journal()
    assert r.next_sender_seq == 4
    assert _journal_file(stem).stat().st_size == end
    assert f"discarding {len(junk)} bytes" in caplog.text


@pytest.mark.parametrize("zeros", [1, 19, 20, 4096, 3 * 4096 + 7])
def test_zero_tail_is_preallocation_not_a_torn_tail(
    open_journal: Opener, stem: Path, caplog: pytest.LogCaptureFixture, zeros: int
) -> None:
    """A kill -9 leaves the preallocated zero tail: the logical end, not damage (and
    unsynced blocks lost to a power loss read back as zeros too: nothing sent)."""
    s = open_journal()
    fill(s, 3)
    end = s.written_upto()
    s.close()
    with _journal_file(stem).open("ab") as f:
        f.write(b"\0" * zeros)
    with caplog.at_level(logging.INFO, logger="fixrouter.store"):
        r = open_journal()
    assert r.next_sender_seq == 4
    assert _journal_file(stem).stat().st_size == end
    assert not [rec for rec in caplog.records if rec.levelno >= logging.WARNING]
    assert f"logical end at offset {end}, {zeros} preallocated zero bytes" in caplog.text
    r.save_outbound(4, b"after")
    assert [q for q, _ in r.iter_outbound(1)] == [1, 2, 3, 4]


def test_torn_record_before_zeros_is_still_torn(
    open_journal: Opener, stem: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A copy into the mapping cut short by kill -9: part of a record, then the zeros."""
    s = open_journal()
    fill(s, 3)
    end = s.written_upto()
    s.close()
    rec = records.encode(records.RecordType.OUTBOUND, 4, fix_message(4))
    torn = bytearray(rec)
    torn[30:] = bytes(len(torn) - 30)  # the head and a few payload bytes made it
    with _journal_file(stem).open("ab") as f:
        f.write(bytes(torn) + b"\0" * 8192)
    with caplog.at_level(logging.WARNING, logger="fixrouter.store"):
        r = open_journal()
    assert r.next_sender_seq == 4
    assert _journal_file(stem).stat().st_size == end
    (warning,) = caplog.records
    assert f"torn tail at offset {end} (CRC mismatch): discarding {len(rec) + 8192} " \
        "bytes (30 up to the last non-zero one)" in warning.getMessage()


def test_zeros_followed_by_a_valid_record_are_a_hole(open_journal: Opener, stem: Path) -> None:
    s = open_journal()
    fill(s, 3)
    end = s.written_upto()
    s.close()
    with _journal_file(stem).open("ab") as f:
        f.write(b"\0" * 5000 + records.encode(records.RecordType.OUTBOUND, 5, b"later"))
    with pytest.raises(CorruptJournalError, match="followed by a valid record") as info:
        open_journal()
    assert info.value.offset == end


def _record_offsets(stem: Path) -> list[int]:
    """Record offsets up to the logical end (an open journal has a zero tail after it)."""
    raw = _journal_file(stem).read_bytes()
    offsets, pos = [], 0
    while pos < len(raw) and raw[pos : pos + 2] == records.MAGIC_BYTES:
        offsets.append(pos)
        (length,) = records.HEAD.unpack_from(raw, pos)[3:4]
        pos += records.HEAD_SIZE + length
    return offsets


@pytest.mark.parametrize(
    ("where", "reason"),
    [
        (records.HEAD_SIZE + 5, "CRC mismatch"),  # a payload byte
        (16, "CRC mismatch"),  # the CRC itself
        (0, "bad magic"),
        (2, "unknown record type"),
        (4, "CRC mismatch"),  # low byte of length: still plausible, CRC catches it
        (7, "implausible length"),  # high byte of length
    ],
)
def test_corruption_in_the_middle_refuses(
    open_journal: Opener, stem: Path, where: int, reason: str
) -> None:
    s = open_journal()
    fill(s, 10)
    s.close()
    victim = _record_offsets(stem)[4]  # outbound seq 4, with six valid records after it
    path = _journal_file(stem)
    raw = bytearray(path.read_bytes())
    raw[victim + where] ^= 0x40
    path.write_bytes(bytes(raw))
    with pytest.raises(CorruptJournalError, match=reason) as info:
        open_journal()
    err = info.value
    assert err.offset == victim
    assert err.path == str(path)
    assert str(path) in str(err)
    assert f"offset {victim}" in str(err)
    assert path.read_bytes() == bytes(raw)  # refused, not "repaired"


def test_corrupt_header_refuses(open_journal: Opener, stem: Path) -> None:
    s = open_journal()
    fill(s, 2)
    s.close()
    path = _journal_file(stem)
    raw = bytearray(path.read_bytes())
    raw[records.HEAD_SIZE] ^= 1  # inside the ident
    path.write_bytes(bytes(raw))
    with pytest.raises(CorruptJournalError, match="header") as info:
        open_journal()
    assert info.value.offset == 0


def test_empty_journal_file_refuses(stem: Path) -> None:
    _journal_file(stem).parent.mkdir(parents=True, exist_ok=True)
    _journal_file(stem).write_bytes(b"")
    with pytest.raises(CorruptJournalError, match="header"):
        JournalStore(stem, now=T0)


def test_damage_found_during_resend(open_journal: Opener, stem: Path) -> None:
    s = open_journal()
    fill(s, 5)
    victim = _record_offsets(stem)[3]  # seq 3
    fd = os.open(_journal_file(stem), os.O_RDWR)
    try:
        os.pwrite(fd, b"X", victim + records.HEAD_SIZE + 2)
    finally:
        os.close(fd)
    it = s.iter_outbound(1)
    assert [next(it)[0], next(it)[0]] == [1, 2]
    with pytest.raises(CorruptJournalError, match=f"CRC mismatch at offset {victim}"):
        next(it)


# -- streaming resend ------------------------------------------------------------------


def test_resend_streams_in_bounded_chunks(
    open_journal: Opener, monkeypatch: pytest.MonkeyPatch
) -> None:
    chunk = 16 * 1024
    s = open_journal(read_chunk=chunk)
    body = "58=" + "x" * 1000
    n = 5000  # ~5 MB of messages
    for seq in range(1, n + 1):
        s.save_outbound(seq, fix_message(seq, body))
        if seq % 7 == 0:
            s.incr_next_target_seq()  # interleaved admin records are skipped over
    total = s.written_upto()

    sizes: list[int] = []
    real_pread = os.pread

    def counting_pread(fd: int, size: int, offset: int) -> bytes:
        sizes.append(size)
        return real_pread(fd, size, offset)

    monkeypatch.setattr(os, "pread", counting_pread)
    tracemalloc.start()
    try:
        count = 0
        for seq, data in s.iter_outbound(1, 0):
            count += 1
            assert data == fix_message(seq, body)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == n
    assert max(sizes) == chunk
    assert len(sizes) <= total // (chunk - 2000) + 2  # each window is mostly used
    assert peak < 8 * chunk  # nowhere near the ~5 MB range


def test_resend_of_a_record_larger_than_the_chunk(open_journal: Opener) -> None:
    s = open_journal(read_chunk=64)
    big = b"9" * 10_000
    s.save_outbound(1, b"small")
    s.save_outbound(2, big)
    s.save_outbound(3, b"small again")
    assert list(s.iter_outbound(1)) == [(1, b"small"), (2, big), (3, b"small again")]


def test_resend_sees_messages_saved_before_it_started(open_journal: Opener) -> None:
    s = open_journal()
    fill(s, 3)
    it = s.iter_outbound(1)
    assert next(it)[0] == 1
    s.save_outbound(4, b"during the resend")  # the session keeps sending
    assert [q for q, _ in it] == [2, 3]


def test_resend_interrupted_by_rewind(open_journal: Opener) -> None:
    s = open_journal()
    fill(s, 5)
    it = s.iter_outbound(1)
    next(it)
    s.set_next_sender_seq(2)
    with pytest.raises(StoreError, match="rewound"):
        next(it)


def test_the_index_is_sparse_and_any_single_seq_is_found(open_journal: Opener) -> None:
    s = open_journal(index_every=64)
    n = 10_000
    for seq in range(1, n + 1):
        s.save_outbound(seq, fix_message(seq))
        s.save_inbound(seq, b"8=FIX.4.2|35=8|%d" % seq)
    index = s._out
    assert len(index) == n // 64 + 1  # 16 bytes per 64 messages, none per inbound one
    for seq in (1, 63, 64, 65, 4_097, n):
        assert list(s.iter_outbound(seq, seq)) == [(seq, fix_message(seq))]
    assert [q for q, _ in s.iter_outbound(n - 2, 0)] == [n - 2, n - 1, n]
    s.close()
    r = open_journal(index_every=64)
    assert len(r._out) == n // 64 + 1
    assert next(iter(r.iter_inbound())) == (1, b"8=FIX.4.2|35=8|1")
    assert sum(1 for _ in r.iter_inbound()) == n


def test_a_resend_skips_messages_a_rewind_superseded(open_journal: Opener) -> None:
    s = open_journal(index_every=4)
    fill(s, 10)
    s.set_next_sender_seq(4)
    s.save_outbound(4, b"new4")
    s.save_outbound(5, b"new5")
    want = [(1, fix_message(1)), (2, fix_message(2)), (3, fix_message(3)), (4, b"new4"),
            (5, b"new5")]
    assert list(s.iter_outbound(1)) == want
    assert list(s.iter_outbound(4, 4)) == [(4, b"new4")]
    assert list(s.iter_outbound(6)) == []
    s.close()
    assert list(open_journal(index_every=4).iter_outbound(2)) == want[1:]


def test_search_finds_messages_by_content_in_file_order(open_journal: Opener) -> None:
    s = open_journal()
    s.save_outbound(1, b"35=D|11=A1|")
    s.save_inbound(1, b"35=8|11=A1|17=E1|")
    s.save_outbound(2, b"35=D|11=A2|\xf1\xc5")  # the record magic inside a payload
    s.save_inbound(2, b"35=8|11=A2|17=E2|\xf1\xc5|")
    s.save_inbound(3, b"35=8|11=A1|17=E3|")
    end = s.history_end()
    last = s.find_last(b"|11=A1|", end)
    assert last is not None and (last.outbound, last.seq, last.data) == (
        False, 3, b"35=8|11=A1|17=E3|")
    before = s.find_last(b"|11=A1|", last.position)
    assert before is not None and before.seq == 1 and not before.outbound
    assert s.find_last(b"|11=A9|", end) is None
    assert s.find_last(b"E2|", end) is not None
    needles = [b"|11=A1|"]
    found = []
    for m in s.scan(needles, 0, end):
        found.append((m.outbound, m.seq))
        if m.seq == 1 and not m.outbound:
            needles.append(b"\xf1\xc5|")  # searched from here on
    assert found == [(True, 1), (False, 1), (False, 2), (False, 3)]


# -- reset and rotation ----------------------------------------------------------------


def test_reset_archives_with_creation_stamp(open_journal: Opener, stem: Path) -> None:
    s = open_journal()
    fill(s, 3)
    s.save_inbound(1, b"exec")
    s.reset(T0 + 86_400)
    archive = Path(str(stem) + ".20231114-221320.journal")
    assert archive.exists()
    assert s.next_sender_seq == 1
    s.save_outbound(1, b"day two")
    s.close()

    old = JournalStore(Path(str(archive)[: -len(".journal")]), now=0.0)
    try:
        assert old.creation_time == T0
        assert old.next_sender_seq == 4
        assert list(old.iter_inbound()) == [(1, b"exec")]
    finally:
        old.close()

    r = open_journal()
    assert r.creation_time == T0 + 86_400
    assert (r.next_sender_seq, r.next_target_seq) == (2, 1)
    assert list(r.iter_outbound(1)) == [(1, b"day two")]
    assert not Path(str(stem) + ".journal.new").exists()


def test_reset_never_overwrites_an_archive(open_journal: Opener, stem: Path) -> None:
    taken = Path(str(stem) + ".20231114-221320.journal")
    taken.parent.mkdir(parents=True, exist_ok=True)
    taken.write_bytes(b"precious")
    s = open_journal()
    s.save_outbound(1, b"first period")
    s.reset(T0)  # same creation second again
    s.save_outbound(1, b"second period")
    s.reset(T0)
    assert taken.read_bytes() == b"precious"
    first = Path(str(stem) + ".20231114-221320-1.journal")
    second = Path(str(stem) + ".20231114-221320-2.journal")
    assert b"first period" in first.read_bytes()
    assert b"second period" in second.read_bytes()


def test_reset_without_hard_links(
    open_journal: Opener, stem: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_links(src: object, dst: object) -> None:
        raise OSError(errno.EPERM, "hard links not supported")

    monkeypatch.setattr(os, "link", no_links)
    s = open_journal()
    s.save_outbound(1, b"a")
    s.reset(T0 + 60)
    assert Path(str(stem) + ".20231114-221320.journal").exists()
    assert s.next_sender_seq == 1


# -- durability tickets and group commit -----------------------------------------------


def test_os_mode_is_synced_on_return(open_journal: Opener) -> None:
    s = open_journal(durability=Durability.OS)
    s.save_outbound(1, b"a")
    assert s.synced_upto() == s.written_upto()
    assert s.sync() == s.written_upto()


def test_fsync_mode_holds_until_sync(open_journal: Opener) -> None:
    s = open_journal(durability=Durability.FSYNC)
    start = s.synced_upto()
    assert start == s.written_upto()  # the header is durable from creation
    s.save_outbound(1, b"a")
    ticket = s.written_upto()
    assert s.synced_upto() < ticket
    assert s.sync() == ticket
    assert s.synced_upto() == ticket


def test_appends_during_an_inflight_sync_wait_for_the_next(
    open_journal: Opener, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = open_journal(durability=Durability.FSYNC)
    s.save_outbound(1, b"before")
    first_ticket = s.written_upto()

    entered, release = threading.Event(), threading.Event()
    real = os.fdatasync

    def slow_fdatasync(fd: int) -> None:
        entered.set()
        assert release.wait(5)
        real(fd)

    monkeypatch.setattr(os, "fdatasync", slow_fdatasync)
    result: list[int] = []
    worker = threading.Thread(target=lambda: result.append(s.sync()))
    worker.start()
    assert entered.wait(5)
    s.save_outbound(2, b"during")  # the loop thread keeps appending
    second_ticket = s.written_upto()
    release.set()
    worker.join(5)
    assert result == [first_ticket]
    assert first_ticket <= s.synced_upto() < second_ticket
    assert s.sync() == second_ticket
    assert s.synced_upto() == second_ticket


def test_close_in_fsync_mode_syncs(open_journal: Opener) -> None:
    s = open_journal(durability=Durability.FSYNC)
    s.save_outbound(1, b"a")
    s.close()
    assert s.synced_upto() == s.written_upto()
    with pytest.raises(StoreError, match="closed"):
        s.sync()


# -- write failures --------------------------------------------------------------------


def test_failed_extension_is_undone(
    open_journal: Opener, stem: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A disk that fills up while the file is extended: StoreError, number unchanged, and
    nothing but zeros past the logical end (which recovery takes for preallocation)."""
    s = open_journal(grow_chunk=4096)
    fill(s, 2)
    end = s.written_upto()
    real = os.posix_fallocate

    def half_then_full(fd: int, offset: int, length: int) -> None:
        real(fd, offset, length // 2)  # some blocks were had, then none
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(window_mod, "_fallocate", half_then_full)
    with pytest.raises(StoreError, match=r"extending .* failed: .*No space left"):
        s.save_outbound(3, b"x" * 5000)  # past the first 4 KiB window
    assert s.next_sender_seq == 3
    assert s.written_upto() == end
    raw = _journal_file(stem).read_bytes()
    assert len(raw) > end and raw[end:] == bytes(len(raw) - end)  # only zeros past the end
    monkeypatch.setattr(window_mod, "_fallocate", real)
    s.save_outbound(3, b"retry")
    s.close()
    assert _journal_file(stem).stat().st_size == s.written_upto()
    r = open_journal()
    assert [m for _, m in r.iter_outbound(1)] == [fix_message(1), fix_message(2), b"retry"]


def test_failed_write_leaves_seq(open_journal: Opener, monkeypatch: pytest.MonkeyPatch) -> None:
    s = open_journal()

    def disk_full(fd: int, offset: int, length: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(window_mod, "_fallocate", disk_full)
    with pytest.raises(StoreError, match="No space left"):
        s.save_outbound(1, b"x")
    with pytest.raises(StoreError, match="No space left"):
        s.incr_next_target_seq()
    with pytest.raises(StoreError, match="No space left"):
        s.save_inbound(1, b"x")
    assert (s.next_sender_seq, s.next_target_seq) == (1, 1)


def test_nearly_full_disk_extends_just_enough(
    open_journal: Opener, stem: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When a whole chunk cannot be had, the record still goes in if its pages can."""
    s = open_journal(grow_chunk=64 * 4096)
    real = os.posix_fallocate
    asked: list[int] = []

    def tight(fd: int, offset: int, length: int) -> None:
        asked.append(length)
        if length > 2 * 4096:
            raise OSError(errno.ENOSPC, "No space left on device")
        real(fd, offset, length)

    monkeypatch.setattr(window_mod, "_fallocate", tight)
    s.save_outbound(1, b"fits")
    assert asked == [64 * 4096, 4096]
    with pytest.raises(StoreError, match="No space left"):
        s.save_outbound(2, b"y" * 3 * 4096)  # needs more pages than the disk has
    assert s.next_sender_seq == 2
    s.close()
    assert [m for _, m in open_journal().iter_outbound(1)] == [b"fits"]


def test_other_extension_errors_are_not_retried(
    open_journal: Opener, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []

    def broken(fd: int, offset: int, length: int) -> None:
        calls.append(length)
        raise OSError(errno.EIO, "Input/output error")

    s = open_journal()
    monkeypatch.setattr(window_mod, "_fallocate", broken)
    with pytest.raises(StoreError, match="Input/output error"):
        s.save_outbound(1, b"x")
    assert len(calls) == 1


def test_write_after_close_is_a_store_error(open_journal: Opener) -> None:
    s = open_journal()
    s.save_outbound(1, b"x")
    s.close()
    with pytest.raises(StoreError, match="closed"):
        s.save_outbound(2, b"y")
    with pytest.raises(StoreError, match="closed"):
        s.incr_next_target_seq()


def test_unopenable_path_is_a_store_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_bytes(b"")
    with pytest.raises(StoreError, match="cannot open journal"):
        JournalStore(blocker / "FIX.4.2-A-B", now=T0)


def test_failed_reset_keeps_the_current_journal(
    open_journal: Opener, stem: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = open_journal()
    fill(s, 3)

    def disk_full(src: object, dst: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "link", disk_full)
    with pytest.raises(StoreError, match=r"cannot reset .*No space left"):
        s.reset(T0 + 60)
    assert s.next_sender_seq == 4
    assert s.creation_time == T0
    assert not Path(str(stem) + ".journal.new").exists()
    s.save_outbound(4, b"still the same period")
    s.close()
    r = open_journal()
    assert r.next_sender_seq == 5
