"""transport.TransportStats: what the exporter reads of the line, against a scripted peer."""

from __future__ import annotations

import asyncio

from fixrouter.session import DisconnectReason
from fixrouter.store import MemoryStore

# tests/transport is importable as `transport` (pytest's rootdir-relative packages).
from transport.peer import ScriptedAcceptor  # type: ignore[import-not-found]
from transport.test_connection import make_transport, run, until  # type: ignore[import-not-found]


def test_counts_attempts_reads_and_disconnects_by_reason() -> None:
    async def test() -> None:
        peer = await ScriptedAcceptor.start()
        t = make_transport(MemoryStore(now=0.0), peer.port)
        task = asyncio.create_task(t.run())
        await until(lambda: t.logged_on)
        stats = t.stats
        assert (stats.connect_attempts, stats.connects) == (1, 1)
        assert stats.last_read_ns > 0  # the Logon answer was read
        peer.connections[0].writer.close()  # the line drops: nobody asked
        await until(lambda: len(peer.connections) == 2 and t.logged_on)
        assert stats.disconnects[DisconnectReason.CONNECTION_LOST] == 1
        assert (stats.connect_attempts, stats.connects) == (2, 2)
        await t.stop()
        await task
        assert stats.disconnects[DisconnectReason.LOGOUT_COMPLETE] == 1
        assert stats.disconnects[DisconnectReason.CONNECTION_LOST] == 1
        await peer.close()

    run(test)
