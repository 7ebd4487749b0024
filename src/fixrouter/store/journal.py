"""The durable message store: one append-only journal file per FIX session.

Theory of operation
-------------------
**Files.** For the stem ``FileStorePath/<BeginString>-<Sender>-<Target>`` the current
session period lives in ``<stem>.journal``. ``reset(now)`` archives it as
``<stem>.<YYYYMMDD-HHMMSS>.journal`` (its creation time, UTC; ``-1``, ``-2``... appended if
that name is taken, never overwritten) and starts a fresh one. A new journal is first
written as ``<stem>.journal.new``, synced, then renamed into place, so ``<stem>.journal``
always begins with a complete header. The open journal holds an exclusive ``flock``: a
second process opening the same session fails instead of interleaving records.

**Records** (framing in ``fixrouter.store.records``): a HEADER (format version, creation
time), then any mix of OUTBOUND (seq, message), INBOUND (seq, message), SET_SENDER and
SET_TARGET (a new next-seq value, 20 bytes, no payload). The file is the whole truth: both
sequence numbers and the outbound index are derived from it.

**Recovery.** Opening scans the file once from the start, verifying every record's CRC and
applying it: OUTBOUND feeds the sparse index (``store.index``) and sets next_sender_seq =
seq+1; INBOUND sets next_target_seq = seq+1; SET_* set the number (a SET_SENDER below
saved entries is a rewind that supersedes them). At the first invalid record the rest of the
file is searched for any valid record:

* none, and every byte from there to the end of the file is zero: the preallocated tail
  (see Writing) of a journal that was not closed cleanly. It is the logical end, not
  damage: it is truncated away quietly (an INFO line) and appending resumes there.
* none, but some byte after it is not zero: a torn tail (a copy cut short by kill -9, or
  unsynced blocks after a power loss). It is logged on ``fixrouter.store`` with its offset
  and the number of bytes discarded, and truncated away. Nothing lost there was
  acknowledged: in ``os`` mode a save that returned had finished its copy into the page
  cache, in ``fsync`` mode nothing is sent before a sync.
* some: damage in the middle. ``CorruptJournalError`` names the file and the offset, and
  the store refuses to open. Skipping would silently lose sent messages or numbers. (A run
  of zeros followed by valid records is a hole, and refuses too.)

(After a power loss with ``fsync`` durability a filesystem may persist unsynced blocks out
of order, leaving a hole followed by valid unsynced records; that also refuses to open.
Those records were never sent, so an operator may truncate the file at the reported offset.)

**Writing.** Each save builds the framed record as one ``bytes`` and copies it into a
``MAP_SHARED`` read-write mapping of the file at the offset the store tracks (its logical
end). No syscall: the mapping *is* the page cache, so when the copy returns the record is
in the kernel exactly as after a returned write(2), and it survives kill -9 of this process;
readers using pread (resend, recovery, search) see it at once.

The file is grown ahead of the writer: when a record would pass the end of the mapped
window, ``os.posix_fallocate`` reserves real blocks for the next ``grow_chunk`` bytes (so a
full disk is an OSError here, never a SIGBUS when a page of a sparse file is first
written) and that range is mapped as the new window (the old window is unmapped). If the
whole chunk cannot be had, just enough for the record is tried before giving up. A failed
extension raises StoreError before any byte is copied, leaving the number and the logical
end where they were; any zeros it added are preallocation. The file is thus longer than
its records while open: ``close()`` (and ``reset()``, before archiving) truncate it to its
logical end, and after a kill -9 recovery finds the logical end as described above. Every
reader stops at the logical end the store tracks, never at the file size.

Only a file changed under the store by another process (truncated, or an I/O error on a
page) can make a store into the mapping fault; that is a SIGBUS, not a StoreError. The
``flock`` keeps other fixrouter processes out; nothing keeps out an operator's truncate.

**Durability and group commit.** The ticket is the total number of bytes appended since the
store was opened (across resets), so it only grows. ``written_upto()`` is the current
ticket. In ``fsync`` mode ``sync()`` reads the ticket, runs ``os.fdatasync`` and returns
the ticket it read: every record whose ticket is at most that value had finished its copy
before the sync began, so it is covered. On Linux, fsync and fdatasync of the descriptor
write back every dirty page of the file, including pages dirtied through a shared mapping:
the kernel tracks those (a write to a clean mapped page faults and marks it dirty;
writeback write-protects it again), and ``msync(MS_SYNC)`` is itself implemented as an
fdatasync of the range (``mm/msync.c``: "MS_SYNC syncs the entire file - including
mappings ... The application may now run fsync() to write out the dirty pages"). So no
``msync`` is needed; POSIX alone does not promise this, which is why the store is
Linux-only in this respect. The size change of each extension is metadata fdatasync
flushes too. The asyncio adapter runs ``sync()`` in an executor thread while the loop
thread keeps appending; copies into the mapping and fdatasync on the fd are safe together,
the worker touches no shared buffers, and the appends it does not cover wait for the next
sync. ``sync()`` holds a lock that only ``reset()`` and ``close()`` also take, so
the descriptor it syncs cannot be closed under it. In ``os`` mode ``sync()`` does nothing
and returns the current ticket.

**Resend.** ``iter_outbound`` binary-searches the sparse index for the entry at or below
the range's start, then reads forward through a bounded window of ``read_chunk`` bytes,
skipping other records by their head and superseded ones (``index.Staleness``), and
re-verifying each CRC it yields, so a resend of a whole day holds one chunk in memory at a
time. ``iter_inbound`` reads the file forward the same way. Neither keeps a per-message
offset in memory: the index holds one entry per ``index_every`` outbound messages.

**Search.** ``find_last`` and ``scan`` (the ``SearchableStore`` side) map the file
read-only and find messages by content (``store.search``).
"""

from __future__ import annotations

import errno
import fcntl
import logging
import os
import threading
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Final

from mypy_extensions import mypyc_attr

from fixrouter.store import records, search
from fixrouter.store.base import (
    CorruptJournalError,
    Durability,
    SequenceError,
    StoredMessage,
    StoreError,
)
from fixrouter.store.index import DEFAULT_EVERY, SeqIndex
from fixrouter.store.records import RecordType
from fixrouter.store.window import AppendWindow

log = logging.getLogger("fixrouter.store")

SUFFIX: Final = ".journal"
NEW_SUFFIX: Final = ".journal.new"
DEFAULT_READ_CHUNK: Final = 64 * 1024
DEFAULT_GROW_CHUNK: Final = 1024 * 1024
"""Bytes the file is extended (and mapped) ahead of the writer at a time. The pages of the
window written so far count in the engine's RSS (they are page cache either way), so a
small window keeps RSS from swinging by its size; a growth (fallocate and remap) costs
about 22 µs at 1 MiB against 40 µs at 4 MiB, with the same append median and p99."""

# Hot-path constants and callables, bound once at import.
_pack_head: Final = records.HEAD.pack
_pack_crc: Final = records.CRC.pack
_crc32: Final = zlib.crc32
_MAGIC: Final = records.MAGIC
_OUTBOUND: Final = int(RecordType.OUTBOUND)
_INBOUND: Final = int(RecordType.INBOUND)
_SET_SENDER: Final = int(RecordType.SET_SENDER)
_SET_TARGET: Final = int(RecordType.SET_TARGET)
_OPEN_FLAGS: Final = os.O_RDWR | os.O_CLOEXEC
_unpack_head: Final = records.HEAD.unpack_from
_HEAD_SIZE: Final = records.HEAD_SIZE


def journal_path(stem: str | os.PathLike[str]) -> Path:
    """The current journal file for a session stem."""
    return Path(os.fspath(stem) + SUFFIX)


def archive_name(stem: str | os.PathLike[str], creation_time: float, attempt: int) -> Path:
    """Archive file name for a journal created at ``creation_time`` (UTC)."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(creation_time))
    extra = f"-{attempt}" if attempt else ""
    return Path(f"{os.fspath(stem)}.{stamp}{extra}{SUFFIX}")


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _data_end(fd: int, start: int, end: int, chunk: int) -> int:
    """The offset just past the last non-zero byte in ``start .. end`` (``start`` if every
    byte there is zero), read backwards in ``chunk``-sized preads."""
    pos = end
    while pos > start:
        size = min(chunk, pos - start)
        window = os.pread(fd, size, pos - size)
        if len(window) < size:
            raise OSError(errno.EIO, f"short read at offset {pos - size}")
        kept = len(window.rstrip(b"\0"))
        if kept:
            return pos - size + kept
        pos -= size
    return start


def _lock(fd: int, path: Path) -> None:
    """Take the exclusive per-session lock. Raises StoreError if another process has it."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise StoreError(f"{path} is in use by another process") from None


# Subclassable from interpreted code (tests hold a sync to watch group commit).
@mypyc_attr(allow_interpreted_subclasses=True)
class JournalStore:
    """File-backed MessageStore for one session. See the module docstring.

    Open with ``JournalStore(stem, now=..., durability=...)``: an existing journal is
    recovered (``now`` is then ignored), a missing one is created with creation time
    ``now``. Raises CorruptJournalError if the journal is damaged in the middle, and
    StoreError if it cannot be opened or is locked by another process.
    """

    def __init__(
        self,
        stem: str | os.PathLike[str],
        *,
        now: float,
        durability: Durability = Durability.OS,
        read_chunk: int = DEFAULT_READ_CHUNK,
        index_every: int = DEFAULT_EVERY,
        grow_chunk: int = DEFAULT_GROW_CHUNK,
    ) -> None:
        if read_chunk < records.HEAD_SIZE:
            raise StoreError(f"read_chunk must be at least {records.HEAD_SIZE} bytes")
        if index_every < 1:
            raise StoreError(f"index_every must be at least 1, got {index_every}")
        try:
            self._window = AppendWindow(grow_chunk)
        except ValueError as exc:
            raise StoreError(str(exc)) from None
        self._stem = os.fspath(stem)
        self._path = journal_path(stem)
        self._durability = durability
        self._fsync = durability is Durability.FSYNC
        self._read_chunk = read_chunk
        self._lock = threading.Lock()
        self._fd = -1
        self._end = 0
        self._base = 0
        self._synced = 0
        self._generation = 0
        self._creation_time = now
        self._next_sender = 1
        self._next_target = 1
        self._out = SeqIndex(index_every)
        self._first = 0  # offset of the first record after the file header
        try:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            self._open(now)
        except BaseException as exc:
            if self._fd >= 0:
                os.close(self._fd)
                self._fd = -1
            if isinstance(exc, OSError):
                raise StoreError(f"cannot open journal {self._path}: {exc}") from exc
            raise
        self._synced = self._end

    # -- opening and recovery ------------------------------------------------------------

    def _open(self, now: float) -> None:
        new = Path(self._stem + NEW_SUFFIX)
        try:
            fd = os.open(self._path, _OPEN_FLAGS)
        except FileNotFoundError:
            # No journal yet (a leftover .new is an unfinished first creation: nothing in
            # it was ever acknowledged, so it is replaced).
            self._fd = self._create(new, now)
            os.rename(new, self._path)
            _fsync_dir(self._path.parent)
            self._end = self._first = len(records.encode_header(now))
            log.info("created journal %s", self._path)
            return
        self._fd = fd
        _lock(fd, self._path)
        # Holding the lock, a .new file can only be left over from a reset that crashed
        # before its rename; the current journal is still the valid one.
        new.unlink(missing_ok=True)
        self._recover()

    def _create(self, path: Path, now: float) -> int:
        """Write a synced file holding just a header at ``path``; return its locked fd."""
        fd = os.open(path, _OPEN_FLAGS | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            _lock(fd, path)
            header = records.encode_header(now)
            if os.pwrite(fd, header, 0) != len(header):
                raise StoreError(f"short write creating {path}")
            os.fsync(fd)
        except BaseException:
            os.close(fd)
            raise
        return fd

    def _recover(self) -> None:
        path = str(self._path)
        size = os.fstat(self._fd).st_size
        reader = records.ChunkReader(self._fd, self._read_chunk)
        try:
            header = records.decode(reader, 0, size)
            self._creation_time = records.decode_header(header)
        except records.BadRecordError as exc:
            raise CorruptJournalError(
                f"{path}: unreadable journal header: {exc.reason}", path=path, offset=0
            ) from None
        pos = self._first = header.size
        count = 0
        bad: records.BadRecordError | None = None
        while pos < size:
            try:
                rec = records.decode(reader, pos, size)
            except records.BadRecordError as exc:
                bad = exc
                break
            self._apply(rec, pos, path)
            pos += rec.size
            count += 1
        if bad is not None:
            following = records.find_valid(reader, pos + 1, size, self._read_chunk)
            if following is not None:
                raise CorruptJournalError(
                    f"{path}: corrupt record at offset {pos} ({bad.reason}) followed by a "
                    f"valid record at offset {following}; refusing to guess",
                    path=path,
                    offset=pos,
                )
            data_end = _data_end(self._fd, pos, size, self._read_chunk)
            if data_end == pos:
                # Never written: the preallocated tail of a journal not closed cleanly.
                log.info("%s: logical end at offset %d, %d preallocated zero bytes after it",
                         path, pos, size - pos)
                os.ftruncate(self._fd, pos)
            else:
                log.warning(
                    "%s: torn tail at offset %d (%s): discarding %d bytes (%d up to the "
                    "last non-zero one)",
                    path,
                    pos,
                    bad.reason,
                    size - pos,
                    data_end - pos,
                )
                os.ftruncate(self._fd, pos)
                os.fsync(self._fd)
        self._end = pos
        log.info(
            "recovered %s: %d records, %d outbound saved, next sender %d, next target %d",
            path,
            count,
            self._out.saved,
            self._next_sender,
            self._next_target,
        )

    def _apply(self, rec: records.Record, offset: int, path: str) -> None:
        rtype = rec.type
        if rtype == _OUTBOUND:
            if rec.seq <= self._out.last_seq:
                self._out.drop_from(rec.seq, offset)
            self._out.add(rec.seq, offset)
            self._next_sender = rec.seq + 1
        elif rtype == _INBOUND:
            self._next_target = rec.seq + 1
        elif rtype == _SET_SENDER:
            if rec.seq <= self._out.last_seq:
                self._out.drop_from(rec.seq, offset)
            self._next_sender = rec.seq
        elif rtype == _SET_TARGET:
            self._next_target = rec.seq
        else:
            raise CorruptJournalError(
                f"{path}: unexpected record type {rtype} at offset {offset}",
                path=path,
                offset=offset,
            )

    # -- properties ----------------------------------------------------------------------

    @property
    def path(self) -> Path:
        return self._path

    @property
    def durability(self) -> Durability:
        return self._durability

    @property
    def next_sender_seq(self) -> int:
        return self._next_sender

    @property
    def next_target_seq(self) -> int:
        return self._next_target

    @property
    def creation_time(self) -> float:
        return self._creation_time

    # -- the hot path --------------------------------------------------------------------

    def save_outbound(self, seq: int, data: bytes) -> None:
        if seq != self._next_sender:
            raise SequenceError(
                f"outbound MsgSeqNum {seq} saved, expected {self._next_sender} "
                f"({self._path})"
            )
        head = _pack_head(_MAGIC, _OUTBOUND, 0, len(data), seq)
        rec = head + _pack_crc(_crc32(data, _crc32(head))) + data
        off = self._end
        self._append(rec, off)
        self._out.add(seq, off)
        self._next_sender = seq + 1

    def save_inbound(self, seq: int, data: bytes) -> None:
        if seq != self._next_target:
            raise SequenceError(
                f"inbound MsgSeqNum {seq} saved, expected {self._next_target} ({self._path})"
            )
        head = _pack_head(_MAGIC, _INBOUND, 0, len(data), seq)
        rec = head + _pack_crc(_crc32(data, _crc32(head))) + data
        self._append(rec, self._end)
        self._next_target = seq + 1

    def incr_next_target_seq(self) -> None:
        self._set(_SET_TARGET, self._next_target + 1)
        self._next_target += 1

    def set_next_target_seq(self, seq: int) -> None:
        if seq < 1:
            raise StoreError(f"next target MsgSeqNum must be >= 1, got {seq}")
        self._set(_SET_TARGET, seq)
        self._next_target = seq

    def set_next_sender_seq(self, seq: int) -> None:
        if seq < 1:
            raise StoreError(f"next sender MsgSeqNum must be >= 1, got {seq}")
        off = self._end
        self._set(_SET_SENDER, seq)
        if seq <= self._out.last_seq:
            self._out.drop_from(seq, off)
            # A resend already streaming must not read entries that no longer exist.
            self._generation += 1
        self._next_sender = seq

    def _set(self, rtype: int, value: int) -> None:
        head = _pack_head(_MAGIC, rtype, 0, 0, value)
        self._append(head + _pack_crc(_crc32(head)), self._end)

    def _append(self, rec: bytes, off: int) -> None:
        try:
            self._window.copy(self._fd, rec, off)
        except OSError as exc:
            raise self._io_failed("extending", exc) from exc
        self._end = off + len(rec)

    def _trim(self, fd: int) -> None:
        """Unmap and cut the file back to its logical end (no preallocated tail)."""
        self._window.close()
        os.ftruncate(fd, self._end)

    def _io_failed(self, what: str, exc: OSError) -> StoreError:
        if exc.errno == errno.EBADF and self._fd < 0:
            return StoreError(f"{self._path} is closed")
        return StoreError(f"{what} {self._path} failed: {exc}")

    # -- durability ----------------------------------------------------------------------

    def written_upto(self) -> int:
        return self._base + self._end

    def synced_upto(self) -> int:
        if self._fsync:
            return self._synced
        return self._base + self._end

    def sync(self) -> int:
        """Make every record written before this call durable; return the ticket covered.

        Safe to call from a worker thread while the loop thread appends. A no-op in ``os``
        mode. Raises StoreError if the store is closed or fdatasync fails.
        """
        if not self._fsync:
            return self._base + self._end
        with self._lock:
            if self._fd < 0:
                raise StoreError(f"{self._path} is closed")
            ticket = self._base + self._end
            try:
                os.fdatasync(self._fd)
            except OSError as exc:
                raise self._io_failed("fdatasync of", exc) from exc
            if ticket > self._synced:
                self._synced = ticket
            return ticket

    def commit(self) -> int:
        return self.sync()

    # -- reading -------------------------------------------------------------------------

    def iter_outbound(self, begin: int, end: int = 0) -> Iterator[tuple[int, bytes]]:
        """Stream saved outbound messages with begin <= seq <= end (end 0: to the end).

        Reads through a ``read_chunk``-sized window; the range is never loaded whole.
        Covers the messages saved when iteration starts. Raises StoreError if the store is
        reset, rewound or closed meanwhile, CorruptJournalError if a record fails its CRC.
        """
        generation = self._generation
        fd = self._fd
        stop = self._end
        pos = self._out.start(begin)
        if pos is None or (0 < end < begin):
            return
        stale = self._out.staleness(pos).stale
        reader = records.ChunkReader(fd, self._read_chunk)
        while pos < stop:
            if self._generation != generation or self._fd != fd:
                raise StoreError(f"{self._path} was reset or rewound during a resend")
            rtype, seq, size = self._head(reader, pos, stop)
            if rtype == _OUTBOUND and seq >= begin and not stale(pos, seq):
                if 0 < end < seq:
                    return
                yield seq, self._read(reader, pos, _OUTBOUND, seq).payload
            pos += size

    def iter_inbound(self) -> Iterator[tuple[int, bytes]]:
        """Stream the inbound messages of this session period in arrival order.

        Raises as ``iter_outbound``.
        """
        generation = self._generation
        fd = self._fd
        stop = self._end
        pos = self._first
        reader = records.ChunkReader(fd, self._read_chunk)
        while pos < stop:
            if self._generation != generation or self._fd != fd:
                raise StoreError(f"{self._path} was reset during an inbound replay")
            rtype, _, size = self._head(reader, pos, stop)
            if rtype == _INBOUND:
                rec = self._read(reader, pos, _INBOUND, None)
                yield rec.seq, rec.payload
            pos += size

    def iter_messages(self) -> Iterator[StoredMessage]:
        """See `SearchableStore`. Raises as ``iter_outbound``."""
        generation = self._generation
        fd = self._fd
        stop = self._end
        pos = self._first
        stale = self._out.staleness(pos).stale
        reader = records.ChunkReader(fd, self._read_chunk)
        while pos < stop:
            if self._generation != generation or self._fd != fd:
                raise StoreError(f"{self._path} was reset or rewound during a replay")
            rtype, seq, size = self._head(reader, pos, stop)
            if rtype == _INBOUND or (rtype == _OUTBOUND and not stale(pos, seq)):
                rec = self._read(reader, pos, rtype, seq)
                yield StoredMessage(pos, rtype == _OUTBOUND, seq, rec.payload)
            pos += size

    def _head(self, reader: records.ChunkReader, offset: int, stop: int) -> tuple[int, int, int]:
        """(type, seq, size) of the record at ``offset``, from its head alone (the CRC is
        checked only for the records a reader yields). Raises CorruptJournalError."""
        head = reader.get(offset, _HEAD_SIZE)
        if len(head) < _HEAD_SIZE:
            raise self._corrupt(offset, "record head past the end of the file")
        magic, rtype, _, length, seq = _unpack_head(head)
        size = _HEAD_SIZE + length
        if magic != _MAGIC or offset + size > stop:
            raise self._corrupt(offset, "no valid record head")
        return rtype, seq, size

    def _corrupt(self, offset: int, why: str) -> CorruptJournalError:
        path = str(self._path)
        return CorruptJournalError(f"{path}: {why} at offset {offset}", path=path,
                                   offset=offset)

    # -- search (SearchableStore) ----------------------------------------------------------

    def history_end(self) -> int:
        return self._end

    def find_last(self, needle: bytes, end: int) -> StoredMessage | None:
        """See `SearchableStore`. Raises StoreError if the file cannot be read."""
        try:
            return search.find_last(self._fd, needle, min(end, self._end))
        except (OSError, ValueError) as exc:
            raise StoreError(f"cannot search {self._path}: {exc}") from exc

    def scan(self, needles: list[bytes], start: int, end: int) -> Iterator[StoredMessage]:
        """See `SearchableStore`. Raises StoreError if the file cannot be read."""
        try:
            yield from search.scan(self._fd, needles, max(start, self._first),
                                   min(end, self._end))
        except (OSError, ValueError) as exc:
            raise StoreError(f"cannot search {self._path}: {exc}") from exc

    def _read(
        self, reader: records.ChunkReader, offset: int, rtype: int, seq: int | None
    ) -> records.Record:
        path = str(self._path)
        try:
            rec = records.decode(reader, offset, self._end)
        except records.BadRecordError as exc:
            raise CorruptJournalError(
                f"{path}: {exc.reason} at offset {offset}", path=path, offset=offset
            ) from None
        except OSError as exc:
            raise self._io_failed("read from", exc) from exc
        if rec.type != rtype or (seq is not None and rec.seq != seq):
            raise CorruptJournalError(
                f"{path}: index points at record type {rec.type} seq {rec.seq} at offset "
                f"{offset}, expected type {rtype} seq {seq}",
                path=path,
                offset=offset,
            )
        return rec

    # -- session period and lifetime -----------------------------------------------------

    def reset(self, now: float) -> None:
        """Archive the current journal and start a new session period at ``now``.

        Waits for an in-flight ``sync()`` to finish. Raises StoreError if the store is
        closed or the files cannot be written; the current journal then stays in use.
        """
        try:
            archive = self._rotate(now)
        except OSError as exc:
            raise StoreError(f"cannot reset {self._path}: {exc}") from exc
        log.info("reset %s: archived as %s", self._path, archive)

    def _rotate(self, now: float) -> Path:
        with self._lock:
            if self._fd < 0:
                raise StoreError(f"{self._path} is closed")
            self._trim(self._fd)  # the archive holds records only, no zero tail
            os.fsync(self._fd)
            new_path = Path(self._stem + NEW_SUFFIX)
            new_fd = self._create(new_path, now)
            try:
                archive = self._archive()
                os.rename(new_path, self._path)
                _fsync_dir(self._path.parent)
            except BaseException:
                os.close(new_fd)
                new_path.unlink(missing_ok=True)
                raise
            old_fd, self._fd = self._fd, new_fd
            os.close(old_fd)
            self._base += self._end
            self._end = self._first = len(records.encode_header(now))
            self._synced = self._base + self._end
            self._generation += 1
            self._creation_time = now
            self._next_sender = 1
            self._next_target = 1
            self._out.clear()
        return archive

    def _archive(self) -> Path:
        """Give the current journal its archive name without ever overwriting a file."""
        attempt = 0
        while True:
            target = archive_name(self._stem, self._creation_time, attempt)
            try:
                os.link(self._path, target)
                return target
            except FileExistsError:
                attempt += 1
            except OSError as exc:
                if exc.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.EXDEV):
                    raise
                # No hard links here: rename, after checking the name is free (we hold the
                # session lock, so only an outsider could race us).
                if target.exists():
                    attempt += 1
                    continue
                os.rename(self._path, target)
                return target

    def close(self) -> None:
        with self._lock:
            if self._fd < 0:
                # (Python's mmap holds a dup of the descriptor, and with it the flock.)
                self._window.close()
                return
            fd, self._fd = self._fd, -1
            try:
                try:
                    self._trim(fd)
                except OSError as exc:
                    # Harmless: the next opening takes the zero tail for preallocation.
                    log.warning("%s: cannot truncate the preallocated tail: %s",
                                self._path, exc)
                if self._fsync:
                    os.fdatasync(fd)
                    self._synced = self._base + self._end
            finally:
                os.close(fd)

    def __enter__(self) -> JournalStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"JournalStore({self._path}, durability={self._durability.value}, "
            f"next_sender={self._next_sender}, next_target={self._next_target})"
        )
