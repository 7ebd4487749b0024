"""Per-line cost of the gateway, with timeit: `python -m tests.gateway.bench_parse`.

Reports, for a typical `new` line: orjson alone, the whole parse to a `NewOrder`, the cost
of constructing the frozen `NewOrder` by itself, and the full `data_received` path of a
connection (framing, parse, dispatch to a no-op handler, no socket).
"""

from __future__ import annotations

import timeit
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import orjson

from fixrouter.gateway import Gateway, GatewayConfig
from fixrouter.gateway.parse import LineParser
from fixrouter.gateway.server import _Connection
from fixrouter.requests import NewOrder, OrderType, SecurityType, Side, TimeInForce

LINE = (
    b'{"op":"new","id":"o-12345","symbol":"AAPL","side":"buy","qty":100,"type":"limit",'
    b'"price":"187.25","tif":"day","account":"U1234567"}\n'
)


def best_ns(fn: Callable[[], object], number: int = 100_000, repeat: int = 7) -> float:
    return min(timeit.repeat(fn, number=number, repeat=repeat)) / number * 1e9


class _NullHandler:
    def handle(self, request: Any) -> None:
        pass

    def status(self, query: Any) -> Any:
        raise NotImplementedError

    def orders(self, query: Any) -> Any:
        return []

    def strategy_connected(self, strategy: str) -> None:
        pass

    def strategy_disconnected(self, strategy: str) -> None:
        pass


class _NullTransport:
    def write(self, data: bytes) -> None:
        pass


def main() -> None:
    parser = LineParser(GatewayConfig().fractional_qty)
    parse = parser.parse
    price = Decimal("187.25")
    qty = Decimal(100)
    connection = _Connection(Gateway(GatewayConfig(), _NullHandler()))
    connection.strategy = "alpha"
    connection._transport = _NullTransport()  # type: ignore[assignment]
    assert isinstance(parse(LINE, "alpha", 0)[0], NewOrder)

    rows = [
        ("orjson.loads", best_ns(lambda: orjson.loads(LINE))),
        (
            "NewOrder(...) alone",
            best_ns(
                lambda: NewOrder(
                    "alpha",
                    "o-12345",
                    "AAPL",
                    Side.BUY,
                    qty,
                    OrderType.LIMIT,
                    TimeInForce.DAY,
                    price,
                    None,
                    "U1234567",
                    SecurityType.STK,
                    "USD",
                    "SMART",
                    received_ns=1,
                )
            ),
        ),
        ("parse: line -> NewOrder", best_ns(lambda: parse(LINE, "alpha", 1))),
        ("data_received: framing+parse+dispatch", best_ns(lambda: connection.data_received(LINE))),
    ]
    for label, ns in rows:
        print(f"{label:40s} {ns / 1000:6.2f} us")


if __name__ == "__main__":
    main()
