"""`fixrouter run --config FILE`: run the engine in the foreground.

Start-up loads the TOML config with its `[gateway]`, `[dialect]`, `[risk]`, `[routing]`,
`[metrics]`, `[logging]` and `[admin]` tables (exit 2 on a config error, naming the key),
starts the event log and the FIX log (`[logging]`; exit 1 if a log file cannot be
opened), opens every session's journal and intent log and recovers the order book from
them (exit 1 if one is locked by another process or damaged), listens for strategies
(`[gateway] listen`, by default tcp://127.0.0.1:7001), serves `/metrics` (`[metrics]
listen`, by default 127.0.0.1:9464) and the admin socket (`[admin] socket`), exit 1 if
any cannot be bound, and runs the engine on uvloop (see `fixrouter.routing.service` and
`fixrouter.operations`). SIGTERM or SIGINT stops taking orders, logs every session out,
waits for the Logout replies (at most LogoutTimeout), and exits 0; a second signal stops
at once (exit 1; the journals are safe, they survive even `kill -9`). SIGHUP reloads the
risk limits from the config file (`systemctl reload`; an invalid file changes nothing and
the error is logged). Logs go to stderr unless `[logging]` says otherwise.

Test feed (hidden, for the integration and crash tests)
-------------------------------------------------------
`--test-feed FILE` streams application messages from FILE through the real session and
journal, bypassing the gateway, the risk gate and the order book: `Engine.send_app` (the
router sees their reports as those of orders it does not know: orphans). Each non-empty
line is one message written as `35=<MsgType>|tag=value|...` (`|` stands for SOH; header
fields are the session's job and must not appear). With several sessions,
`--test-feed-session NAME` picks the one (default: the first).

The feed is resumable across crashes, using the journal as the record of what was handed
over: at start-up it skips every line whose ClOrdID(11) the session's journal already
holds (those were sent, or will be resent if the counterparty asks). It starts streaming
when the session logs on, pauses while it is not logged on, resumes on the next logon,
and paces itself at `--test-feed-rate` messages per second (0: as fast as the loop
allows, yielding every `FEED_BATCH` messages). When every line is handed over it logs
`test feed: done`. Nothing else in the engine knows the feed exists.

`--test-crash-after N` makes the process SIGKILL itself right after the Nth message of
this run was handed to the session: journaled, but not yet written to the socket (in `os`
mode the write waits for the end of the loop turn, in `fsync` mode for the group commit).
That is the instant write-before-send exists for, and a kill from outside at a random
time almost never lands in it; the crash test mixes both kinds of kill.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import logging
import os
import signal
import sys
from collections.abc import Iterable
from pathlib import Path

import uvloop

from fixrouter.codec import decode_frame
from fixrouter.config import RouterConfig
from fixrouter.engine import Engine
from fixrouter.errors import ConfigError, FixRouterError
from fixrouter.operations import Operations, load
from fixrouter.routing.service import RouterService
from fixrouter.session import EventKind, NotLoggedOn, SessionEvent

log = logging.getLogger("fixrouter.run")

FEED_BATCH = 100
"""Messages handed over per event-loop turn when the feed is not paced."""
FEED_TICK = 0.01
"""Pacing granularity of a rated feed, seconds."""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, required=True, help="router TOML file")
    parser.add_argument(
        "--log-level",
        default=None,
        choices=("DEBUG", "INFO", "WARNING", "ERROR"),
        help="event log level (default: [logging] level, else INFO)",
    )
    # Test-only options: hidden from --help, documented in this module and in
    # fix/router-reference.md.
    parser.add_argument("--test-feed", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--test-feed-rate", type=float, default=0.0, help=argparse.SUPPRESS)
    parser.add_argument("--test-feed-session", help=argparse.SUPPRESS)
    parser.add_argument("--test-crash-after", type=int, default=0, help=argparse.SUPPRESS)


def run(args: argparse.Namespace) -> int:
    try:
        config = load(args.config)
        feed = _load_feed(args) if args.test_feed is not None else None
    except ConfigError as e:
        print(f"fixrouter run: {e}", file=sys.stderr)
        return 2
    ops = Operations(config, args.config)
    try:
        ops.start_logging(level=args.log_level)
    except OSError as e:
        print(f"fixrouter run: cannot open a log file: {e}", file=sys.stderr)
        return 1
    try:
        return uvloop.run(_main(config, feed, ops))
    finally:
        ops.stop_logging()


async def _main(config: RouterConfig, feed: _FeedSpec | None, ops: Operations) -> int:
    try:
        service = RouterService(config, store_factory=ops.store_factory)
    except FixRouterError as e:
        print(f"fixrouter run: {e}", file=sys.stderr)
        return 1
    engine = service.engine
    ops.attach(service)
    try:
        feeder = _TestFeed(engine, feed) if feed is not None else None
        await service.start()
        await ops.start()
    except FixRouterError as e:
        print(f"fixrouter run: {e}", file=sys.stderr)
        await ops.close()
        await service.gateway.close()
        service.close()
        return 1
    # Start-up is done: take what it built out of the collector's way (see gc_policy).
    engine.gc_policy.install()
    try:
        loop = asyncio.get_running_loop()
        main_task = asyncio.current_task()
        assert main_task is not None
        stop_task: asyncio.Task[None] | None = None

        def on_signal(signum: int) -> None:
            nonlocal stop_task
            if stop_task is None:
                log.info("%s: logging out", signal.Signals(signum).name)
                stop_task = asyncio.create_task(service.stop())
            else:
                log.warning("%s again: stopping without waiting", signal.Signals(signum).name)
                main_task.cancel()

        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, on_signal, signum)
        # Without a handler SIGHUP would end the engine without a Logout (systemd's
        # ExecReload sends it): it reloads the risk limits instead.
        loop.add_signal_handler(signal.SIGHUP, ops.reload)
        try:
            await engine.run()
        except asyncio.CancelledError:
            return 1
        if feeder is not None:
            feeder.cancel()
        if stop_task is not None:
            await stop_task
        return 1 if engine.failures else 0
    finally:
        await ops.close()
        await service.gateway.close()
        service.close()


# ---- the test feed -------------------------------------------------------------------------


class _FeedSpec:
    """Parsed --test-feed options: (msg_type, body, ClOrdID) per line, and pacing."""

    __slots__ = ("crash_after", "messages", "rate", "session")

    def __init__(
        self,
        messages: list[tuple[bytes, bytes, bytes | None]],
        rate: float,
        session: str | None,
        crash_after: int,
    ) -> None:
        self.messages = messages
        self.rate = rate
        self.session = session
        self.crash_after = crash_after


def _load_feed(args: argparse.Namespace) -> _FeedSpec:
    """Raises ConfigError naming the file and line of a malformed message."""
    path: Path = args.test_feed
    try:
        lines = path.read_bytes().splitlines()
    except OSError as e:
        raise ConfigError(f"--test-feed {path}: {e.strerror}") from None
    messages: list[tuple[bytes, bytes, bytes | None]] = []
    for number, line in enumerate(lines, 1):
        line = line.strip()
        if not line:
            continue
        fields = line.split(b"|")
        if not fields[0].startswith(b"35=") or len(fields[0]) < 4:
            raise ConfigError(f"--test-feed {path}:{number}: must start with 35=<MsgType>")
        body_fields = [f for f in fields[1:] if f]
        if any(b"=" not in f or not f.split(b"=", 1)[0].isdigit() for f in body_fields):
            raise ConfigError(f"--test-feed {path}:{number}: fields must be tag=value")
        cl_ord_id = next((f[3:] for f in body_fields if f.startswith(b"11=")), None)
        body = b"".join(f + b"\x01" for f in body_fields)
        messages.append((fields[0][3:], body, cl_ord_id))
    if args.test_feed_rate < 0:
        raise ConfigError("--test-feed-rate must be >= 0")
    if args.test_crash_after < 0:
        raise ConfigError("--test-crash-after must be >= 0")
    return _FeedSpec(messages, args.test_feed_rate, args.test_feed_session, args.test_crash_after)


class _TestFeed:
    """Streams a _FeedSpec into one session whenever it is logged on. Test use only."""

    def __init__(self, engine: Engine, spec: _FeedSpec) -> None:
        """Raises ConfigError for an unknown --test-feed-session."""
        self._engine = engine
        name = spec.session or next(iter(engine.sessions))
        if name not in engine.sessions:
            raise ConfigError(f"--test-feed-session: no session {name!r}")
        self._name = name
        self._spec = spec
        store = engine.sessions[name].store
        journaled = _journaled_cl_ord_ids(data for _seq, data in store.iter_outbound(1))
        self._pending = collections.deque(
            m for m in spec.messages if m[2] is None or m[2] not in journaled
        )
        log.info(
            "test feed: %d messages, %d already in the journal, %d to send on %s",
            len(spec.messages), len(spec.messages) - len(self._pending), len(self._pending),
            name,
        )  # fmt: skip
        self._task: asyncio.Task[None] | None = None
        self._handed_over = 0
        engine.add_event_hook(self._on_event)

    def _on_event(self, name: str, event: SessionEvent) -> None:
        if (
            name == self._name
            and event.kind is EventKind.LOGGED_ON
            and (self._task is None or self._task.done())
        ):
            self._task = asyncio.get_running_loop().create_task(self._stream())

    def cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()

    async def _stream(self) -> None:
        per_tick = self._spec.rate * FEED_TICK if self._spec.rate else 0.0
        budget = 0.0
        sent = 0
        blocked = False
        pending = self._pending
        while pending:
            await asyncio.sleep(FEED_TICK if per_tick or blocked else 0)
            blocked = False
            if per_tick:
                budget += per_tick
                count = int(budget)
                budget -= count
            else:
                count = FEED_BATCH
            for _ in range(min(count, len(pending))):
                msg_type, body, _cl = pending[0]
                try:
                    self._engine.send_app(self._name, msg_type, body)
                except NotLoggedOn:
                    if not self._engine.sessions[self._name].transport.connected:
                        log.info("test feed: paused after %d (not logged on)", sent)
                        return  # the next LOGGED_ON starts a new stream
                    blocked = True  # logging on or out on a live line: retry next tick
                    break
                pending.popleft()
                sent += 1
                self._handed_over += 1
                if self._handed_over == self._spec.crash_after:
                    os.kill(os.getpid(), signal.SIGKILL)
        log.info("test feed: done (%d sent in this run)", sent)


def _journaled_cl_ord_ids(outbound: Iterable[bytes]) -> set[bytes]:
    ids: set[bytes] = set()
    for data in outbound:
        cl_ord_id = decode_frame(data).get(11)
        if cl_ord_id is not None:
            ids.add(cl_ord_id)
    return ids
