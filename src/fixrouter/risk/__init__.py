"""The pre-trade risk gate, kill switch and message throttle (SEC 15c3-5, MiFID II RTS 6).

Every order request passes `RiskGate` before it gets a ClOrdID; a denied one never
reaches the wire. Modules:

* `gate`: `RiskGate`, the public face (requests in, verdicts out; book updates in);
* `checks`: one pure function per control, returning a `Denial` or None;
* `denial`: `DenialCode`, `Denial` and the per-code counter the metrics export;
* `limits`: the resolved `Limits` of one order and scope precedence;
* `config`: the `[risk]` TOML section (`RiskConfig.from_toml_table`);
* `exposure`: the working-order records and the sums the limits compare against, and the
  protocol the gate reads the order book through;
* `throttle`: token buckets per FIX session, the bounded queue, cancels first;
* `killswitch`: engine / account / strategy switches and the automatic triggers;
* `reference`: reference prices for the collar and for market-order notional.

`fix/risk-reference.md` documents every setting, its default and why.
"""

from fixrouter.risk.config import RiskConfig
from fixrouter.risk.denial import Denial, DenialCode, DenialCounter
from fixrouter.risk.exposure import BookOrder, BookPosition, BookReplace, OrderSource
from fixrouter.risk.gate import KillSwitchEngaged, RiskError, RiskGate, Withdrawn
from fixrouter.risk.killswitch import Engagement, KillScope, KillSwitchSettings
from fixrouter.risk.limits import Limits, MissingReference
from fixrouter.risk.throttle import (
    ADMIT,
    Admit,
    Deny,
    MsgKind,
    Queue,
    Throttle,
    ThrottleMode,
    ThrottleSettings,
)

__all__ = [
    "ADMIT",
    "Admit",
    "BookOrder",
    "BookPosition",
    "BookReplace",
    "Denial",
    "DenialCode",
    "DenialCounter",
    "Deny",
    "Engagement",
    "KillScope",
    "KillSwitchEngaged",
    "KillSwitchSettings",
    "Limits",
    "MissingReference",
    "MsgKind",
    "OrderSource",
    "Queue",
    "RiskConfig",
    "RiskError",
    "RiskGate",
    "Throttle",
    "ThrottleMode",
    "ThrottleSettings",
    "Withdrawn",
]
