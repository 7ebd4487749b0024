"""A gateway with the stand-in core for the client library to talk to."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import tempfile
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import uvloop

from fixrouter.gateway import Gateway, GatewayConfig, ListenAddress
from gateway.standin import StandInCore

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
    path = Path(tempfile.mkdtemp(prefix="cl", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@contextlib.asynccontextmanager
async def serve(
    sock_dir: Path | None = None, **settings: Any
) -> AsyncIterator[tuple[Gateway, StandInCore, list[str]]]:
    """A started gateway and its stand-in core; yields the listen URLs too."""
    listen = [ListenAddress("tcp", "127.0.0.1", 0)]
    if sock_dir is not None:
        listen.append(ListenAddress("unix", path=str(sock_dir / "gw.sock")))
    core = StandInCore()
    gateway = Gateway(replace(GatewayConfig(), listen=tuple(listen), **settings), core)
    core.deliver = gateway.deliver
    await gateway.start()
    try:
        yield gateway, core, [str(a) for a in gateway.addresses]
    finally:
        await gateway.close()
