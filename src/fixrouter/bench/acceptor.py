"""The benchmark acceptor: a minimal FIX 4.2 acceptor that plays IB as fast as Python can.

It runs in the bench's helper process (`fixrouter.bench.helper`), on the same uvloop loop
as the load generator, on a CPU the engine does not use.

Theory of operation
-------------------
One server on a free loopback port accepts any number of initiators (the engine, and
with `--peer quickfix` the QuickFIX initiator) under any CompIDs: each connection answers
with the CompIDs of the Logon it received, swapped. Per connection it does only what a
counterparty must do for the initiator to stay logged on and keep sending:

* Logon -> Logon (HeartBtInt echoed, ResetSeqNumFlag echoed), then a Heartbeat of its own
  every HeartBtInt; TestRequest -> Heartbeat with its TestReqID; Logout -> Logout, close;
  ResendRequest -> SequenceReset (reset mode) to our next number. Inbound sequence numbers
  are not checked: nothing here ever asks for a resend.
* In **acked** mode every NewOrderSingle is answered with an ExecutionReport New carrying
  what the initiator's dictionary requires (OrderID, ExecID, ExecTransType, ExecType,
  OrdStatus, Symbol, Side, OrderQty, LastShares, LastPx, LeavesQty, CumQty, AvgPx). Frames
  go through `fixrouter.codec.FrameDecoder` (BodyLength and CheckSum verified), replies
  through a `BodyTemplate` and the session's `Encoder`; every reply of one socket read
  leaves in one write, with one SendingTime.
* In **filled** mode every NewOrderSingle is answered with that ExecutionReport New and
  then an ExecutionReport Filled for its whole quantity at its limit price (a new
  ExecID, the same OrderID), so each order *finishes*: the memory run of `fixrouter
  bench` (issue 7) pushes a million orders through the engine this way, where resting
  orders would rightly stay in memory.
* In **sink** mode NewOrderSingles are only counted: a read is cut after its last whole
  frame (the rest waits for the next read), the complete part is scanned for
  `<SOH>35=D<SOH>` with `bytes.count`, and only a part that holds an admin message
  (TestRequest, ResendRequest, Logout, Logon) is decoded. Counting costs a few
  nanoseconds per message, so the sink is never what limits a one-way run.

The mode is global and switched by the controller between runs, when the lines are quiet
(a frame split across the switch would be miscounted, never a connection lost).

*Is the acceptor the bottleneck?* It keeps cumulative counters the controller reads
before and after each run (`Stats`): the time spent in its read handler (`busy_ns`: with
a spinning loop the process's CPU time says nothing), NewOrderSingles seen (with the
monotonic time of the first and last) and replies written. CLOCK_MONOTONIC is one clock
for every process on the host, so the controller compares the acceptor's read of the
last NewOrderSingle with the engine's write of it: the acceptor's lag. A lag of a
fraction of a millisecond and a busy share well below one core mean the engine, not the
acceptor, set the pace.
"""

from __future__ import annotations

import asyncio
import enum
import socket
import time

from fixrouter.codec import BodyTemplate, Encoder, FixMessage, FrameDecoder, render_fields

_NOS = b"\x0135=D\x01"
_TRAILER = b"\x0110="
_TRAILER_LEN = 8  # <SOH>10=NNN<SOH>
# Markers of the admin messages a sink must still answer (a Heartbeat needs nothing).
_ADMIN_MARKERS = (b"\x0135=1\x01", b"\x0135=2\x01", b"\x0135=5\x01", b"\x0135=A\x01")
# ExecutionReport New and Filled, tags in the dictionary's order.
_ER_NEW = BodyTemplate((37, 11, 17, 20, 150, 39, 55, 54, 38, 32, 31, 151, 14, 6, 60))
_ER_FILL = _ER_NEW
_ZERO = b"0"
_FILLED = b"2"
_NO_PRICE = b"1"  # a market order is filled at 1: the price only has to be a number


class Mode(enum.Enum):
    ACKED = "acked"
    FILLED = "filled"
    SINK = "sink"


class Stats:
    """Cumulative counters of the whole process, read by the controller between runs."""

    __slots__ = ("busy_ns", "bytes_in", "connections", "first_nos_ns", "garbled",
                 "last_nos_ns", "nos", "reads", "rejects", "replies")  # fmt: skip

    def __init__(self) -> None:
        self.nos = 0
        """NewOrderSingles received."""
        self.replies = 0
        """ExecutionReports written."""
        self.first_nos_ns = 0
        self.last_nos_ns = 0
        """`time.monotonic_ns()` of the reads that brought the first and the latest
        NewOrderSingle (CLOCK_MONOTONIC is one clock for every process on the host)."""
        self.reads = 0
        self.bytes_in = 0
        self.garbled = 0
        self.rejects = 0
        """Reject / BusinessMessageReject received: our replies were not acceptable."""
        self.connections = 0
        self.busy_ns = 0
        """Time spent handling reads (decoding, replying, counting)."""

    def as_dict(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in self.__slots__}


class Acceptor:
    """Every connection of the benchmark acceptor, and their shared mode and counters."""

    def __init__(self) -> None:
        self.mode = Mode.ACKED
        self.stats = Stats()
        self.connections: set[_FixConnection] = set()
        self._order_ids = 0

    def next_order_id(self) -> bytes:
        self._order_ids += 1
        return b"%d" % self._order_ids

    def factory(self) -> _FixConnection:
        return _FixConnection(self)


class _FixConnection(asyncio.Protocol):
    """One initiator's line. See the module docstring."""

    def __init__(self, acceptor: Acceptor) -> None:
        self._acceptor = acceptor
        self._stats = acceptor.stats
        self._decoder = FrameDecoder()
        self._transport: asyncio.Transport | None = None
        self._encoder: Encoder | None = None
        self._seq = 0
        self._tail = b""
        self._heartbeat: asyncio.TimerHandle | None = None
        self._interval = 30.0
        self._exec_ids = 0
        self._closing = False

    # -- asyncio callbacks ---------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._acceptor.connections.add(self)
        self._stats.connections += 1

    def connection_lost(self, exc: Exception | None) -> None:
        self._acceptor.connections.discard(self)
        if self._heartbeat is not None:
            self._heartbeat.cancel()

    def abort(self) -> None:
        if self._transport is not None:
            self._transport.abort()

    def data_received(self, data: bytes) -> None:
        started = time.perf_counter_ns()
        stats = self._stats
        stats.reads += 1
        stats.bytes_in += len(data)
        if self._encoder is not None and self._acceptor.mode is Mode.SINK:
            self._sink(data)
        else:
            if self._tail:
                data = self._tail + data
                self._tail = b""
            self._decode(data)
        stats.busy_ns += time.perf_counter_ns() - started

    # -- acked mode and admin messages ---------------------------------------------------

    def _decode(self, data: bytes) -> None:
        out: list[bytes] = []
        now = time.time()
        sending_time = b""
        stats = self._stats
        nos = replies = 0
        for item in self._decoder.feed(data):
            if not isinstance(item, FixMessage):
                stats.garbled += 1
                continue
            msg_type = item.msg_type
            if msg_type == b"D":
                nos += 1
                if self._encoder is None:
                    continue
                if not sending_time:
                    sending_time = self._encoder.timestamp(now)
                mode = self._acceptor.mode
                if mode is Mode.ACKED:
                    out.append(self._execution_new(item, sending_time))
                    replies += 1
                elif mode is Mode.FILLED:
                    self._execution_filled(item, sending_time, out)
                    replies += 2
            else:
                self._admin(item, now, out)
        if nos:
            self._count(nos)
        stats.replies += replies
        if out:
            self._write(out)

    def _execution_new(self, order: FixMessage, sending_time: bytes,
                       order_id: bytes | None = None) -> bytes:
        idx = order.index
        qty = idx.get(b"38", _ZERO)
        self._exec_ids += 1
        body = _ER_NEW.render((
            order_id or self._acceptor.next_order_id(), idx.get(b"11", b"?"),
            b"E%d" % self._exec_ids, _ZERO, _ZERO, _ZERO, idx.get(b"55", b"?"),
            idx.get(b"54", b"1"), qty, _ZERO, _ZERO, qty, _ZERO, _ZERO, sending_time,
        ))
        return self._encode(b"8", sending_time, body)

    def _execution_filled(self, order: FixMessage, sending_time: bytes,
                          out: list[bytes]) -> None:
        """New, then Filled for the whole quantity at the order's limit price."""
        order_id = self._acceptor.next_order_id()
        out.append(self._execution_new(order, sending_time, order_id))
        idx = order.index
        qty = idx.get(b"38", _ZERO)
        px = idx.get(b"44", _NO_PRICE)
        self._exec_ids += 1
        body = _ER_FILL.render((
            order_id, idx.get(b"11", b"?"), b"E%d" % self._exec_ids, _ZERO, _FILLED,
            _FILLED, idx.get(b"55", b"?"), idx.get(b"54", b"1"), qty, qty, px, _ZERO, qty,
            px, sending_time,
        ))
        out.append(self._encode(b"8", sending_time, body))

    def _admin(self, msg: FixMessage, now: float, out: list[bytes]) -> None:
        msg_type = msg.msg_type
        if msg_type == b"A":
            self._logon(msg, now, out)
        elif self._encoder is None:
            return  # nothing before a Logon is answered
        elif msg_type == b"1":
            test_id = msg.get(112) or b"TEST"
            out.append(self._encode(b"0", self._encoder.timestamp(now),
                                    render_fields([(112, test_id)])))
        elif msg_type == b"5":
            out.append(self._encode(b"5", self._encoder.timestamp(now), b""))
            self._closing = True
        elif msg_type == b"2":
            out.append(self._encode(b"4", self._encoder.timestamp(now),
                                    render_fields([(36, self._seq + 2)])))
        elif msg_type in (b"3", b"j"):
            self._stats.rejects += 1

    def _logon(self, msg: FixMessage, now: float, out: list[bytes]) -> None:
        sender = (msg.get(49) or b"IB").decode("ascii")
        target = (msg.get(56) or b"FIXROUTER").decode("ascii")
        self._encoder = Encoder(target, sender)
        interval = int(msg.get(108) or b"30")
        self._interval = float(max(1, interval))
        fields: list[tuple[int, bytes | int]] = [(98, 0), (108, interval)]
        if msg.get(141) == b"Y":
            self._seq = 0
            fields.append((141, b"Y"))
        out.append(self._encode(b"A", self._encoder.timestamp(now), render_fields(fields)))
        self._arm_heartbeat()

    def _arm_heartbeat(self) -> None:
        loop = asyncio.get_running_loop()
        self._heartbeat = loop.call_later(self._interval, self._send_heartbeat)

    def _send_heartbeat(self) -> None:
        if self._encoder is not None and not self._closing:
            self._write([self._encode(b"0", self._encoder.timestamp(time.time()), b"")])
            self._arm_heartbeat()

    # -- sink mode -----------------------------------------------------------------------

    def _sink(self, data: bytes) -> None:
        buf = self._tail + data if self._tail else data
        end = _frames_end(buf)
        if end == len(buf):
            complete = buf
            self._tail = b""
        else:
            complete = buf[:end]
            self._tail = buf[end:]
        if not complete:
            return
        nos = complete.count(_NOS)
        if nos:
            self._count(nos)
        for marker in _ADMIN_MARKERS:
            if marker in complete:
                self._decode(complete)  # counts its NewOrderSingles again: undo that
                self._stats.nos -= nos
                return

    # -- output --------------------------------------------------------------------------

    def _count(self, nos: int) -> None:
        stats = self._stats
        now = time.monotonic_ns()
        if not stats.nos:
            stats.first_nos_ns = now
        stats.nos += nos
        stats.last_nos_ns = now

    def _encode(self, msg_type: bytes, sending_time: bytes, body: bytes) -> bytes:
        assert self._encoder is not None
        self._seq += 1
        return self._encoder.encode(msg_type, self._seq, sending_time, body)

    def _write(self, out: list[bytes]) -> None:
        transport = self._transport
        if transport is None or transport.is_closing():
            return
        transport.write(out[0] if len(out) == 1 else b"".join(out))
        if self._closing:
            transport.close()


def _frames_end(buf: bytes) -> int:
    """The index just past the last complete frame in `buf` (0 if there is none)."""
    size = len(buf)
    at = buf.rfind(_TRAILER)
    while at >= 0:
        end = at + _TRAILER_LEN
        if end <= size and buf[end - 1] == 1:
            return end
        at = buf.rfind(_TRAILER, 0, at)
    return 0
