"""MemoryStore specifics (its shared behaviour is in test_base.py)."""

from __future__ import annotations

from fixrouter.store import MemoryStore


def test_keeps_its_own_copy() -> None:
    s = MemoryStore(now=0.0)
    buf = bytearray(b"abc")
    s.save_outbound(1, bytes(buf))
    s.save_inbound(1, buf)  # type: ignore[arg-type]
    buf[0] = ord("X")
    assert list(s.iter_outbound(1)) == [(1, b"abc")]
    assert list(s.iter_inbound()) == [(1, b"abc")]


def test_every_ticket_is_synced_at_once() -> None:
    s = MemoryStore(now=0.0)
    s.save_outbound(1, b"a")
    assert s.synced_upto() == s.written_upto() == s.sync() == 1


def test_context_manager_closes() -> None:
    with MemoryStore(now=0.0) as s:
        s.save_outbound(1, b"a")
    assert s._closed
