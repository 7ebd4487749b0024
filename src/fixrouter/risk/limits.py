"""The limits in force for one order, and how they are resolved across scopes.

Theory of operation
-------------------
Limits are set in four scopes: global, per account, per strategy and per symbol. Each
setting is resolved on its own, **the most specific scope that sets it wins**, in this
exact order::

    symbol  >  strategy  >  account  >  global  >  built-in default

So a strategy's `max_order_qty` beats its account's, and a symbol's beats both. Two
kinds of setting do not follow that rule, on purpose:

* `restricted_symbols` lists add up: a symbol restricted in *any* scope that applies to
  the order is restricted. A restricted list is a compliance list, and a narrower scope
  must never be able to lift it.
* What a limit *measures* is fixed by the limit, whichever scope set its value: the open
  order count is the account's, the position is the account's in the instrument, gross
  daily notional is the account's in the order's currency. A strategy table setting
  `max_open_orders = 50` means "this strategy's orders may not take its account past 50
  working orders", not a separate count per strategy.

A `Limits` is the fully resolved set for one (account, strategy, symbol). Resolution is a
merge of four small layers, done once per distinct triple and memoised in `LimitTable`,
so the hot path is one tuple and one dict look-up. The layers themselves are built when
the config is loaded; a reload builds a new table (and a new memo) and swaps it in whole.

`None` in a `Limits` field means the control is off (configured as `"off"`).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any, Final

from fixrouter.requests import OrderType, SecurityType, TimeInForce


class MissingReference(enum.StrEnum):
    """What the gate does when an order needs a reference price and none is known."""

    DENY = "deny"
    """Refuse with NO_REFERENCE_PRICE (the default: a price check that cannot run fails)."""
    WARN = "warn"
    """Let the order through, skip the checks that need the reference, log a warning."""


ONE: Final = Decimal(1)
"""The default multiplier. The gate skips multiplying by it when it is this very object."""

MARKET_TYPES: Final = frozenset({OrderType.MARKET, OrderType.MOC, OrderType.STOP})
"""Order types that execute at no price of the strategy's choosing: market, market on
close, and a plain stop (a market order once triggered)."""


@dataclass(frozen=True, slots=True)
class Limits:
    """Every limit in force for one order. See the module docstring and
    `fix/risk-reference.md` for each field's meaning and default."""

    max_order_qty: Decimal | None = Decimal(1000)
    max_order_notional: Decimal | None = Decimal(100_000)
    price_collar_pct: Decimal | None = Decimal(5)
    price_collar_ticks: int | None = None
    tick_size: Decimal = Decimal("0.01")
    allow_market_orders: bool = True
    allowed_order_types: frozenset[OrderType] | None = None
    allowed_tifs: frozenset[TimeInForce] | None = None
    allowed_security_types: frozenset[SecurityType] | None = frozenset(
        {SecurityType.STK, SecurityType.CS}
    )
    allowed_destinations: frozenset[str] | None = None
    allowed_accounts: frozenset[str] | None = None
    allowed_symbols: frozenset[str] | None = None
    restricted_symbols: frozenset[str] = frozenset()
    max_open_orders: int | None = 500
    max_open_orders_symbol_side: int | None = 10
    max_position: Decimal | None = Decimal(10_000)
    max_gross_daily_notional: Decimal | None = Decimal(1_000_000)
    duplicate_window: float = 0.1  # seconds; configured as duplicate_window_ms
    order_efficiency_warn: float | None = 15.0
    order_efficiency_block: float | None = 20.0
    order_efficiency_min_messages: int = 100
    missing_reference: MissingReference = MissingReference.DENY
    multiplier: Decimal = ONE
    # Derived once here so the collar costs one multiplication per order:
    collar_fraction: Decimal | None = field(init=False, repr=False, compare=False)
    collar_band: Decimal | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        pct, ticks = self.price_collar_pct, self.price_collar_ticks
        object.__setattr__(self, "collar_fraction", None if pct is None else pct / 100)
        object.__setattr__(self, "collar_band", None if ticks is None else ticks * self.tick_size)


DEFAULT_LIMITS: Final = Limits()

Layer = Mapping[str, Any]
"""The settings one scope table sets, by `Limits` field name (values already converted;
an "off" setting is present with the value None)."""


def merge(
    base: Limits, account: Layer | None, strategy: Layer | None, symbol: Layer | None
) -> Limits:
    """`base` (global + defaults) overlaid by the account, strategy and symbol layers,
    most specific last, with restricted lists united."""
    changes: dict[str, Any] = {}
    restricted = base.restricted_symbols
    for layer in (account, strategy, symbol):
        if layer:
            changes.update(layer)
            extra = layer.get("restricted_symbols")
            if extra:
                restricted = restricted | extra
    if not changes:
        return base
    changes["restricted_symbols"] = restricted
    return replace(base, **changes)


class LimitTable:
    """Resolved `Limits` by (account, strategy, symbol), memoised. Built from a config's
    layers; never changed after a reload (the gate builds a new one).

    `account` is the order's account or "" (the session's default account).
    """

    __slots__ = ("_accounts", "_base", "_strategies", "_symbols", "memo")

    _MEMO_CAP = 200_000  # distinct triples; past it the memo restarts (bounded memory)

    def __init__(
        self,
        base: Limits,
        accounts: Mapping[str, Layer],
        strategies: Mapping[str, Layer],
        symbols: Mapping[str, Layer],
    ) -> None:
        self._base = base
        self._accounts = accounts
        self._strategies = strategies
        self._symbols = symbols
        # Read directly by the gate's hot path; `resolve` on a miss.
        self.memo: dict[tuple[str, str, str], Limits] = {}

    def get(self, account: str, strategy: str, symbol: str) -> Limits:
        key = (account, strategy, symbol)
        found = self.memo.get(key)
        if found is not None:
            return found
        return self.resolve(key)

    def resolve(self, key: tuple[str, str, str]) -> Limits:
        """Merge the layers for (account, strategy, symbol) and memoise the result."""
        account, strategy, symbol = key
        limits = merge(
            self._base,
            self._accounts.get(account),
            self._strategies.get(strategy),
            self._symbols.get(symbol),
        )
        if len(self.memo) >= self._MEMO_CAP:
            self.memo.clear()
        self.memo[key] = limits
        return limits
