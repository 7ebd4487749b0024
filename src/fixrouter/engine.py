"""The engine: every configured FIX session, its journal, its core and its transport.

Theory of operation
-------------------
`Engine(config)` opens one `JournalStore` per session (recovering it after a crash; the
store's lock makes a second engine on the same journal fail at once), builds the sans-I/O
`Session` on it and a `SessionTransport` to drive it, all keyed by the session's name.
`await engine.run()` keeps every session connected until `await engine.stop()`, which logs
them all out at once and waits for each Logout reply (or LogoutTimeout). `close()`
releases the journals.

Sessions are independent: each has its own journal, timer, reconnect policy and sync
thread, and a failure of one (its journal cannot sync) stops that session alone; `run()`
then returns its error in `failures` once every session has stopped.

This is the seam for the order path: the router (`fixrouter.router`) calls
`send_app(name, ...)` (through the session's transport) and receives inbound application
messages through `on_deliver(name, message)` and session events through
`on_event(name, event)`, from the event-loop thread.

`[engine]` (`EngineSettings`) says how the process runs its event loop: with
`busy_poll = true`, `run()` keeps the loop polling instead of sleeping in epoll while the
sessions run (`fixrouter.busypoll`). Every fsync-mode session reports its group commits
to one `CommitWatch`, so the polling loop can get out of the sync threads' way. Once
`gc_policy` is installed (`fixrouter run` does it after start-up), `run()` also gives it
its idle signal: every polled iteration, or a timer when the loop sleeps
(`fixrouter.gc_policy`).

Files written before the journal that must be as durable as it before a message leaves
(the order book's intent log: which strategy a ClOrdID belongs to) join the session's
group commit with `add_sync_companion`. In `fsync` durability the sync that releases held
bytes then syncs them first and covers only journal records written before it started,
so a message is never on the wire ahead of its intent record on disk; in `os` durability
a `write(2)` is all either file gets, and nothing more is needed.
"""

from __future__ import annotations

import asyncio
import difflib
import logging
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from fixrouter.busypoll import BusyPoller
from fixrouter.codec import FixMessage
from fixrouter.config import RouterConfig, SessionSettings
from fixrouter.dictionary import CompiledValidator, load_dictionary
from fixrouter.errors import ConfigError
from fixrouter.gc_policy import GcPolicy
from fixrouter.session import EventKind, Session, SessionEvent
from fixrouter.store import Durability, JournalStore, MessageStore
from fixrouter.transport import CommitWatch, SessionTransport

log = logging.getLogger("fixrouter.engine")

Clock = Callable[[], float]
StoreFactory = Callable[[SessionSettings, float], JournalStore]
"""Opens one session's journal: (settings, now) -> store. The metrics layer passes one
that times appends (`fixrouter.metrics.MeteredJournalStore`)."""
DeliverCallback = Callable[[str, FixMessage], None]
EventCallback = Callable[[str, SessionEvent], None]

# Events that come often and mean little to an operator reading the log.
_QUIET_EVENTS = frozenset({EventKind.HEARTBEAT_RTT, EventKind.TEST_REQUEST_SENT})
_ENGINE_KEYS = ("busy_poll",)


@dataclass(frozen=True, slots=True)
class EngineSettings:
    """The `[engine]` table: how the process runs its event loop.

    ```toml
    [engine]
    busy_poll = false   # true: the loop never sleeps (one core at 100%, all day)
    ```

    `busy_poll` is off by default because a process that keeps a core at 100% surprises
    operators, and on a core it shares it takes time from everything else there. Turn it
    on for a core given to the engine alone (`CPUAffinity=` in the systemd unit, the core
    isolated from the scheduler): deploy/runbook.md, "CPU isolation and affinity".
    """

    busy_poll: bool = False

    @classmethod
    def from_toml_table(cls, table: Mapping[str, Any]) -> EngineSettings:
        """Raises ConfigError naming an unknown key or a bad value."""
        if not isinstance(table, Mapping):
            raise ConfigError("must be a table")
        for key in table:
            if key not in _ENGINE_KEYS:
                hint = difflib.get_close_matches(key, _ENGINE_KEYS, n=1)
                suffix = f" (did you mean {hint[0]!r}?)" if hint else ""
                raise ConfigError(
                    f"unknown key {key!r}{suffix} (known: {', '.join(_ENGINE_KEYS)})"
                )
        busy_poll = table.get("busy_poll", False)
        if type(busy_poll) is not bool:
            raise ConfigError(f"busy_poll: expected true or false, got {busy_poll!r}")
        return cls(busy_poll=busy_poll)


def engine_settings(config: RouterConfig) -> EngineSettings:
    settings = config.sections.get("engine") or EngineSettings()
    assert isinstance(settings, EngineSettings)
    return settings


@dataclass(frozen=True, slots=True)
class EngineSession:
    """One configured session as the engine runs it."""

    settings: SessionSettings
    store: JournalStore
    session: Session
    transport: SessionTransport
    commit: _CommitGroup | None = field(default=None, repr=False)
    """The group commit the transport syncs through (fsync durability only)."""

    @property
    def name(self) -> str:
        return self.settings.name


class _CommitGroup:
    """What one fsync-mode session's group commit makes durable: companion files first,
    then the journal. Only the journal records written before the companions were synced
    count as durable, so each released message has its companion records on disk too."""

    __slots__ = ("_companions", "_store", "_synced")

    def __init__(self, store: JournalStore) -> None:
        self._store = store
        self._companions: list[Callable[[], None]] = []
        self._synced = store.synced_upto()

    def add(self, sync: Callable[[], None]) -> None:
        self._companions.append(sync)

    def synced_upto(self) -> int:
        return self._synced

    def sync(self) -> int:
        """Runs in the transport's sync thread (one at a time). Raises StoreError."""
        ticket = self._store.written_upto()
        for sync in self._companions:
            sync()
        self._store.sync()
        if ticket > self._synced:
            self._synced = ticket
        return ticket


def _open_journal(settings: SessionSettings, now: float) -> JournalStore:
    return JournalStore(
        settings.store.stem(settings.session), now=now, durability=settings.store.durability
    )


class Engine:
    """All sessions of one router process. See the module docstring.

    Raises (from the constructor) StoreError if a journal cannot be opened or is held by
    another process, CorruptJournalError if one is damaged, ConfigError if the data
    dictionary or a TLS file cannot be loaded. Journals opened before the failure are
    closed again.
    """

    def __init__(
        self,
        config: RouterConfig,
        *,
        on_deliver: DeliverCallback | None = None,
        on_event: EventCallback | None = None,
        validator: CompiledValidator | None = None,
        clock: Clock = time.time,
        store_factory: StoreFactory | None = None,
    ) -> None:
        self.config = config
        self._store_factory = store_factory or _open_journal
        self._on_deliver = on_deliver
        """Handed to each session's transport as it is: a forwarding method here would be
        the one interpreted frame on an ExecutionReport's compiled path."""
        self._on_event = on_event
        self._event_hooks: list[EventCallback] = []
        self._clock = clock
        self._validator = validator or CompiledValidator(load_dictionary())
        self.settings = engine_settings(config)
        self.commits = CommitWatch()
        """The group commits in flight across every fsync-mode session."""
        self.poller: BusyPoller | None = None
        """The busy poller while `run()` runs with `busy_poll` on."""
        self.gc_policy = GcPolicy()
        """The collector policy; `fixrouter run` installs it once start-up is done, and
        `run()` then gives it its idle signal: the poller's turns, or a timer."""
        self._sessions: dict[str, EngineSession] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self.failures: dict[str, BaseException] = {}
        try:
            for settings in config.sessions:
                self._sessions[settings.name] = self._open(settings)
        except BaseException:
            self.close()
            raise

    def _open(self, settings: SessionSettings) -> EngineSession:
        settings.store.directory.mkdir(parents=True, exist_ok=True)
        store = self._store_factory(settings, self._clock())
        commit = _CommitGroup(store) if settings.store.durability is Durability.FSYNC else None
        try:
            session = Session(settings.session, store, validator=self._validator)
            transport = SessionTransport(
                settings.name,
                session,
                # The transport uses only sync() and synced_upto() of what it is given.
                store if commit is None else cast(MessageStore, commit),
                settings.transport,
                on_deliver=self._on_deliver,
                on_event=self._event,
                clock=self._clock,
                commits=self.commits if commit is not None else None,
            )
        except BaseException:
            store.close()
            raise
        log.info(
            "%s: %s -> %s, journal %s (%s), next seq out %d, in %d",
            settings.name, settings.session.sender_comp_id, settings.session.target_comp_id,
            store.path, settings.store.durability.value, store.next_sender_seq,
            store.next_target_seq,
        )  # fmt: skip
        return EngineSession(settings, store, session, transport, commit)

    # ---- the seam for the order path -----------------------------------------------------

    @property
    def sessions(self) -> Mapping[str, EngineSession]:
        return self._sessions

    def send_app(self, name: str, msg_type: bytes, body: bytes) -> None:
        """Send one application message on session `name` (this event-loop turn).

        Raises KeyError for an unknown session, and whatever `Session.send_app` raises
        (NotLoggedOn, LocalProtocolError, StoreError): then nothing was sent.
        """
        self._sessions[name].transport.send_app(msg_type, body)

    def add_sync_companion(self, name: str, sync: Callable[[], None]) -> None:
        """Make `sync()` part of session `name`'s group commit (see the module docstring);
        a no-op unless the session's durability is `fsync`. `sync` runs in the session's
        sync thread and raises StoreError on failure, which stops the session.

        Raises KeyError for an unknown session.
        """
        commit = self._sessions[name].commit
        if commit is not None:
            commit.add(sync)

    def add_event_hook(self, hook: EventCallback) -> None:
        """Also call `hook(name, event)` for every session event (after `on_event`)."""
        self._event_hooks.append(hook)

    def _event(self, name: str, event: SessionEvent) -> None:
        if event.kind in _QUIET_EVENTS:
            log.debug("%s: %s %s", name, event.kind.value, event.detail)
        else:
            log.info(
                "%s: %s%s%s", name, event.kind.value,
                f" seq {event.ref_seq}" if event.ref_seq is not None else "",
                f": {event.detail}" if event.detail else "",
            )  # fmt: skip
        if self._on_event is not None:
            self._on_event(name, event)
        for hook in self._event_hooks:
            hook(name, event)

    # ---- life cycle ----------------------------------------------------------------------

    async def run(self) -> None:
        """Keep every session connected until `stop()`. Failures land in `failures`.

        With `[engine] busy_poll` the loop polls from here until every session has
        stopped.
        """
        self._tasks = [
            asyncio.create_task(s.transport.run(), name=f"session-{s.name}")
            for s in self._sessions.values()
        ]
        loop = asyncio.get_running_loop()
        policy = self.gc_policy
        if self.settings.busy_poll:
            self.poller = BusyPoller(loop, self.commits)
            if policy.installed:
                self.poller.on_turn = policy.turn
            self.poller.start()
            _log_busy_poll()
        elif policy.installed:
            policy.start_timer(loop)
        try:
            results = await asyncio.gather(*self._tasks, return_exceptions=True)
        finally:
            if self.poller is not None:
                self.poller.stop()
                self.poller.on_turn = None
            policy.stop_timer()
        for s, result in zip(self._sessions.values(), results, strict=True):
            if isinstance(result, BaseException):
                if not isinstance(result, asyncio.CancelledError):
                    log.critical("%s: session stopped on error: %r", s.name, result)
                self.failures[s.name] = result

    async def stop(self) -> None:
        """Log every session out at once; return when each has closed (or timed out)."""
        await asyncio.gather(*(s.transport.stop() for s in self._sessions.values()))
        if self._tasks:
            await asyncio.wait(self._tasks)

    def close(self) -> None:
        """Release every journal and the collector's hooks. Idempotent."""
        self.gc_policy.uninstall()
        for s in self._sessions.values():
            s.store.close()


def _log_busy_poll() -> None:
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) == os.cpu_count() and len(cpus) > 1:
        log.warning(
            "busy_poll: the event loop polls and keeps a core at 100%%, and this process "
            "may run on every CPU (%d): pin it to an isolated core (CPUAffinity= in the "
            "systemd unit, deploy/runbook.md)", len(cpus),
        )  # fmt: skip
    else:
        log.info(
            "busy_poll: the event loop polls and keeps a core at 100%% (CPU affinity %s)",
            ",".join(map(str, cpus)),
        )  # fmt: skip
