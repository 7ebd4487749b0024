"""The gateway over real loopback sockets: framing, identity, isolation, slow clients."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import stat
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest

from fixrouter.busypoll import BusyPoller
from fixrouter.events import Accepted, ErrorCode, SessionChanged
from fixrouter.gateway import Gateway, GatewayConfig, GatewayError, ListenAddress
from fixrouter.gateway.server import HOLD_EVENTS
from fixrouter.requests import CancelOrder, NewOrder
from fixrouter.transport import CommitWatch
from transport.test_connection import CountingTransport  # type: ignore[import-not-found]

from .conftest import LineClient, Runner, connect, serve
from .standin import StandInCore

LIMIT = {"op": "new", "symbol": "AAPL", "side": "buy", "qty": 100, "type": "limit", "price": "10"}
MARKET = {"op": "new", "symbol": "MSFT", "side": "buy", "qty": 5, "type": "market"}


def order(id: str, base: dict[str, Any] = LIMIT, **changes: Any) -> dict[str, Any]:
    return {**base, "id": id, **changes}


async def expect_error(
    client: LineClient, message: dict[str, Any] | bytes, code: ErrorCode, field: str | None
) -> dict[str, Any]:
    event = await client.request(message)
    assert event["ev"] == "error", event
    assert event["code"] == code.value, event
    if field is not None:
        assert event["reason"].startswith(f"{field}: "), event
    return event


@pytest.mark.parametrize("kind", [0, 1], ids=["tcp", "unix"])
def test_hello_ping_and_an_order(run: Runner, sock_dir: Path, kind: int) -> None:
    async def main() -> None:
        async with serve(sock_dir) as (gateway, core):
            client = await LineClient.open(gateway.addresses[kind])
            assert await client.request({"op": "ping", "req": 1}) == {"ev": "pong", "req": 1}
            welcome = await client.request({"op": "hello", "client": "alpha", "req": "h"})
            assert welcome == {"ev": "welcome", "client": "alpha", "protocol": 1, "req": "h"}
            before = time.monotonic_ns()
            await client.send(order("o-1"))
            assert await client.recv() == {"ev": "accepted", "id": "o-1", "cl_ord_id": "SI1"}
            assert (await client.recv())["exec_type"] == "new"
            request = core.requests[0]
            assert isinstance(request, NewOrder) and request.strategy == "alpha"
            assert before <= request.received_ns <= time.monotonic_ns()
            assert core.connected == ["alpha"]
            await client.close()

    run(main())


# Each bad line, its code and the field its reason must name.
BAD_LINES: list[tuple[bytes | dict[str, Any], ErrorCode, str | None]] = [
    (b'{"op": "new", "id": \n', ErrorCode.BAD_JSON, None),
    (b"\x00\xff\xfe\x80garbage\x01\x02\n", ErrorCode.BAD_JSON, None),
    (b'[{"op": "new"}]\n', ErrorCode.NOT_OBJECT, None),
    (b"42\n", ErrorCode.NOT_OBJECT, None),
    ({"op": "launch"}, ErrorCode.UNKNOWN_OP, "op"),
    ({"id": "o-x"}, ErrorCode.MISSING_FIELD, "op"),
    ({k: v for k, v in order("o-x").items() if k != "symbol"}, ErrorCode.MISSING_FIELD, "symbol"),
    (order("o-x", colour="red"), ErrorCode.UNKNOWN_FIELD, "colour"),
    (order("o-x", qty="lots"), ErrorCode.BAD_VALUE, "qty"),
    (order("o-x", side=1), ErrorCode.BAD_VALUE, "side"),
    (order("o-x", qty=0), ErrorCode.BAD_VALUE, "qty"),
    (order("o-x", qty=-100), ErrorCode.BAD_VALUE, "qty"),
    (order("o-x", qty="100.5"), ErrorCode.BAD_VALUE, "qty"),
    (order("o-x", price="NaN"), ErrorCode.BAD_VALUE, "price"),
    (order("o-x", price="Infinity"), ErrorCode.BAD_VALUE, "price"),
    (b'{"op":"new","id":"o-x","symbol":"A","side":"buy","qty":1,"type":"limit","price":1e999}\n',
     ErrorCode.BAD_JSON, None),
    (order("o-x", price="-10"), ErrorCode.BAD_VALUE, "price"),
    (order("o-x", price="10.000000001"), ErrorCode.BAD_VALUE, "price"),
    (order("o-x", price=None), ErrorCode.MISSING_FIELD, "price"),
    (order("o-x", MARKET, price="10"), ErrorCode.BAD_VALUE, "price"),
    (order("o-x", sec_type="SPACESHIP"), ErrorCode.BAD_VALUE, "sec_type"),
    (order("o-x", tif="eternal"), ErrorCode.BAD_VALUE, "tif"),
    (order("o-x", symbol="AAPL\u000135=8"), ErrorCode.BAD_VALUE, "symbol"),
    (order("o-x", what_if="true"), ErrorCode.BAD_VALUE, "what_if"),
    ({"op": "cancel"}, ErrorCode.MISSING_FIELD, "id"),
    ({"op": "hello", "client": "alpha"}, ErrorCode.ALREADY_HELLO, None),
]  # fmt: skip


def test_bad_input_gets_precise_errors_and_the_connection_stays_usable(run: Runner) -> None:
    async def main() -> None:
        async with serve() as (gateway, core):
            alpha = await connect(gateway, "alpha")
            beta = await connect(gateway, "beta")
            for line, code, field in BAD_LINES:
                event = await expect_error(alpha, line, code, field)
                if isinstance(line, dict) and line.get("id") == "o-x":
                    assert event["id"] == "o-x"
            assert core.requests == []  # nothing bad reached the engine
            # still usable: a good order goes through
            await alpha.send(order("o-1"))
            assert (await alpha.recv())["ev"] == "accepted"
            assert (await alpha.recv())["ev"] == "exec"
            await beta.silent()  # the other strategy saw none of it
            assert gateway.stats.errors[ErrorCode.BAD_VALUE] >= 10

    run(main())


def test_engine_refusals_reach_only_the_sender(run: Runner) -> None:
    async def main() -> None:
        async with serve() as (gateway, core):
            alpha = await connect(gateway, "alpha")
            beta = await connect(gateway, "beta")
            await beta.send(order("b-1"))
            assert (await beta.recv())["ev"] == "accepted"
            assert (await beta.recv())["ev"] == "exec"

            # a cancel of an unknown order, and of another strategy's order
            for target in ("nope", "b-1"):
                event = await expect_error(
                    alpha, {"op": "cancel", "id": target}, ErrorCode.UNKNOWN_ORDER, None
                )
                assert event["id"] == target
            await expect_error(
                alpha, {"op": "status", "id": "b-1", "req": 3}, ErrorCode.UNKNOWN_ORDER, None
            )
            assert await alpha.request({"op": "orders", "req": 4}) == {
                "ev": "orders_end", "count": 0, "req": 4
            }  # fmt: skip

            # a duplicate id
            await alpha.send(order("a-1", MARKET))
            assert [(await alpha.recv())["ev"] for _ in range(3)] == ["accepted", "exec", "exec"]
            await expect_error(alpha, order("a-1"), ErrorCode.DUPLICATE_ID, None)
            # a replace and a cancel of a filled order
            for request in (
                {"op": "replace", "id": "a-1", "new_id": "a-2", "qty": 1},
                {"op": "cancel", "id": "a-1"},
            ):
                event = await alpha.request(request)
                assert event == {"ev": "cancel_rejected", "id": "a-1", "reason": "order is filled"}
            await beta.silent()
            # beta's order is untouched and still beta's alone
            state = await beta.request({"op": "status", "id": "b-1", "req": 5})
            assert (state["ev"], state["status"], state["req"]) == ("status", "new", 5)
            cancels = [r for r in core.requests if isinstance(r, CancelOrder)]
            assert {r.strategy for r in cancels} == {"alpha"}

    run(main())


def test_new_before_hello(run: Runner) -> None:
    async def main() -> None:
        async with serve() as (gateway, core):
            client = await connect(gateway)
            await expect_error(client, order("o-1"), ErrorCode.NOT_HELLO, None)
            await expect_error(client, {"op": "orders"}, ErrorCode.NOT_HELLO, None)
            assert core.requests == []
            assert (await client.hello("alpha"))["ev"] == "welcome"  # still usable
            assert (await client.request(order("o-1")))["ev"] == "accepted"

    run(main())


def test_oversized_lines_are_refused_and_skipped(run: Runner) -> None:
    async def main() -> None:
        async with serve(max_line_bytes=1024) as (gateway, core):
            client = await connect(gateway, "alpha")
            # a long line in one write, followed by a good one
            await client.send(b'{"op": "ping", "pad": "' + b"x" * 5000 + b'"}\n{"op": "ping"}\n')
            assert (await client.recv())["code"] == "LINE_TOO_LONG"
            assert await client.recv() == {"ev": "pong"}
            # a long line dribbled in pieces: refused once, as soon as it passes the limit
            await client.send(b'{"op": "new", "id": "' + b"y" * 700)
            await client.silent()
            await client.send(b"y" * 700)
            assert (await client.recv())["code"] == "LINE_TOO_LONG"
            await client.send(b"y" * 5000)
            await client.send(b'"}\n{"op": "ping", "req": 2}\n')
            assert await client.recv() == {"ev": "pong", "req": 2}
            await client.silent()
            # exactly at the limit is fine
            body = b'{"op": "ping", "req": "' + b"r" * 50 + b'"}'
            padded = body[:-1] + b" " * (1024 - len(body)) + b"}"
            assert len(padded) == 1024
            await client.send(padded + b"\n")
            assert (await client.recv())["ev"] == "pong"
            assert core.requests == []
            assert gateway.stats.errors[ErrorCode.LINE_TOO_LONG] == 2

    run(main())


def test_lines_split_and_batched_across_reads(run: Runner) -> None:
    async def main() -> None:
        async with serve() as (gateway, core):
            client = await connect(gateway, "alpha")
            data = b"".join(orjson.dumps(order(f"o-{i}")) + b"\n" for i in range(50))
            for i in range(0, len(data), 37):  # odd-sized pieces across line boundaries
                await client.send(data[i : i + 37])
            await client.send(b"\r\n\n")  # blank lines are ignored
            events = [await client.recv() for _ in range(100)]
            assert [e["id"] for e in events if e["ev"] == "accepted"] == [
                f"o-{i}" for i in range(50)
            ]
            assert len(core.requests) == 50
            await client.silent()

    run(main())


def test_half_line_then_disconnect_leaves_nothing(run: Runner) -> None:
    async def main() -> None:
        async with serve() as (gateway, core):
            client = await connect(gateway, "alpha")
            await client.send(orjson.dumps(order("o-1"))[:-5])  # no closing brace, no newline
            await client.close()
            for _ in range(100):
                if not gateway.connected():
                    break
                await asyncio.sleep(0.01)
            assert gateway.connected() == []
            assert core.requests == []
            assert gateway.stats.connections_closed == gateway.stats.connections_opened == 1
            again = await connect(gateway, "alpha")  # the name is free again
            assert await again.request({"op": "orders"}) == {"ev": "orders_end", "count": 0}

    run(main())


def test_hello_timeout_closes_silent_connections(run: Runner) -> None:
    async def main() -> None:
        async with serve(hello_timeout=0.2) as (gateway, _):
            idle = await connect(gateway)
            named = await connect(gateway, "alpha")
            event = await idle.recv(timeout=2)
            assert (event["ev"], event["code"]) == ("error", "NOT_HELLO")
            assert await idle.closed_by_peer()
            assert await named.request({"op": "ping"}) == {"ev": "pong"}

    run(main())


def test_name_in_use(run: Runner) -> None:
    async def main() -> None:
        async with serve() as (gateway, _):
            first = await connect(gateway, "alpha")
            second = await connect(gateway)
            event = await second.hello("alpha")
            assert (event["ev"], event["code"]) == ("error", "NAME_IN_USE")
            assert await second.closed_by_peer()
            assert await first.request({"op": "ping"}) == {"ev": "pong"}
            await first.close()
            for _ in range(100):
                if not gateway.connected():
                    break
                await asyncio.sleep(0.01)
            third = await connect(gateway, "alpha")
            assert await third.request({"op": "ping"}) == {"ev": "pong"}

    run(main())


def test_duplicate_names_when_allowed_share_events(run: Runner) -> None:
    async def main() -> None:
        async with serve(allow_duplicate_names=True) as (gateway, _):
            one = await connect(gateway, "alpha")
            two = await connect(gateway, "alpha")
            await one.send(order("o-1"))
            for client in (one, two):
                assert (await client.recv())["ev"] == "accepted"
                assert (await client.recv())["ev"] == "exec"

    run(main())


def test_tokens_from_the_environment(run: Runner, caplog: pytest.LogCaptureFixture) -> None:
    secret = "tok-3f9a-very-secret"
    config = GatewayConfig.from_toml_table(
        {
            "listen": ["tcp://127.0.0.1:0"],
            "allow_unknown_clients": False,
            "clients": {"alpha": {"token_env": "ALPHA_TOKEN"}, "beta": {"token": "b"}},
        },
        environ={"ALPHA_TOKEN": secret},
    )

    async def main() -> None:
        core = StandInCore()
        gateway = Gateway(config, core)
        core.deliver = gateway.deliver
        await gateway.start()
        try:
            for name, token, code in [
                ("alpha", None, "BAD_TOKEN"),
                ("alpha", "tok-3f9a-very-secreT", "BAD_TOKEN"),
                ("alpha", "b", "BAD_TOKEN"),  # beta's token is not alpha's
                ("mallory", None, "BAD_TOKEN"),  # not configured
            ]:
                client = await connect(gateway)
                event = await client.hello(name, token)
                assert (event["ev"], event["code"]) == ("error", code), (name, event)
                assert await client.closed_by_peer()
            alpha = await connect(gateway)
            assert (await alpha.hello("alpha", secret))["ev"] == "welcome"
            beta = await connect(gateway)
            assert (await beta.hello("beta", "b"))["ev"] == "welcome"
            assert gateway.stats.hellos_refused == 4
        finally:
            await gateway.close()

    with caplog.at_level(logging.DEBUG):
        run(main())
    assert secret not in caplog.text
    assert "secreT" not in caplog.text
    assert secret not in repr(config)


def test_unix_socket_is_0600_and_removed_at_close(run: Runner, sock_dir: Path) -> None:
    path = sock_dir / "gw.sock"

    async def main() -> None:
        async with serve(sock_dir) as (gateway, _):
            mode = os.stat(path).st_mode
            assert stat.S_ISSOCK(mode)
            assert stat.S_IMODE(mode) == 0o600
            client = await connect(gateway, "alpha", index=1)
            assert await client.request({"op": "ping"}) == {"ev": "pong"}
        assert not path.exists()

    run(main())


def test_stale_socket_is_replaced_but_live_sockets_and_files_are_not(
    run: Runner, sock_dir: Path
) -> None:
    path = sock_dir / "gw.sock"
    unix = ListenAddress("unix", path=str(path))
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(str(path))
    stale.close()  # the file stays behind, nobody listens: a crashed engine's leftover

    async def main() -> None:
        async with serve(sock_dir) as (gateway, _):
            assert (await (await connect(gateway, index=1)).hello("alpha"))["ev"] == "welcome"
            # a second engine on the same path must not steal the live socket
            other = Gateway(GatewayConfig(listen=(unix,)), StandInCore())
            with pytest.raises(GatewayError, match="in use"):
                await other.start()
            assert path.exists()
        path.write_text("not a socket")
        gateway = Gateway(GatewayConfig(listen=(unix,)), StandInCore())
        with pytest.raises(GatewayError, match="not a socket"):
            await gateway.start()
        assert path.read_text() == "not a socket"

    run(main())


def test_tcp_port_in_use_is_a_gateway_error(run: Runner) -> None:
    async def main() -> None:
        async with serve() as (gateway, _):
            taken = gateway.addresses[0]
            other = Gateway(GatewayConfig(listen=(taken,)), StandInCore())
            with pytest.raises(GatewayError, match=str(taken.port)):
                await other.start()

    run(main())


def test_slow_client_is_dropped_and_others_are_not_slowed(run: Runner) -> None:
    async def main() -> None:
        async with serve(max_outbound_bytes=64 * 1024) as (gateway, _):
            # the slow strategy says hello and then never reads; a small receive buffer
            # keeps the kernel from absorbing megabytes on its behalf
            slow = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            address = gateway.addresses[0]
            slow.setblocking(False)
            await asyncio.get_running_loop().sock_connect(slow, (address.host, address.port))
            slow.send(b'{"op": "hello", "client": "slow"}\n')
            fast = await connect(gateway, "fast")
            for _ in range(100):
                if "slow" in gateway.connected():
                    break
                await asyncio.sleep(0.01)

            # `deliver` is synchronous: it cannot wait for the slow reader, only buffer,
            # and the buffer's bound is what this test proves (the drop), together with
            # the fast client being answered in every round.
            event = Accepted("o-1", "X" * 200)
            for round_ in range(2000):
                for _ in range(50):
                    gateway.deliver("slow", event)
                gateway.deliver("fast", Accepted(f"f-{round_}", "C"))
                got = await fast.recv(timeout=1.0)  # prompt, every round
                assert got["id"] == f"f-{round_}"
                if gateway.stats.slow_disconnects:
                    break
            assert gateway.stats.slow_disconnects == 1
            assert "slow" not in gateway.connected()
            assert gateway.connected() == ["fast"]
            gateway.deliver("slow", event)  # after the drop: counted, not an error
            assert gateway.stats.undeliverable >= 1
            # the fast client keeps going
            gateway.deliver("fast", Accepted("after", "C"))
            assert (await fast.recv())["id"] == "after"
            slow.close()

    run(main())


def test_session_events_go_to_every_named_connection(run: Runner) -> None:
    async def main() -> None:
        async with serve() as (gateway, _):
            alpha = await connect(gateway, "alpha")
            beta = await connect(gateway, "beta")
            anonymous = await connect(gateway)
            gateway.broadcast_session(SessionChanged("IB-1", "logged_on", "seq 12"))
            expected = {
                "ev": "session",
                "session": "IB-1",
                "state": "logged_on",
                "detail": "seq 12",
            }
            assert await alpha.recv() == expected
            assert await beta.recv() == expected
            await anonymous.silent()

    run(main())


def test_orders_listing_is_framed_and_correlated(run: Runner) -> None:
    async def main() -> None:
        async with serve() as (gateway, core):
            alpha = await connect(gateway, "alpha")
            for i in range(3):
                await alpha.send(order(f"o-{i}"))
                await alpha.recv()
                await alpha.recv()
            core.fill("alpha", "o-1", Decimal(40), Decimal("10.5"))
            assert (await alpha.recv())["last_qty"] == 40
            await alpha.send({"op": "orders", "req": "all"})
            states = [await alpha.recv() for _ in range(4)]
            assert [s["ev"] for s in states] == ["status"] * 3 + ["orders_end"]
            assert all(s["req"] == "all" for s in states)
            assert states[-1]["count"] == 3
            assert states[1] == {
                "ev": "status", "id": "o-1", "cl_ord_id": "SI3", "symbol": "AAPL", "side": "buy",
                "status": "partially_filled", "qty": 100, "cum_qty": 40, "leaves_qty": 60,
                "avg_px": "10.5", "price": "10", "req": "all",
            }  # fmt: skip

    run(main())


class FailingCore(StandInCore):
    def handle(self, request: Any) -> None:
        raise RuntimeError("boom")


def test_engine_fault_is_reported_not_fatal(run: Runner, caplog: pytest.LogCaptureFixture) -> None:
    async def main() -> None:
        async with serve(core=FailingCore()) as (gateway, _):
            alpha = await connect(gateway, "alpha")
            event = await alpha.request(order("o-1", req=9))
            assert event == {
                "ev": "error", "code": "ENGINE_UNAVAILABLE", "reason": "internal error",
                "id": "o-1", "req": 9,
            }  # fmt: skip
            assert await alpha.request({"op": "ping"}) == {"ev": "pong"}

    with caplog.at_level(logging.ERROR, logger="fixrouter.gateway"):
        run(main())
    assert "boom" in caplog.text


# ---- one socket write per loop turn ---------------------------------------------------------


def count_writes(gateway: Gateway, name: str) -> list[bytes]:
    """Start recording the writes to `name`'s connection; returns the live record."""
    (connection,) = gateway._by_name[name]
    counting = CountingTransport(connection._transport)  # type: ignore[arg-type]
    connection._transport = counting  # type: ignore[assignment]
    return counting.writes


async def raw_connect(gateway: Gateway, name: str) -> socket.socket:
    """A plain socket that said hello as `name`, for reading without the loop's help."""
    loop = asyncio.get_running_loop()
    address = gateway.addresses[0]
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setblocking(False)
    await loop.sock_connect(sock, (address.host, address.port))
    await loop.sock_sendall(sock, orjson.dumps({"op": "hello", "client": name}) + b"\n")
    welcome = b""
    while not welcome.endswith(b"\n"):
        welcome += await loop.sock_recv(sock, 4096)
    assert orjson.loads(welcome)["ev"] == "welcome"
    return sock


def accepted_ids(data: bytes) -> list[str]:
    return [orjson.loads(line)["id"] for line in data.splitlines()]


@pytest.mark.parametrize("busy_poll", [False, True], ids=["sleeping", "busy-polling"])
def test_the_first_event_of_a_turn_leaves_at_once_and_the_rest_in_one_write(
    run: Runner, busy_poll: bool
) -> None:
    async def main() -> None:
        poller = BusyPoller(asyncio.get_running_loop(), CommitWatch())
        if busy_poll:
            poller.start()  # the end-of-turn callback runs among the poller's turns
        async with serve() as (gateway, _):
            sock = await raw_connect(gateway, "alpha")
            writes = count_writes(gateway, "alpha")
            for i in range(10):
                gateway.deliver("alpha", Accepted(f"o-{i}", f"C{i}"))
            # Still inside the turn: the first event is already in the kernel, on its own.
            sock.settimeout(2.0)
            assert accepted_ids(sock.recv(65536)) == ["o-0"]
            sock.setblocking(False)
            with pytest.raises(BlockingIOError):
                sock.recv(65536)  # the other nine wait for the turn's end
            sock.settimeout(2.0)
            await asyncio.sleep(0)  # the turn ends
            assert accepted_ids(sock.recv(65536)) == [f"o-{i}" for i in range(1, 10)]
            assert [accepted_ids(w) for w in writes] == [
                ["o-0"], [f"o-{i}" for i in range(1, 10)]
            ]  # fmt: skip
            # The next turn starts afresh: its first event leaves at once again.
            gateway.deliver("alpha", Accepted("o-10", "C10"))
            assert accepted_ids(sock.recv(65536)) == ["o-10"]
            assert len(writes) == 3
            sock.close()
        poller.stop()

    run(main())


def test_a_long_turn_writes_its_held_events_every_hold_events_without_waiting(
    run: Runner,
) -> None:
    async def main() -> None:
        async with serve() as (gateway, _):
            sock = await raw_connect(gateway, "alpha")
            writes = count_writes(gateway, "alpha")
            n = 2 * HOLD_EVENTS + 7
            for i in range(n):
                gateway.deliver("alpha", Accepted(f"o-{i}", f"C{i}"))
            # Still inside the turn: the first at once, then each HOLD_EVENTS as they
            # collect, so the strategy has them while the turn goes on.
            assert [len(accepted_ids(w)) for w in writes] == [1, HOLD_EVENTS, HOLD_EVENTS]
            await asyncio.sleep(0)  # the turn ends
            assert [len(accepted_ids(w)) for w in writes] == [1, HOLD_EVENTS, HOLD_EVENTS, 6]
            sock.settimeout(2.0)
            received = b""
            while received.count(b"\n") < n:
                received += sock.recv(65536)
            assert accepted_ids(received) == [f"o-{i}" for i in range(n)]
            sock.close()

    run(main())


class EndTurnCountingLoop:
    """Stands in for the gateway's loop: counts the end-of-turn callbacks it queues.

    (The gateway is compiled, so its methods cannot be replaced on the instance; what it
    queues on its loop can be seen.)"""

    def __init__(self, loop: asyncio.AbstractEventLoop, gateway: Gateway) -> None:
        self.loop = loop
        self.end_turn = gateway._end_turn
        self.turns = 0

    def call_soon(self, callback: Any, *args: Any) -> asyncio.Handle:
        if callback == self.end_turn:
            self.turns += 1
        return self.loop.call_soon(callback, *args)

    def __getattr__(self, name: str) -> object:
        return getattr(self.loop, name)


def test_a_burst_of_lines_read_together_is_answered_in_two_writes_a_turn(run: Runner) -> None:
    async def main() -> None:
        async with serve() as (gateway, core):
            alpha = await connect(gateway, "alpha")
            writes = count_writes(gateway, "alpha")
            counting = EndTurnCountingLoop(asyncio.get_running_loop(), gateway)
            gateway._loop = counting  # type: ignore[assignment]
            await alpha.send(b"".join(orjson.dumps(order(f"o-{i}")) + b"\n" for i in range(20)))
            events = [await alpha.recv() for _ in range(40)]
            # accepted then exec new for each order, in the order of the lines
            assert [(e["ev"], e["id"]) for e in events] == [
                (ev, f"o-{i}") for i in range(20) for ev in ("accepted", "exec")
            ]
            assert len(core.requests) == 20
            turns = counting.turns
            # per turn: its first event at once, one write per HOLD_EVENTS held, the rest
            assert turns >= 1 and len(writes) <= 2 * turns + 40 // HOLD_EVENTS < 40
            assert b"".join(writes).count(b"\n") == 40
            await alpha.silent()

    run(main())


def test_the_orders_listing_stays_one_write_when_held_for_the_turn(run: Runner) -> None:
    async def main() -> None:
        async with serve() as (gateway, _):
            alpha = await connect(gateway, "alpha")
            for i in range(3):
                assert (await alpha.request(order(f"o-{i}")))["ev"] == "accepted"
                assert (await alpha.recv())["ev"] == "exec"
            writes = count_writes(gateway, "alpha")
            # ping first: its pong is the turn's first write, so the listing is held
            await alpha.send(b'{"op": "ping"}\n{"op": "orders", "req": 7}\n')
            assert await alpha.recv() == {"ev": "pong"}
            listing = [await alpha.recv() for _ in range(4)]
            assert [e["ev"] for e in listing] == ["status"] * 3 + ["orders_end"]
            # the whole listing, framed by orders_end, went to the kernel in one write
            assert any(w.count(b'"ev":"status"') == 3 and b"orders_end" in w for w in writes)

    run(main())


def test_a_slow_client_is_dropped_within_one_busy_turn(run: Runner) -> None:
    async def main() -> None:
        async with serve(max_outbound_bytes=64 * 1024) as (gateway, _):
            slow = await raw_connect(gateway, "slow")
            slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            fast = await connect(gateway, "fast")
            (connection,) = gateway._by_name["slow"]
            event = Accepted("o-1", "X" * 200)
            delivered = 0
            # One turn, never yielding to the loop: the held bytes must reach the transport
            # and its high-water mark, or the slow client would never be dropped.
            while not gateway.stats.slow_disconnects and delivered < 200_000:
                gateway.deliver("slow", event)
                delivered += 1
                assert connection._held < 64 * 1024
            assert gateway.stats.slow_disconnects == 1
            assert "slow" not in gateway.connected()
            gateway.deliver("fast", Accepted("f-1", "C"))  # the same turn: unaffected
            assert (await fast.recv())["id"] == "f-1"
            gateway.deliver("slow", event)  # after the drop: counted, not an error
            assert gateway.stats.undeliverable == 1
            slow.close()

    run(main())


def test_a_connection_dropped_mid_turn_loses_only_its_own_held_events(run: Runner) -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        errors: list[dict[str, Any]] = []
        loop.set_exception_handler(lambda _loop, context: errors.append(context))
        async with serve() as (gateway, _):
            alpha = await connect(gateway, "alpha")
            beta = await connect(gateway, "beta")
            gamma = await connect(gateway, "gamma")
            (alpha_connection,) = gateway._by_name["alpha"]
            (gamma_connection,) = gateway._by_name["gamma"]
            for i in range(3):
                gateway.deliver("alpha", Accepted(f"a-{i}", "C"))
                gateway.deliver("beta", Accepted(f"b-{i}", "C"))
                gateway.deliver("gamma", Accepted(f"g-{i}", "C"))
            # In the same turn, alpha's line breaks underneath (a reset: the transport is
            # gone before connection_lost has run) and the gateway drops gamma by policy.
            alpha_connection._transport.abort()  # type: ignore[union-attr]
            gamma_connection.abort()
            gateway.deliver("alpha", Accepted("a-3", "C"))
            gateway.deliver("gamma", Accepted("g-3", "C"))  # gamma is gone: undeliverable
            gateway.deliver("beta", Accepted("b-3", "C"))
            assert [(await beta.recv())["id"] for _ in range(4)] == [f"b-{i}" for i in range(4)]
            await beta.silent()
            for _ in range(100):
                if gateway.connected() == ["beta"]:
                    break
                await asyncio.sleep(0.01)
            assert gateway.connected() == ["beta"]
            for client in (alpha, gamma):
                assert await client.closed_by_peer()
            # A new connection under a dropped name gets none of the old connection's events.
            again = await connect(gateway, "alpha")
            await again.silent()
            assert await again.request({"op": "ping"}) == {"ev": "pong"}
        assert errors == []

    run(main())


def test_close_writes_what_the_turn_held_before_closing(run: Runner) -> None:
    async def main() -> None:
        async with serve() as (gateway, _):
            alpha = await connect(gateway, "alpha")
            for i in range(5):
                gateway.deliver("alpha", Accepted(f"o-{i}", "C"))
            await gateway.close()  # before the turn's end: nothing held may be lost
            assert [(await alpha.recv())["id"] for _ in range(5)] == [f"o-{i}" for i in range(5)]
            assert await alpha.closed_by_peer()

    run(main())


class RefusingTransport(CountingTransport):
    """A broken transport: takes the first write of a turn, raises on the held ones."""

    def write(self, data: bytes) -> None:
        if self.writes:
            raise RuntimeError("transport is broken")
        super().write(data)


def test_a_transport_that_fails_at_the_end_of_the_turn_is_dropped_alone(
    run: Runner, caplog: pytest.LogCaptureFixture
) -> None:
    async def main() -> None:
        async with serve() as (gateway, _):
            alpha = await connect(gateway, "alpha")
            beta = await connect(gateway, "beta")
            (connection,) = gateway._by_name["alpha"]
            connection._transport = RefusingTransport(connection._transport)  # type: ignore[arg-type,assignment]
            for i in range(3):
                gateway.deliver("alpha", Accepted(f"a-{i}", "C"))
                gateway.deliver("beta", Accepted(f"b-{i}", "C"))
            assert [(await beta.recv())["id"] for _ in range(3)] == ["b-0", "b-1", "b-2"]
            assert (await alpha.recv())["id"] == "a-0"
            assert await alpha.closed_by_peer()
            assert gateway.connected() == ["beta"]
            # the next turn works as before for the others
            gateway.deliver("beta", Accepted("b-3", "C"))
            assert (await beta.recv())["id"] == "b-3"

    with caplog.at_level(logging.ERROR, logger="fixrouter.gateway"):
        run(main())
    assert "writing to alpha failed" in caplog.text
