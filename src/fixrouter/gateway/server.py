"""The upstream gateway: newline-delimited JSON over TCP and Unix sockets.

Theory of operation
-------------------
One `Gateway` owns the listening sockets and every strategy connection. Each connection is
an `asyncio.Protocol` (`_Connection`), a small state machine::

    AWAITING_HELLO ──hello ok──▶ READY ──close / slow / peer gone──▶ CLOSED
          │  hello refused (BAD_TOKEN, NAME_IN_USE) or no hello in time ─────▶ CLOSED

- *Framing.* `data_received` splits the byte stream at b"\\n". The usual read holds exactly
  one whole line and is handed to the parser without a copy (orjson skips the trailing
  newline). A partial line waits in `_pending`; if what is pending grows past
  `max_line_bytes` the client gets LINE_TOO_LONG at once and the rest of that line is
  dropped up to its newline, so the connection stays usable and memory stays bounded. A
  half line followed by EOF is simply discarded.
- *Requests.* `LineParser` (pure) yields a typed request stamped with the connection's
  strategy name, or a `RequestError` that is written straight back. Orders go to the
  `RequestHandler`; `status`/`orders` are answered from its synchronous queries; `hello`,
  `ping` are answered here. The clock is read once per socket read: `received_ns` for the
  tick-to-wire measurement.
- *Events.* The engine calls `deliver(strategy, event)`; the event is encoded once and
  written to the connection(s) that said hello with that name, and to nobody else.
  Events for a strategy with no live connection are counted and dropped: after
  reconnecting, a strategy asks `orders`/`status` for the truth.
- *One write per loop turn.* Each `transport.write` is a syscall, and on loopback TCP it
  also runs the receiver's side of the stack: at saturation, one per event was the
  largest single cost after the order path itself. So a connection writes the *first*
  event of an event-loop turn at once (a lone order's `accepted` or `exec` never waits
  for anything) and holds every later one of the same turn in `_out`; one callback per
  turn for the whole gateway (`Gateway._end_turn`, queued with `loop.call_soon` by the
  first write of the turn, so it runs before the loop next blocks in epoll, busy-polling
  or not) writes each held list as one `transport.write`. A connection that has held
  `HOLD_EVENTS` events writes them at once instead of waiting for the turn's end. A burst
  of orders read in one turn thus costs its strategy one write per `HOLD_EVENTS` events,
  not one per event, and the strategy has its first answers while the engine still works
  on the rest (holding all of a long turn's events made a strategy that waits for answers
  before sending more, as the bench's load generator does, leave the engine idle in
  between: tests/bench/README.md, "Bubbles"). Held bytes keep their
  order (nothing is written at once while anything is held), and each connection holds
  its own, so a strategy still sees only its events, in order. Anything that closes a
  connection writes what it holds first (`shutdown`, `refuse`) or drops it with the
  connection (`abort`, `connection_lost`); the end-of-turn callback skips closed ones.
- *Slow clients.* Each transport's write-buffer high-water mark is `max_outbound_bytes`.
  When a client stops reading and its buffer passes the mark, asyncio calls
  `pause_writing`; we abort that connection there and then (counted in
  `stats.slow_disconnects`), so `deliver` never waits and never buffers without bound.
  What a connection holds for the end of the turn is handed to the transport as soon as
  it reaches `HOLD_LIMIT` (or `max_outbound_bytes`, if smaller), so the mark applies to
  a busy turn too, at most that many bytes late.
- *Isolation.* The name is freed in the same call that decides to drop a connection, so a
  strategy can reconnect at once; the engine hears `strategy_disconnected` from
  `connection_lost`, a separate loop callback, never re-entrantly from inside `deliver`.

Unix sockets are bound under a umask of 0177 and then chmod-ed to 0600, so they are never
reachable by other users, not even for an instant. A stale socket file (nobody accepting on
it) is removed; a live one, or a path that is not a socket, is an error rather than
something to delete. At close, the file is removed only if it is still the one we made.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import os
import socket
import time
from collections.abc import Iterable
from typing import Any, Final, cast

from fixrouter.errors import FixRouterError
from fixrouter.events import ErrorCode, Event, OrderState, RequestError, SessionChanged
from fixrouter.requests import CancelOrder, NewOrder, OrdersQuery, ReplaceOrder, StatusQuery
from fixrouter.unixsock import SocketPathError, remove_stale_socket

from .config import GatewayConfig, ListenAddress
from .encode import encode_event, encode_orders_end, encode_pong, encode_welcome
from .handler import RequestHandler
from .parse import Hello, LineParser, Ping, Req

log = logging.getLogger("fixrouter.gateway")

_clock: Final = time.monotonic_ns
_ORDER_TYPES: Final = (NewOrder, CancelOrder, ReplaceOrder)

HOLD_LIMIT: Final = 64 * 1024
"""Bytes a connection may hold for the end of the loop turn before they are written at once
(see "One write per loop turn" above)."""
HOLD_EVENTS: Final = 32
"""Events a connection may hold for the end of the loop turn before they are written at
once (see "One write per loop turn" above). 32 for the same reason as the session
transport's `FLUSH_EVERY`."""


class GatewayError(FixRouterError):
    """The gateway could not listen where it was told to (the message names the address)."""


class GatewayStats:
    """Plain counters, read by the metrics collector at scrape time (cheap on the hot path)."""

    __slots__ = (
        "connections_closed",
        "connections_opened",
        "errors",
        "hellos_refused",
        "lines",
        "slow_disconnects",
        "undeliverable",
    )

    def __init__(self) -> None:
        self.connections_opened = 0
        self.connections_closed = 0
        self.hellos_refused = 0
        self.slow_disconnects = 0
        self.lines = 0
        self.undeliverable = 0
        """Events for a strategy with no live connection, dropped."""
        self.errors: dict[ErrorCode, int] = dict.fromkeys(ErrorCode, 0)
        """`error` events written, by code (including the engine's, through deliver)."""


class Gateway:
    """Listens for strategies and connects them to a `RequestHandler`.

    Use: `gw = Gateway(config, handler); await gw.start(); ...; await gw.close()`.
    `deliver` and `broadcast_session` must be called on the loop thread.
    """

    def __init__(self, config: GatewayConfig, handler: RequestHandler) -> None:
        self.config = config
        self.handler = handler
        self.stats = GatewayStats()
        self.parser = LineParser(config.fractional_qty)
        self._servers: list[asyncio.Server] = []
        self._bound: list[ListenAddress] = []
        self._unix_files: list[tuple[str, int, int]] = []  # path, st_dev, st_ino
        self._connections: set[_Connection] = set()
        self._by_name: dict[str, list[_Connection]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._dirty: list[_Connection] = []
        """Connections that wrote in this loop turn; `_end_turn` is queued while non-empty."""

    @property
    def addresses(self) -> list[ListenAddress]:
        """Where the gateway listens, with OS-chosen ports filled in."""
        return list(self._bound)

    def connected(self) -> list[str]:
        """Names of the strategies with at least one live connection."""
        return list(self._by_name)

    async def start(self) -> None:
        """Bind every `listen` address.

        Raises:
            GatewayError: an address is in use, not bindable, or a Unix path is taken.
        """
        loop = self._loop = asyncio.get_running_loop()
        try:
            for address in self.config.listen:
                if address.kind == "tcp":
                    server = await self._start_tcp(loop, address)
                else:
                    server = await self._start_unix(loop, address)
                self._servers.append(server)
        except BaseException:
            await self.close()
            raise

    async def _start_tcp(
        self, loop: asyncio.AbstractEventLoop, address: ListenAddress
    ) -> asyncio.Server:
        try:
            server = await loop.create_server(
                self._new_connection, address.host, address.port, reuse_address=True
            )
        except OSError as e:
            raise GatewayError(f"cannot listen on {address}: {e.strerror or e}") from None
        # uvloop's `Server.sockets` is a list where typeshed says tuple, and compiled code
        # checks the declared type: read it untyped.
        untyped: Any = server
        for sock in untyped.sockets:
            host, port = sock.getsockname()[:2]
            self._bound.append(ListenAddress("tcp", host=host, port=port))
        log.info("gateway listening on %s", address)
        return server

    async def _start_unix(
        self, loop: asyncio.AbstractEventLoop, address: ListenAddress
    ) -> asyncio.Server:
        path = address.path
        _remove_stale_socket(path)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            # umask is process-wide; this runs once at start-up on the loop thread.
            old_umask = os.umask(0o177)
            try:
                sock.bind(path)
            finally:
                os.umask(old_umask)
            os.chmod(path, 0o600)
            st = os.stat(path)
            server = await loop.create_unix_server(self._new_connection, sock=sock)
        except OSError as e:
            sock.close()
            raise GatewayError(f"cannot listen on {address}: {e.strerror or e}") from None
        self._unix_files.append((path, st.st_dev, st.st_ino))
        self._bound.append(address)
        log.info("gateway listening on %s", address)
        return server

    async def close(self) -> None:
        """Stop listening, close every connection (after writing what is queued for it),
        remove our Unix socket files."""
        for server in self._servers:
            server.close()
        for connection in list(self._connections):
            connection.shutdown()
        for server in self._servers:
            await server.wait_closed()
        self._servers.clear()
        for path, dev, ino in self._unix_files:
            try:
                st = os.stat(path)
                if (st.st_dev, st.st_ino) == (dev, ino):
                    os.unlink(path)
            except OSError:
                pass
        self._unix_files.clear()
        # Let the transports run connection_lost before the loop may go away.
        await asyncio.sleep(0)

    def deliver(self, strategy: str, event: Event) -> None:
        """Write `event` to the connection(s) of `strategy` only; never blocks."""
        connections = self._by_name.get(strategy)
        if not connections:
            self.stats.undeliverable += 1
            return
        if type(event) is RequestError:
            self.stats.errors[event.code] += 1
        data = encode_event(event)
        if len(connections) == 1:
            connections[0].write(data)
        else:
            # A write may drop a slow connection, which edits the list: iterate a copy.
            for connection in tuple(connections):
                connection.write(data)

    def broadcast_session(self, event: SessionChanged) -> None:
        """Tell every strategy that said hello about a FIX session state change."""
        data = encode_event(event)
        for connections in list(self._by_name.values()):
            for connection in tuple(connections):
                connection.write(data)

    # -- called by connections ---------------------------------------------------------

    def _new_connection(self) -> _Connection:
        return _Connection(self)

    def _wrote(self, connection: _Connection) -> None:
        """`connection` wrote its first bytes of this loop turn: end the turn for it later."""
        dirty = self._dirty
        if not dirty:
            loop = self._loop
            if loop is None:  # a gateway driven without start(), as tools and benches do
                loop = self._loop = asyncio.get_running_loop()
            loop.call_soon(self._end_turn)
        dirty.append(connection)

    def _end_turn(self) -> None:
        """The end of a loop turn: each connection that wrote writes what it held, at once."""
        dirty = self._dirty
        self._dirty = []
        for connection in dirty:
            try:
                connection.end_turn()
            except Exception:
                # A transport that refuses a write is broken: drop it, keep the others.
                log.exception("gateway: writing to %s failed", connection.strategy or "client")
                connection.abort()

    def _admit(self, connection: _Connection, hello: Hello, req: Req) -> None:
        """Check a hello's identity; on success register the name and say welcome."""
        name = hello.client
        client = self.config.clients.get(name)
        if client is None and not self.config.allow_unknown_clients:
            return connection.refuse(ErrorCode.BAD_TOKEN, f"client {name} is not configured", req)
        if client is not None and client.token is not None:
            offered = (hello.token or "").encode()
            # compare_digest: the time taken does not tell how much of the token matched.
            if not hmac.compare_digest(offered, client.token.encode()):
                log.warning("gateway: bad or missing token for %s from %s", name, connection.peer)
                return connection.refuse(
                    ErrorCode.BAD_TOKEN, f"bad or missing token for {name}", req
                )
        live = self._by_name.get(name)
        if live and not self.config.allow_duplicate_names:
            return connection.refuse(ErrorCode.NAME_IN_USE, f"{name} is already connected", req)
        if live:
            live.append(connection)
        else:
            self._by_name[name] = [connection]
        connection.strategy = name
        connection.write(encode_welcome(name, req))
        log.info("gateway: %s connected from %s", name, connection.peer)
        self.handler.strategy_connected(name)

    def _release(self, connection: _Connection) -> None:
        """Forget a connection's name so events stop and the name is free again."""
        name = connection.strategy
        if name is None:
            return
        connections = self._by_name.get(name)
        if connections is not None and connection in connections:
            connections.remove(connection)
            if not connections:
                del self._by_name[name]


class _Connection(asyncio.Protocol):
    """One strategy's socket; see the module docstring for its states."""

    __slots__ = (
        "_closed",
        "_discarding",
        "_gateway",
        "_handler",
        "_held",
        "_hello_timer",
        "_hold_limit",
        "_in_turn",
        "_max_line",
        "_out",
        "_parser",
        "_pending",
        "_stats",
        "_transport",
        "peer",
        "strategy",
    )

    def __init__(self, gateway: Gateway) -> None:
        self._gateway = gateway
        self._handler = gateway.handler
        self._parser = gateway.parser
        self._stats = gateway.stats
        self._max_line = gateway.config.max_line_bytes
        self._transport: asyncio.Transport | None = None
        self._pending = b""
        self._discarding = False  # dropping the rest of an over-long line
        self._closed = False
        self._hello_timer: asyncio.TimerHandle | None = None
        self._in_turn = False  # wrote in this loop turn: later writes are held in _out
        self._out: list[bytes] = []
        self._held = 0  # bytes in _out
        self._hold_limit = min(HOLD_LIMIT, gateway.config.max_outbound_bytes)
        self.strategy: str | None = None
        self.peer = "?"

    # -- asyncio callbacks -------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, only alike.
        transport = cast(asyncio.Transport, transport)
        self._transport = transport
        config = self._gateway.config
        transport.set_write_buffer_limits(high=config.max_outbound_bytes)
        peer = transport.get_extra_info("peername")
        self.peer = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else "unix"
        self._gateway._connections.add(self)
        self._stats.connections_opened += 1
        self._hello_timer = asyncio.get_running_loop().call_later(
            config.hello_timeout, self._hello_expired
        )

    def connection_lost(self, exc: Exception | None) -> None:
        was_closed = self._closed
        self._closed = True
        self._pending = b""
        self._out.clear()
        self._held = 0
        if self._hello_timer is not None:
            self._hello_timer.cancel()
            self._hello_timer = None
        gateway = self._gateway
        gateway._connections.discard(self)
        gateway._release(self)
        self._stats.connections_closed += 1
        if self.strategy is not None:
            if not was_closed:
                log.info("gateway: %s disconnected (%s)", self.strategy, exc or "closed by peer")
            try:
                self._handler.strategy_disconnected(self.strategy)
            except Exception:
                log.exception("gateway: handler failed on disconnect of %s", self.strategy)

    def pause_writing(self) -> None:
        # The client stopped reading and max_outbound_bytes are queued: drop it by policy.
        if self._closed:
            return
        self._stats.slow_disconnects += 1
        log.warning(
            "gateway: %s (%s) is not reading; disconnected with %d bytes queued",
            self.strategy or "client",
            self.peer,
            self._transport.get_write_buffer_size() if self._transport else 0,
        )
        self.abort()

    def resume_writing(self) -> None:
        pass  # never paused: pause_writing drops the connection instead

    def eof_received(self) -> bool:
        return False  # half a line then EOF: the fragment is dropped and the socket closed

    def data_received(self, data: bytes) -> None:
        if self._closed:
            return
        now = _clock()
        if self._pending:
            data = self._pending + data
            self._pending = b""
        end = len(data)
        nl = data.find(b"\n")
        if nl == end - 1 and nl <= self._max_line and not self._discarding:
            # The usual read: one whole line. orjson ignores the trailing newline.
            self._line(data, now)
            return
        start = 0
        while nl >= 0:
            if self._discarding:
                self._discarding = False
            elif nl - start > self._max_line:
                self._too_long()
            elif nl > start:
                self._line(data[start:nl], now)
            if self._closed:
                return
            start = nl + 1
            nl = data.find(b"\n", start)
        if start < end and not self._discarding:
            rest = data[start:] if start else data
            if len(rest) > self._max_line:
                self._too_long()
                self._discarding = True
            else:
                self._pending = rest

    # -- requests ----------------------------------------------------------------------

    def _line(self, line: bytes, now: int) -> None:
        self._stats.lines += 1
        # A method call on the parser itself, not a bound method kept aside: compiled, it
        # is a direct call that returns the pair without building a tuple.
        parsed, req = self._parser.parse(line, self.strategy, now)
        kind = type(parsed)
        if kind in _ORDER_TYPES:
            try:
                self._handler.handle(parsed)  # type: ignore[arg-type]
            except Exception:
                log.exception("gateway: handler failed on %s", kind.__name__)
                self._error(ErrorCode.ENGINE_UNAVAILABLE, "internal error", req, parsed.id)  # type: ignore[union-attr]
        elif kind is RequestError:
            assert isinstance(parsed, RequestError)
            if parsed.code is ErrorCode.BAD_JSON and not line.strip():
                return  # a blank line (e.g. a bare "\r\n") is not worth an error
            self._stats.errors[parsed.code] += 1
            self.write(encode_event(parsed, req))
        elif kind is StatusQuery:
            assert isinstance(parsed, StatusQuery)
            self._status(parsed, req)
        elif kind is OrdersQuery:
            assert isinstance(parsed, OrdersQuery)
            self._orders(parsed, req)
        elif kind is Ping:
            self.write(encode_pong(req))
        elif kind is Hello:
            assert isinstance(parsed, Hello)
            if self._hello_timer is not None:
                self._hello_timer.cancel()
                self._hello_timer = None
            self._gateway._admit(self, parsed, req)

    def _status(self, query: StatusQuery, req: Req) -> None:
        try:
            answer = self._handler.status(query)
        except Exception:
            log.exception("gateway: handler failed on status")
            return self._error(ErrorCode.ENGINE_UNAVAILABLE, "internal error", req, query.id)
        if type(answer) is RequestError:
            self._stats.errors[answer.code] += 1
        self.write(encode_event(answer, req))

    def _orders(self, query: OrdersQuery, req: Req) -> None:
        try:
            states: Iterable[OrderState] = list(self._handler.orders(query))
        except Exception:
            log.exception("gateway: handler failed on orders")
            return self._error(ErrorCode.ENGINE_UNAVAILABLE, "internal error", req)
        # One write: the whole listing reaches the kernel together, framed by orders_end.
        chunks = [encode_event(state, req) for state in states]
        chunks.append(encode_orders_end(len(chunks), req))
        self.write(b"".join(chunks))

    def _error(self, code: ErrorCode, reason: str, req: Req, order_id: str | None = None) -> None:
        self._stats.errors[code] += 1
        self.write(encode_event(RequestError(code, reason, order_id), req))

    def _hello_expired(self) -> None:
        self._hello_timer = None
        if self.strategy is None and not self._closed:
            timeout = self._gateway.config.hello_timeout
            self.refuse(ErrorCode.NOT_HELLO, f"no hello within {timeout:g} s", None)

    # -- output ------------------------------------------------------------------------

    def write(self, data: bytes) -> None:
        """Write at once if this is the connection's first write of the loop turn, else
        hold `data` for the end of the turn (module docstring, "One write per loop turn")."""
        if self._closed:
            return
        if not self._in_turn:
            self._in_turn = True
            try:
                self._transport.write(data)  # type: ignore[union-attr]
            finally:
                self._gateway._wrote(self)  # whatever happened, the turn must end
            return
        self._out.append(data)
        self._held += len(data)
        if self._held >= self._hold_limit or len(self._out) >= HOLD_EVENTS:
            self._write_held()

    def end_turn(self) -> None:
        """Called once at the end of a loop turn in which this connection wrote."""
        self._in_turn = False
        if self._out:
            self._write_held()

    def _write_held(self) -> None:
        out = self._out
        data = out[0] if len(out) == 1 else b"".join(out)
        out.clear()
        self._held = 0
        if not self._closed:
            # May call pause_writing, which aborts a client that stopped reading.
            self._transport.write(data)  # type: ignore[union-attr]

    def refuse(self, code: ErrorCode, reason: str, req: Req) -> None:
        """Answer a failed hello with an error, then close once it is flushed."""
        self._stats.hellos_refused += 1
        self._error(code, reason, req)
        if self._out:
            self._write_held()
        self._closed = True
        if self._transport is not None:
            self._transport.close()

    def shutdown(self) -> None:
        """Stop reading and delivering; close once what is queued has been written."""
        if self._out:
            self._write_held()
        self._closed = True
        self._gateway._release(self)
        if self._transport is not None:
            self._transport.close()

    def abort(self) -> None:
        """Drop the connection now, discarding anything queued."""
        self._closed = True
        self._out.clear()
        self._held = 0
        self._gateway._release(self)
        if self._transport is not None:
            self._transport.abort()

    def _too_long(self) -> None:
        self._error(
            ErrorCode.LINE_TOO_LONG,
            f"line longer than {self._max_line} bytes; it was dropped",
            None,
        )


def _remove_stale_socket(path: str) -> None:
    """Remove `path` if it is a socket nobody accepts on (see `fixrouter.unixsock`).

    Raises:
        GatewayError: `path` is not a socket, or a live process is listening on it.
    """
    try:
        removed = remove_stale_socket(path, f"unix://{path}")
    except SocketPathError as exc:
        raise GatewayError(str(exc)) from None
    if removed:
        log.info("gateway: removed stale socket %s", path)
