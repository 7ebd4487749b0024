"""Every example in spec/upstream-protocol.md against the code.

Requests must parse to the typed request the example means; events must be exactly what
the gateway writes for the typed event the client library reads back from them; refused
requests must get the code in their marker. And every op and event kind must have an
example, so the spec cannot silently fall behind the code.
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest

from fixrouter.client.wire import OrdersEnd, Pong, Welcome, decode_event
from fixrouter.events import ErrorCode, RequestError
from fixrouter.gateway.config import GatewayConfig
from fixrouter.gateway.encode import (
    encode_event,
    encode_orders_end,
    encode_pong,
    encode_welcome,
    price_text,
    qty_json,
)
from fixrouter.gateway.parse import PING, Hello, LineParser
from fixrouter.requests import (
    CancelOrder,
    Capacity,
    Derivative,
    NewOrder,
    OpenClose,
    OrdersQuery,
    OrderType,
    PutOrCall,
    ReplaceOrder,
    SecurityType,
    Side,
    StatusQuery,
    TimeInForce,
)

from .conftest import Runner, connect, serve

SPEC = Path(__file__).resolve().parents[2] / "spec" / "upstream-protocol.md"
EXAMPLE = re.compile(r"<!-- example: (request|event|bad) (\S+) -->\n```json\n(.*?)\n```", re.S)


def examples(kind: str) -> list[tuple[str, bytes]]:
    text = SPEC.read_text()
    found = [(name, body.encode()) for k, name, body in EXAMPLE.findall(text) if k == kind]
    assert found, f"no {kind} examples in {SPEC}"
    return found


REQUESTS = dict(examples("request"))
EVENTS = dict(examples("event"))
S = "momentum"

EXPECTED_REQUESTS: dict[str, object] = {
    "hello": Hello("momentum", "s3cret-token"),
    "new-limit": NewOrder(
        S, "o-1", "AAPL", Side.BUY, Decimal(100), OrderType.LIMIT, TimeInForce.DAY,
        price=Decimal("187.25"), account="U1234567",
    ),
    "new-market": NewOrder(S, "o-2", "MSFT", Side.SHORT, Decimal(50), OrderType.MARKET),
    "new-stop-limit": NewOrder(
        S, "o-3", "BRK B", Side.SELL, Decimal(10), OrderType.STOP_LIMIT, TimeInForce.GTC,
        price=Decimal("420.5"), stop_price=Decimal(421),
    ),
    "new-gtd": NewOrder(
        S, "o-4", "IBM", Side.BUY, Decimal(5), OrderType.LOC, TimeInForce.GTD,
        price=Decimal(150), expire_date="20991231",
    ),
    "new-option": NewOrder(
        S, "o-5", "SPY", Side.BUY, Decimal(2), OrderType.LIMIT, price=Decimal("1.05"),
        sec_type=SecurityType.OPT, exchange="CBOE", open_close=OpenClose.OPEN,
        capacity=Capacity.CUSTOMER,
        derivative=Derivative("209912", "17", Decimal(450), PutOrCall.CALL, Decimal(100)),
    ),
    "new-future": NewOrder(
        S, "o-6", "ES", Side.SELL, Decimal(1), OrderType.STOP, stop_price=Decimal("4999.75"),
        sec_type=SecurityType.FUT, exchange="CME", force_only_rth=True,
        derivative=Derivative("209912"),
    ),
    "new-fx": NewOrder(
        S, "o-7", "EUR", Side.BUY, Decimal("25000.5"), OrderType.LIMIT,
        price=Decimal("1.08125"), sec_type=SecurityType.CASH, exchange="IDEALPRO", what_if=True,
    ),
    "cancel": CancelOrder(S, "o-1"),
    "replace": ReplaceOrder(S, "o-1", "o-1b", qty=Decimal(200), price=Decimal("187.30")),
    "status": StatusQuery(S, "o-1"),
    "orders": OrdersQuery(S),
    "ping": PING,
}  # fmt: skip


def test_every_op_and_event_has_an_example() -> None:
    ops = {orjson.loads(body)["op"] for body in REQUESTS.values()}
    assert ops == {"hello", "new", "cancel", "replace", "status", "orders", "ping"}
    evs = {orjson.loads(body)["ev"] for body in EVENTS.values()}
    assert evs == {
        "welcome", "pong", "orders_end", "accepted", "denied", "exec", "cancel_rejected",
        "error", "status", "session",
    }  # fmt: skip
    assert set(EXPECTED_REQUESTS) == set(REQUESTS)


@pytest.mark.parametrize("name", sorted(REQUESTS))
def test_request_example_parses(name: str) -> None:
    parser = LineParser(GatewayConfig().fractional_qty)
    strategy = None if name == "hello" else S
    value, req = parser.parse(REQUESTS[name], strategy, 0)
    assert value == EXPECTED_REQUESTS[name]
    assert req == orjson.loads(REQUESTS[name]).get("req")


@pytest.mark.parametrize("name", sorted(EVENTS))
def test_event_example_round_trips(name: str) -> None:
    obj: dict[str, Any] = orjson.loads(EVENTS[name])
    event = decode_event(obj)
    req = obj.get("req")
    if isinstance(event, Welcome):
        line = encode_welcome(event.client, req)
    elif isinstance(event, Pong):
        line = encode_pong(req)
    elif isinstance(event, OrdersEnd):
        line = encode_orders_end(event.count, req)
    else:
        line = encode_event(event, req)
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert orjson.loads(line) == obj
    # and key order, so the spec reads like the wire
    assert list(orjson.loads(line)) == list(obj)


@pytest.mark.parametrize(("code", "body"), examples("bad"))
def test_refused_examples(code: str, body: bytes) -> None:
    value, _ = LineParser(GatewayConfig().fractional_qty).parse(body, S, 0)
    assert isinstance(value, RequestError) and value.code is ErrorCode(code), value


SENT = (
    "new-limit", "new-market", "new-stop-limit", "new-gtd", "new-option", "new-future", "new-fx",
    "replace", "status", "orders", "ping",
)  # fmt: skip


def test_request_examples_over_a_socket(run: Runner) -> None:
    """The order examples, sent for real, get no `error` from the gateway."""

    async def main() -> None:
        async with serve() as (gateway, core):
            client = await connect(gateway, S)
            for name in SENT:
                await client.send(REQUESTS[name] + b"\n")
            await client.send(REQUESTS["cancel"].replace(b"o-1", b"o-1b") + b"\n")
            seen = []
            while not seen or seen[-1]["ev"] != "exec" or seen[-1]["exec_type"] != "canceled":
                seen.append(await client.recv())
            assert [e for e in seen if e["ev"] in ("error", "cancel_rejected")] == []
            assert len(core.requests) == 9

    run(main())


def test_number_spelling() -> None:
    assert price_text(Decimal("1E+2")) == "100"
    assert price_text(Decimal("1E-8")) == "0.00000001"
    assert price_text(Decimal("187.250")) == "187.250"
    assert qty_json(Decimal("100")) == 100 and type(qty_json(Decimal("100.0"))) is int
    assert qty_json(Decimal("0.5")) == "0.5"
