"""The pre-trade risk gate (`fixrouter.risk.RiskGate`) seen through the router's `OrderGate`.

The risk gate answers in its own values (`Denial`, a throttle `Queue`, its `Withdrawn`,
`KillSwitchEngaged` records it queues in `engagements`); the router wants the events it
delivers and the `HELD` marker. This adapter translates, and nothing else: every decision
stays the risk gate's. A denied replace is reported under the replace's `new_id`, the
name the strategy was about to give the order, as the risk gate logs it; the order itself
is unchanged and keeps its id.

`RiskGate.rebuild` then `rebuild_complete` open it once the order book is recovered;
until then it refuses every new order and replace with RISK_STATE_UNKNOWN (fail closed).
"""

from __future__ import annotations

from collections.abc import Sequence

from fixrouter.events import Denied, ExecKind
from fixrouter.oms import Order, OrderBook
from fixrouter.requests import CancelOrder, NewOrder, ReplaceOrder
from fixrouter.risk import Denial, RiskGate
from fixrouter.risk import Withdrawn as RiskWithdrawn
from fixrouter.routing.gate import HELD, Engaged, Held, Withdrawn


class RiskGateAdapter:
    """An `OrderGate` over a `RiskGate`. Calls without translation are bound directly."""

    __slots__ = ("_check_cancel", "_check_new", "_check_replace", "drain", "next_release",
                 "on_send_failed", "risk")

    def __init__(self, risk: RiskGate) -> None:
        self.risk = risk
        self._check_new = risk.check_new
        self._check_replace = risk.check_replace
        self._check_cancel = risk.check_cancel
        self.drain = risk.drain
        self.next_release = risk.next_release
        self.on_send_failed = risk.on_send_failed

    @property
    def ready(self) -> bool:
        return self.risk.ready

    def check_new(self, order: NewOrder, session: str, now: float) -> Denied | Held | None:
        verdict = self._check_new(order, session, now)
        if verdict is None:
            return None
        if type(verdict) is Denial:
            return verdict.to_event(order.id)
        return HELD

    def check_replace(self, req: ReplaceOrder, session: str, now: float) -> Denied | Held | None:
        verdict = self._check_replace(req, session, now)
        if verdict is None:
            return None
        if type(verdict) is Denial:
            return verdict.to_event(req.new_id)
        return HELD

    def check_cancel(self, req: CancelOrder, session: str, now: float) -> Withdrawn | Held | None:
        verdict = self._check_cancel(req, session, now)
        if verdict is None:
            return None
        if type(verdict) is RiskWithdrawn:
            return Withdrawn(verdict.order)
        return HELD

    def on_report(self, order: Order, now: float, exec_type: ExecKind | None) -> None:
        self.risk.on_report(order, now, exec_type)

    def rebuild(self, book: OrderBook) -> None:
        """Raises RiskError if the book is not recovered yet."""
        self.risk.rebuild(book)
        self.risk.rebuild_complete()

    def take_engagements(self) -> Sequence[Engaged]:
        queued = self.risk.engagements
        if not queued:
            return ()
        taken = []
        for e in queued:
            switch = e.engagement
            scope = f"{switch.scope.value} {switch.name}".rstrip()
            taken.append(Engaged(f"{scope}: {switch.reason}",
                                 e.working if e.cancel_all else (), e.dropped))
        queued.clear()
        return taken
