"""The asyncio client: one connection to the gateway, typed calls, a stream of events.

Theory of operation
-------------------
`Client.connect` opens the socket, sends `hello` and waits for `welcome` (or raises
`RequestRefused` with the gateway's code, e.g. BAD_TOKEN or NAME_IN_USE). A reader task
then reads event lines for the life of the connection:

- a line whose `req` matches a call this client is waiting on (`hello`, `status`,
  `orders`, `ping` each get a fresh integer `req`) resolves that call; `orders` gathers
  `status` lines until its `orders_end`;
- every other line (`accepted`, `denied`, `exec`, `cancel_rejected`, `session`, and
  `error` about an order) goes to the event queue, read with `events()` or `next_event()`.

`new`, `cancel` and `replace` return once the line is written: their outcome is an event,
correlated by the order `id`. When the connection ends, waiting calls raise
`ConnectionClosed` and `events()` stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import orjson

from fixrouter.errors import FixRouterError
from fixrouter.events import ErrorCode, OrderState, RequestError
from fixrouter.gateway.config import ListenAddress
from fixrouter.requests import OrderType, Side, TimeInForce

from .wire import ClientEvent, Number, OrdersEnd, ProtocolViolation, decode_event, request_line

log = logging.getLogger("fixrouter.client")

_READ_LIMIT = 16 * 1024 * 1024  # an `orders` reply is many lines, but each line is short


class ClientError(FixRouterError):
    """Base of the client's errors."""


class ConnectionClosed(ClientError):
    """The connection to the gateway ended (or was never made)."""


class RequestRefused(ClientError):
    """The gateway answered a call with an `error` event."""

    def __init__(self, error: RequestError) -> None:
        super().__init__(f"{error.code}: {error.reason}")
        self.error = error
        self.code: ErrorCode = error.code


@dataclass(slots=True)
class _Call:
    """A call waiting for its reply, matched by `req`."""

    future: asyncio.Future[Any]
    collect: list[OrderState] | None = None  # `orders`: the status lines so far


_CLOSED = object()  # queue sentinel: the connection ended


class Client:
    """A strategy's connection to fixrouter. Create with `await Client.connect(...)`."""

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, name: str
    ) -> None:
        self.name = name
        self._reader = reader
        self._writer = writer
        self._reqs = itertools.count(1)
        self._calls: dict[int, _Call] = {}
        self._events: asyncio.Queue[object] = asyncio.Queue()
        self._closed = False
        self._reader_task: asyncio.Task[None] | None = None

    @classmethod
    async def connect(
        cls, url: str, name: str, *, token: str | None = None, timeout: float = 10.0
    ) -> Client:
        """Connect to `tcp://HOST:PORT` or `unix:///PATH` and say hello as `name`.

        Raises:
            ConnectionClosed: the gateway cannot be reached or hung up.
            RequestRefused: the hello was refused (BAD_TOKEN, NAME_IN_USE, BAD_VALUE).
            TimeoutError: no welcome within `timeout` seconds.
            fixrouter.errors.ConfigError: `url` is not a tcp:// or unix:// URL.
        """
        address = ListenAddress.parse(url)
        try:
            if address.kind == "tcp":
                opening = asyncio.open_connection(address.host, address.port, limit=_READ_LIMIT)
            else:
                opening = asyncio.open_unix_connection(address.path, limit=_READ_LIMIT)
            reader, writer = await asyncio.wait_for(opening, timeout)
        except OSError as e:
            raise ConnectionClosed(f"cannot connect to {url}: {e.strerror or e}") from None
        client = cls(reader, writer, name)
        client._reader_task = asyncio.create_task(client._read_loop(), name=f"client-{name}")
        try:
            await client._call({"op": "hello", "client": name, "token": token}, timeout)
        except BaseException:
            await client.close()
            raise
        return client

    # -- orders ------------------------------------------------------------------------

    async def new(
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
        """Send a `new`. `extra` takes the protocol's other fields by name (`maturity`,
        `strike`, `put_or_call`, `expire_date`, `what_if`, ...). The outcome arrives as
        events for `id`."""
        await self._send(
            {
                "op": "new",
                "id": id,
                "symbol": symbol,
                "side": str(side),
                "qty": qty,
                "type": str(type),
                "price": price,
                "stop_price": stop_price,
                "tif": None if tif is None else str(tif),
                "account": account,
                "sec_type": sec_type,
                "currency": currency,
                "exchange": exchange,
                **extra,
            }
        )

    async def cancel(self, id: str) -> None:
        """Ask to cancel order `id`; the answer is an `exec canceled`, `cancel_rejected`
        or `error` event."""
        await self._send({"op": "cancel", "id": id})

    async def replace(
        self,
        id: str,
        new_id: str,
        *,
        qty: Number | None = None,
        price: Number | None = None,
        stop_price: Number | None = None,
        tif: TimeInForce | str | None = None,
    ) -> None:
        """Change order `id`; the changed order is called `new_id` from then on."""
        await self._send(
            {
                "op": "replace",
                "id": id,
                "new_id": new_id,
                "qty": qty,
                "price": price,
                "stop_price": stop_price,
                "tif": None if tif is None else str(tif),
            }
        )

    # -- queries -----------------------------------------------------------------------

    async def status(self, id: str, timeout: float = 10.0) -> OrderState:
        """The engine's state of order `id`.

        Raises:
            RequestRefused: e.g. UNKNOWN_ORDER.
        """
        state: OrderState = await self._call({"op": "status", "id": id}, timeout)
        return state

    async def orders(self, timeout: float = 10.0) -> list[OrderState]:
        """Every working order of this strategy."""
        states: list[OrderState] = await self._call({"op": "orders"}, timeout, collect=True)
        return states

    async def ping(self, timeout: float = 10.0) -> float:
        """Round trip to the gateway, in seconds."""
        loop = asyncio.get_running_loop()
        start = loop.time()
        await self._call({"op": "ping"}, timeout)
        return loop.time() - start

    # -- events ------------------------------------------------------------------------

    async def events(self) -> AsyncIterator[ClientEvent]:
        """Every event not answering a call, in order, until the connection ends."""
        while True:
            item = await self._events.get()
            if item is _CLOSED:
                self._events.put_nowait(_CLOSED)  # later readers see the end too
                return
            yield item  # type: ignore[misc]

    async def next_event(self, timeout: float | None = None) -> ClientEvent | None:
        """The next event, or None after `timeout` seconds.

        Raises:
            ConnectionClosed: the connection ended and every event was read.
        """
        try:
            item = await asyncio.wait_for(self._events.get(), timeout)
        except TimeoutError:
            return None
        if item is _CLOSED:
            self._events.put_nowait(_CLOSED)
            raise ConnectionClosed("the gateway closed the connection")
        return item  # type: ignore[return-value]

    # -- lifetime ----------------------------------------------------------------------

    async def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._writer.close()
            with contextlib.suppress(OSError):
                await self._writer.wait_closed()
        if self._reader_task is not None:
            await self._reader_task

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # -- internals ---------------------------------------------------------------------

    async def _send(self, fields: dict[str, Any]) -> None:
        if self._closed:
            raise ConnectionClosed("the connection is closed")
        self._writer.write(request_line(fields))
        try:
            await self._writer.drain()
        except (ConnectionError, OSError) as e:
            raise ConnectionClosed(f"connection lost: {e}") from None

    async def _call(self, fields: dict[str, Any], timeout: float, collect: bool = False) -> Any:
        req = next(self._reqs)
        call = _Call(asyncio.get_running_loop().create_future(), [] if collect else None)
        self._calls[req] = call
        try:
            await self._send({**fields, "req": req})
            return await asyncio.wait_for(call.future, timeout)
        finally:
            self._calls.pop(req, None)

    async def _read_loop(self) -> None:
        reason = "the gateway closed the connection"
        try:
            while True:
                line = await self._reader.readline()
                if not line.endswith(b"\n"):
                    break  # EOF (a partial last line is not an event)
                self._dispatch(line)
        except (ConnectionError, OSError, ValueError) as e:
            # ValueError: a line over _READ_LIMIT or not JSON; either way the stream is lost.
            reason = f"connection lost: {e}"
            if not self._closed:
                log.warning("client %s: %s", self.name, reason)
        finally:
            self._closed = True
            for call in self._calls.values():
                if not call.future.done():
                    call.future.set_exception(ConnectionClosed(reason))
            self._events.put_nowait(_CLOSED)
            self._writer.close()

    def _dispatch(self, line: bytes) -> None:
        obj = orjson.loads(line)
        if type(obj) is not dict:
            raise ValueError(f"event is not an object: {line[:80]!r}")
        try:
            event = decode_event(obj)
        except ProtocolViolation as e:
            # One unreadable event (say, a kind added by a newer gateway) is skipped, not
            # fatal: the stream itself is still in step.
            log.warning("client %s: skipped an event: %s", self.name, e)
            return
        req = obj.get("req")
        call = self._calls.get(req) if type(req) is int else None
        if call is None or call.future.done():
            self._events.put_nowait(event)
        elif isinstance(event, RequestError):
            call.future.set_exception(RequestRefused(event))
        elif call.collect is not None:
            if isinstance(event, OrdersEnd):
                call.future.set_result(call.collect)
            elif isinstance(event, OrderState):
                call.collect.append(event)
            else:
                self._events.put_nowait(event)
        else:
            call.future.set_result(event)
