"""The benchmark acceptor: logon, ExecutionReport New the engine's dictionary accepts, and
a sink that counts NewOrderSingles split anywhere across reads."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from fixrouter.bench.acceptor import Acceptor, Mode, _frames_end
from fixrouter.codec import Encoder, FixMessage, FrameDecoder, render_fields
from fixrouter.dictionary import CompiledValidator, load_dictionary

NOS = render_fields([(11, "A1"), (1, "U1234567"), (21, "2"), (55, "AAPL"), (54, "1"),
                     (60, "20261124-10:00:00.000"), (38, "100"), (40, "2"), (44, "190.25"),
                     (59, "0")])


class _Wire:
    """Stands in for the socket: keeps what the acceptor writes."""

    def __init__(self) -> None:
        self.data = b""
        self.closed = False

    def write(self, data: bytes) -> None:
        self.data += data

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.closed = True

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return default


class _Initiator:
    """The engine's side: encodes what it sends, decodes what comes back."""

    def __init__(self) -> None:
        self.encoder = Encoder("FIXROUTER", "IB")
        self.decoder = FrameDecoder()
        self.seq = 0

    def frame(self, msg_type: bytes, body: bytes) -> bytes:
        self.seq += 1
        return self.encoder.encode(msg_type, self.seq, self.encoder.timestamp(time.time()), body)

    def read(self, wire: _Wire) -> list[FixMessage]:
        data, wire.data = wire.data, b""
        out = self.decoder.feed(data)
        assert all(isinstance(m, FixMessage) for m in out), out
        return out  # type: ignore[return-value]


def _connect() -> tuple[Acceptor, Any, _Wire, _Initiator]:
    acceptor = Acceptor()
    connection = acceptor.factory()
    wire = _Wire()
    connection.connection_made(wire)  # type: ignore[arg-type]
    initiator = _Initiator()
    connection.data_received(initiator.frame(b"A", render_fields([(98, 0), (108, 30)])))
    (logon,) = initiator.read(wire)
    assert logon.msg_type == b"A"
    assert logon.get(49) == b"IB" and logon.get(56) == b"FIXROUTER"
    return acceptor, connection, wire, initiator


def test_acked_mode_answers_each_order_with_a_valid_execution_report() -> None:
    async def main() -> None:
        acceptor, connection, wire, initiator = _connect()
        connection.data_received(initiator.frame(b"D", NOS) + initiator.frame(b"D", NOS))
        reports = initiator.read(wire)
        assert [r.msg_type for r in reports] == [b"8", b"8"]
        validator = CompiledValidator(load_dictionary())
        for report in reports:
            assert report.get(150) == b"0" and report.get(39) == b"0"
            assert report.get(11) == b"A1" and report.get(151) == b"100"
            assert validator.check_inbound(b"8", report.fields) is None
        assert reports[0].get(17) != reports[1].get(17)  # ExecIDs are unique
        assert acceptor.stats.nos == 2 and acceptor.stats.replies == 2
        connection.connection_lost(None)

    asyncio.run(main())


def test_sink_counts_orders_split_across_reads_and_still_answers_test_requests() -> None:
    async def main() -> None:
        acceptor, connection, wire, initiator = _connect()
        acceptor.mode = Mode.SINK
        stream = b"".join(initiator.frame(b"D", NOS) for _ in range(5))
        stream += initiator.frame(b"1", render_fields([(112, "T1")]))
        stream += initiator.frame(b"D", NOS)
        for at in range(0, len(stream), 97):  # reads cut mid-frame, mid-trailer, anywhere
            connection.data_received(stream[at:at + 97])
        assert acceptor.stats.nos == 6
        assert acceptor.stats.replies == 0
        (heartbeat,) = initiator.read(wire)
        assert heartbeat.msg_type == b"0" and heartbeat.get(112) == b"T1"
        connection.connection_lost(None)

    asyncio.run(main())


def test_frames_end_finds_the_last_whole_frame() -> None:
    initiator = _Initiator()
    one = initiator.frame(b"D", NOS)
    assert _frames_end(one) == len(one)
    assert _frames_end(one + one[:-1]) == len(one)
    assert _frames_end(one[:-3]) == 0


def test_filled_mode_answers_each_order_with_new_then_filled() -> None:
    async def main() -> None:
        acceptor, connection, wire, initiator = _connect()
        acceptor.mode = Mode.FILLED
        connection.data_received(initiator.frame(b"D", NOS) + initiator.frame(b"D", NOS))
        reports = initiator.read(wire)
        assert [(r.get(150), r.get(39)) for r in reports] == [
            (b"0", b"0"), (b"2", b"2"), (b"0", b"0"), (b"2", b"2")]
        validator = CompiledValidator(load_dictionary())
        for report in reports:
            assert validator.check_inbound(b"8", report.fields) is None
        new, fill = reports[:2]
        assert new.get(37) == fill.get(37) != reports[2].get(37)  # one OrderID per order
        assert (fill.get(32), fill.get(31), fill.get(14), fill.get(151), fill.get(6)) == (
            b"100", b"190.25", b"100", b"0", b"190.25")
        assert len({r.get(17) for r in reports}) == 4  # every ExecID unique
        assert acceptor.stats.nos == 2 and acceptor.stats.replies == 4
        connection.connection_lost(None)

    asyncio.run(main())
