"""What the gate says when it refuses: a reason code, a message, the limit and the value.

A denial is a value, never an exception (`../shared/risk.md`, design rules): the router
turns it into the upstream `denied` event (`fixrouter.events.Denied`) field for field, and
the metrics exporter counts denials by code. Codes are a bounded enum, UPPER_SNAKE, so
they are safe Prometheus label values and stable strings for strategies to branch on.

`DenialCounter` is the plain counter the metrics issue exports at scrape time: the hot
path only does one list increment, and never imports prometheus.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Final

from fixrouter.events import Denied


class DenialCode(enum.StrEnum):
    """Why the risk gate refused an order or a replace (cancels are never refused)."""

    RISK_STATE_UNKNOWN = "RISK_STATE_UNKNOWN"
    """The exposure state is not rebuilt yet after a restart: the gate fails closed."""
    KILL_SWITCH = "KILL_SWITCH"
    """A kill switch covers the engine, the order's account or its strategy."""
    ACCOUNT_NOT_ALLOWED = "ACCOUNT_NOT_ALLOWED"
    DESTINATION_NOT_ALLOWED = "DESTINATION_NOT_ALLOWED"
    SECURITY_TYPE_NOT_ALLOWED = "SECURITY_TYPE_NOT_ALLOWED"
    SYMBOL_NOT_ALLOWED = "SYMBOL_NOT_ALLOWED"
    """The symbol is not on an allow-list in force."""
    RESTRICTED_SYMBOL = "RESTRICTED_SYMBOL"
    """The symbol is on a restricted list (of any scope: restricted lists add up)."""
    ORDER_TYPE_NOT_ALLOWED = "ORDER_TYPE_NOT_ALLOWED"
    MARKET_ORDERS_NOT_ALLOWED = "MARKET_ORDERS_NOT_ALLOWED"
    TIF_NOT_ALLOWED = "TIF_NOT_ALLOWED"
    MAX_ORDER_QTY = "MAX_ORDER_QTY"
    NO_REFERENCE_PRICE = "NO_REFERENCE_PRICE"
    PRICE_COLLAR = "PRICE_COLLAR"
    MAX_ORDER_NOTIONAL = "MAX_ORDER_NOTIONAL"
    DUPLICATE_ORDER = "DUPLICATE_ORDER"
    MAX_OPEN_ORDERS = "MAX_OPEN_ORDERS"
    MAX_OPEN_ORDERS_SYMBOL_SIDE = "MAX_OPEN_ORDERS_SYMBOL_SIDE"
    POSITION_LIMIT = "POSITION_LIMIT"
    GROSS_DAILY_NOTIONAL = "GROSS_DAILY_NOTIONAL"
    ORDER_EFFICIENCY_RATIO = "ORDER_EFFICIENCY_RATIO"
    RATE_LIMIT = "RATE_LIMIT"
    NO_ROUTE = "NO_ROUTE"
    """Not a gate check: the router's, when `[routing]` names no session for the order
    (no account or strategy rule matches and `default_session = []`). Listed here so
    every `denied` code is one bounded enum for the metrics."""


_CODES: Final = tuple(DenialCode)
_INDEX: Final = {code: i for i, code in enumerate(_CODES)}


@dataclass(frozen=True, slots=True)
class Denial:
    """One refusal. `limit` and `value` are the figures that tripped it, as text (decimal
    strings, counts, names), or None where a control has no number (a kill switch)."""

    code: DenialCode
    message: str
    limit: str | None = None
    value: str | None = None

    def to_event(self, order_id: str) -> Denied:
        """The upstream `denied` event for the strategy's request `order_id`."""
        return Denied(order_id, self.code.value, self.message, self.limit, self.value)


class DenialCounter:
    """One integer per `DenialCode`, in a list indexed by the code's position."""

    __slots__ = ("counts",)

    def __init__(self) -> None:
        self.counts = [0] * len(_CODES)

    def inc(self, code: DenialCode) -> None:
        self.counts[_INDEX[code]] += 1

    def __getitem__(self, code: DenialCode) -> int:
        return self.counts[_INDEX[code]]

    def snapshot(self) -> dict[DenialCode, int]:
        """Every code with its count (zeros included, so a scrape sees every series)."""
        return dict(zip(_CODES, self.counts, strict=True))
