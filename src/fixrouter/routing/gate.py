"""The gate the router asks before the order book: the interface, and a pass-through.

Theory of operation
-------------------
Every order request passes one `OrderGate` between the gateway and the order book::

    gateway -> router -> gate.check_* -> book.prepare_* -> dialect -> session -> journal

The router speaks to the gate only through this protocol, so the pre-trade risk gate
(`fixrouter.risk`, adapted by `fixrouter.routing.risk`) and `PassThroughGate` are
interchangeable. Verdicts are plain values, never exceptions:

* `check_new` / `check_replace`: None (send it now), a `Denied` event for the strategy
  (nothing may be sent), or `HELD` (a throttle keeps it; `drain` hands it back later and
  `next_release` says when to ask).
* `check_cancel`: None, `HELD`, or a `Withdrawn` naming a new order that was still held
  and has been taken out unsent (no FIX message is needed; the order is cancelled here).

Whatever the gate let through and the router then could not send is reported back with
`on_send_failed` so it stops being counted; every change the order book applies to an
order (a report, a cancel reject, a failed send) is reported with `on_report`. After a
restart the gate is closed until `rebuild(book)` has read the recovered book: a new gate
refuses everything (fail closed) until then. `take_engagements` hands the router the
kill-switch engagements that happened inside the last calls, for it to act on.

Time (`now`) is monotonic seconds here, unlike the book's epoch seconds: throttles and
windows must not jump with the wall clock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Protocol

from fixrouter.events import Denied, ExecKind
from fixrouter.oms import Order, OrderBook
from fixrouter.requests import CancelOrder, NewOrder, OrderRequest, ReplaceOrder


class Held:
    """The gate's throttle holds the request; it comes back through `drain`."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "HELD"


HELD: Final = Held()


@dataclass(frozen=True, slots=True)
class Withdrawn:
    """A cancel named a new order still held by the gate: it was taken out, never sent."""

    order: NewOrder


@dataclass(frozen=True, slots=True)
class Engaged:
    """A kill switch was engaged. `cancel` lists the (strategy, id) of working orders to
    cancel now; `dropped` are held requests that will never be sent (each is owed a
    denial); `reason` is the switch's reason, for the denials and the log."""

    reason: str
    cancel: tuple[tuple[str, str], ...]
    dropped: tuple[NewOrder | ReplaceOrder, ...]


class OrderGate(Protocol):
    """What the router needs from a pre-trade gate. See the module docstring."""

    @property
    def ready(self) -> bool:
        """False until `rebuild` ran: every new order and replace is refused meanwhile."""
        ...

    def check_new(self, order: NewOrder, session: str, now: float) -> Denied | Held | None: ...

    def check_replace(
        self, req: ReplaceOrder, session: str, now: float
    ) -> Denied | Held | None: ...

    def check_cancel(
        self, req: CancelOrder, session: str, now: float
    ) -> Withdrawn | Held | None: ...

    def drain(self, session: str, now: float) -> list[OrderRequest]:
        """Held requests of `session` that may go now, already checked and counted."""
        ...

    def next_release(self, session: str, now: float) -> float | None:
        """When `drain(session, ...)` next has something (monotonic), None if nothing."""
        ...

    def on_send_failed(self, strategy: str, request_id: str) -> None:
        """A passed request was not sent; `request_id` is a new order's id or a replace's
        `new_id`."""
        ...

    def on_report(self, order: Order, now: float, exec_type: ExecKind | None) -> None:
        """The order book changed `order`; `exec_type` is the report's, if one."""
        ...

    def rebuild(self, book: OrderBook) -> None:
        """Read the recovered book (`book.ready`) and open the gate."""
        ...

    def take_engagements(self) -> Sequence[Engaged]:
        """Kill-switch engagements since the last call (and forget them)."""
        ...


class PassThroughGate:
    """Lets everything through; closed (every order refused) until `rebuild`.

    For configurations without a risk gate and for tests. It refuses only on the one
    ground every gate shares: the state is not recovered yet.
    """

    __slots__ = ("_ready",)

    def __init__(self) -> None:
        self._ready = False

    @property
    def ready(self) -> bool:
        return self._ready

    def check_new(self, order: NewOrder, session: str, now: float) -> Denied | Held | None:
        return None if self._ready else _not_ready(order.id)

    def check_replace(self, req: ReplaceOrder, session: str, now: float) -> Denied | Held | None:
        return None if self._ready else _not_ready(req.new_id)

    def check_cancel(self, req: CancelOrder, session: str, now: float) -> Withdrawn | Held | None:
        return None  # a cancel only ever reduces risk

    def drain(self, session: str, now: float) -> list[OrderRequest]:
        return []

    def next_release(self, session: str, now: float) -> float | None:
        return None

    def on_send_failed(self, strategy: str, request_id: str) -> None:
        pass

    def on_report(self, order: Order, now: float, exec_type: ExecKind | None) -> None:
        pass

    def rebuild(self, book: OrderBook) -> None:
        self._ready = True

    def take_engagements(self) -> Sequence[Engaged]:
        return ()


STATE_UNKNOWN: Final = "RISK_STATE_UNKNOWN"
"""The denial code of a gate that has not read the recovered book yet (the risk gate's
own code for the same state)."""


def _not_ready(order_id: str) -> Denied:
    return Denied(order_id, STATE_UNKNOWN, "the gate has not recovered its state yet")
