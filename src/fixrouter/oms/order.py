"""One order as the book tracks it, and the cancel/replace requests made on it.

Theory of operation
-------------------
An `Order` is one order *at the broker*: the chain of ClOrdIDs that cancel/replace
requests give it all lead to the same object, and it keeps one OrderID(37). Its
`cl_ord_id` is the latest ClOrdID the broker accepted, which is the OrigClOrdID(41) of
the next cancel or replace (FIX 4.2: the *previous* ClOrdID, not the first), and its `id`
is the strategy's current name for it.

A replace gives the order a new strategy id (`new_id`). Until the broker confirms it the
order keeps its old `id` and `cl_ord_id`, and `pending_replace` holds the request; on
ExecType=5 the new ClOrdID, id, quantity, prices and time in force take over, and the old
id is retired: asked about, it reports `Replaced` as it stood at that moment. If the
broker refuses the replace, the new id reports `Rejected` and the order carries on
unchanged. At most one cancel and one replace are outstanding per order.

An order is *finished* once it is terminal with no cancel or replace of ours still
waiting for an answer: nothing but a late report (a bust, a correction, a duplicate) can
concern it any more, and the order book retires it to a compact form (see
`fixrouter.oms.book`). While it lives, it carries what applying reports exactly once
needs: `seen` (the keys of the reports applied), `fills` (its fills by ExecID, for busts
and corrections) and `cls` (every ClOrdID the book filed it under: its first, and those
of its cancels and replaces).

Orders are mutable and owned by the `OrderBook`; everyone else reads them. `req` is the
`NewOrder` it was created from (for a recovered order, rebuilt from the journaled
NewOrderSingle). The order itself satisfies the dialect's `Terms` protocol with its
*current* terms, which is what an OrderCancelRequest or OrderCancelReplaceRequest must
restate.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from fixrouter.events import OrderState, OrderStatus
from fixrouter.oms.positions import ZERO, Fill, Position
from fixrouter.oms.states import TERMINAL
from fixrouter.requests import (
    Capacity,
    Derivative,
    NewOrder,
    OpenClose,
    OrderType,
    SecurityType,
    Side,
    TimeInForce,
)

ORPHAN: Final = ""
"""The strategy of orders whose owner is unknown (found only in the journal or in a
report). No connected strategy has this name; the router drops its events."""


@dataclass(frozen=True, slots=True, eq=False)
class CancelIntent:
    """A cancel to send: `cl_ord_id` is new, `orig_cl_ord_id` the order's current one."""

    order: Order
    session: str
    cl_ord_id: str
    orig_cl_ord_id: str


@dataclass(frozen=True, slots=True, eq=False)
class ReplaceIntent:
    """A replace to send, with every changeable field resolved (unchanged ones copied)."""

    order: Order
    session: str
    cl_ord_id: str
    orig_cl_ord_id: str
    new_id: str
    qty: Decimal
    price: Decimal | None
    stop_price: Decimal | None
    tif: TimeInForce


class Order:
    """The book's record of one order. Read-only outside the order book."""

    __slots__ = (
        "ack_sent_ns", "acknowledged", "chain", "cl_ord_id", "cum_qty", "fills", "id", "notional",
        "open_list", "open_next", "open_prev", "order_id", "pending_cancel",
        "pending_replace", "position", "price", "qty", "queued", "recalled", "req", "seen",
        "session", "status", "stop_price", "strategy", "text", "tif",
    )  # fmt: skip

    def __init__(self, req: NewOrder, session: str, cl_ord_id: str) -> None:
        self.req = req
        self.strategy = req.strategy
        self.id = req.id
        self.session = session
        self.cl_ord_id = cl_ord_id
        self.status = OrderStatus.PENDING_NEW
        self.qty = req.qty
        self.price = req.price
        self.stop_price = req.stop_price
        self.tif = req.tif
        self.cum_qty = ZERO
        self.notional = ZERO  # sum of qty * px over the fills that stand
        self.order_id = ""  # the broker's OrderID(37), once a report told us
        self.acknowledged = False
        self.ack_sent_ns = 0
        """Monotonic ns the NewOrderSingle was handed to the session, until the first report
        of its ClOrdID: kept and cleared by `metrics.flow.OrderFlow` (the only writer), for
        the acknowledgement latency. 0: not waiting (never sent, or already answered)."""
        self.pending_cancel: CancelIntent | None = None
        self.pending_replace: ReplaceIntent | None = None
        self.position: Position | None = None  # bound at the first fill
        self.text = ""  # the broker's last Text(58) on a reject, or our own reason
        self.chain: list[str] | None = None
        """Every ClOrdID once a cancel or replace gave it another (None: only
        `cl_ord_id`, which a replace cannot have changed without one)."""
        self.seen: bytes | tuple[bytes, ...] | set[bytes] | None = None
        """Keys of the reports applied (book.py): one, a few, or a set of many."""
        self.fills: dict[str, Fill] | None = None  # by ExecID, corrections' included
        self.queued = False  # finished, waiting in the book's retirement queue
        self.recalled: tuple[Decimal, Decimal] | None = None
        """(cum_qty, notional) when the book read the order back from the journal for a
        late report, before applying it: what the risk gate had counted already."""
        # Links of the book's `OpenOrders` while the order is working (see there).
        self.open_list: OpenOrders | None = None
        self.open_prev: Order | None = None
        self.open_next: Order | None = None

    # The order's current terms, as `fixrouter.dialect.Terms`: what never changes comes
    # from the request; quantity, prices and time in force are the fields above, which a
    # confirmed replace updates. So `dialect.cancel_body(order, ...)` and
    # `replace_body(order, change, ...)` restate the order as it stands now.

    @property
    def symbol(self) -> str:
        return self.req.symbol

    @property
    def side(self) -> Side:
        return self.req.side

    @property
    def type(self) -> OrderType:
        return self.req.type

    @property
    def account(self) -> str | None:
        return self.req.account

    @property
    def sec_type(self) -> SecurityType:
        return self.req.sec_type

    @property
    def currency(self) -> str:
        return self.req.currency

    @property
    def exchange(self) -> str:
        return self.req.exchange

    @property
    def expire_time(self) -> str | None:
        return self.req.expire_time

    @property
    def expire_date(self) -> str | None:
        return self.req.expire_date

    @property
    def derivative(self) -> Derivative | None:
        return self.req.derivative

    @property
    def capacity(self) -> Capacity | None:
        return self.req.capacity

    @property
    def open_close(self) -> OpenClose | None:
        return self.req.open_close

    @property
    def force_only_rth(self) -> bool:
        return self.req.force_only_rth

    @property
    def is_working(self) -> bool:
        return self.status not in TERMINAL

    @property
    def cls(self) -> list[str]:
        """Every ClOrdID the order was filed under (its first, then its requests')."""
        if self.chain is not None:
            return self.chain
        return [self.cl_ord_id] if self.cl_ord_id else []

    @property
    def finished(self) -> bool:
        """Terminal, with no cancel or replace of ours waiting for an answer."""
        return (self.status in TERMINAL and self.pending_cancel is None
                and self.pending_replace is None)

    @property
    def leaves_qty(self) -> Decimal:
        """Open quantity: OrderQty - CumQty while working, 0 once terminal."""
        if self.status in TERMINAL:
            return ZERO
        return self.qty - self.cum_qty

    @property
    def avg_px(self) -> Decimal:
        return self.notional / self.cum_qty if self.cum_qty else ZERO

    def state(self) -> OrderState:
        """The `status` answer for the order's current id."""
        return OrderState(
            id=self.id,
            cl_ord_id=self.cl_ord_id,
            symbol=self.req.symbol,
            side=self.req.side.value,
            status=self.status,
            qty=self.qty,
            cum_qty=self.cum_qty,
            leaves_qty=self.leaves_qty,
            avg_px=self.avg_px,
            price=self.price,
        )

    def __repr__(self) -> str:
        return (
            f"Order({self.strategy}/{self.id} {self.cl_ord_id} {self.status.value} "
            f"{self.cum_qty}/{self.qty})"
        )


class OpenOrders:
    """The working orders of one book, in the order they started working.

    A doubly linked list through the orders' own `open_prev` / `open_next` fields: adding
    and removing an order is a few attribute stores and hashes nothing. (It was a dict
    keyed by the order: an insert and a share of the table's growth per order, about
    0.1 us at 400,000 resting orders, and the growths themselves, past 350,000 and
    700,000 entries, stalled the loop for tens of milliseconds.) An order is in the
    list iff its `open_list` is the list, so membership is O(1) too. The links make
    reference cycles only among working orders, which are alive anyway: `discard`
    clears them, so an order that stops working is still freed by reference counting.

    `add` of an order already in the list keeps its place, and `discard` of one not in it
    does nothing, as with the dict. An order linked in another list (the scratch book of
    a read-back, see `fixrouter.oms.recall`) is unlinked from it by `add`, so neither
    list is left pointing at an order it no longer holds. Iteration tolerates the removal
    of the order it is at, nothing more.
    """

    __slots__ = ("count", "head", "tail")

    def __init__(self) -> None:
        self.head: Order | None = None
        self.tail: Order | None = None
        self.count = 0

    def add(self, order: Order) -> None:
        other = order.open_list
        if other is self:
            return
        if other is not None:
            other.discard(order)
        tail = self.tail
        order.open_list = self
        order.open_prev = tail
        order.open_next = None
        if tail is None:
            self.head = order
        else:
            tail.open_next = order
        self.tail = order
        self.count += 1

    def discard(self, order: Order) -> None:
        if order.open_list is not self:
            return
        prev = order.open_prev
        nxt = order.open_next
        if prev is None:
            self.head = nxt
        else:
            prev.open_next = nxt
        if nxt is None:
            self.tail = prev
        else:
            nxt.open_prev = prev
        order.open_list = order.open_prev = order.open_next = None
        self.count -= 1

    def __len__(self) -> int:
        return self.count

    def __contains__(self, order: object) -> bool:
        return isinstance(order, Order) and order.open_list is self

    def __iter__(self) -> Iterator[Order]:
        order = self.head
        while order is not None:
            after = order.open_next  # read first: the caller may discard `order`
            yield order
            order = after
