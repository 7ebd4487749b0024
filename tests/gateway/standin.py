"""A FIX-less stand-in for the engine, for the gateway and client library tests.

`StandInCore` implements `RequestHandler` with an in-memory book keyed by
(strategy, id) and no risk, no FIX, no journal. Market and market-on-close orders fill at
once at `market_price`; every other order rests until `fill` or `cancel`. It lets those
tests exercise the socket protocol in milliseconds; the real engine is `fixrouter.router`,
tested end to end in `tests/e2e`.

Per request it delivers what the real engine would: `accepted` then `exec new` (and `exec
fill`); `error` DUPLICATE_ID / UNKNOWN_ORDER; `cancel_rejected` for an order that is no
longer working; `exec canceled` / `exec replaced`.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from decimal import Decimal

from fixrouter.events import (
    Accepted,
    CancelRejected,
    ErrorCode,
    Event,
    ExecKind,
    Execution,
    OrderState,
    OrderStatus,
    RequestError,
)
from fixrouter.requests import (
    CancelOrder,
    NewOrder,
    OrderRequest,
    OrdersQuery,
    OrderType,
    ReplaceOrder,
    StatusQuery,
)

_ZERO = Decimal(0)
_WORKING = frozenset({OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED})
_FILL_AT_ONCE = frozenset({OrderType.MARKET, OrderType.MOC})


@dataclass(frozen=True, slots=True)
class _Order:
    state: OrderState
    notional: Decimal  # sum of fill qty * px, for the average price


def _drop(strategy: str, event: Event) -> None:
    pass


class StandInCore:
    """In-memory engine. Set `deliver` (usually to `Gateway.deliver`) before use."""

    def __init__(self, market_price: Decimal = Decimal(100)) -> None:
        self.market_price = market_price
        self.deliver: Callable[[str, Event], None] = _drop
        self.requests: list[OrderRequest] = []
        """Every order request handled, in order (for tests)."""
        self.connected: list[str] = []
        """Strategy names as `strategy_connected` was called (for tests)."""
        self._book: dict[tuple[str, str], _Order] = {}
        self._ids = itertools.count(1)

    # -- RequestHandler ----------------------------------------------------------------

    def handle(self, request: OrderRequest) -> None:
        self.requests.append(request)
        if isinstance(request, NewOrder):
            self._new(request)
        elif isinstance(request, CancelOrder):
            self._cancel(request)
        else:
            self._replace(request)

    def status(self, query: StatusQuery) -> OrderState | RequestError:
        order = self._book.get((query.strategy, query.id))
        if order is None:
            return RequestError(ErrorCode.UNKNOWN_ORDER, f"no order {query.id}", query.id)
        return order.state

    def orders(self, query: OrdersQuery) -> Iterable[OrderState]:
        return [
            order.state
            for (strategy, _), order in self._book.items()
            if strategy == query.strategy and order.state.status in _WORKING
        ]

    def strategy_connected(self, strategy: str) -> None:
        self.connected.append(strategy)

    def strategy_disconnected(self, strategy: str) -> None:
        pass

    # -- test controls -----------------------------------------------------------------

    def fill(self, strategy: str, order_id: str, qty: Decimal, price: Decimal) -> None:
        """Fill part or all of a working order, delivering the `exec`.

        Raises:
            KeyError: no such order.
        """
        order = self._book[(strategy, order_id)]
        state = order.state
        qty = min(qty, state.leaves_qty)
        cum = state.cum_qty + qty
        leaves = state.qty - cum
        notional = order.notional + qty * price
        status = OrderStatus.FILLED if not leaves else OrderStatus.PARTIALLY_FILLED
        state = replace(state, status=status, cum_qty=cum, leaves_qty=leaves, avg_px=notional / cum)
        self._book[(strategy, order_id)] = _Order(state, notional)
        kind = ExecKind.FILL if not leaves else ExecKind.PARTIAL
        self._exec(strategy, state, kind, qty, price)

    # -- internals ---------------------------------------------------------------------

    def _new(self, order: NewOrder) -> None:
        key = (order.strategy, order.id)
        if key in self._book:
            self.deliver(
                order.strategy,
                RequestError(ErrorCode.DUPLICATE_ID, f"id {order.id} was used before", order.id),
            )
            return
        state = OrderState(
            id=order.id,
            cl_ord_id=f"SI{next(self._ids)}",
            symbol=order.symbol,
            side=order.side.value,
            status=OrderStatus.NEW,
            qty=order.qty,
            cum_qty=_ZERO,
            leaves_qty=order.qty,
            avg_px=_ZERO,
            price=order.price,
        )
        self._book[key] = _Order(state, _ZERO)
        self.deliver(order.strategy, Accepted(order.id, state.cl_ord_id))
        self._exec(order.strategy, state, ExecKind.NEW, _ZERO, _ZERO)
        if order.type in _FILL_AT_ONCE:
            self.fill(order.strategy, order.id, order.qty, self.market_price)

    def _cancel(self, request: CancelOrder) -> None:
        order = self._working(request.strategy, request.id)
        if order is None:
            return
        state = replace(order.state, status=OrderStatus.CANCELED, leaves_qty=_ZERO)
        self._book[(request.strategy, request.id)] = replace(order, state=state)
        self._exec(request.strategy, state, ExecKind.CANCELED, _ZERO, _ZERO)

    def _replace(self, request: ReplaceOrder) -> None:
        order = self._working(request.strategy, request.id)
        if order is None:
            return
        if (request.strategy, request.new_id) in self._book:
            self.deliver(
                request.strategy,
                RequestError(
                    ErrorCode.DUPLICATE_ID, f"id {request.new_id} was used before", request.new_id
                ),
            )
            return
        old = order.state
        qty = request.qty if request.qty is not None else old.qty
        self._book[(request.strategy, request.id)] = replace(
            order, state=replace(old, status=OrderStatus.REPLACED, leaves_qty=_ZERO)
        )
        state = replace(
            old,
            id=request.new_id,
            cl_ord_id=f"SI{next(self._ids)}",
            qty=qty,
            leaves_qty=qty - old.cum_qty,
            price=request.price if request.price is not None else old.price,
        )
        self._book[(request.strategy, request.new_id)] = replace(order, state=state)
        self._exec(request.strategy, state, ExecKind.REPLACED, _ZERO, _ZERO)

    def _working(self, strategy: str, order_id: str) -> _Order | None:
        """The order if it can still be changed; otherwise tell the strategy why not."""
        order = self._book.get((strategy, order_id))
        if order is None:
            self.deliver(
                strategy, RequestError(ErrorCode.UNKNOWN_ORDER, f"no order {order_id}", order_id)
            )
            return None
        if order.state.status not in _WORKING:
            self.deliver(strategy, CancelRejected(order_id, f"order is {order.state.status.value}"))
            return None
        return order

    def _exec(
        self, strategy: str, state: OrderState, kind: ExecKind, qty: Decimal, px: Decimal
    ) -> None:
        self.deliver(
            strategy,
            Execution(
                id=state.id,
                exec_type=kind,
                status=state.status,
                last_qty=qty,
                last_px=px,
                cum_qty=state.cum_qty,
                leaves_qty=state.leaves_qty,
                avg_px=state.avg_px,
                exec_id=f"E{next(self._ids)}",
                order_id=state.cl_ord_id,
            ),
        )
