"""Order handling for the simulator: the part of the fake IB that needs no sockets.

Theory of operation
-------------------
A `Book` holds the orders of one FIX session. The QuickFIX-facing code (`sim.app`) turns each
inbound application message into a request value and calls `on_new`, `on_cancel`,
`on_replace` or `on_status` with the current monotonic time. The Book answers with an
`Outcome`: a `Disposition` saying what was done (for the event log) and the `Action`s to
carry out, in order: execution reports, cancel rejects, news, a dropped connection. Timed
work (the next partial fill, a delayed certification trick) waits in a heap: the caller
asks `next_deadline()` and calls `on_timer(now)` once it has passed. Time is always an
argument and never read here, so tests drive the Book with a fake clock.

Order state (OrdStatus) moves along this table; anything else is refused, never crashed on:

    NEW      --fill--> PARTIAL | FILLED    --cancel/unsolicited--> CANCELED
    PARTIAL  --fill--> PARTIAL | FILLED    --cancel/unsolicited--> CANCELED
    FILLED   --bust/correct--> NEW | PARTIAL | FILLED   (a bust reinstates the quantity)
    CANCELED, REJECTED: final (a bust or correction still adjusts CumQty)

A replace keeps the order's status and changes its quantity and price. Cancels and
replaces must name the order's *latest* ClOrdID in OrigClOrdID, as IB requires; status
requests may name any ClOrdID of the chain, or `*` for every working order.

Every ClOrdID ever received (orders, cancels, replaces) goes into a registry that the
caller persists, so a PossDup or PossResend copy of a message is never executed twice,
even after a simulator restart, and a fill never takes CumQty past OrderQty.
"""

from __future__ import annotations

import enum
import heapq
import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal
from typing import Protocol

from fixrouter.errors import FixRouterError
from fixrouter.sim.scenario import Behaviour, Rule, Scenario, Trick, TrickKind, Trigger

ZERO = Decimal(0)
_AVG_PX_QUANTUM = Decimal("0.00000001")
_CORRECTION_TICK = Decimal("0.01")
UNKNOWN_ORDER_ID = "NONE"  # what FIX puts in OrderID(37) when there is no order


class SimCommandError(FixRouterError):
    """An admin command named an order or execution that cannot take it."""


class OrdStatus(enum.StrEnum):
    """OrdStatus(39); also the ExecType(150) of status reports."""

    NEW = "0"
    PARTIAL = "1"
    FILLED = "2"
    CANCELED = "4"
    REJECTED = "8"


class ExecType(enum.StrEnum):
    NEW = "0"
    PARTIAL = "1"
    FILL = "2"
    CANCELED = "4"
    REPLACED = "5"
    REJECTED = "8"


class ExecTransType(enum.StrEnum):
    NEW = "0"
    CANCEL = "1"  # trade bust
    CORRECT = "2"
    STATUS = "3"


class CxlRejReason(enum.IntEnum):
    TOO_LATE = 0
    UNKNOWN_ORDER = 1
    BROKER_OPTION = 2


class CxlRejResponseTo(enum.StrEnum):
    CANCEL = "1"
    REPLACE = "2"


class OrdRejReason(enum.IntEnum):
    # IB uses only these two; the real reason goes in Text(58).
    BROKER_OPTION = 0
    EXCEEDS_LIMIT = 3


class Disposition(enum.StrEnum):
    """What the simulator did with one inbound message: the `action` of the event log."""

    EXECUTED = "executed"  # a new order was accepted and acknowledged
    REJECTED = "rejected"  # a new order was rejected (39=8)
    CANCELED = "canceled"
    CANCEL_REJECTED = "cancel_rejected"
    REPLACED = "replaced"
    REPLACE_REJECTED = "replace_rejected"
    STATUS = "status"
    DUPLICATE_IGNORED = "duplicate_ignored"  # PossDup/PossResend copy of a known ClOrdID
    DUPLICATE_REJECTED = "duplicate_rejected"  # known ClOrdID reused without PossDup/PossResend


# Tags echoed from the order onto every report about it: Account, SecurityType and the
# option/future contract fields, all of which IB's ExecutionReport carries.
ECHO_TAGS = (1, 167, 200, 201, 202, 205, 207)
# Limit-priced order types (OrdType 40) whose Price(44) is checked against the collar.
_PRICED_TYPES = frozenset({"2", "4", "B"})


# ---- requests (parsed inbound messages) --------------------------------------------------


@dataclass(frozen=True, slots=True)
class NewOrder:
    cl_ord_id: str
    symbol: str
    side: str
    qty: Decimal
    ord_type: str
    price: Decimal | None = None
    echo: tuple[tuple[int, str], ...] = ()
    poss_dup: bool = False
    poss_resend: bool = False


@dataclass(frozen=True, slots=True)
class CancelRequest:
    cl_ord_id: str
    orig_cl_ord_id: str
    symbol: str
    side: str
    order_id: str | None = None
    poss_dup: bool = False
    poss_resend: bool = False


@dataclass(frozen=True, slots=True)
class ReplaceRequest:
    cl_ord_id: str
    orig_cl_ord_id: str
    symbol: str
    side: str
    qty: Decimal
    ord_type: str
    price: Decimal | None = None
    order_id: str | None = None
    poss_dup: bool = False
    poss_resend: bool = False


@dataclass(frozen=True, slots=True)
class StatusRequest:
    cl_ord_id: str  # "*" asks for every working order
    symbol: str | None = None  # IB requires only ClOrdID on a status request
    side: str | None = None
    order_id: str | None = None


# ---- actions (what the caller must send or do) --------------------------------------------


@dataclass(frozen=True, slots=True)
class ExecReport:
    order_id: str
    exec_id: str
    exec_trans_type: ExecTransType
    exec_type: str  # an ExecType, or an OrdStatus on status reports
    ord_status: OrdStatus
    symbol: str
    side: str
    order_qty: Decimal
    last_qty: Decimal
    last_px: Decimal
    cum_qty: Decimal
    leaves_qty: Decimal
    avg_px: Decimal
    cl_ord_id: str | None = None  # None on unsolicited reports
    orig_cl_ord_id: str | None = None
    exec_ref_id: str | None = None  # busts and corrections
    ord_type: str | None = None
    price: Decimal | None = None
    ord_rej_reason: OrdRejReason | None = None
    text: str | None = None
    echo: tuple[tuple[int, str], ...] = ()


@dataclass(frozen=True, slots=True)
class CancelReject:
    cl_ord_id: str
    orig_cl_ord_id: str
    order_id: str
    ord_status: OrdStatus
    response_to: CxlRejResponseTo
    reason: CxlRejReason
    text: str


@dataclass(frozen=True, slots=True)
class News:
    headline: str
    lines: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Drop:
    """Close the TCP connection without a Logout, like a line failure."""


Action = ExecReport | CancelReject | News | Drop


@dataclass(frozen=True, slots=True)
class Outcome:
    disposition: Disposition
    actions: tuple[Action, ...] = ()
    order_id: str | None = None


@dataclass(frozen=True, slots=True)
class OrderView:
    """A read-only snapshot of one order, for the admin `status` command."""

    order_id: str
    cl_ord_id: str
    chain: tuple[str, ...]
    symbol: str
    side: str
    qty: Decimal
    price: Decimal | None
    status: OrdStatus
    cum_qty: Decimal
    leaves_qty: Decimal
    exec_ids: tuple[str, ...]


# ---- collaborators ---------------------------------------------------------------------------


class ClOrdIdRegistry(Protocol):
    """Every ClOrdID the session has received. A plain set will do; the app persists it."""

    def __contains__(self, cl_ord_id: object, /) -> bool: ...

    def add(self, cl_ord_id: str, /) -> None: ...


class IdSource:
    """OrderIDs and ExecIDs that stay unique across restarts.

    `boot` is a counter the caller persists and bumps at every start and `started` the
    start time in epoch seconds, so two runs never share a prefix; `session_no` keeps the
    sessions of one process apart. OrderIDs are dotted hex like IB's
    (`000009a5.00004691.603c7978.0001`).
    """

    def __init__(self, boot: int, started: int, session_no: int) -> None:
        self._orders = itertools.count(1)
        self._execs = itertools.count(1)
        self._order_fmt = f"{boot:08x}.{{:08x}}.{started:08x}.{session_no:04x}"
        self._exec_fmt = f"{{:08x}}.{started:08x}.{boot:04x}.{session_no:02x}"

    def order_id(self) -> str:
        return self._order_fmt.format(next(self._orders))

    def exec_id(self) -> str:
        return self._exec_fmt.format(next(self._execs))


# ---- internal state --------------------------------------------------------------------------


@dataclass(slots=True)
class _Fill:
    exec_id: str  # the latest ExecID for this trade (a correction issues a new one)
    qty: Decimal
    px: Decimal
    exec_type: ExecType  # PARTIAL or FILL, as first reported
    busted: bool = False


@dataclass(slots=True)
class _Order:
    order_id: str
    cl_ord_id: str
    chain: list[str]
    symbol: str
    side: str
    qty: Decimal
    ord_type: str
    price: Decimal | None
    echo: tuple[tuple[int, str], ...]
    rule: Rule
    status: OrdStatus = OrdStatus.NEW
    fills: list[_Fill] = field(default_factory=list)
    partials_left: int = 0
    text: str | None = None

    @property
    def orig_cl_ord_id(self) -> str | None:
        return self.chain[-2] if len(self.chain) > 1 else None

    @property
    def cum_qty(self) -> Decimal:
        return sum((f.qty for f in self.fills if not f.busted), ZERO)

    @property
    def avg_px(self) -> Decimal:
        live = [f for f in self.fills if not f.busted]
        cum = sum((f.qty for f in live), ZERO)
        if not cum:
            return ZERO
        return (sum((f.qty * f.px for f in live), ZERO) / cum).quantize(_AVG_PX_QUANTUM)

    @property
    def working(self) -> bool:
        return self.status in (OrdStatus.NEW, OrdStatus.PARTIAL)

    @property
    def leaves_qty(self) -> Decimal:
        return self.qty - self.cum_qty if self.working else ZERO

    def fill_px(self) -> Decimal:
        # Limit-priced orders fill at their limit; market and stop orders at the reference.
        if self.ord_type in _PRICED_TYPES and self.price is not None:
            return self.price
        return self.rule.reference_price


class _TimerKind(enum.Enum):
    PARTIAL_FILL = enum.auto()
    TRICK = enum.auto()


@dataclass(frozen=True, slots=True)
class _Timer:
    kind: _TimerKind
    order_id: str | None = None
    exec_id: str | None = None
    trick: Trick | None = None


# ---- the book --------------------------------------------------------------------------------


class Book:
    """All orders of one FIX session. Not thread-safe: the caller serialises calls."""

    def __init__(self, scenario: Scenario, ids: IdSource, known: ClOrdIdRegistry) -> None:
        self._scenario = scenario
        self._ids = ids
        self._known = known
        self._orders: dict[str, _Order] = {}  # by OrderID
        self._by_cl_ord_id: dict[str, _Order] = {}  # every ClOrdID of every chain
        self._fills: dict[str, tuple[_Order, _Fill]] = {}  # every ExecID a fill ever had
        self._timers: list[tuple[float, int, _Timer]] = []
        self._timer_seq = itertools.count()
        self._trick_fired = [0] * len(scenario.tricks)

    # -- inbound messages -----------------------------------------------------------------

    def on_new(self, req: NewOrder, now: float) -> Outcome:
        if req.cl_ord_id in self._known:
            return self._duplicate_new(req)
        self._known.add(req.cl_ord_id)
        rule = self._scenario.rule_for(req.symbol)
        order = _Order(
            order_id=self._ids.order_id(),
            cl_ord_id=req.cl_ord_id,
            chain=[req.cl_ord_id],
            symbol=req.symbol,
            side=req.side,
            qty=req.qty,
            ord_type=req.ord_type,
            price=req.price,
            echo=req.echo,
            rule=rule,
        )
        self._orders[order.order_id] = order
        self._by_cl_ord_id[req.cl_ord_id] = order

        refusal = self._refusal(rule, req.qty, req.ord_type, req.price)
        if rule.behaviour is Behaviour.REJECT:
            refusal = (OrdRejReason.BROKER_OPTION, rule.reject_text)
        if refusal is not None:
            order.status = OrdStatus.REJECTED
            order.text = refusal[1]
            report = self._report(
                order, ExecType.REJECTED, ord_rej_reason=refusal[0], text=refusal[1]
            )
            return Outcome(Disposition.REJECTED, (report,), order.order_id)

        actions: list[Action] = [self._report(order, ExecType.NEW)]
        if rule.behaviour is Behaviour.FILL:
            actions.extend(self._fill(order, order.qty, order.fill_px(), now))
        elif rule.behaviour is Behaviour.PARTIAL:
            order.partials_left = rule.partials
            first = now + rule.interval_ms / 1000
            self._schedule(first, _Timer(_TimerKind.PARTIAL_FILL, order.order_id))
        self._fire_tricks(Trigger.NEW, now, order=order)
        return Outcome(Disposition.EXECUTED, tuple(actions), order.order_id)

    def on_cancel(self, req: CancelRequest, now: float) -> Outcome:
        del now  # cancels are immediate; the argument keeps the request API uniform
        if req.cl_ord_id in self._known:
            if req.poss_dup or req.poss_resend:
                return Outcome(Disposition.DUPLICATE_IGNORED)
            return self._cancel_reject(
                req.cl_ord_id, req.orig_cl_ord_id, None, CxlRejResponseTo.CANCEL,
                CxlRejReason.BROKER_OPTION, f"Duplicate ClOrdID {req.cl_ord_id}",
                Disposition.DUPLICATE_REJECTED,
            )  # fmt: skip
        self._known.add(req.cl_ord_id)
        order, problem = self._target(req.orig_cl_ord_id, req.order_id)
        if order is None or problem is not None:
            return self._cancel_reject(
                req.cl_ord_id, req.orig_cl_ord_id, order, CxlRejResponseTo.CANCEL,
                CxlRejReason.UNKNOWN_ORDER if order is None else CxlRejReason.BROKER_OPTION,
                problem or "Unknown order", Disposition.CANCEL_REJECTED,
            )  # fmt: skip
        if not order.working:
            return self._cancel_reject(
                req.cl_ord_id, req.orig_cl_ord_id, order, CxlRejResponseTo.CANCEL,
                CxlRejReason.TOO_LATE, f"Too late to cancel: order is {order.status.name.lower()}",
                Disposition.CANCEL_REJECTED,
            )  # fmt: skip
        self._link(order, req.cl_ord_id)
        order.status = OrdStatus.CANCELED
        report = self._report(order, ExecType.CANCELED)
        return Outcome(Disposition.CANCELED, (report,), order.order_id)

    def on_replace(self, req: ReplaceRequest, now: float) -> Outcome:
        del now
        if req.cl_ord_id in self._known:
            if req.poss_dup or req.poss_resend:
                return Outcome(Disposition.DUPLICATE_IGNORED)
            return self._cancel_reject(
                req.cl_ord_id, req.orig_cl_ord_id, None, CxlRejResponseTo.REPLACE,
                CxlRejReason.BROKER_OPTION, f"Duplicate ClOrdID {req.cl_ord_id}",
                Disposition.DUPLICATE_REJECTED,
            )  # fmt: skip
        self._known.add(req.cl_ord_id)
        order, problem = self._target(req.orig_cl_ord_id, req.order_id)
        reason = CxlRejReason.UNKNOWN_ORDER if order is None else CxlRejReason.BROKER_OPTION
        if order is not None and problem is None:
            if not order.working:
                reason = CxlRejReason.TOO_LATE
                problem = f"Too late to replace: order is {order.status.name.lower()}"
            elif req.symbol != order.symbol or req.side != order.side:
                problem = "Symbol and side cannot be changed by a replace"
            elif req.qty <= order.cum_qty:
                problem = f"OrderQty {req.qty} is not above the filled quantity {order.cum_qty}"
            else:
                refusal = self._refusal(order.rule, req.qty, req.ord_type, req.price)
                problem = refusal[1] if refusal else None
        if order is None or problem is not None:
            return self._cancel_reject(
                req.cl_ord_id, req.orig_cl_ord_id, order, CxlRejResponseTo.REPLACE,
                reason, problem or "Unknown order", Disposition.REPLACE_REJECTED,
            )  # fmt: skip
        self._link(order, req.cl_ord_id)
        order.qty, order.ord_type, order.price = req.qty, req.ord_type, req.price
        report = self._report(order, ExecType.REPLACED)
        return Outcome(Disposition.REPLACED, (report,), order.order_id)

    def on_status(self, req: StatusRequest, now: float) -> Outcome:
        del now
        if req.cl_ord_id == "*":
            reports = tuple(self._status_report(o) for o in self._orders.values() if o.working)
            return Outcome(Disposition.STATUS, reports)
        order = self._by_cl_ord_id.get(req.cl_ord_id)
        if order is None and req.order_id is not None:
            order = self._orders.get(req.order_id)
        if order is None:
            unknown = ExecReport(
                order_id=req.order_id or UNKNOWN_ORDER_ID,
                exec_id=self._ids.exec_id(),
                exec_trans_type=ExecTransType.STATUS,
                exec_type=OrdStatus.REJECTED,
                ord_status=OrdStatus.REJECTED,
                # Symbol and Side are required on a report; echo them when the request had them.
                symbol=req.symbol or "UNKNOWN",
                side=req.side or "1",
                order_qty=ZERO,
                last_qty=ZERO,
                last_px=ZERO,
                cum_qty=ZERO,
                leaves_qty=ZERO,
                avg_px=ZERO,
                cl_ord_id=req.cl_ord_id,
                text="Unknown order",
            )
            return Outcome(Disposition.STATUS, (unknown,))
        return Outcome(Disposition.STATUS, (self._status_report(order),), order.order_id)

    def on_logon(self, now: float) -> None:
        self._fire_tricks(Trigger.LOGON, now)

    # -- time --------------------------------------------------------------------------------

    def next_deadline(self) -> float | None:
        return self._timers[0][0] if self._timers else None

    def on_timer(self, now: float) -> tuple[Action, ...]:
        actions: list[Action] = []
        while self._timers and self._timers[0][0] <= now:
            _, _, timer = heapq.heappop(self._timers)
            actions.extend(self._run_timer(timer, now))
        return tuple(actions)

    # -- admin commands (IB-initiated events) ---------------------------------------------------
    # Each raises SimCommandError when the order or execution cannot take the event.

    def unsolicited_cancel(self, ref: str, text: str | None = None) -> tuple[Action, ...]:
        order = self._find(ref)
        if not order.working:
            raise SimCommandError(f"order {ref} is {order.status.name.lower()}, not working")
        return (self._unsolicited_cancel(order, text),)

    def bust(self, exec_id: str | None = None, ref: str | None = None) -> tuple[Action, ...]:
        order, fill = self._find_fill(exec_id, ref)
        return (self._bust(order, fill),)

    def correct(
        self,
        exec_id: str | None = None,
        ref: str | None = None,
        qty: Decimal | None = None,
        price: Decimal | None = None,
    ) -> tuple[Action, ...]:
        order, fill = self._find_fill(exec_id, ref)
        return (self._correct(order, fill, qty, price),)

    def fill(
        self, ref: str, qty: Decimal | None = None, price: Decimal | None = None, now: float = 0.0
    ) -> tuple[Action, ...]:
        order = self._find(ref)
        if not order.working:
            raise SimCommandError(f"order {ref} is {order.status.name.lower()}, not working")
        leaves = order.leaves_qty
        qty = leaves if qty is None else qty
        if not ZERO < qty <= leaves:
            raise SimCommandError(f"fill quantity {qty} is not in (0, {leaves}]")
        return tuple(self._fill(order, qty, price or order.fill_px(), now))

    def orders(self) -> tuple[OrderView, ...]:
        return tuple(
            OrderView(
                order_id=o.order_id,
                cl_ord_id=o.cl_ord_id,
                chain=tuple(o.chain),
                symbol=o.symbol,
                side=o.side,
                qty=o.qty,
                price=o.price,
                status=o.status,
                cum_qty=o.cum_qty,
                leaves_qty=o.leaves_qty,
                exec_ids=tuple(f.exec_id for f in o.fills),
            )
            for o in self._orders.values()
        )

    # -- internals ---------------------------------------------------------------------------

    def _duplicate_new(self, req: NewOrder) -> Outcome:
        if req.poss_dup or req.poss_resend:
            # The original was processed; its reports are in QuickFIX's store for resending.
            return Outcome(Disposition.DUPLICATE_IGNORED)
        report = ExecReport(
            order_id=UNKNOWN_ORDER_ID,
            exec_id=self._ids.exec_id(),
            exec_trans_type=ExecTransType.NEW,
            exec_type=ExecType.REJECTED,
            ord_status=OrdStatus.REJECTED,
            symbol=req.symbol,
            side=req.side,
            order_qty=req.qty,
            last_qty=ZERO,
            last_px=ZERO,
            cum_qty=ZERO,
            leaves_qty=ZERO,
            avg_px=ZERO,
            cl_ord_id=req.cl_ord_id,
            ord_type=req.ord_type,
            price=req.price,
            ord_rej_reason=OrdRejReason.BROKER_OPTION,
            text=f"Duplicate order id {req.cl_ord_id}",
            echo=req.echo,
        )
        return Outcome(Disposition.DUPLICATE_REJECTED, (report,))

    def _refusal(
        self, rule: Rule, qty: Decimal, ord_type: str, price: Decimal | None
    ) -> tuple[OrdRejReason, str] | None:
        """The reason IB would refuse this quantity and price, or None."""
        if qty <= 0:
            return OrdRejReason.BROKER_OPTION, f"Invalid order quantity {qty}"
        if rule.reject_qty_above is not None and qty > rule.reject_qty_above:
            return (
                OrdRejReason.EXCEEDS_LIMIT,
                f"Order size {qty} exceeds the size limit of {rule.reject_qty_above}",
            )
        if ord_type in _PRICED_TYPES:
            if price is None:
                return OrdRejReason.BROKER_OPTION, "Limit price is missing"
            if rule.collar_pct is not None:
                ref = rule.reference_price
                if abs(price - ref) * 100 > ref * rule.collar_pct:
                    return OrdRejReason.BROKER_OPTION, "Limit price too far outside NBBO"
        return None

    def _target(self, orig: str, order_id: str | None) -> tuple[_Order | None, str | None]:
        """The order a cancel/replace aims at, and why it cannot be used (None if it can)."""
        order = self._by_cl_ord_id.get(orig)
        if order is None:
            return None, None
        if order.cl_ord_id != orig:
            return order, (
                f"OrigClOrdID {orig} is not the latest ClOrdID of the order "
                f"(the latest is {order.cl_ord_id})"
            )
        if order_id is not None and order_id != order.order_id:
            return order, f"OrderID {order_id} does not match OrigClOrdID {orig}"
        return order, None

    def _link(self, order: _Order, cl_ord_id: str) -> None:
        order.chain.append(cl_ord_id)
        order.cl_ord_id = cl_ord_id
        self._by_cl_ord_id[cl_ord_id] = order

    def _find(self, ref: str) -> _Order:
        order = self._by_cl_ord_id.get(ref) or self._orders.get(ref)
        if order is None:
            raise SimCommandError(f"no order with ClOrdID or OrderID {ref!r}")
        return order

    def _find_fill(self, exec_id: str | None, ref: str | None) -> tuple[_Order, _Fill]:
        """An unbusted fill: by ExecID, else the last of order `ref`, else the last of all."""
        if exec_id is not None:
            found = self._fills.get(exec_id)
            if found is None:
                raise SimCommandError(f"no fill with ExecID {exec_id!r}")
            if found[1].busted:
                raise SimCommandError(f"fill {exec_id} is already busted")
            return found
        orders: Iterable[_Order] = [self._find(ref)] if ref is not None else self._orders.values()
        candidates = [(o, f) for o in orders for f in o.fills if not f.busted]
        if not candidates:
            raise SimCommandError(f"no unbusted fill{' on order ' + ref if ref else ''}")
        return candidates[-1]

    def _schedule(self, due: float, timer: _Timer) -> None:
        heapq.heappush(self._timers, (due, next(self._timer_seq), timer))

    def _fire_tricks(
        self, trigger: Trigger, now: float, order: _Order | None = None, fill: _Fill | None = None
    ) -> None:
        for i, trick in enumerate(self._scenario.tricks):
            if trick.on is not trigger:
                continue
            if trick.symbol is not None and order is not None and order.symbol != trick.symbol:
                continue
            if trick.times and self._trick_fired[i] >= trick.times:
                continue
            self._trick_fired[i] += 1
            # Even delay 0 goes through the timer heap, so the trick follows the reports of
            # the event that triggered it.
            self._schedule(
                now + trick.delay_ms / 1000,
                _Timer(
                    _TimerKind.TRICK,
                    order_id=order.order_id if order else None,
                    exec_id=fill.exec_id if fill else None,
                    trick=trick,
                ),
            )

    def _run_timer(self, timer: _Timer, now: float) -> list[Action]:
        order = self._orders.get(timer.order_id) if timer.order_id else None
        if timer.kind is _TimerKind.PARTIAL_FILL:
            if order is None or not order.working or order.partials_left <= 0:
                return []  # cancelled, or completed by an admin fill, in the meantime
            actions = self._fill(order, self._next_partial(order), order.fill_px(), now)
            order.partials_left -= 1
            if order.working and order.partials_left > 0:
                self._schedule(
                    now + order.rule.interval_ms / 1000,
                    _Timer(_TimerKind.PARTIAL_FILL, order.order_id),
                )
            return actions
        trick = timer.trick
        assert trick is not None
        # A trick whose target moved on (e.g. an unsolicited cancel of an order that filled
        # first) is skipped: IB would not send it either.
        if trick.kind is TrickKind.NEWS:
            text = (trick.text,) if trick.text else ()
            return [News(trick.headline or "Simulated IB bulletin", text)]
        if trick.kind is TrickKind.DROP:
            return [Drop()]
        if trick.kind is TrickKind.UNSOLICITED_CANCEL:
            if order is None or not order.working:
                return []
            return [self._unsolicited_cancel(order, trick.text)]
        found = self._fills.get(timer.exec_id or "")
        if found is None or found[1].busted:
            return []
        if trick.kind is TrickKind.BUST:
            return [self._bust(*found)]
        return [self._correct(*found, trick.qty, trick.price)]

    @staticmethod
    def _next_partial(order: _Order) -> Decimal:
        leaves = order.leaves_qty
        if order.partials_left <= 1:
            return leaves
        share = leaves / order.partials_left
        # Whole quantities stay whole; fractional ones keep the order's precision.
        raw_exponent = leaves.as_tuple().exponent
        exponent = min(raw_exponent, 0) if isinstance(raw_exponent, int) else 0
        share = share.quantize(Decimal(1).scaleb(exponent), rounding=ROUND_DOWN)
        return share if share > 0 else leaves

    def _fill(self, order: _Order, qty: Decimal, px: Decimal, now: float) -> list[Action]:
        # The one place CumQty grows: clamp to what is left so no path can overfill.
        qty = min(qty, order.leaves_qty)
        if qty <= 0:
            return []
        done = qty == order.leaves_qty
        exec_type = ExecType.FILL if done else ExecType.PARTIAL
        fill = _Fill(self._ids.exec_id(), qty, px, exec_type)
        order.fills.append(fill)
        self._fills[fill.exec_id] = (order, fill)
        order.status = OrdStatus.FILLED if done else OrdStatus.PARTIAL
        report = self._report(order, exec_type, exec_id=fill.exec_id, last=(qty, px))
        self._fire_tricks(Trigger.FILL, now, order=order, fill=fill)
        return [report]

    def _unsolicited_cancel(self, order: _Order, text: str | None) -> ExecReport:
        order.status = OrdStatus.CANCELED
        return self._report(
            order,
            ExecType.CANCELED,
            text=text or "Order canceled by IB",
            unsolicited=True,
        )

    def _bust(self, order: _Order, fill: _Fill) -> ExecReport:
        fill.busted = True
        if order.status is OrdStatus.FILLED or order.status is OrdStatus.PARTIAL:
            # The busted quantity is working again, as after a bust on the exchange.
            order.status = OrdStatus.PARTIAL if order.cum_qty else OrdStatus.NEW
        return self._report(
            order,
            fill.exec_type,
            trans=ExecTransType.CANCEL,
            exec_ref_id=fill.exec_id,
            last=(fill.qty, fill.px),
        )

    def _correct(
        self, order: _Order, fill: _Fill, qty: Decimal | None, price: Decimal | None
    ) -> ExecReport:
        new_qty = fill.qty if qty is None else qty
        new_px = fill.px + _CORRECTION_TICK if price is None else price
        room = order.qty - order.cum_qty + fill.qty
        if not ZERO < new_qty <= room:
            raise SimCommandError(f"corrected quantity {new_qty} is not in (0, {room}]")
        if new_px <= 0:
            raise SimCommandError(f"corrected price {new_px} is not positive")
        ref_id = fill.exec_id
        fill.qty, fill.px, fill.exec_id = new_qty, new_px, self._ids.exec_id()
        self._fills[fill.exec_id] = (order, fill)
        if order.status is not OrdStatus.CANCELED and order.status is not OrdStatus.REJECTED:
            cum = order.cum_qty
            if cum == order.qty:
                order.status = OrdStatus.FILLED
            else:
                order.status = OrdStatus.PARTIAL if cum else OrdStatus.NEW
        return self._report(
            order,
            fill.exec_type,
            trans=ExecTransType.CORRECT,
            exec_id=fill.exec_id,
            exec_ref_id=ref_id,
            last=(new_qty, new_px),
        )

    def _status_report(self, order: _Order) -> ExecReport:
        return self._report(order, order.status, trans=ExecTransType.STATUS, text=order.text)

    def _report(
        self,
        order: _Order,
        exec_type: str,
        *,
        trans: ExecTransType = ExecTransType.NEW,
        exec_id: str | None = None,
        exec_ref_id: str | None = None,
        last: tuple[Decimal, Decimal] = (ZERO, ZERO),
        ord_rej_reason: OrdRejReason | None = None,
        text: str | None = None,
        unsolicited: bool = False,
    ) -> ExecReport:
        return ExecReport(
            order_id=order.order_id,
            exec_id=exec_id or self._ids.exec_id(),
            exec_trans_type=trans,
            exec_type=exec_type,
            ord_status=order.status,
            symbol=order.symbol,
            side=order.side,
            order_qty=order.qty,
            last_qty=last[0],
            last_px=last[1],
            cum_qty=order.cum_qty,
            leaves_qty=order.leaves_qty,
            avg_px=order.avg_px,
            cl_ord_id=None if unsolicited else order.cl_ord_id,
            orig_cl_ord_id=None if unsolicited else order.orig_cl_ord_id,
            exec_ref_id=exec_ref_id,
            ord_type=order.ord_type,
            price=order.price,
            ord_rej_reason=ord_rej_reason,
            text=text,
            echo=order.echo,
        )

    def _cancel_reject(
        self,
        cl_ord_id: str,
        orig: str,
        order: _Order | None,
        response_to: CxlRejResponseTo,
        reason: CxlRejReason,
        text: str,
        disposition: Disposition,
    ) -> Outcome:
        reject = CancelReject(
            cl_ord_id=cl_ord_id,
            orig_cl_ord_id=orig,
            order_id=order.order_id if order else UNKNOWN_ORDER_ID,
            ord_status=order.status if order else OrdStatus.REJECTED,
            response_to=response_to,
            reason=reason,
            text=text,
        )
        return Outcome(disposition, (reject,), order.order_id if order else None)
