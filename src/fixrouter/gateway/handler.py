"""The seam between the gateway and the engine behind it.

The gateway knows sockets and JSON, nothing about risk, order books or FIX. It hands every
checked request to a `RequestHandler` and gets events back through `Gateway.deliver`:

```
gateway ── handle(NewOrder | CancelOrder | ReplaceOrder) ──▶ engine
gateway ◀──────── deliver(strategy, event) ──────────────── engine   (any time later)
gateway ── status(StatusQuery) / orders(OrdersQuery) ─────▶ engine   (answered at once)
```

Orders are fire-and-forget on purpose: their outcome (`accepted`, `denied`, `exec`, `error`
such as DUPLICATE_ID) arrives through `deliver`, possibly from inside `handle` itself, which
is allowed. Queries are synchronous because the answer is the book's current truth and
must come back in order, framed by the `orders_end` the gateway writes after it.

Every request is already stamped with the strategy of the connection it came on; the engine
must use `request.strategy` and nothing else to decide whose order it is. All methods are
called on the event loop thread and must not block.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from fixrouter.events import OrderState, RequestError
from fixrouter.requests import OrderRequest, OrdersQuery, StatusQuery


class RequestHandler(Protocol):
    def handle(self, request: OrderRequest) -> None:
        """Take a new, cancel or replace. Outcomes go to `Gateway.deliver`."""

    def status(self, query: StatusQuery) -> OrderState | RequestError:
        """The order's state, or RequestError(UNKNOWN_ORDER) if the strategy has no such id."""

    def orders(self, query: OrdersQuery) -> Iterable[OrderState]:
        """Every working order of `query.strategy`."""

    def strategy_connected(self, strategy: str) -> None:
        """A connection said `hello` as `strategy` (called after `welcome` is written)."""

    def strategy_disconnected(self, strategy: str) -> None:
        """A connection of `strategy` closed; events for it are dropped from now on
        (unless another connection of the same name remains)."""
