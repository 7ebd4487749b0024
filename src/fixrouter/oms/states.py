"""The order state machine, as a transition table.

Theory of operation
-------------------
An order's status (`events.OrderStatus`) changes only through `TABLE[status][trigger]`.
A trigger is either something the broker said (an ExecutionReport's ExecType(150) in
FIX 4.2, or a bust/correction/status report by its ExecTransType(20)) or something we did
(sent a cancel or a replace, had it refused by an OrderCancelReject, failed to send).

A table cell is one of:

* a status: the order goes there;
* `Target.WORKING`: the order goes to whatever working status its own facts imply,
  `working_status()`: PendingCancel if a cancel of ours is outstanding, else
  PendingReplace if a replace is, else PendingNew if the broker never acknowledged it,
  else New with nothing filled or PartiallyFilled. Deriving it, instead of writing one
  row per combination, is what keeps overlapping requests right: a fill that arrives
  while a cancel is pending leaves the order PendingCancel, a cancel that IB rejects
  returns it to New or PartiallyFilled, and a cancel sent before the order was
  acknowledged returns it to PendingNew;
* `Target.BROKER`: the broker's OrdStatus(39) is adopted when it is terminal (a bust on
  a filled order may leave it Filled, Canceled or working again), otherwise WORKING;
* absent: the transition is impossible. The caller logs it on `fixrouter.oms`, counts
  it (`Anomaly.ILLEGAL_TRANSITION`) and leaves the status as it was. The financial facts
  of the report (a fill) are still applied: an execution happened whatever its status.

Working statuses are PN, N, PF, PC, PR (below); terminal ones are F, C, R, RJ, E. A
terminal order leaves its status only through `Target.BROKER` (busts, corrections, status
reports: the broker's books are the truth) and ignores late refusals of our requests.
`Replaced` is never the status of a live order: a replace moves the order to its new
ClOrdID and strategy id, and `Replaced` is the status the *old* id reports afterwards.

=====================  ====================================================================
trigger                from -> to
=====================  ====================================================================
ER_PENDING_NEW (A)     PN -> PN
ER_NEW (0)             PN, N, PC, PR -> WORKING            (PF -> illegal: no going back)
ER_PARTIAL (1)         PN, N, PF, PC, PR -> WORKING
ER_FILL (2)            PN, N, PF, PC, PR -> F
ER_CANCELED (4)        PN, N, PF, PC, PR -> C;  C -> C (resent with a new ExecID)
ER_REPLACED (5)        PC, PR -> WORKING                   (needs our matching replace)
ER_PENDING_CANCEL (6)  PN, N, PF, PC, PR -> PC
ER_REJECTED (8)        PN, N, PF, PC, PR -> RJ; RJ -> RJ   (after an ack: venue rejects)
ER_EXPIRED (C)         PN, N, PF, PC, PR -> E;  E -> E
ER_RESTATED (D)        working -> WORKING; terminal -> itself
ER_PENDING_REPLACE (E) PN, N, PF, PC, PR -> PR
CANCEL_SENT            PN, N, PF, PR -> WORKING (= PC)
REPLACE_SENT           PN, N, PF -> WORKING (= PR)
CANCEL_REJECT (9)      PC, PR -> WORKING; terminal -> itself ("too late to cancel")
REPLACE_REJECT (9)     PC, PR -> WORKING; terminal -> itself
SEND_FAILED            PN -> RJ
STATUS, BUST, CORRECT  any -> BROKER
=====================  ====================================================================

PN PendingNew, N New, PF PartiallyFilled, F Filled, PC PendingCancel, C Canceled,
PR PendingReplace, R Replaced, RJ Rejected, E Expired. Anything not listed is illegal,
e.g. a fill on a canceled order, a second PendingNew after the ack, or a cancel of ours
on an order that is already done.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from fixrouter.events import ExecKind, OrderStatus

PN: Final = OrderStatus.PENDING_NEW
N: Final = OrderStatus.NEW
PF: Final = OrderStatus.PARTIALLY_FILLED
F: Final = OrderStatus.FILLED
PC: Final = OrderStatus.PENDING_CANCEL
C: Final = OrderStatus.CANCELED
PR: Final = OrderStatus.PENDING_REPLACE
R: Final = OrderStatus.REPLACED
RJ: Final = OrderStatus.REJECTED
E = OrderStatus.EXPIRED

WORKING: frozenset[OrderStatus] = frozenset({PN, N, PF, PC, PR})
TERMINAL: frozenset[OrderStatus] = frozenset({F, C, R, RJ, E})


class Trigger(enum.IntEnum):
    """What can move an order's status."""

    ER_PENDING_NEW = 0
    ER_NEW = 1
    ER_PARTIAL = 2
    ER_FILL = 3
    ER_CANCELED = 4
    ER_REPLACED = 5
    ER_PENDING_CANCEL = 6
    ER_REJECTED = 7
    ER_EXPIRED = 8
    ER_RESTATED = 9
    ER_PENDING_REPLACE = 10
    CANCEL_SENT = 11
    REPLACE_SENT = 12
    CANCEL_REJECT = 13
    REPLACE_REJECT = 14
    SEND_FAILED = 15
    STATUS = 16  # ExecTransType 3, or an ExecType this table does not model
    BUST = 17  # ExecTransType 1
    CORRECT = 18  # ExecTransType 2


class Target(enum.Enum):
    """Table cells that are computed from the order rather than fixed."""

    WORKING = "working"
    BROKER = "broker"


Cell = OrderStatus | Target


def _build() -> dict[OrderStatus, dict[Trigger, Cell]]:
    t: dict[OrderStatus, dict[Trigger, Cell]] = {s: {} for s in OrderStatus}
    W = Target.WORKING  # short, so the rows below read like the docstring's table

    def allow(froms: tuple[OrderStatus, ...] | frozenset[OrderStatus], trig: Trigger,
              to: Cell) -> None:
        for s in froms:
            t[s][trig] = to

    live = (PN, N, PF, PC, PR)
    allow((PN,), Trigger.ER_PENDING_NEW, PN)
    allow((PN, N, PC, PR), Trigger.ER_NEW, W)
    allow(live, Trigger.ER_PARTIAL, W)
    allow(live, Trigger.ER_FILL, F)
    allow((*live, C), Trigger.ER_CANCELED, C)
    allow((PC, PR), Trigger.ER_REPLACED, W)
    allow(live, Trigger.ER_PENDING_CANCEL, PC)
    allow((*live, RJ), Trigger.ER_REJECTED, RJ)
    allow((*live, E), Trigger.ER_EXPIRED, E)
    allow(live, Trigger.ER_RESTATED, W)
    for s in TERMINAL:
        t[s][Trigger.ER_RESTATED] = s
    allow(live, Trigger.ER_PENDING_REPLACE, PR)
    allow((PN, N, PF, PR), Trigger.CANCEL_SENT, W)
    allow((PN, N, PF), Trigger.REPLACE_SENT, W)
    allow((PC, PR), Trigger.CANCEL_REJECT, W)
    allow((PC, PR), Trigger.REPLACE_REJECT, W)
    for s in TERMINAL:
        t[s][Trigger.CANCEL_REJECT] = s
        t[s][Trigger.REPLACE_REJECT] = s
    allow((PN,), Trigger.SEND_FAILED, RJ)
    for trig in (Trigger.STATUS, Trigger.BUST, Trigger.CORRECT):
        allow(tuple(OrderStatus), trig, Target.BROKER)
    return t


ROWS: dict[OrderStatus, dict[Trigger, Cell]] = _build()
"""The table as plain dicts, for the hot path (they index faster than mapping proxies).
Never mutated after import."""

TABLE: Mapping[OrderStatus, Mapping[Trigger, Cell]] = MappingProxyType(
    {s: MappingProxyType(row) for s, row in ROWS.items()}
)
"""`TABLE[status][trigger]`: the cell, or no entry when the transition is impossible."""

EXEC_TYPE_TRIGGER: dict[bytes, Trigger] = {
    b"A": Trigger.ER_PENDING_NEW,
    b"0": Trigger.ER_NEW,
    b"1": Trigger.ER_PARTIAL,
    b"2": Trigger.ER_FILL,
    b"4": Trigger.ER_CANCELED,
    b"5": Trigger.ER_REPLACED,
    b"6": Trigger.ER_PENDING_CANCEL,
    b"8": Trigger.ER_REJECTED,
    b"C": Trigger.ER_EXPIRED,
    b"D": Trigger.ER_RESTATED,
    b"E": Trigger.ER_PENDING_REPLACE,
}
"""ExecType(150) to trigger. Others (3 done for day, 7 stopped, 9 suspended, B calculated)
are status reports: `Trigger.STATUS`."""

TRIGGER_KIND: dict[Trigger, ExecKind] = {
    Trigger.ER_PENDING_NEW: ExecKind.STATUS,  # the upstream protocol has no pending_new kind
    Trigger.ER_NEW: ExecKind.NEW,
    Trigger.ER_PARTIAL: ExecKind.PARTIAL,
    Trigger.ER_FILL: ExecKind.FILL,
    Trigger.ER_CANCELED: ExecKind.CANCELED,
    Trigger.ER_REPLACED: ExecKind.REPLACED,
    Trigger.ER_PENDING_CANCEL: ExecKind.PENDING_CANCEL,
    Trigger.ER_REJECTED: ExecKind.REJECTED,
    Trigger.ER_EXPIRED: ExecKind.EXPIRED,
    Trigger.ER_RESTATED: ExecKind.RESTATED,
    Trigger.ER_PENDING_REPLACE: ExecKind.PENDING_REPLACE,
    Trigger.STATUS: ExecKind.STATUS,
    Trigger.BUST: ExecKind.BUST,
    Trigger.CORRECT: ExecKind.CORRECT,
}
"""The `exec_type` of the event a report produces."""

ORD_STATUS: dict[bytes, OrderStatus] = {
    b"0": N,
    b"1": PF,
    b"2": F,
    b"4": C,
    b"5": R,
    b"6": PC,
    b"8": RJ,
    b"A": PN,
    b"C": E,
    b"E": PR,
}
"""OrdStatus(39) to status; 3 (done for day), 7, 9, B, D are working states we do not
distinguish, so they derive (`Target.WORKING`)."""


def working_status(
    *, cancel_pending: bool, replace_pending: bool, acknowledged: bool, filled_any: bool
) -> OrderStatus:
    """The status `Target.WORKING` stands for. See the module docstring."""
    if cancel_pending:
        return PC
    if replace_pending:
        return PR
    if not acknowledged:
        return PN
    return PF if filled_any else N
