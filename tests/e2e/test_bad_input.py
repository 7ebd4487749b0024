"""Issue 4's bad-input list over a real socket, through the real engine.

Every line gets an `error`, `denied` or `cancel_rejected` event with a precise code (and
a reason naming the field), on a connection that stays usable where the protocol allows.
Meanwhile nothing reaches IB (the simulator's event log shows no new order message), the
engine keeps running, and another strategy connected all along trades normally after it.
"""

from __future__ import annotations

import socket
import time
from typing import Any

import orjson
import pytest

from .conftest import Stack

pytestmark = pytest.mark.integration

LIMIT = {"op": "new", "symbol": "AAPL", "side": "buy", "qty": 10, "type": "limit",
         "price": "190"}
MAX_LINE = 65536  # the gateway's default max_line_bytes


class LineClient:
    """Raw newline-delimited JSON over TCP: sends anything, reads events one by one."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buffer = b""

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def event(self, timeout: float = 10.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buffer:
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("the gateway closed the connection")
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        event: dict[str, Any] = orjson.loads(line)
        return event

    def ask(self, request: dict[str, Any] | bytes) -> dict[str, Any]:
        data = request if isinstance(request, bytes) else orjson.dumps(request)
        self.send(data + b"\n")
        return self.event()

    def close(self) -> None:
        self.sock.close()


def new(**changes: Any) -> dict[str, Any]:
    request = {**LIMIT, **changes}
    return {k: v for k, v in request.items() if v is not None}


# (what, request line, expected code, a word the reason must contain)
CASES: list[tuple[str, dict[str, Any] | bytes, str, str]] = [
    ("malformed JSON", b'{"op": "new", "id": ', "BAD_JSON", ""),
    ("a non-object", b'["new", "x-1"]', "NOT_OBJECT", ""),
    ("an unknown op", {"op": "buy", "id": "x-1"}, "UNKNOWN_OP", "buy"),
    ("a missing field", new(id="x-2", symbol=None), "MISSING_FIELD", "symbol"),
    ("an unknown field", new(id="x-3", colour="red"), "UNKNOWN_FIELD", "colour"),
    ("a wrongly typed qty", new(id="x-4", qty=True), "BAD_VALUE", "qty"),
    ("a wrongly typed symbol", new(id="x-5", symbol=42), "BAD_VALUE", "symbol"),
    ("zero quantity", new(id="x-6", qty=0), "BAD_VALUE", "qty"),
    ("negative quantity", new(id="x-7", qty=-5), "BAD_VALUE", "qty"),
    ("fractional stock quantity", new(id="x-8", qty="1.5"), "BAD_VALUE", "qty"),
    ("NaN price", new(id="x-9", price="NaN"), "BAD_VALUE", "price"),
    ("infinite price", new(id="x-10", price="Infinity"), "BAD_VALUE", "price"),
    ("infinite price number", b'{"op":"new","id":"x-11","symbol":"AAPL","side":"buy",'
     b'"qty":10,"type":"limit","price":1e999}', "BAD_JSON", "infinity"),
    ("negative price", new(id="x-12", price="-190"), "BAD_VALUE", "price"),
    ("absurdly precise price", new(id="x-13", price="190.123456789"), "BAD_VALUE", "price"),
    ("limit without price", new(id="x-14", price=None), "MISSING_FIELD", "price"),
    ("market with price", new(id="x-15", type="market"), "BAD_VALUE", "price"),
    ("unknown security type", new(id="x-16", sec_type="CRYPTO"), "BAD_VALUE", "sec_type"),
    ("unknown time in force", new(id="x-17", tif="forever"), "BAD_VALUE", "tif"),
    ("binary garbage", b"\xff\xfe\x00\x01garbage\x80", "BAD_JSON", ""),
    ("cancel of an unknown order", {"op": "cancel", "id": "never-sent"}, "UNKNOWN_ORDER",
     "never-sent"),
]


def test_every_bad_request_is_refused_precisely_and_nothing_reaches_ib(stack: Stack) -> None:
    bystander = stack.strategy("bad-bystander")
    owner = stack.strategy("bad-owner")
    owner.client.new("theirs", "IBM", "buy", 5, "limit", price="150")
    owner.exec("theirs", "new")

    bad = LineClient(stack.gateway_port)
    assert bad.ask(new(id="early"))["code"] == "NOT_HELLO"  # a new before hello
    assert bad.ask({"op": "hello", "client": "bad-input"})["ev"] == "welcome"
    # A valid order first, to have a filled one of our own to misuse below.
    bad.send(orjson.dumps(new(id="filled")) + b"\n")
    events = [bad.event() for _ in range(3)]
    assert [e.get("exec_type", e["ev"]) for e in events] == ["accepted", "new", "fill"]
    time.sleep(0.2)  # let the simulator's event log catch up
    wire_before = stack.inbound_count()

    for what, request, code, word in CASES:
        answer = bad.ask(request)
        assert answer["ev"] == "error" and answer["code"] == code, (what, answer)
        assert word in answer["reason"], (what, answer)
    # An oversized line: refused at once, the rest of it skipped, the connection usable.
    bad.send(b'{"op":"new","id":"huge","symbol":"' + b"A" * (MAX_LINE + 10) + b'"}\n')
    assert bad.event()["code"] == "LINE_TOO_LONG"
    # Another strategy's order is as unknown as a missing one.
    assert bad.ask({"op": "cancel", "id": "theirs"})["code"] == "UNKNOWN_ORDER"
    assert bad.ask({"op": "replace", "id": "theirs", "new_id": "mine", "qty": 1})["code"] \
        == "UNKNOWN_ORDER"
    # A replace of a filled order, and a reused id.
    answer = bad.ask({"op": "replace", "id": "filled", "new_id": "again", "qty": 20})
    assert (answer["ev"], answer["code"]) == ("error", "ORDER_NOT_WORKING"), answer
    assert "filled" in answer["reason"]
    answer = bad.ask(new(id="filled", price="189"))
    assert (answer["ev"], answer["code"]) == ("error", "DUPLICATE_ID"), answer
    # A risk denial (5000 > max_order_qty 1000) is refused as such, not as a bad request.
    answer = bad.ask(new(id="too-big", qty=5000))
    assert (answer["ev"], answer["code"], answer["limit"]) == ("denied", "MAX_ORDER_QTY",
                                                                "1000")
    assert bad.ask({"op": "ping", "req": 7}) == {"ev": "pong", "req": 7}  # still usable

    # Half a line, then the connection drops: the fragment is discarded.
    half = LineClient(stack.gateway_port)
    assert half.ask({"op": "hello", "client": "bad-half"})["ev"] == "welcome"
    half.send(orjson.dumps(new(id="half"))[:-10])
    half.close()

    time.sleep(0.5)
    assert stack.inbound_count() == wire_before, "a refused request reached IB"
    assert stack.engine.alive
    with pytest.raises(Exception, match="UNKNOWN_ORDER"):
        bystander.client.status("half")
    # The engine and the other strategies carry on as before.
    assert bystander.client.ping() < 1.0
    bystander.client.new("after", "AAPL", "buy", 10, "limit", price="190")
    assert bystander.done("after").cum_qty == 10
    owner.client.cancel("theirs")
    assert owner.done("theirs").status == "canceled"
    assert bad.ask({"op": "status", "id": "filled"})["status"] == "filled"
    bad.close()
