"""Fixtures shared by the store tests: the same behaviour is checked on both stores."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from fixrouter.store import Durability, JournalStore, MemoryStore, MessageStore

T0 = 1_700_000_000.0  # 2023-11-14 22:13:20 UTC


def fix_message(seq: int, body: str = "35=D") -> bytes:
    """A recognisable FIX-like payload; the store treats it as opaque bytes."""
    return f"8=FIX.4.2\x019=0\x0134={seq}\x01{body}\x0110=000\x01".encode()


@pytest.fixture
def stem(tmp_path: Path) -> Path:
    return tmp_path / "FIX.4.2-SENDER-IB"


@pytest.fixture(params=["memory", "journal-os", "journal-fsync"])
def store(request: pytest.FixtureRequest, stem: Path) -> Iterator[MessageStore]:
    s: MessageStore
    if request.param == "memory":
        s = MemoryStore(now=T0)
    else:
        mode = Durability.OS if request.param == "journal-os" else Durability.FSYNC
        s = JournalStore(stem, now=T0, durability=mode)
    yield s
    s.close()


@pytest.fixture
def open_journal(stem: Path) -> Iterator[Callable[..., JournalStore]]:
    """Open (or reopen) the journal for ``stem``; everything opened is closed afterwards."""
    opened: list[JournalStore] = []

    def _open(now: float = T0, **kwargs: object) -> JournalStore:
        s = JournalStore(stem, now=now, **kwargs)  # type: ignore[arg-type]
        opened.append(s)
        return s

    yield _open
    for s in opened:
        s.close()
