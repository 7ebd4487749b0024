"""Run a real gateway (with the stand-in core) on free loopback ports, and talk to it.

Every socket test runs twice, on the stock asyncio loop and on uvloop, through the `run`
fixture. `serve()` listens on TCP port 0 and on a Unix socket in a short private
directory (sun_path is only 108 bytes, too short for pytest's tmp_path names).
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import tempfile
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import orjson
import pytest
import uvloop

from fixrouter.gateway import Gateway, GatewayConfig, ListenAddress

from .standin import StandInCore

Runner = Callable[[Coroutine[Any, Any, Any]], Any]


@pytest.fixture(params=["asyncio", "uvloop"])
def run(request: pytest.FixtureRequest) -> Runner:
    factory = uvloop.new_event_loop if request.param == "uvloop" else None

    def run(coroutine: Coroutine[Any, Any, Any]) -> Any:
        with asyncio.Runner(loop_factory=factory) as runner:
            return runner.run(asyncio.wait_for(coroutine, 60))

    return run


@pytest.fixture
def sock_dir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="gw", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@contextlib.asynccontextmanager
async def serve(
    sock_dir: Path | None = None, core: Any = None, **settings: Any
) -> AsyncIterator[tuple[Gateway, StandInCore]]:
    """A started gateway on tcp://127.0.0.1:0 (and a Unix socket if `sock_dir`)."""
    listen = [ListenAddress("tcp", "127.0.0.1", 0)]
    if sock_dir is not None:
        listen.append(ListenAddress("unix", path=str(sock_dir / "gw.sock")))
    config = replace(GatewayConfig(), listen=tuple(listen), **settings)
    core = core or StandInCore()
    gateway = Gateway(config, core)
    core.deliver = gateway.deliver
    await gateway.start()
    try:
        yield gateway, core
    finally:
        await gateway.close()


class LineClient:
    """A bare JSON-lines socket client that checks what the gateway writes."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, address: ListenAddress) -> LineClient:
        if address.kind == "tcp":
            reader, writer = await asyncio.open_connection(address.host, address.port)
        else:
            reader, writer = await asyncio.open_unix_connection(address.path)
        return cls(reader, writer)

    async def send(self, message: dict[str, Any] | bytes) -> None:
        data = message if isinstance(message, bytes) else orjson.dumps(message) + b"\n"
        self.writer.write(data)
        await self.writer.drain()

    async def recv(self, timeout: float = 5.0) -> dict[str, Any]:
        line = await asyncio.wait_for(self.reader.readline(), timeout)
        if not line:
            raise EOFError("the gateway closed the connection")
        event: dict[str, Any] = orjson.loads(line)
        return event

    async def request(self, message: dict[str, Any] | bytes) -> dict[str, Any]:
        await self.send(message)
        return await self.recv()

    async def hello(self, name: str, token: str | None = None) -> dict[str, Any]:
        hello: dict[str, Any] = {"op": "hello", "client": name}
        if token is not None:
            hello["token"] = token
        return await self.request(hello)

    async def silent(self, timeout: float = 0.2) -> None:
        """Assert that nothing arrives for `timeout` seconds."""
        with contextlib.suppress(TimeoutError):
            line = await asyncio.wait_for(self.reader.readline(), timeout)
            raise AssertionError(f"expected silence, got {line!r}")

    async def closed_by_peer(self, timeout: float = 5.0) -> bool:
        """True once the gateway has closed the connection (after any pending lines)."""
        try:
            while await asyncio.wait_for(self.reader.read(65536), timeout):
                pass
        except ConnectionError:
            pass
        return True

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(OSError):
            await self.writer.wait_closed()


async def connect(gateway: Gateway, name: str | None = None, index: int = 0) -> LineClient:
    client = await LineClient.open(gateway.addresses[index])
    if name is not None:
        welcome = await client.hello(name)
        assert welcome == {"ev": "welcome", "client": name, "protocol": 1}, welcome
    return client
