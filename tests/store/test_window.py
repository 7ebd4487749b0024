"""AppendWindow: copies through a shared mapping, growth by chunks, a full disk, closing."""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from fixrouter.store import window as window_mod
from fixrouter.store.window import PAGE, AppendWindow


@pytest.fixture
def fd(tmp_path: Path) -> Iterator[int]:
    descriptor = os.open(tmp_path / "f", os.O_RDWR | os.O_CREAT, 0o600)
    yield descriptor
    os.close(descriptor)


def test_copies_land_in_the_file_across_growths(fd: int) -> None:
    window = AppendWindow(PAGE)
    record = bytes(range(256)) * 3  # 768 bytes: records straddle the window's ends
    off = 0
    for _ in range(40):
        window.copy(fd, record, off)
        off += len(record)
    window.close()
    assert os.pread(fd, off, 0) == record * 40
    # Grown by whole chunks ahead of the writer: allocated, zero past the last copy.
    size = os.fstat(fd).st_size
    assert size % PAGE == 0 and off <= size < off + PAGE
    assert os.pread(fd, size - off, off) == bytes(size - off)


def test_a_record_larger_than_a_chunk_gets_a_window_of_its_own(fd: int) -> None:
    window = AppendWindow(PAGE)
    big = b"x" * (3 * PAGE + 5)
    window.copy(fd, b"head", 0)
    window.copy(fd, big, 4)
    window.close()
    assert os.pread(fd, 4 + len(big), 0) == b"head" + big


def test_a_full_disk_retries_with_just_the_record_then_raises(
    fd: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[int] = []
    real = os.posix_fallocate

    def tight(fd_: int, offset: int, length: int) -> None:
        asked.append(length)
        if length > PAGE:
            raise OSError(errno.ENOSPC, "No space left on device")
        real(fd_, offset, length)

    monkeypatch.setattr(window_mod, "_fallocate", tight)
    window = AppendWindow(4 * PAGE)
    window.copy(fd, b"fits", 0)  # the chunk is refused, one page is enough
    assert asked == [4 * PAGE, PAGE]
    with pytest.raises(OSError) as raised:
        window.copy(fd, b"y" * (PAGE + 1), 4)  # needs two pages: refused outright
    assert raised.value.errno == errno.ENOSPC
    window.close()
    assert os.pread(fd, 8, 0) == b"fits" + bytes(4)  # nothing of the refused record


def test_a_closed_descriptor_is_an_oserror_before_any_copy() -> None:
    with pytest.raises(OSError) as raised:
        AppendWindow(PAGE).copy(-1, b"x", 0)
    assert raised.value.errno == errno.EBADF


@pytest.mark.parametrize("chunk", [0, PAGE // 2, PAGE + 1, -PAGE])
def test_chunk_sizes_must_be_whole_pages(chunk: int) -> None:
    AppendWindow(PAGE)
    AppendWindow(8 * PAGE)
    with pytest.raises(ValueError, match="multiple of"):
        AppendWindow(chunk)
