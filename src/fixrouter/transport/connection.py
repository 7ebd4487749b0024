"""The asyncio adapter that drives one sans-I/O `Session` over TCP or TLS.

Theory of operation
-------------------
`SessionTransport.run()` is the life of one session's line: wait for session time, pick an
endpoint and a delay from the `ReconnectPolicy`, connect (TCP_NODELAY, optional TLS, a
connect timeout), call `session.connection_made`, then let the protocol callbacks drive
the core until the connection closes, and go round again until `stop()`. A session that
needs an operator (case 15: `operator_action_required`) stays down until `resume()`.

Every callback is the same few lines: read the clock once, call the core, carry out the
returned actions in order, flush, re-arm the timer.

* `SendBytes` honours write-before-send. The session has already journaled the message;
  the bytes may reach the socket only once `store.synced_upto() >= ticket`. In `os`
  durability that is always true on return, so the bytes go straight into the outbound
  batch. In `fsync` durability they wait in a FIFO and a group commit runs
  `store.sync()` in a one-thread executor; when it completes, every held message its
  ticket covers is released in order, and if messages arrived while it ran, the next
  sync starts at once and covers them all. Once anything is held, everything after it
  is held too, so the wire order is the MsgSeqNum order. A `CommitWatch` shared by the
  engine's sessions, when given, counts the syncs in flight (a busy-polling loop sleeps
  while any runs: `fixrouter.busypoll`).
* Writes are batched: each callback appends to one list and writes it with a single
  `transport.write` at its end. For `send_app` calls from outside (the gateway) the first
  one in an event-loop turn is written at once, so a lone order never waits for the loop;
  later ones in the same turn collect and are written together by one callback queued
  for the end of the turn, or as soon as `FLUSH_EVERY` have collected. So a burst read
  from one gateway packet costs one write per `FLUSH_EVERY` orders, not one per order,
  and its first orders are on the wire while the engine still works on the rest: the
  counterparty answers them meanwhile, and its answers are waiting when the turn ends.
  Holding a whole long turn instead left both ends of the engine idle together in turn
  (tests/bench/README.md, "Bubbles").
* `Deliver` and `SessionEvent` go to the owner's callbacks (`on_deliver`, `on_event`).
* `Disconnect` closes the socket once any held bytes are released (a Logout must still
  leave), and `session.connection_lost` is called when the close completes.

The timer is one `loop.call_at` handle armed lazily: a later deadline (every send moves
the heartbeat deadline) leaves it alone, because firing early is harmless, as the core
checks `now` against its own deadlines and the handle is re-armed after each firing. Only
an earlier deadline re-arms it, so the order path allocates no timer handles.

`now` is wall-clock epoch seconds (`time.time`), as the core and the store use it; the
timer converts a deadline to the loop's monotonic clock when arming.

`stats` (`TransportStats`) counts connection attempts and disconnects by reason, and
stamps the monotonic time of the latest socket read; the metrics exporter reads them at
scrape time. A close the session did not ask for (no `Disconnect` came first and we are
not stopping) is counted as `CONNECTION_LOST`.

`wire_tap`, when set (the FIX message log), is called with `(True, message)` for every
message written to the socket and `(False, data)` for every chunk read from it; it must
be cheap and must not raise (the FIX log only queues the bytes for its own thread).

Logging (logger `fixrouter.transport`) covers the line's life: connect attempts,
connects, failures, disconnects with their reason. It never logs message contents, so
a Logon password or key material cannot reach a log.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import socket
import ssl
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Final, cast

from fixrouter.codec import FixMessage
from fixrouter.session import (
    Action,
    Deliver,
    Disconnect,
    DisconnectReason,
    EventKind,
    SendBytes,
    Session,
    SessionEvent,
    SessionState,
)
from fixrouter.store import MessageStore, StoreError

from .commits import CommitWatch
from .reconnect import Endpoint, ReconnectPolicy
from .settings import TransportSettings

log = logging.getLogger("fixrouter.transport")

Clock = Callable[[], float]
DeliverCallback = Callable[[str, FixMessage], None]
EventCallback = Callable[[str, SessionEvent], None]

FLUSH_EVERY: Final = 32
"""Messages from `send_app` a loop turn collects before it writes them without waiting for
the turn's end (see "Writes are batched" above). 32 rather than 16: half the writes, and
in 5 interleaved bench pairs 1-2.5% more throughput with the engine still never idle at the
bench's 64 orders in flight (tests/bench/README.md, "Bubbles")."""

CLOSE_GRACE: Final = 5.0
"""Seconds a closing socket may take to flush before it is aborted (a peer that stopped
reading must not keep the session from reconnecting)."""

_LOGGED_ON_STATES: Final = frozenset({SessionState.ACTIVE, SessionState.RESENDING})
_ns: Final = time.monotonic_ns


class TransportStats:
    """Plain counters of one session's line, read by the metrics collector at scrape time."""

    __slots__ = ("connect_attempts", "connects", "disconnects", "last_read_ns")

    def __init__(self) -> None:
        self.connect_attempts = 0
        """TCP (or TLS) connections tried, failed ones included."""
        self.connects = 0
        """Connections established."""
        self.disconnects: dict[DisconnectReason, int] = dict.fromkeys(DisconnectReason, 0)
        """Connections closed, by the session's reason (CONNECTION_LOST: not asked for)."""
        self.last_read_ns = 0
        """`time.monotonic_ns()` when the latest bytes were read from the socket: the start
        of the execution-report-to-strategy latency."""


class _LineProtocol(asyncio.Protocol):
    """Forwards asyncio's callbacks for one connection to its SessionTransport."""

    __slots__ = ("_owner", "closed", "transport")

    def __init__(self, owner: SessionTransport) -> None:
        self._owner = owner
        self.transport: asyncio.Transport | None = None
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's TCPTransport is not registered as an asyncio.Transport: no isinstance.
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self._owner._on_data(self, data)

    def connection_lost(self, exc: Exception | None) -> None:
        self._owner._on_closed(self, exc)
        if not self.closed.done():
            self.closed.set_result(None)

    def pause_writing(self) -> None:
        # The kernel buffer is full: the counterparty is not reading. Messages are
        # journaled, so nothing is lost; the line's liveness checks will drop it.
        log.warning("%s: socket send buffer full, counterparty is not reading", self._owner.name)

    def resume_writing(self) -> None:
        log.info("%s: socket send buffer drained", self._owner.name)


class SessionTransport:
    """Keeps one session connected to its counterparty. See the module docstring.

    Use from inside a running event loop: `task = asyncio.create_task(t.run())`, orders
    via `send_app`, and `await t.stop()` to log out and end `run()`.
    """

    def __init__(
        self,
        name: str,
        session: Session,
        store: MessageStore,
        settings: TransportSettings,
        *,
        on_deliver: DeliverCallback | None = None,
        on_event: EventCallback | None = None,
        policy: ReconnectPolicy | None = None,
        clock: Clock = time.time,
        commits: CommitWatch | None = None,
    ) -> None:
        self.name = name
        self.session = session
        self._store = store
        self._settings = settings
        self._on_deliver = on_deliver
        self._on_event = on_event
        self._policy = policy or ReconnectPolicy(
            settings.endpoints,
            base=settings.reconnect_interval,
            cap=settings.max_reconnect_interval,
            jitter=settings.reconnect_jitter,
        )
        self._clock = clock
        self._ssl: ssl.SSLContext | None = settings.tls.context() if settings.tls else None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._line: _LineProtocol | None = None
        self._endpoint: Endpoint | None = None
        self._out: list[bytes] = []
        self._flush_scheduled = False
        self._held: collections.deque[SendBytes] = collections.deque()
        self._sync_running = False
        self._commits = commits
        self._executor: ThreadPoolExecutor | None = None
        self._close_when_drained: Disconnect | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at: float | None = None
        self._logged_on_this_line = False
        self._stopping = False
        self._wake = asyncio.Event()
        self._failed: BaseException | None = None
        self.stats = TransportStats()
        self.wire_tap: Callable[[bool, bytes], None] | None = None

    # ---- public --------------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        return self._line is not None

    @property
    def logged_on(self) -> bool:
        return self._line is not None and self.session.state in _LOGGED_ON_STATES

    @property
    def endpoint(self) -> Endpoint | None:
        """The endpoint of the current connection, if any."""
        return self._endpoint if self._line is not None else None

    def send_app(self, msg_type: bytes, body: bytes) -> None:
        """Hand one application message to the session; the bytes leave this loop turn.

        Raises whatever `Session.send_app` raises (NotLoggedOn, LocalProtocolError,
        StoreError); then nothing was journaled or sent.
        """
        actions = self.session.send_app(msg_type, body, self._clock())
        self._carry_out(actions)
        if self._out and not self._flush_scheduled:
            # The first order of a loop turn leaves at once; any more in the same turn
            # collect in _out and leave together when the turn ends.
            self._flush()
            self._flush_scheduled = True
            assert self._loop is not None
            self._loop.call_soon(self._scheduled_flush)
        elif len(self._out) >= FLUSH_EVERY:
            self._flush()
        self._rearm()

    async def run(self) -> None:
        """Connect, reconnect with back-off, and fail over until `stop()` is called.

        Raises StoreError if the journal fails (a message could not be made durable):
        the session must not go on sending.
        """
        self._loop = asyncio.get_running_loop()
        try:
            while not self._stopping:
                if self.session.operator_action_required:
                    log.error(
                        "%s: staying down: sequence numbers disagree with the counterparty's "
                        "(MsgSeqNum too low at logon); an operator must set them, then resume",
                        self.name,
                    )
                    await self._sleep(None)
                    continue
                if not await self._wait_for_session_time():
                    continue
                attempt = self._policy.next_attempt()
                if attempt.delay > 0:
                    log.info(
                        "%s: reconnecting to %s in %.1fs", self.name, attempt.endpoint,
                        attempt.delay,
                    )  # fmt: skip
                    if not await self._sleep(attempt.delay):
                        continue
                await self._connect_once(attempt.endpoint)
                if self._failed is not None:
                    raise self._failed
        finally:
            self._cancel_timer()
            if self._executor is not None:
                self._executor.shutdown(wait=True)

    async def stop(self, text: str = "") -> None:
        """Log out (wait for the Logout reply or LogoutTimeout), close, and end `run()`."""
        self._stopping = True
        self._wake.set()
        line = self._line
        if line is None:
            return
        if self.session.state in _LOGGED_ON_STATES:
            log.info("%s: logging out", self.name)
            self._carry_out(self.session.logout(self._clock(), text))
            self._flush()
            self._rearm()
        elif line.transport is not None:
            # Not logged on (Logon in flight): there is nobody to say goodbye to.
            self._close(line, "stopping before logon completed")
        # The core's own LogoutTimeout timer disconnects; the margin covers a slow close.
        timeout = self.session.config.logout_timeout + CLOSE_GRACE + 1.0
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(line.closed), timeout)
        if self._line is line and line.transport is not None:
            line.transport.abort()

    def resume(self) -> None:
        """Wake a session that stayed down for an operator, after the operator acted."""
        self._wake.set()

    # ---- connecting ----------------------------------------------------------------------

    async def _connect_once(self, endpoint: Endpoint) -> None:
        loop = self._loop
        assert loop is not None
        tls = self._settings.tls
        log.info("%s: connecting to %s%s", self.name, endpoint, " (TLS)" if tls else "")
        self.stats.connect_attempts += 1
        line = _LineProtocol(self)
        try:
            transport, _ = await asyncio.wait_for(
                loop.create_connection(
                    lambda: line,
                    endpoint.host,
                    endpoint.port,
                    ssl=self._ssl,
                    server_hostname=(tls.server_hostname or endpoint.host) if tls else None,
                ),
                self._settings.connect_timeout,
            )
        except (OSError, TimeoutError, ssl.SSLError) as e:
            reason = "timed out" if isinstance(e, TimeoutError) else (e.strerror or str(e))
            log.warning("%s: connect to %s failed: %s", self.name, endpoint, reason)
            self._policy.failed()
            return
        # uvloop may call connection_made after create_connection has returned.
        line.transport = transport
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, int(self._settings.nodelay))
        # Typed as the attribute, not as `line`: mypy would otherwise take `self._line` to
        # be `line` until the end of this method, across the await below that lets
        # `_on_closed` clear it, and the compiled code would trust that and fail.
        self._line = cast("_LineProtocol | None", line)
        self._endpoint = endpoint
        self._logged_on_this_line = False
        self.stats.connects += 1
        log.info("%s: connected to %s", self.name, endpoint)
        if self._stopping:
            self._close(line, "stopping")
        else:
            try:
                actions = self.session.connection_made(self._clock())
            except BaseException:
                transport.abort()  # e.g. the store could not be reset: no Logon went out
                raise
            self._carry_out(actions)
            self._flush()
            self._rearm()
        await line.closed
        if self._line is line:
            # The close came before this line was adopted (uvloop can report a peer's
            # immediate RST while create_connection is still completing), so _on_closed
            # ignored it. Without this the session would stay in LOGON_SENT.
            self._on_closed(line, None)
        if not self._logged_on_this_line:
            self._policy.failed()

    async def _wait_for_session_time(self) -> bool:
        """Sleep until the schedule allows a connection. False if woken early."""
        schedule = self.session.config.schedule
        if schedule is None:
            return True
        now = self._clock()
        if schedule.is_session_time(now):
            return True
        start = schedule.next_period_start(now)
        log.info("%s: outside session time; next period starts in %.0fs", self.name, start - now)
        return await self._sleep(start - now)

    async def _sleep(self, seconds: float | None) -> bool:
        """Sleep, or until stop()/resume(). True if the full time passed."""
        self._wake.clear()
        if self._stopping:
            return False
        try:
            await asyncio.wait_for(self._wake.wait(), seconds)
        except TimeoutError:
            return True
        return False

    # ---- protocol callbacks --------------------------------------------------------------

    def _on_data(self, line: _LineProtocol, data: bytes) -> None:
        if line is not self._line or self._close_when_drained is not None:
            return  # the session already asked to close this connection
        self.stats.last_read_ns = _ns()
        if self.wire_tap is not None:
            self.wire_tap(False, data)
        self._carry_out(self.session.receive_data(data, self._clock()))
        self._flush()
        self._rearm()

    def _on_closed(self, line: _LineProtocol, exc: Exception | None) -> None:
        if line is not self._line:
            return
        self._line = None
        self._out.clear()
        # Held bytes are journaled: a ResendRequest on the next connection recovers them.
        self._held.clear()
        self._close_when_drained = None
        if exc is not None:
            log.warning("%s: connection to %s lost: %s", self.name, self._endpoint, exc)
        else:
            log.info("%s: connection to %s closed", self.name, self._endpoint)
        if self.session.state is not SessionState.DISCONNECTED and not self._stopping:
            # After a Disconnect action the session is already DISCONNECTED: this close
            # came from the other end (or the network).
            self.stats.disconnects[DisconnectReason.CONNECTION_LOST] += 1
        self._carry_out(self.session.connection_lost(self._clock()))
        self._out.clear()
        self._rearm()

    def _on_timer(self) -> None:
        self._timer = None
        self._timer_at = None
        self._carry_out(self.session.on_timer(self._clock()))
        self._flush()
        self._rearm()

    # ---- carrying out actions ------------------------------------------------------------

    def _carry_out(self, actions: list[Action]) -> None:
        for action in actions:
            # Exact type tests: the action classes are final in practice and this is the
            # order path, where isinstance's subclass walk buys nothing.
            if type(action) is SendBytes:
                self._send(action)
            elif type(action) is Deliver:
                if self._on_deliver is not None:
                    try:
                        self._on_deliver(self.name, action.message)
                    except Exception:
                        # A bug upstream must not drop the FIX line; the message is
                        # journaled (save_inbound came first), so it can be replayed.
                        log.exception("%s: delivering an inbound message failed", self.name)
            elif type(action) is SessionEvent:
                self._event(action)
            elif type(action) is Disconnect:
                self._disconnect(action)

    def _send(self, action: SendBytes) -> None:
        if self._held or action.ticket > self._store.synced_upto():
            self._held.append(action)
            self._start_sync()
        else:
            self._out.append(action.data)

    def _event(self, event: SessionEvent) -> None:
        if event.kind is EventKind.LOGGED_ON:
            self._logged_on_this_line = True
            self._policy.logged_on()
            log.info("%s: logged on via %s", self.name, self._endpoint)
        elif event.kind is EventKind.SEQ_TOO_LOW_ON_LOGON:
            log.error("%s: %s", self.name, event.detail)
        if self._on_event is not None:
            try:
                self._on_event(self.name, event)
            except Exception:
                log.exception("%s: handling session event %s failed", self.name, event.kind)

    def _disconnect(self, action: Disconnect) -> None:
        line = self._line
        if line is None:
            return
        self.stats.disconnects[action.reason] += 1
        reason = f"{action.reason.value}{': ' + action.detail if action.detail else ''}"
        if self._held:
            # A Logout (or an order) still waits for its sync: close once it has left.
            self._close_when_drained = action
            log.info("%s: disconnecting after pending writes: %s", self.name, reason)
            return
        self._flush()
        self._close(line, reason)

    def _close(self, line: _LineProtocol, reason: str) -> None:
        transport = line.transport
        if transport is None or transport.is_closing():
            return
        log.info("%s: disconnecting from %s: %s", self.name, self._endpoint, reason)
        transport.close()
        assert self._loop is not None
        # close() waits for the send buffer to drain; never wait forever for it.
        self._loop.call_later(CLOSE_GRACE, transport.abort)

    # ---- writing and group commit --------------------------------------------------------

    def _flush(self) -> None:
        out = self._out
        if not out:
            return
        line = self._line
        if line is not None and line.transport is not None and not line.transport.is_closing():
            line.transport.write(out[0] if len(out) == 1 else b"".join(out))
            tap = self.wire_tap
            if tap is not None:
                for data in out:
                    tap(True, data)
        out.clear()

    def _scheduled_flush(self) -> None:
        self._flush_scheduled = False
        self._flush()

    def _start_sync(self) -> None:
        if self._sync_running:
            return  # this sync does not cover the new record; _sync_done starts the next
        loop = self._loop
        assert loop is not None
        if self._executor is None:
            self._executor = ThreadPoolExecutor(1, thread_name_prefix=f"sync-{self.name}")
        self._sync_running = True
        future = loop.run_in_executor(self._executor, self._store.sync)
        if self._commits is not None:
            self._commits.started()
        future.add_done_callback(self._sync_done)

    def _sync_done(self, future: asyncio.Future[int]) -> None:
        self._sync_running = False
        try:
            self._release(future)
        finally:
            # After _release, which may have started the next sync: back to back, the
            # count never touches 0, so a busy-polling loop stays asleep between them.
            if self._commits is not None:
                self._commits.ended()

    def _release(self, future: asyncio.Future[int]) -> None:
        try:
            synced = future.result()
        except StoreError as e:
            self._fail(e)
            return
        held = self._held
        out = self._out
        while held and held[0].ticket <= synced:
            out.append(held.popleft().data)
        if held:
            self._start_sync()
        self._flush()
        pending_close = self._close_when_drained
        if pending_close is not None and not held and self._line is not None:
            self._close_when_drained = None
            self._close(self._line, pending_close.reason.value)

    def _fail(self, error: BaseException) -> None:
        """The journal failed: nothing more may be sent. Close and end run()."""
        log.critical("%s: journal sync failed, stopping the session: %s", self.name, error)
        self._failed = error
        self._stopping = True
        self._held.clear()
        self._wake.set()
        if self._line is not None and self._line.transport is not None:
            self._line.transport.abort()

    # ---- timer ---------------------------------------------------------------------------

    def _rearm(self) -> None:
        deadline = self.session.next_deadline()
        if deadline is None:
            return  # an armed handle firing without work to do is harmless
        armed = self._timer_at
        if armed is not None and armed <= deadline:
            return
        loop = self._loop
        if loop is None:
            return
        if self._timer is not None:
            self._timer.cancel()
        self._timer_at = deadline
        self._timer = loop.call_at(loop.time() + (deadline - self._clock()), self._on_timer)

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = None
        self._timer_at = None

    def __repr__(self) -> str:
        return f"SessionTransport({self.name!r}, {self.session.state}, {self._endpoint})"
