"""Client library for fixrouter's upstream protocol (`spec/upstream-protocol.md`).

Two front ends with the same operations:

- `Client`, for asyncio strategies::

      from decimal import Decimal
      from fixrouter.client import Client, Execution

      async def run() -> None:
          async with await Client.connect("tcp://127.0.0.1:7001", "momentum") as client:
              await client.new("o-1", "AAPL", "buy", 100, "limit", price=Decimal("187.25"))
              async for event in client.events():
                  if isinstance(event, Execution) and event.id == "o-1":
                      print(event.exec_type, event.cum_qty, event.avg_px)

- `BlockingClient`, for scripts: the same calls without `await`, plus
  `next_event(timeout)`.

Orders (`new`, `cancel`, `replace`) return once sent; what happened to them arrives as
typed events from `fixrouter.events` (`Accepted`, `Denied`, `Execution`, `CancelRejected`,
`RequestError`, `SessionChanged`). Queries (`status`, `orders`, `ping`) wait for their
answer and raise `RequestRefused` (with `.code`) when the gateway says no.

A complete strategy that runs as is against the engine and the simulator:
`examples/simple_strategy.py` (its docstring says how to start them).
"""

from fixrouter.events import (
    Accepted,
    CancelRejected,
    Denied,
    ErrorCode,
    ExecKind,
    Execution,
    OrderState,
    OrderStatus,
    RequestError,
    SessionChanged,
)

from .aio import Client, ClientError, ConnectionClosed, RequestRefused
from .blocking import BlockingClient
from .wire import ClientEvent, OrdersEnd, Pong, ProtocolViolation, Welcome

__all__ = [
    "Accepted",
    "BlockingClient",
    "CancelRejected",
    "Client",
    "ClientError",
    "ClientEvent",
    "ConnectionClosed",
    "Denied",
    "ErrorCode",
    "ExecKind",
    "Execution",
    "OrderState",
    "OrderStatus",
    "OrdersEnd",
    "Pong",
    "ProtocolViolation",
    "RequestError",
    "RequestRefused",
    "SessionChanged",
    "Welcome",
]
