"""A writable shared mapping over the growing end of an append-only file.

The FIX journal (`fixrouter.store.journal`) and the order book's intent log
(`fixrouter.oms.intents`) append by copying each record into such a window instead of
calling write(2) once per record. Why that is as safe as a returned write against
kill -9, and how fdatasync covers it, is in the journal's docstring ("Writing",
"Durability and group commit"). This module only keeps the window:

* `copy(fd, data, off)` copies `data` to file offset `off` through the window, first
  growing it when the bytes would pass its end. The owner tracks the logical end and
  hands it in as `off`; the window does not know where the records end.
* Growing reserves real blocks for the next `chunk` bytes with `posix_fallocate` (so a
  full disk is an OSError here, never a SIGBUS when a page of a sparse file is first
  written), retrying with just enough for the record when the whole chunk cannot be had,
  then maps that range in place of the old window. It raises OSError (closed descriptor,
  disk full, mapping refused) before any byte is copied; at most it leaves zeros past
  the logical end, which both owners' recoveries treat as preallocation.
* `close()` drops the window. Its dirty pages stay in the page cache, owed to the file.
"""

from __future__ import annotations

import errno
import mmap
import os
from typing import Final

PAGE: Final = mmap.ALLOCATIONGRANULARITY
_ACCESS_WRITE: Final = mmap.ACCESS_WRITE
_fallocate = os.posix_fallocate  # not Final: tests replace it (a full disk)


class AppendWindow:
    """The mapped window over file bytes `_base .. _end` (all allocated): None until the
    first copy and after `close`."""

    def __init__(self, chunk: int) -> None:
        """Raises ValueError unless `chunk` is a positive multiple of `PAGE`."""
        if chunk < PAGE or chunk % PAGE:
            raise ValueError(f"grow_chunk must be a positive multiple of {PAGE} bytes")
        self._chunk = chunk
        self._map: mmap.mmap | None = None
        self._base = 0
        self._end = 0

    def copy(self, fd: int, data: bytes, off: int) -> None:
        """Copy `data` to offset `off` of the file open as `fd`. Raises OSError, having
        copied nothing, if the window had to grow and could not."""
        end = off + len(data)
        window = self._map
        if end > self._end or window is None:
            window = self._grow(fd, off, len(data))
        base = self._base
        window[off - base : end - base] = data

    def _grow(self, fd: int, off: int, size: int) -> mmap.mmap:
        if fd < 0:
            raise OSError(errno.EBADF, "the file is closed")
        base = off - off % PAGE
        needed = -(-(off + size - base) // PAGE) * PAGE
        length = max(needed, self._chunk)
        try:
            _fallocate(fd, base, length)
        except OSError as exc:
            if exc.errno != errno.ENOSPC or length == needed:
                raise
            length = needed
            _fallocate(fd, base, length)
        self.close()
        try:
            window = mmap.mmap(fd, length, access=_ACCESS_WRITE, offset=base)
        except ValueError as exc:
            raise OSError(errno.EINVAL, f"cannot map at offset {base}: {exc}") from exc
        self._map = window
        self._base = base
        self._end = base + length
        return window

    def close(self) -> None:
        """Drop the window; the next copy maps a new one."""
        window = self._map
        self._map = None
        self._end = 0
        if window is not None:
            window.close()
