"""A tiny FIX 4.2 initiator built on simplefix, standing in for the router in simulator tests.

It does just enough session work by hand to drive the simulator: Logon (optionally with
ResetSeqNumFlag), Heartbeat replies to TestRequests, answering Logout, and a ResendRequest
when the simulator's Logon shows a gap. Every application message received is kept in
`inbox`; `expect()` takes the first one that matches, so tests read reports in order
without caring about heartbeats.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import simplefix

ADMIN_TYPES = frozenset("0123A45")


@dataclass(frozen=True, slots=True)
class Msg:
    """A received message: its (tag, value) pairs in wire order."""

    pairs: tuple[tuple[int, str], ...]

    @property
    def type(self) -> str:
        return self[35]

    def get(self, tag: int) -> str | None:
        for t, v in self.pairs:
            if t == tag:
                return v
        return None

    def __getitem__(self, tag: int) -> str:
        value = self.get(tag)
        if value is None:
            raise KeyError(f"tag {tag} not in {self}")
        return value

    def __contains__(self, tag: object) -> bool:
        return any(t == tag for t, _ in self.pairs)

    def __str__(self) -> str:
        return "|".join(f"{t}={v}" for t, v in self.pairs)

    def wire(self) -> str:
        """The message as it came, SOH-delimited."""
        return "".join(f"{t}={v}\x01" for t, v in self.pairs)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y%m%d-%H:%M:%S.%f")[:-3]


class Peer:
    def __init__(
        self, port: int, sender: str = "FIXROUTER", target: str = "IB", heartbeat: int = 30
    ) -> None:
        self.port = port
        self.sender = sender
        self.target = target
        self.heartbeat = heartbeat
        self.next_out = 1
        self.next_in = 1
        self.inbox: list[Msg] = []
        self.history: list[Msg] = []  # every application message received
        self.admin_seen: list[Msg] = []
        self.closed_by_peer = False
        self._sock: socket.socket | None = None
        self._parser = simplefix.FixParser()

    # ---- connection ----------------------------------------------------------------------

    def connect(self) -> None:
        self._sock = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        self._parser = simplefix.FixParser()
        self.closed_by_peer = False

    def logon(self, reset: bool = True, timeout: float = 5.0) -> Msg:
        """Connect if needed, log on, and fill any gap the simulator's Logon reveals."""
        if self._sock is None:
            self.connect()
        fields: list[tuple[int, str]] = [(98, "0"), (108, str(self.heartbeat))]
        if reset:
            self.next_out = self.next_in = 1
            fields.append((141, "Y"))
        expected = self.next_in
        self.send("A", fields)
        reply = self._read_until(lambda m: m.type == "A", timeout)
        if int(reply[34]) > expected:
            # The simulator sent messages while we were away: ask for them, as the router will.
            self.send("2", [(7, str(expected)), (16, "0")])
        return reply

    def logout(self, timeout: float = 5.0) -> None:
        if self._sock is None:
            return
        try:
            self.send("5", [])
            self._read_until(lambda m: m.type == "5", timeout)
            # Let the acceptor close first: QuickFIX frees the session for the next
            # connection only once its connection thread ends (else a logon waits 1 s).
            self.wait_closed(timeout)
        except (OSError, EOFError, TimeoutError, AssertionError):
            pass
        self.close()

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    # ---- sending -------------------------------------------------------------------------

    def send(
        self,
        msg_type: str,
        fields: Iterable[tuple[int, str]],
        *,
        seq: int | None = None,
        poss_dup: bool = False,
        poss_resend: bool = False,
    ) -> int:
        """Send a message; returns its MsgSeqNum. `seq` re-uses an old number (PossDup)."""
        assert self._sock is not None, "not connected"
        m = simplefix.FixMessage()
        m.append_pair(8, "FIX.4.2", header=True)
        m.append_pair(35, msg_type, header=True)
        m.append_pair(49, self.sender, header=True)
        m.append_pair(56, self.target, header=True)
        number = self.next_out if seq is None else seq
        if seq is None:
            self.next_out += 1
        m.append_pair(34, str(number), header=True)
        if poss_dup:
            m.append_pair(43, "Y", header=True)
        if poss_resend:
            m.append_pair(97, "Y", header=True)
        m.append_pair(52, _now(), header=True)
        if poss_dup:
            m.append_pair(122, _now(), header=True)
        for tag, value in fields:
            m.append_pair(tag, value)
        self._sock.sendall(m.encode())
        return number

    def new_order(
        self,
        cl_ord_id: str,
        symbol: str = "AAPL",
        qty: str = "100",
        price: str | None = "190.00",
        side: str = "1",
        ord_type: str | None = None,
        extra: Iterable[tuple[int, str]] = (),
        **flags: Any,
    ) -> int:
        fields = [
            (1, "U1234567"),
            (11, cl_ord_id),
            (15, "USD"),
            (21, "2"),
            (38, qty),
            (40, ord_type or ("1" if price is None else "2")),
            *([(44, price)] if price is not None else []),
            (54, side),
            (55, symbol),
            (59, "0"),
            (60, _now()),
            (100, "SMART"),
            (167, "STK"),
            *extra,
        ]
        return self.send("D", fields, **flags)

    def cancel(
        self, cl_ord_id: str, orig: str, symbol: str = "AAPL", qty: str = "100", side: str = "1",
        **flags: Any,
    ) -> int:  # fmt: skip
        fields = [(11, cl_ord_id), (41, orig), (38, qty), (54, side), (55, symbol), (60, _now())]
        return self.send("F", fields, **flags)

    def replace(
        self,
        cl_ord_id: str,
        orig: str,
        qty: str,
        price: str,
        symbol: str = "AAPL",
        side: str = "1",
        **flags: Any,
    ) -> int:
        fields = [
            (1, "U1234567"), (11, cl_ord_id), (21, "2"), (38, qty), (40, "2"), (41, orig),
            (44, price), (54, side), (55, symbol), (60, _now()), (100, "SMART"),
        ]  # fmt: skip
        return self.send("G", fields, **flags)

    def status(self, cl_ord_id: str, symbol: str | None = None, side: str | None = None) -> int:
        fields = [(11, cl_ord_id)]
        if symbol:
            fields.append((55, symbol))
        if side:
            fields.append((54, side))
        return self.send("H", fields)

    # ---- receiving -----------------------------------------------------------------------

    def expect(self, msg_type: str, timeout: float = 5.0, **match: str) -> Msg:
        """The first unread application message of this type whose tags match.

        Keyword arguments are tags written as `t11="A1"`.
        """
        wanted = {int(k[1:]): v for k, v in match.items()}

        def ok(m: Msg) -> bool:
            return m.type == msg_type and all(m.get(t) == v for t, v in wanted.items())

        deadline = time.monotonic() + timeout
        while True:
            for i, m in enumerate(self.inbox):
                if ok(m):
                    return self.inbox.pop(i)
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(
                    f"no {msg_type} matching {wanted} within {timeout}s; unread: "
                    + "; ".join(str(m) for m in self.inbox)
                )
            try:
                self._read_one(left)
            except TimeoutError:
                continue

    def expect_nothing(self, within: float = 0.3) -> None:
        """Assert no application message arrives (or is unread) within `within` seconds."""
        deadline = time.monotonic() + within
        while (left := deadline - time.monotonic()) > 0:
            try:
                self._read_one(left)
            except TimeoutError:
                break
        assert not self.inbox, "unexpected: " + "; ".join(str(m) for m in self.inbox)

    def drain(self, within: float = 0.3) -> list[Msg]:
        """Read for `within` seconds and return (and clear) everything unread."""
        deadline = time.monotonic() + within
        while (left := deadline - time.monotonic()) > 0:
            try:
                self._read_one(left)
            except TimeoutError:
                break
        got, self.inbox = self.inbox, []
        return got

    def wait_closed(self, timeout: float = 5.0) -> None:
        """Wait until the simulator closes the connection."""
        deadline = time.monotonic() + timeout
        while not self.closed_by_peer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("the simulator did not close the connection")
            try:
                self._read_one(left)
            except EOFError:
                return

    def _read_until(self, predicate: object, timeout: float) -> Msg:
        deadline = time.monotonic() + timeout
        while True:
            for m in self.admin_seen:
                if predicate(m):  # type: ignore[operator]
                    self.admin_seen.remove(m)
                    return m
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("timed out waiting for a session message")
            self._read_one(left)

    def _read_one(self, timeout: float) -> None:
        """Read until one whole message is parsed and filed. Raises TimeoutError, EOFError."""
        assert self._sock is not None, "not connected"
        while True:
            raw = self._parser.get_message()
            if raw is not None:
                self._file(Msg(tuple((int(t), v.decode()) for t, v in raw.pairs)))
                return
            self._sock.settimeout(max(timeout, 0.001))
            try:
                data = self._sock.recv(65536)
            except TimeoutError:
                raise
            except ConnectionResetError:
                data = b""
            if not data:
                self.closed_by_peer = True
                raise EOFError("connection closed by the simulator")
            self._parser.append_buffer(data)

    def _file(self, m: Msg) -> None:
        self.next_in = max(self.next_in, int(m[34]) + 1)
        if m.type == "1":
            self.send("0", [(112, m[112])])
        if m.type in ADMIN_TYPES:
            self.admin_seen.append(m)
        else:
            self.inbox.append(m)
            self.history.append(m)
