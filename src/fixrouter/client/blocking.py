"""A blocking client for scripts and notebooks, over the asyncio one.

`BlockingClient` runs a private event loop in a daemon thread and forwards every call to
an asyncio `Client` on it, waiting for the result. So it has exactly the asyncio client's
behaviour (framing, `req` matching, errors) with none of its own; each call just blocks.
Use it from one thread at a time; `close()` (or `with`) stops the loop and the thread.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from types import TracebackType
from typing import Any, TypeVar

from fixrouter.events import OrderState
from fixrouter.requests import OrderType, Side, TimeInForce

from .aio import Client
from .wire import ClientEvent, Number

T = TypeVar("T")

_SLACK = 5.0  # seconds beyond a call's own timeout before the thread gives up waiting


class BlockingClient:
    """Create with `BlockingClient.connect(url, name, token=...)`; see `Client`."""

    def __init__(
        self, loop: asyncio.AbstractEventLoop, thread: threading.Thread, client: Client
    ) -> None:
        self._loop = loop
        self._thread = thread
        self._client = client
        self.name = client.name

    @classmethod
    def connect(
        cls, url: str, name: str, *, token: str | None = None, timeout: float = 10.0
    ) -> BlockingClient:
        """Connect and say hello; raises what `Client.connect` raises."""
        loop = asyncio.new_event_loop()
        thread = threading.Thread(
            target=loop.run_forever, name=f"fixrouter-client-{name}", daemon=True
        )
        thread.start()
        try:
            future = asyncio.run_coroutine_threadsafe(
                Client.connect(url, name, token=token, timeout=timeout), loop
            )
            client = future.result(timeout + _SLACK)
        except BaseException:
            _stop(loop, thread)
            raise
        return cls(loop, thread, client)

    def _run(self, coroutine: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        future = asyncio.run_coroutine_threadsafe(coroutine, self._loop)
        return future.result(None if timeout is None else timeout + _SLACK)

    def new(
        self,
        id: str,
        symbol: str,
        side: Side | str,
        qty: Number,
        type: OrderType | str = OrderType.LIMIT,
        *,
        price: Number | None = None,
        stop_price: Number | None = None,
        tif: TimeInForce | str | None = None,
        account: str | None = None,
        sec_type: str | None = None,
        currency: str | None = None,
        exchange: str | None = None,
        **extra: Any,
    ) -> None:
        sending = self._client.new(
            id, symbol, side, qty, type, price=price, stop_price=stop_price, tif=tif,
            account=account, sec_type=sec_type, currency=currency, exchange=exchange, **extra,
        )  # fmt: skip
        self._run(sending)

    def cancel(self, id: str) -> None:
        self._run(self._client.cancel(id))

    def replace(
        self,
        id: str,
        new_id: str,
        *,
        qty: Number | None = None,
        price: Number | None = None,
        stop_price: Number | None = None,
        tif: TimeInForce | str | None = None,
    ) -> None:
        self._run(
            self._client.replace(id, new_id, qty=qty, price=price, stop_price=stop_price, tif=tif)
        )

    def status(self, id: str, timeout: float = 10.0) -> OrderState:
        return self._run(self._client.status(id, timeout), timeout)

    def orders(self, timeout: float = 10.0) -> list[OrderState]:
        return self._run(self._client.orders(timeout), timeout)

    def ping(self, timeout: float = 10.0) -> float:
        return self._run(self._client.ping(timeout), timeout)

    def next_event(self, timeout: float | None = None) -> ClientEvent | None:
        """The next event, or None after `timeout` seconds (None: wait for ever).

        Raises:
            ConnectionClosed: the connection ended and every event was read.
        """
        return self._run(self._client.next_event(timeout), timeout)

    def close(self) -> None:
        if self._thread.is_alive():
            try:
                self._run(self._client.close(), 10.0)
            finally:
                _stop(self._loop, self._thread)

    def __enter__(self) -> BlockingClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _stop(loop: asyncio.AbstractEventLoop, thread: threading.Thread) -> None:
    loop.call_soon_threadsafe(loop.stop)
    thread.join()
    loop.close()
