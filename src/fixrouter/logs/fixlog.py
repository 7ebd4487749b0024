"""The FIX message log: every message in and out, one per line, written off the loop.

Theory of operation
-------------------
Each session's transport calls its tap (`FixLog.tap(session)`) with the bytes it writes
to the socket (one whole message each) and with the bytes it reads (whatever the kernel
handed over: part of a message, one, or several). The tap stamps the wall-clock time and
appends one tuple to a deque: about 0.2 µs on the event-loop thread, no formatting, no
system call, no lock (a deque's append and popleft are atomic).

A writer thread wakes every `interval` seconds, takes everything queued, splits the
inbound bytes into messages (keeping each session's trailing partial message for the
next read), masks secrets (`Redactor.mask_fix`), formats the lines and writes them with
one `write(2)`. A slow or full disk therefore delays the log, never the loop. If the
queue reaches `max_pending` entries the tap drops new ones and counts them (`dropped`);
the writer then logs how many were lost, so a gap in the log is never silent.

Line format (UTC, microseconds; `fixrouter decode FILE` reads it as it is)::

    2026-11-24T11:25:58.123456Z out ib-main 8=FIX.4.2|9=...|35=D|...|10=123|
    2026-11-24T11:25:58.125001Z in ib-main 8=FIX.4.2|9=...|35=8|...|10=045|
    2026-11-24T11:25:59.000000Z out ib-main masked 8=FIX.4.2|9=...|554=****|...|10=201|

SOH is written as `|`, unless the message itself contains a `|` (a free-text field):
then the line keeps its SOH separators, which decode also reads. `masked` marks a
message whose secret fields were replaced; its BodyLength and CheckSum are recomputed
for the masked text, so it still verifies. A message containing a line break (only a
data field could) has it written as `\\n`, which keeps one message per line; decode
then reports that one as not verified.

The file is opened for appending and reopened when it has been moved away (logrotate
without copytruncate): the writer compares the inode of the path with its own about once
a second.
"""

from __future__ import annotations

import collections
import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

from .redact import Redactor

log = logging.getLogger("fixrouter.fixlog")

Tap = Callable[[bool, bytes], None]
_Entry = tuple[int, str, bool, bytes]  # (time_ns, session, outbound, data)

_SOH = b"\x01"
_BEGIN = b"8=FIX"
_TRAILER = b"\x0110="
_MAX_PARTIAL = 1 << 20
"""Bytes of an inbound message kept waiting for its end; beyond that (not FIX at all)
they are logged as they are and dropped from the buffer."""
_REOPEN_CHECK = 1.0


class FixLog:
    """The FIX message log of one process (every session). `start()`, then `tap(name)`
    per session, and `close()` at exit (which writes what is still queued)."""

    def __init__(
        self,
        path: Path,
        redactor: Redactor,
        *,
        interval: float = 0.05,
        max_pending: int = 200_000,
    ) -> None:
        self.path = path
        self._redactor = redactor
        self._interval = interval
        self._max_pending = max_pending
        self._pending: collections.deque[_Entry] = collections.deque()
        self._partial: dict[str, bytes] = {}
        self._fd = -1
        self._ino = 0
        self._checked = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.dropped = 0
        """Entries the tap could not queue (the writer fell `max_pending` behind)."""
        self._dropped_reported = 0
        self.written = 0
        """Messages written so far."""

    def start(self) -> None:
        """Open the file (creating its directory) and start the writer thread.

        Raises OSError if the file cannot be opened."""
        self._open()
        self._thread = threading.Thread(target=self._run, name="fix-log", daemon=True)
        self._thread.start()

    def tap(self, session: str) -> Tap:
        """The callable a session's transport calls with `(outbound, data)`."""
        pending = self._pending
        append = pending.append
        limit = self._max_pending
        now = time.time_ns

        def tap(outbound: bool, data: bytes) -> None:
            if len(pending) >= limit:
                self.dropped += 1
                return
            append((now(), session, outbound, data))

        return tap

    def flush(self) -> None:
        """Write what is queued now (from any thread but the writer's; tests, close)."""
        self._drain()

    def close(self) -> None:
        """Stop the writer, write everything still queued, close the file. Idempotent."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._fd >= 0:
            self._drain()
            os.close(self._fd)
            self._fd = -1

    # -- the writer thread -------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self._drain()
            except OSError as exc:
                # A full disk must not end the log for good: try again next time.
                log.error("FIX log %s: write failed: %s", self.path, exc)

    def _drain(self) -> None:
        pending = self._pending
        if not pending and self.dropped == self._dropped_reported:
            return
        lines: list[bytes] = []
        count = 0
        while pending:
            stamp, session, outbound, data = pending.popleft()
            if outbound:
                lines.append(self._line(stamp, b"out", session, data))
                count += 1
            else:
                for message in self._split(session, data):
                    lines.append(self._line(stamp, b"in", session, message))
                    count += 1
        if self.dropped != self._dropped_reported:
            lost = self.dropped - self._dropped_reported
            self._dropped_reported = self.dropped
            log.error("FIX log %s: %d entries dropped (the writer fell behind)", self.path, lost)
        if lines:
            self._reopen_if_moved()
            _write_all(self._fd, b"".join(lines))
            self.written += count

    def _split(self, session: str, data: bytes) -> list[bytes]:
        """Whole messages from the session's inbound bytes; keeps the unfinished tail."""
        buffer = self._partial.pop(session, b"") + data
        messages: list[bytes] = []
        start = buffer.find(_BEGIN)
        while start >= 0:
            end = _frame_end(buffer, start)
            if end < 0:
                break
            messages.append(buffer[start:end])
            start = buffer.find(_BEGIN, end)
        if start >= 0:
            rest = buffer[start:]
            if len(rest) <= _MAX_PARTIAL:
                self._partial[session] = rest
            else:
                messages.append(rest)
        return messages

    def _line(self, stamp: int, direction: bytes, session: str, message: bytes) -> bytes:
        masked = self._redactor.mask_fix(message)
        shown = masked if b"|" in masked else masked.replace(_SOH, b"|")
        if b"\n" in shown or b"\r" in shown:
            shown = shown.replace(b"\r", b"\\r").replace(b"\n", b"\\n")
        flag = b" masked " if masked is not message else b" "
        return b"%s %s %s%s%s\n" % (format_stamp(stamp).encode(), direction, session.encode(),
                                   flag, shown)

    def _open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o640)
        if self._fd >= 0:
            os.close(self._fd)
        self._fd = fd
        self._ino = os.fstat(fd).st_ino

    def _reopen_if_moved(self) -> None:
        now = time.monotonic()
        if now - self._checked < _REOPEN_CHECK:
            return
        self._checked = now
        try:
            moved = os.stat(self.path).st_ino != self._ino
        except FileNotFoundError:
            moved = True
        if moved:
            self._open()
            log.info("FIX log %s reopened (the file was moved)", self.path)


def _frame_end(buffer: bytes, start: int) -> int:
    """End offset of the message starting at `start`, or -1 if it is not all there.

    Uses BodyLength(9) when it reads; a garbled length falls back to the next `10=`."""
    soh = buffer.find(_SOH, start)
    if soh >= 0 and buffer.startswith(b"9=", soh + 1):
        length_end = buffer.find(_SOH, soh + 3)
        length = buffer[soh + 3:length_end]
        if length_end >= 0 and length.isdigit():
            trailer = length_end + 1 + int(length)
            if buffer.startswith(b"10=", trailer):
                end = buffer.find(_SOH, trailer)
                return end + 1 if end >= 0 else -1
            if len(buffer) < trailer + 3:
                return -1
    found = buffer.find(_TRAILER, start)
    if found < 0:
        return -1
    end = buffer.find(_SOH, found + len(_TRAILER))
    return end + 1 if end >= 0 else -1


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


_second_cache: tuple[int, str] = (-1, "")


def format_stamp(ns: int) -> str:
    """`YYYY-MM-DDTHH:MM:SS.ffffffZ` (UTC) for a `time.time_ns()` value."""
    global _second_cache
    seconds, rest = divmod(ns, 1_000_000_000)
    cached_second, text = _second_cache
    if cached_second != seconds:
        text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
        _second_cache = (seconds, text)
    return f"{text}.{rest // 1000:06d}Z"
