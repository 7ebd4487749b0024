"""A scripted FIX acceptor on a loopback port, for driving SessionTransport in tests.

It speaks just enough FIX 4.2 with fixrouter's own codec: answers Logon (or refuses it),
TestRequest and Logout, and records every message it receives, per connection. Behaviour
is switched by attributes so each test states what the counterparty does.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from fixrouter.codec import Encoder, FixMessage, FrameDecoder, Garbled, render_fields


@dataclass
class Connection:
    writer: asyncio.StreamWriter
    received: list[FixMessage] = field(default_factory=list)
    reads: int = 0


class ScriptedAcceptor:
    """Start with `await ScriptedAcceptor.start()`; `close()` when done."""

    def __init__(self) -> None:
        self.encoder = Encoder("IB", "FIXROUTER")
        self.next_seq = 1
        self.connections: list[Connection] = []
        self.answer_logon = True
        self.logon_refusal: str | None = None
        self.answer_logout = True
        self.changed = asyncio.Event()
        self.server: asyncio.Server | None = None
        self.port = 0

    @classmethod
    async def start(cls, ssl_context: ssl.SSLContext | None = None) -> ScriptedAcceptor:
        peer = cls()
        peer.server = await asyncio.start_server(peer._serve, "127.0.0.1", 0, ssl=ssl_context)
        peer.port = peer.server.sockets[0].getsockname()[1]
        return peer

    async def close(self) -> None:
        assert self.server is not None
        self.server.close()
        for c in self.connections:
            c.writer.close()
        await self.server.wait_closed()

    def send(self, c: Connection, msg_type: bytes, fields: list[tuple[int, str | int]]) -> None:
        now = self.encoder.timestamp(time.time())
        c.writer.write(self.encoder.encode(msg_type, self.next_seq, now, render_fields(fields)))
        self.next_seq += 1

    def all_received(self) -> list[FixMessage]:
        return [m for c in self.connections for m in c.received]

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:
        """Wait until `predicate()` is true, re-checking whenever a message arrives."""
        deadline = asyncio.get_running_loop().time() + timeout
        while not predicate():
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                raise TimeoutError("peer: condition not met")
            self.changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), min(left, 0.05))

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        c = Connection(writer)
        self.connections.append(c)
        self.changed.set()
        decoder = FrameDecoder()
        try:
            while data := await reader.read(65536):
                c.reads += 1
                for m in decoder.feed(data):
                    assert not isinstance(m, Garbled), m
                    c.received.append(m)
                    self._answer(c, m)
                self.changed.set()
        except (ConnectionError, ssl.SSLError):
            pass
        finally:
            writer.close()
            self.changed.set()

    def _answer(self, c: Connection, m: FixMessage) -> None:
        if m.msg_type == b"A":
            if self.logon_refusal is not None:
                self.send(c, b"5", [(58, self.logon_refusal)])
                c.writer.close()
            elif self.answer_logon:
                self.send(c, b"A", [(98, 0), (108, m.get_str(108) or "30")])
        elif m.msg_type == b"1":
            self.send(c, b"0", [(112, m.get_str(112) or "")])
        elif m.msg_type == b"5" and self.answer_logout:
            self.send(c, b"5", [])
