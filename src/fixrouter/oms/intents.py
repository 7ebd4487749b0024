"""The intent log: which strategy order each ClOrdID belongs to, written before sending.

Theory of operation
-------------------
FIX messages do not carry the strategy's name or its order id, so the FIX journal alone
cannot route a fill after a restart. The order book therefore writes one *intent* record
per ClOrdID it allocates, to an append-only file per session beside the FIX journal
(``<journal stem>.orders.log``), **before** the FIX message carrying that ClOrdID is
handed to the session:

* ``N`` new order: ClOrdID, strategy, id, symbol, side and quantity (so an order that
  never reached the wire can still be reported);
* ``R`` replace: ClOrdID, OrigClOrdID, strategy, new id;
* ``C`` cancel: ClOrdID, OrigClOrdID (for the ClOrdID counter; the chain is in the FIX);
* ``X`` send failed: ClOrdID and why, written when the session refused the message.

Recovery joins the two files by ClOrdID (``fixrouter.oms.recovery``): a FIX message with
its intent is a known order; an intent without a FIX message was never sent (the engine
stopped between the two writes), and the order is reported rejected; a FIX message
without an intent (possible only after a power loss in ``fsync`` mode, see below) is an
orphan the book still tracks, under no strategy.

**Format.** One JSON array per line, terminated by a newline: ``["N", ts, ...]``. JSON
never holds a NUL byte (orjson escapes it), so zeros are never record data.

**Writing.** A line is copied into a ``MAP_SHARED`` mapping of the file at the log's
logical end: no syscall, and the bytes are in the page cache (so they survive ``kill -9``)
when the copy returns, as after a returned write(2). The file is extended ahead of the
writer as the FIX journal's is (``fixrouter.store.journal``, Writing): ``posix_fallocate``
of the next ``grow_chunk`` bytes (real blocks: a full disk is an IntentLogError then, never
a SIGBUS later), mapped as the new window. A failed extension raises IntentLogError
before any byte is copied. So while open, and after a ``kill -9``, the file ends in a run
of zero bytes past its last line; ``close()`` truncates it to the logical end.

**Opening.** The trailing run of zeros is preallocation, not data: the log ends at the last
non-zero byte. After it, the last line without its newline is a torn tail, and so is a
last line holding a NUL (a copy cut short by ``kill -9`` may have stored its newline before
the bytes ahead of it): it is logged, counted and truncated away together with the zeros
(its FIX message cannot have been sent: the write comes first). A line in the middle that
does not parse (zeros included) is corruption: it is logged and counted, skipped, and the
rest is read (the FIX journal is still the truth for that order; it becomes an orphan).
Readers (`records`, `find`) stop at the logical end, never at the file size.

**Durability.** A copy into the mapping survives ``kill -9``. With the journal in ``fsync``
mode the router must also ``sync()`` this log in the same group commit before releasing
the FIX bytes, or a power loss may keep a sent order's FIX record but lose its intent.
``sync()`` is an ``fdatasync`` of the descriptor, which on Linux writes back the pages
dirtied through the mapping too (see the journal's docstring: no ``msync`` is needed).

**Reading back.** The records read at opening are handed over once (`records()`, for the
restart) and not kept: the log is the book's memory of finished orders, read when it is
needed. `find(needle)` yields the records whose line holds a byte string, newest first,
found with ``mmap.rfind`` over the file (`find_cl` and `find_id` build the needles), so
"which strategy order was ClOrdID X" costs a search back to X's record, not a parse of
the whole day. Only what this process can read is searched: records written before the
file was opened and everything written since.

`MemoryIntentLog` keeps the same lines in a list, for tests and benchmarks.
"""

from __future__ import annotations

import enum
import fcntl
import logging
import mmap
import os
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Final, Protocol

import orjson

from fixrouter.requests import NewOrder
from fixrouter.store import StoreError
from fixrouter.store.window import AppendWindow

log = logging.getLogger("fixrouter.oms")

SUFFIX: Final = ".orders.log"
_APPEND: Final = orjson.OPT_APPEND_NEWLINE
_dumps: Final = orjson.dumps
DEFAULT_GROW_CHUNK: Final = 256 * 1024
"""Bytes the file is extended (and mapped) ahead of the writer at a time (small, as the
journal's `DEFAULT_GROW_CHUNK`, so the written part of the window adds little to RSS)."""


class IntentLogError(StoreError):
    """The intent log cannot be opened or written. Nothing may be sent without it."""


class IntentKind(enum.StrEnum):
    NEW = "N"
    REPLACE = "R"
    CANCEL = "C"
    FAILED = "X"


@dataclass(frozen=True, slots=True)
class Intent:
    """One record of the intent log. Fields a kind does not use are empty."""

    kind: IntentKind
    ts: float  # epoch seconds when the ClOrdID was allocated
    cl_ord_id: str
    orig_cl_ord_id: str | None = None
    strategy: str = ""
    id: str = ""  # the strategy's id (new_id for a replace)
    symbol: str = ""
    side: str = ""
    qty: Decimal | None = None
    reason: str = ""


def intent_log_path(stem: str | os.PathLike[str]) -> Path:
    """The intent log beside the FIX journal of a session stem."""
    return Path(os.fspath(stem) + SUFFIX)


def encode_new(ts: float, cl_ord_id: str, req: NewOrder) -> bytes:
    # Symbol, side and quantity let an order that never reached the wire still be
    # reported; the rest would cost hot-path time for the rare crash (orjson calls back
    # into Python for every Decimal, so the quantity goes as a string).
    return _dumps(
        ("N", ts, cl_ord_id, req.strategy, req.id, req.symbol, req.side, str(req.qty)),
        option=_APPEND,
    )


def encode_replace(
    ts: float, cl_ord_id: str, orig_cl_ord_id: str, strategy: str, new_id: str
) -> bytes:
    return _dumps(("R", ts, cl_ord_id, orig_cl_ord_id, strategy, new_id), option=_APPEND)


def encode_cancel(ts: float, cl_ord_id: str, orig_cl_ord_id: str) -> bytes:
    return _dumps(("C", ts, cl_ord_id, orig_cl_ord_id), option=_APPEND)


def encode_failed(ts: float, cl_ord_id: str, reason: str) -> bytes:
    return _dumps(("X", ts, cl_ord_id, reason), option=_APPEND)


class IntentFormatError(ValueError):
    """A line is not a record this code wrote."""


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise IntentFormatError(f"expected a string, got {value!r}")
    return value


def _decimal(value: object) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(_text(value))
    except InvalidOperation:
        raise IntentFormatError(f"not a decimal: {value!r}") from None


def decode_line(line: bytes) -> Intent:
    """Parse one line (without its newline). Raises IntentFormatError."""
    try:
        rec = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise IntentFormatError(f"not JSON: {exc}") from None
    if not isinstance(rec, list) or len(rec) < 3:
        raise IntentFormatError("not a record array")
    kind, ts, cl = rec[0], rec[1], _text(rec[2])
    if not isinstance(ts, int | float):
        raise IntentFormatError(f"bad timestamp {ts!r}")
    try:
        if kind == "N" and len(rec) == 8:
            return Intent(
                IntentKind.NEW, float(ts), cl, strategy=_text(rec[3]), id=_text(rec[4]),
                symbol=_text(rec[5]), side=_text(rec[6]), qty=_decimal(rec[7]),
            )
        if kind == "R" and len(rec) == 6:
            return Intent(IntentKind.REPLACE, float(ts), cl, orig_cl_ord_id=_text(rec[3]),
                          strategy=_text(rec[4]), id=_text(rec[5]))
        if kind == "C" and len(rec) == 4:
            return Intent(IntentKind.CANCEL, float(ts), cl, orig_cl_ord_id=_text(rec[3]))
        if kind == "X" and len(rec) == 4:
            return Intent(IntentKind.FAILED, float(ts), cl, reason=_text(rec[3]))
    except IndexError:  # pragma: no cover - lengths are checked above
        pass
    raise IntentFormatError(f"unknown record kind {kind!r} with {len(rec)} fields")


def cl_needle(cl_ord_id: str) -> bytes:
    """What a line holding ClOrdID `cl_ord_id` (as its own or as the OrigClOrdID) has."""
    return b'"' + cl_ord_id.encode("latin-1") + b'"'


def id_needle(strategy: str, order_id: str) -> bytes:
    """What a new order's or a replace's line naming (strategy, id) holds."""
    return _dumps(strategy) + b"," + _dumps(order_id)


def decode_lines(data: bytes, where: str) -> tuple[list[Intent], int]:
    """Parse complete lines; return the records and how many lines were corrupt."""
    intents: list[Intent] = []
    corrupt = 0
    offset = 0
    for line in data.split(b"\n")[:-1]:
        try:
            intents.append(decode_line(line))
        except IntentFormatError as exc:
            corrupt += 1
            log.error("%s: unreadable intent record at offset %d (%s): skipped",
                      where, offset, exc)
        offset += len(line) + 1
    return intents, corrupt


class IntentSink(Protocol):
    """Where the order book writes intents. Each write raises IntentLogError on failure."""

    torn: int
    """Torn final lines discarded when the log was opened."""
    corrupt: int
    """Unreadable lines skipped when the log was opened."""

    def write(self, line: bytes) -> None: ...

    def records(self) -> list[Intent]:
        """The records that were durable when the log was opened (memory: all so far)."""
        ...

    def find(self, needle: bytes) -> Iterator[Intent]:
        """Readable records whose line holds `needle`, newest first."""
        ...


def find_cl(sink: IntentSink, cl_ord_id: str) -> Intent | None:
    """The record that allocated ClOrdID `cl_ord_id`, or None."""
    for intent in sink.find(cl_needle(cl_ord_id)):
        if intent.cl_ord_id == cl_ord_id and intent.kind is not IntentKind.FAILED:
            return intent
    return None


def find_id(sink: IntentSink, strategy: str, order_id: str) -> Intent | None:
    """The latest new order or replace that gave (strategy, id) to an order, or None."""
    for intent in sink.find(id_needle(strategy, order_id)):
        if (intent.kind in (IntentKind.NEW, IntentKind.REPLACE)
                and intent.strategy == strategy and intent.id == order_id):
            return intent
    return None


class IntentLog:
    """The file-backed intent log of one session. See the module docstring.

    Raises IntentLogError if the file cannot be opened or another process holds it.
    """

    __slots__ = ("_fd", "_records", "_size", "_window", "corrupt", "path", "torn")
    _records: list[Intent] | None

    def __init__(self, path: str | os.PathLike[str], *,
                 grow_chunk: int = DEFAULT_GROW_CHUNK) -> None:
        try:
            self._window = AppendWindow(grow_chunk)
        except ValueError as exc:
            raise IntentLogError(str(exc)) from None
        self.path = Path(path)
        self.torn = 0
        self.corrupt = 0
        self._size = 0
        self._fd = -1
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError as exc:
            raise IntentLogError(f"cannot open {self.path}: {exc}") from exc
        self._fd = fd
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise IntentLogError(f"{self.path} is in use by another process") from None
            self._records = self._recover()
        except BaseException:
            os.close(fd)
            self._fd = -1
            raise

    def _recover(self) -> list[Intent]:
        chunks: list[bytes] = []
        while chunk := os.pread(self._fd, 1 << 20, sum(len(c) for c in chunks)):
            chunks.append(chunk)
        data = b"".join(chunks)
        content = len(data.rstrip(b"\0"))  # past it: preallocated, never written
        end = data.rfind(b"\n", 0, content) + 1
        last = data.rfind(b"\n", 0, end - 1) + 1 if end else 0
        if data.find(b"\0", last, end) >= 0:
            end = last  # a copy cut short after its newline was stored
        if end < content:
            self.torn = 1
            log.warning("%s: torn tail at offset %d: discarding %d bytes",
                        self.path, end, content - end)
            os.ftruncate(self._fd, end)
            os.fsync(self._fd)
        elif end < len(data):
            log.info("%s: logical end at offset %d, %d preallocated zero bytes after it",
                     self.path, end, len(data) - end)
            os.ftruncate(self._fd, end)
        self._size = end
        records, self.corrupt = decode_lines(data[:end], str(self.path))
        return records

    def records(self) -> list[Intent]:
        """The records read at opening. Handed over, not kept: a second call reads them
        from the file again."""
        records = self._records
        self._records = None
        if records is not None:
            return records
        data = os.pread(self._fd, self._size, 0)
        return decode_lines(data[:data.rfind(b"\n") + 1], str(self.path))[0]

    def find(self, needle: bytes) -> Iterator[Intent]:
        """See `IntentSink.find`. Raises IntentLogError if the file cannot be read."""
        size = self._size
        if size <= 0 or self._fd < 0:
            return
        try:
            mm = mmap.mmap(self._fd, size, access=mmap.ACCESS_READ)
        except (OSError, ValueError) as exc:
            raise IntentLogError(f"cannot read {self.path}: {exc}") from exc
        try:
            end = size
            while True:
                hit = mm.rfind(needle, 0, end)
                if hit < 0:
                    return
                start = mm.rfind(b"\n", 0, hit) + 1
                stop = mm.find(b"\n", hit)
                end = start
                if stop < 0:
                    continue
                try:
                    intent = decode_line(mm[start:stop])
                except IntentFormatError:
                    continue
                yield intent
                if end == 0:
                    return
        finally:
            mm.close()

    def write(self, line: bytes) -> None:
        """Append one encoded record (a copy into the mapping). Raises IntentLogError."""
        off = self._size
        try:
            self._window.copy(self._fd, line, off)
        except OSError as exc:
            raise IntentLogError(f"cannot write {self.path}: extending it failed: {exc}") \
                from exc
        self._size = off + len(line)

    def sync(self) -> None:
        """Make every record written so far durable (for the fsync group commit)."""
        try:
            os.fdatasync(self._fd)
        except OSError as exc:
            raise IntentLogError(f"cannot sync {self.path}: {exc}") from exc

    def close(self) -> None:
        """Unmap, truncate the preallocated tail away and close (idempotent)."""
        fd = self._fd
        if fd < 0:
            # (Python's mmap holds a dup of the descriptor, and with it the flock.)
            self._window.close()
            return
        self._fd = -1
        try:
            self._window.close()
            os.ftruncate(fd, self._size)
        except OSError as exc:
            # Harmless: the next opening takes the zero tail for preallocation.
            log.warning("%s: cannot truncate the preallocated tail: %s", self.path, exc)
        finally:
            os.close(fd)

    def __enter__(self) -> IntentLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class MemoryIntentLog:
    """An in-memory intent log: the same lines, kept in a list."""

    __slots__ = ("corrupt", "fail", "lines", "torn")

    def __init__(self, lines: list[bytes] | None = None) -> None:
        self.lines: list[bytes] = [] if lines is None else lines
        self.torn = 0
        self.corrupt = 0
        self.fail = False  # tests set it to make the next writes fail

    def write(self, line: bytes) -> None:
        if self.fail:
            raise IntentLogError("intent log write failed (simulated)")
        self.lines.append(line)

    def records(self) -> list[Intent]:
        records, self.corrupt = decode_lines(b"".join(self.lines), "memory")
        return records

    def find(self, needle: bytes) -> Iterator[Intent]:
        for line in reversed(self.lines):
            if needle in line:
                try:
                    yield decode_line(line.rstrip(b"\n"))
                except IntentFormatError:
                    continue
