"""A session-rejected order stays rejected across a `kill -9` of the real engine.

The counterparty here is a small scripted FIX acceptor, not the QuickFIX simulator: the
simulator refuses only malformed messages (the engine's dictionary check never sends
one) or a SendingTime more than MaxLatency (120 s, fixed in fix/sim.cfg) old, so it
cannot be made to answer a valid order with a session Reject. The peer speaks FIX 4.2
with fixrouter's codec on a free loopback port: it answers Logon, TestRequest and
Logout, acknowledges orders, refuses every NewOrderSingle for symbol REJ with a Reject
(35=3, RefSeqNum = its MsgSeqNum) and every OrderCancelRequest with a
BusinessMessageReject (35=j). Its MsgSeqNum carries on across connections, as IB's does.

The engine is `fixrouter run` in a child process, killed with SIGKILL and started again
on the same files. What a strategy sees after the restart must be what it saw before;
/metrics counts both refusals before the kill, and none again after the replay.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from fixrouter.client import (
    Accepted,
    BlockingClient,
    CancelRejected,
    ClientEvent,
    Execution,
    OrderStatus,
)
from fixrouter.codec import Encoder, FixMessage, FrameDecoder, Garbled, render_fields
from fixrouter.sim.process import free_port
from metrics.kit import scrape_url, value  # type: ignore[import-not-found]

from .harness import RouterProcess, write_config

pytestmark = pytest.mark.integration

TIMEOUT = 10.0
RISK = """
[risk.global]
missing_reference = "warn"
"""


class RefusingPeer:
    """The scripted acceptor (see the module docstring). `close()` stops it."""

    def __init__(self) -> None:
        self.encoder = Encoder("IB", "FIXROUTER")
        self.next_seq = 1
        self.received: list[FixMessage] = []
        self._lock = threading.Lock()
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._server.getsockname()[1]
        self._conns: list[socket.socket] = []
        self._closed = False
        self._oid = 0
        self._refusals: dict[bytes, int] = {}
        threading.Thread(target=self._accept, daemon=True, name="refusing-peer").start()

    def close(self) -> None:
        self._closed = True
        self._server.close()
        with self._lock:
            for conn in self._conns:
                conn.close()

    def refusals_sent(self, msg_type: bytes) -> int:
        with self._lock:
            return self._refusals.get(msg_type, 0)

    def _accept(self) -> None:
        while not self._closed:
            try:
                conn, _ = self._server.accept()
            except OSError:
                return
            with self._lock:
                self._conns.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        decoder = FrameDecoder()
        try:
            while data := conn.recv(65536):
                for m in decoder.feed(data):
                    if isinstance(m, Garbled):
                        continue
                    with self._lock:
                        self.received.append(m)
                        self._answer(conn, m)
        except OSError:
            pass
        finally:
            conn.close()

    def _send(self, conn: socket.socket, msg_type: bytes,
              fields: list[tuple[int, str | int]]) -> None:
        now = self.encoder.timestamp(time.time())
        conn.sendall(self.encoder.encode(msg_type, self.next_seq, now, render_fields(fields)))
        self.next_seq += 1

    def _answer(self, conn: socket.socket, m: FixMessage) -> None:
        msg_type = m.msg_type
        seq = m.get_str(34) or "0"
        if msg_type == b"A":
            self._send(conn, b"A", [(98, 0), (108, m.get_str(108) or "30")])
        elif msg_type == b"1":
            self._send(conn, b"0", [(112, m.get_str(112) or "")])
        elif msg_type == b"2":  # never expected: fill any gap rather than hang
            self._send(conn, b"4", [(123, "Y"), (36, self.next_seq + 1)])
        elif msg_type == b"5":
            self._send(conn, b"5", [])
        elif msg_type == b"D" and m.get(55) == b"REJ":
            self._refused(b"3")
            self._send(conn, b"3", [(45, seq), (371, 55), (372, "D"), (373, 5),
                                    (58, "Value is incorrect (out of range) for this tag")])
        elif msg_type == b"D":
            self._oid += 1
            qty = m.get_str(38) or "0"
            self._send(conn, b"8", [
                (37, f"OID{self._oid}"), (11, m.get_str(11) or ""), (17, f"E{self.next_seq}"),
                (20, "0"), (150, "0"), (39, "0"), (55, m.get_str(55) or ""),
                (54, m.get_str(54) or "1"), (38, qty), (32, "0"), (31, "0"), (14, "0"),
                (151, qty), (6, "0"),
            ])
        elif msg_type == b"F":
            self._refused(b"j")
            self._send(conn, b"j", [(45, seq), (372, "F"), (380, 0),
                                    (58, "cancels are not taken now")])

    def _refused(self, msg_type: bytes) -> None:
        self._refusals[msg_type] = self._refusals.get(msg_type, 0) + 1


class Strategy:
    """One strategy connection and every event it has read."""

    def __init__(self, url: str, name: str) -> None:
        self.client = BlockingClient.connect(url, name)
        self.events: list[ClientEvent] = []

    def wait(self, match: Callable[[ClientEvent], bool], what: str) -> Any:
        deadline = time.monotonic() + TIMEOUT
        while True:
            for event in self.events:
                if match(event):
                    return event
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {what} within {TIMEOUT}s: {self.events[-8:]}")
            event = self.client.next_event(min(left, 0.5))
            if event is not None:
                self.events.append(event)


@pytest.fixture
def peer() -> Iterator[RefusingPeer]:
    p = RefusingPeer()
    yield p
    p.close()


def test_kill_9_after_session_refusals_keeps_them_refused(
    workdir: Path, peer: RefusingPeer
) -> None:
    gateway = free_port()
    url = f"tcp://127.0.0.1:{gateway}"
    metrics = f"127.0.0.1:{free_port()}"
    config = write_config(workdir / "router.toml", peer.port, workdir / "store",
                          heartbeat=5, gateway_port=gateway, tables=RISK, metrics=metrics)
    refusals = "fixrouter_session_refusals_total"
    engines: list[RouterProcess] = []
    clients: list[Strategy] = []
    try:
        engines.append(RouterProcess(workdir, config, tag="engine"))
        engines[-1].wait_log("asked IB for every open order")
        s = Strategy(url, "refused")
        clients.append(s)
        s.client.new("bad", "REJ", "buy", 10, "limit", price="10")
        s.client.new("good", "IBM", "buy", 10, "limit", price="150")
        s.wait(lambda e: isinstance(e, Accepted) and e.id == "good", "accepted good")
        rejected = s.wait(lambda e: isinstance(e, Execution) and e.id == "bad", "bad rejected")
        assert rejected.status is OrderStatus.REJECTED
        assert rejected.reason == "session reject: Value is incorrect (out of range) for this tag"
        s.wait(lambda e: isinstance(e, Execution) and e.id == "good", "good acknowledged")
        s.client.cancel("good")
        refused = s.wait(lambda e: isinstance(e, CancelRejected) and e.id == "good",
                         "cancel of good refused")
        assert refused.reason == "business reject: cancels are not taken now"
        before = {i: s.client.status(i) for i in ("bad", "good")}
        assert before["bad"].status is OrderStatus.REJECTED
        assert before["good"].status is OrderStatus.NEW
        assert (peer.refusals_sent(b"3"), peer.refusals_sent(b"j")) == (1, 1)
        assert value(scrape_url(f"http://{metrics}/metrics")[1], refusals) == 2

        engines[-1].kill9()
        assert engines[-1].proc.returncode == -9
        engines.append(RouterProcess(workdir, config, tag="engine"))
        engines[-1].wait_log("asked IB for every open order")
        assert "order book recovered: 1 working orders" in engines[-1].log()

        again = Strategy(url, "refused")
        clients.append(again)
        after = {i: again.client.status(i) for i in ("bad", "good")}
        assert after == before
        assert [o.id for o in again.client.orders()] == ["good"]
        # Nothing was sent again, so nothing was refused again: the state is the journal's.
        assert (peer.refusals_sent(b"3"), peer.refusals_sent(b"j")) == (1, 1)
        assert sum(m.msg_type == b"D" for m in peer.received) == 2
        # The replay settles the orders; it does not count them as refused again.
        assert value(scrape_url(f"http://{metrics}/metrics")[1], refusals) == 0
    finally:
        for c in clients:
            c.client.close()
        for engine in engines:
            engine.kill9()
