"""Tests for fixrouter.transport.connection: the asyncio adapter against a scripted peer.

The real session core and journal run underneath; only the counterparty is scripted
(tests/transport/peer.py), on loopback ports, so failures are the adapter's.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import shlex
import shutil
import socket
import ssl
import subprocess
import threading
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import cast

import pytest
import uvloop

from fixrouter.busypoll import BusyPoller
from fixrouter.codec import FixMessage
from fixrouter.session import (
    EventKind,
    Session,
    SessionConfig,
    SessionEvent,
    SessionSchedule,
    SessionState,
)
from fixrouter.store import Durability, JournalStore, MemoryStore, MessageStore
from fixrouter.transport import (
    CommitWatch,
    Endpoint,
    ReconnectPolicy,
    SessionTransport,
    TlsSettings,
    TransportSettings,
)
from fixrouter.transport.connection import FLUSH_EVERY

from .peer import ScriptedAcceptor

ORDER = b"11=ORD1\x0121=2\x0155=AAPL\x0154=1\x0138=100\x0140=1\x0160=20240101-00:00:00\x01"


def closed_port() -> int:
    """A loopback port nothing listens on (connects are refused at once)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def make_transport(
    store: MessageStore,
    *ports: int,
    heartbeat: int = 30,
    events: list[SessionEvent] | None = None,
    tls: TlsSettings | None = None,
    logout_timeout: float = 1.0,
    on_deliver: Callable[[str, FixMessage], None] | None = None,
    commits: CommitWatch | None = None,
) -> SessionTransport:
    config = SessionConfig(
        sender_comp_id="FIXROUTER", target_comp_id="IB", heartbeat_interval=heartbeat,
        logout_timeout=logout_timeout, logon_timeout=2.0,
    )  # fmt: skip
    endpoints = tuple(Endpoint("127.0.0.1", p) for p in ports)
    settings = TransportSettings(
        endpoints=endpoints, reconnect_interval=0.05, max_reconnect_interval=0.2,
        reconnect_jitter=0.0, connect_timeout=2.0, tls=tls,
    )  # fmt: skip
    policy = ReconnectPolicy(endpoints, base=0.05, cap=0.2, jitter=0.0)
    return SessionTransport(
        "test", Session(config, store), store, settings, policy=policy, on_deliver=on_deliver,
        on_event=(lambda _name, e: events.append(e)) if events is not None else None,
        commits=commits,
    )  # fmt: skip


def run(test: Callable[[], Awaitable[None]]) -> None:
    """Run on uvloop, the engine's loop."""
    uvloop.run(asyncio.wait_for(test(), 20))


async def until(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError("condition not met")
        await asyncio.sleep(0.01)


def types(messages: list[FixMessage]) -> list[bytes]:
    return [m.msg_type for m in messages]


# ---- connect, logon, liveness, logout ------------------------------------------------------


def test_logs_on_sets_nodelay_and_logs_out_on_stop() -> None:
    async def test() -> None:
        peer = await ScriptedAcceptor.start()
        t = make_transport(MemoryStore(now=0.0), peer.port)
        task = asyncio.create_task(t.run())
        await until(lambda: t.logged_on)
        assert t.endpoint == Endpoint("127.0.0.1", peer.port)
        line = t._line
        assert line is not None and line.transport is not None
        sock = line.transport.get_extra_info("socket")
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
        await t.stop()
        await asyncio.wait_for(task, 5)
        assert types(peer.all_received()) == [b"A", b"5"]
        assert t.session.state is SessionState.DISCONNECTED
        await peer.close()

    run(test)


def test_heartbeats_flow_with_a_short_interval() -> None:
    async def test() -> None:
        peer = await ScriptedAcceptor.start()
        t = make_transport(MemoryStore(now=0.0), peer.port, heartbeat=1)
        task = asyncio.create_task(t.run())
        await peer.wait_for(lambda: types(peer.all_received()).count(b"0") >= 2, timeout=4)
        await t.stop()
        await task
        await peer.close()

    run(test)


def test_heartbeats_flow_while_the_loop_busy_polls() -> None:
    async def test() -> None:
        poller = BusyPoller(asyncio.get_running_loop(), CommitWatch())
        poller.start()
        peer = await ScriptedAcceptor.start()
        t = make_transport(MemoryStore(now=0.0), peer.port, heartbeat=1)
        task = asyncio.create_task(t.run())
        await peer.wait_for(lambda: types(peer.all_received()).count(b"0") >= 2, timeout=4)
        await t.stop()
        await task
        await peer.close()
        poller.stop()
        assert types(peer.all_received())[-1] == b"5"  # the Logout left too

    run(test)


def test_stop_waits_at_most_logout_timeout_for_a_silent_peer() -> None:
    async def test() -> None:
        peer = await ScriptedAcceptor.start()
        peer.answer_logout = False
        t = make_transport(MemoryStore(now=0.0), peer.port, logout_timeout=0.3)
        task = asyncio.create_task(t.run())
        await until(lambda: t.logged_on)
        loop = asyncio.get_running_loop()
        started = loop.time()
        await t.stop()
        await task
        assert 0.25 < loop.time() - started < 2.0
        await peer.close()

    run(test)


async def logged_on_counting_writes() -> tuple[
    ScriptedAcceptor, SessionTransport, asyncio.Task[None], list[bytes]
]:
    """A transport logged on to a scripted acceptor, with every write to its socket
    recorded (in the returned list) from here on."""
    peer = await ScriptedAcceptor.start()
    t = make_transport(MemoryStore(now=0.0), peer.port)
    task = asyncio.create_task(t.run())
    await until(lambda: t.logged_on)
    line = t._line
    assert line is not None and line.transport is not None
    counting = CountingTransport(line.transport)
    line.transport = counting  # type: ignore[assignment]
    return peer, t, task, counting.writes


def test_a_lone_order_leaves_at_once_and_a_burst_in_one_more_write() -> None:
    async def test() -> None:
        peer, t, task, writes = await logged_on_counting_writes()
        for i in range(10):
            t.send_app(b"D", ORDER.replace(b"ORD1", b"ORD%d" % i))
        assert [w.count(b"\x0135=D\x01") for w in writes] == [1]  # no wait for the loop
        await asyncio.sleep(0)
        assert [w.count(b"\x0135=D\x01") for w in writes] == [1, 9]  # the rest, together
        await peer.wait_for(lambda: types(peer.all_received()).count(b"D") == 10)
        await t.stop()
        await task
        await peer.close()

    run(test)


class CountingTransport:
    """Wraps a transport (uvloop's cannot be patched) and records each write."""

    def __init__(self, inner: asyncio.Transport) -> None:
        self.inner = inner
        self.writes: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.writes.append(bytes(data))
        self.inner.write(data)

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)


def test_a_long_turn_writes_every_flush_every_orders_without_waiting_for_its_end() -> None:
    async def test() -> None:
        peer, t, task, writes = await logged_on_counting_writes()
        n = 2 * FLUSH_EVERY + 7
        for i in range(n):
            t.send_app(b"D", ORDER.replace(b"ORD1", b"ORD%d" % i))
        # Still inside the turn: the first at once, then each FLUSH_EVERY as they collect,
        # so the counterparty can answer them while the turn goes on.
        assert [w.count(b"\x0135=D\x01") for w in writes] == [1, FLUSH_EVERY, FLUSH_EVERY]
        await asyncio.sleep(0)
        assert [w.count(b"\x0135=D\x01") for w in writes] == [1, FLUSH_EVERY, FLUSH_EVERY, 6]
        await peer.wait_for(lambda: types(peer.all_received()).count(b"D") == n)
        orders = [m.get(11) for m in peer.all_received() if m.msg_type == b"D"]
        assert orders == [b"ORD%d" % i for i in range(n)]  # in the order they were sent
        await t.stop()
        await task
        await peer.close()

    run(test)


def test_a_failing_deliver_callback_does_not_drop_the_line() -> None:
    delivered: list[bytes] = []

    def on_deliver(_name: str, message: FixMessage) -> None:
        delivered.append(message.msg_type)
        raise RuntimeError("bug in the order book")

    async def test() -> None:
        peer = await ScriptedAcceptor.start()
        store = MemoryStore(now=0.0)
        t = make_transport(store, peer.port, on_deliver=on_deliver)
        task = asyncio.create_task(t.run())
        await until(lambda: t.logged_on)
        for i in range(2):
            peer.send(peer.connections[0], b"B", [(148, f"news {i}"), (33, 1), (58, "x")])
        await until(lambda: len(delivered) == 2)
        assert t.logged_on and len(peer.connections) == 1
        assert [m for _seq, m in store.iter_inbound()]  # journaled before delivery
        await t.stop()
        await task
        await peer.close()

    run(test)


# ---- reconnect, failover, case 15 ----------------------------------------------------------


def test_reconnects_after_the_peer_drops_the_line() -> None:
    async def test() -> None:
        peer = await ScriptedAcceptor.start()
        events: list[SessionEvent] = []
        t = make_transport(MemoryStore(now=0.0), peer.port, events=events)
        task = asyncio.create_task(t.run())
        await until(lambda: t.logged_on)
        peer.connections[0].writer.close()
        await until(lambda: len(peer.connections) == 2 and t.logged_on)
        kinds = [e.kind for e in events]
        assert kinds.count(EventKind.LOGGED_ON) == 2
        assert EventKind.LOGGED_OUT in kinds
        # Sequence numbers continue on the new line: no reset.
        second_logon = peer.connections[1].received[0]
        assert second_logon.msg_type == b"A" and second_logon.get_int(34) == 2
        await t.stop()
        await task
        await peer.close()

    run(test)


def test_a_peer_that_closes_at_once_is_retried_promptly_not_after_logon_timeout() -> None:
    """The close can arrive while the connect is still completing; it must still count."""

    async def test() -> None:
        accepted = 0

        def slam(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            nonlocal accepted
            accepted += 1
            # RST straight away: a gateway refusing us after accept. (uvloop's transports
            # are not registered as asyncio.WriteTransport, so no isinstance here.)
            cast(asyncio.WriteTransport, writer.transport).abort()

        server = await asyncio.start_server(slam, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        t = make_transport(MemoryStore(now=0.0), port)  # logon_timeout=2.0
        task = asyncio.create_task(t.run())
        try:
            # Back-off is 0.05 s capped at 0.2 s: several tries fit in well under one
            # logon timeout, unless a close is missed and the session waits it out.
            await until(lambda: accepted >= 4, timeout=1.9)
        finally:
            await t.stop()
            await task
            server.close()
            await server.wait_closed()

    run(test)


def test_fails_over_to_the_backup_when_the_primary_refuses() -> None:
    async def test() -> None:
        peer = await ScriptedAcceptor.start()
        t = make_transport(MemoryStore(now=0.0), closed_port(), peer.port)
        task = asyncio.create_task(t.run())
        await until(lambda: t.logged_on)
        assert t.endpoint == Endpoint("127.0.0.1", peer.port)
        await t.stop()
        await task
        await peer.close()

    run(test)


def test_a_logon_that_times_out_counts_as_a_failure_and_backs_off() -> None:
    async def test() -> None:
        peer = await ScriptedAcceptor.start()
        peer.answer_logon = False
        t = make_transport(MemoryStore(now=0.0), peer.port)
        task = asyncio.create_task(t.run())
        await peer.wait_for(lambda: len(peer.connections) >= 2, timeout=8)
        assert t._policy.failures >= 1
        await t.stop()
        await task
        await peer.close()

    run(test)


def test_stays_down_when_an_operator_must_act(caplog: pytest.LogCaptureFixture) -> None:
    async def test() -> None:
        peer = await ScriptedAcceptor.start()
        peer.logon_refusal = "MsgSeqNum too low, expecting 50 but received 1"
        t = make_transport(MemoryStore(now=0.0), peer.port)
        task = asyncio.create_task(t.run())
        await until(lambda: t.session.operator_action_required)
        await asyncio.sleep(0.5)  # many back-off periods
        assert len(peer.connections) == 1
        # The operator fixes the numbers; the session comes back.
        peer.logon_refusal = None
        t.session.set_next_seqs(next_sender_seq=50)
        t.resume()
        await until(lambda: t.logged_on)
        assert peer.connections[1].received[0].get_int(34) == 50
        await t.stop()
        await task
        await peer.close()

    with caplog.at_level(logging.INFO, logger="fixrouter.transport"):
        run(test)
    assert "staying down" in caplog.text


def test_waits_for_session_time_before_connecting(caplog: pytest.LogCaptureFixture) -> None:
    async def test() -> None:
        peer = await ScriptedAcceptor.start()
        t = make_transport(MemoryStore(now=0.0), peer.port)
        now = datetime.now(UTC)
        closed = (now + timedelta(hours=2)).time().replace(microsecond=0)
        reopens = (now + timedelta(hours=3)).time().replace(microsecond=0)
        t.session.config = dataclasses.replace(  # a window that opens in two hours
            t.session.config, schedule=SessionSchedule(closed, reopens)
        )
        task = asyncio.create_task(t.run())
        await asyncio.sleep(0.3)
        assert peer.connections == []
        await t.stop()
        await asyncio.wait_for(task, 1)
        await peer.close()

    with caplog.at_level(logging.INFO, logger="fixrouter.transport"):
        run(test)
    assert "outside session time; next period starts in 7" in caplog.text  # ~7200 s


def test_stop_while_waiting_to_reconnect_returns_promptly() -> None:
    async def test() -> None:
        port = closed_port()
        t = make_transport(MemoryStore(now=0.0), port)
        task = asyncio.create_task(t.run())
        await until(lambda: t._policy.failures >= 2)
        await t.stop()
        await asyncio.wait_for(task, 1)

    run(test)


# ---- write before send in fsync mode: group commit -----------------------------------------


class GatedStore(JournalStore):
    """A journal whose sync() blocks until the test opens the gate, and counts calls."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.gate = threading.Event()
        self.gate.set()
        self.syncs: list[int] = []
        self.entered = threading.Event()

    def sync(self) -> int:
        # The fdatasync happens first, so records appended while we wait are not covered,
        # just as with a slow disk.
        covered = super().sync()
        self.entered.set()
        self.gate.wait(5)
        self.syncs.append(covered)
        return covered


def test_fsync_mode_sends_nothing_before_its_sync_and_groups_commits(tmp_path: Path) -> None:
    async def test() -> None:
        peer = await ScriptedAcceptor.start()
        store = GatedStore(tmp_path / "j", now=0.0, durability=Durability.FSYNC)
        t = make_transport(store, peer.port)
        task = asyncio.create_task(t.run())
        await until(lambda: t.logged_on)
        # Hold the next sync: the first order starts it, and must not be on the wire.
        store.gate.clear()
        store.entered.clear()
        syncs_before = len(store.syncs)
        t.send_app(b"D", ORDER.replace(b"ORD1", b"A0"))
        await asyncio.get_running_loop().run_in_executor(None, store.entered.wait, 5)
        # Orders arriving while that sync runs wait for the next one: group commit.
        for i in range(1, 50):
            t.send_app(b"D", ORDER.replace(b"ORD1", b"A%d" % i))
        await asyncio.sleep(0.1)
        assert types(peer.all_received()).count(b"D") == 0
        assert store.synced_upto() < store.written_upto()
        store.gate.set()
        await peer.wait_for(lambda: types(peer.all_received()).count(b"D") == 50)
        # Two syncs carried 50 orders: the one in flight and one for everything after it.
        assert len(store.syncs) - syncs_before == 2
        ids = [m.get(11) for m in peer.all_received() if m.msg_type == b"D"]
        assert ids == [b"A%d" % i for i in range(50)]  # wire order is journal order
        await t.stop()
        await task
        store.close()
        await peer.close()

    run(test)


def test_fsync_mode_counts_its_commits_in_flight_for_a_polling_loop(tmp_path: Path) -> None:
    async def test() -> None:
        peer = await ScriptedAcceptor.start()
        store = GatedStore(tmp_path / "j", now=0.0, durability=Durability.FSYNC)
        commits = CommitWatch()
        idle: list[int] = []
        commits.on_idle = lambda: idle.append(commits.in_flight)
        t = make_transport(store, peer.port, commits=commits)
        task = asyncio.create_task(t.run())
        await until(lambda: t.logged_on)
        await until(lambda: commits.in_flight == 0)  # the Logon's commit is over
        idle.clear()
        store.gate.clear()
        store.entered.clear()
        t.send_app(b"D", ORDER.replace(b"ORD1", b"C0"))
        assert commits.in_flight == 1
        await asyncio.get_running_loop().run_in_executor(None, store.entered.wait, 5)
        t.send_app(b"D", ORDER.replace(b"ORD1", b"C1"))  # waits for the next commit
        assert commits.in_flight == 1
        store.gate.set()
        await peer.wait_for(lambda: types(peer.all_received()).count(b"D") == 2)
        await until(lambda: commits.in_flight == 0)
        # The second commit started before the first was counted out: one idle moment.
        assert idle == [0]
        await t.stop()
        await task
        store.close()
        await peer.close()

    run(test)


def test_fsync_mode_under_a_busy_poller_sends_nothing_before_its_sync(tmp_path: Path) -> None:
    async def test() -> None:
        commits = CommitWatch()
        poller = BusyPoller(asyncio.get_running_loop(), commits)
        poller.start()
        peer = await ScriptedAcceptor.start()
        store = GatedStore(tmp_path / "j", now=0.0, durability=Durability.FSYNC)
        t = make_transport(store, peer.port, commits=commits)
        task = asyncio.create_task(t.run())
        await until(lambda: t.logged_on)
        store.gate.clear()
        store.entered.clear()
        t.send_app(b"D", ORDER.replace(b"ORD1", b"P0"))
        await asyncio.get_running_loop().run_in_executor(None, store.entered.wait, 5)
        for i in range(1, 20):
            t.send_app(b"D", ORDER.replace(b"ORD1", b"P%d" % i))
        await asyncio.sleep(0.1)  # the loop sleeps through the commit, serving events
        assert poller.sleeping
        assert types(peer.all_received()).count(b"D") == 0
        assert store.synced_upto() < store.written_upto()
        store.gate.set()
        await peer.wait_for(lambda: types(peer.all_received()).count(b"D") == 20)
        ids = [m.get(11) for m in peer.all_received() if m.msg_type == b"D"]
        assert ids == [b"P%d" % i for i in range(20)]
        assert store.synced_upto() == store.written_upto()
        turns = poller.turns
        await until(lambda: poller.turns > turns)  # polling again after the last commit
        assert not poller.sleeping
        await t.stop()
        await task
        poller.stop()
        store.close()
        await peer.close()

    run(test)


def test_os_mode_never_starts_a_sync_thread(tmp_path: Path) -> None:
    async def test() -> None:
        peer = await ScriptedAcceptor.start()
        store = GatedStore(tmp_path / "j", now=0.0, durability=Durability.OS)
        t = make_transport(store, peer.port)
        task = asyncio.create_task(t.run())
        await until(lambda: t.logged_on)
        for i in range(20):
            t.send_app(b"D", ORDER.replace(b"ORD1", b"B%d" % i))
        await peer.wait_for(lambda: types(peer.all_received()).count(b"D") == 20)
        assert store.syncs == [] and t._executor is None
        await t.stop()
        await task
        store.close()
        await peer.close()

    run(test)


# ---- TLS -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A throw-away CA and a server certificate for 127.0.0.1 (made with openssl)."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    d = tmp_path_factory.mktemp("tls")

    def openssl(command: str) -> None:
        subprocess.run(["openssl", *shlex.split(command)], cwd=d, check=True, capture_output=True)

    openssl('req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 1 -subj "/CN=CA"')
    openssl("req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj /CN=127.0.0.1")
    (d / "ext.cnf").write_text("subjectAltName=IP:127.0.0.1\n")
    openssl(
        "x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem "
        "-days 1 -extfile ext.cnf"
    )
    yield d


def test_tls_connection_verifies_the_server(certificates: Path) -> None:
    async def test() -> None:
        server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        server_ctx.load_cert_chain(certificates / "server.pem", certificates / "server.key")
        peer = await ScriptedAcceptor.start(server_ctx)
        tls = TlsSettings(ca_file=certificates / "ca.pem")
        t = make_transport(MemoryStore(now=0.0), peer.port, tls=tls)
        task = asyncio.create_task(t.run())
        await until(lambda: t.logged_on)
        line = t._line
        assert line is not None and line.transport is not None
        assert line.transport.get_extra_info("ssl_object") is not None
        await t.stop()
        await task
        await peer.close()

    run(test)


def test_tls_refuses_an_unknown_server_certificate(certificates: Path) -> None:
    async def test() -> None:
        server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        server_ctx.load_cert_chain(certificates / "server.pem", certificates / "server.key")
        peer = await ScriptedAcceptor.start(server_ctx)
        t = make_transport(MemoryStore(now=0.0), peer.port, tls=TlsSettings())  # system CAs
        task = asyncio.create_task(t.run())
        await until(lambda: t._policy.failures >= 1)
        assert not t.logged_on
        await t.stop()
        await task
        await peer.close()

    run(test)
